import JSON

/// `$/setTrace`.
public struct SetTraceNotification: LSPNotification, Hashable, Sendable {
  public static let method = "$/setTrace"
  public var value: TraceValue
  public init(value: TraceValue) { self.value = value }
  public init(json: JSONValue, path: String) throws { value = try JSONObjectReader(json, path: path).decode("value") }
  public var json: JSONValue { ["value": value.json] }
}

/// `$/logTrace`: sent only while the trace is not `off`; `verbose` only with trace `verbose`.
public struct LogTraceNotification: LSPNotification, Hashable, Sendable {
  public static let method = "$/logTrace"
  public var message: String
  public var verbose: String?
  public init(message: String, verbose: String? = nil) {
    self.message = message
    self.verbose = verbose
  }
  public init(json: JSONValue, path: String) throws {
    let reader = try JSONObjectReader(json, path: path)
    message = try reader.decode("message")
    verbose = try reader.decodeIfPresent("verbose")
  }
  public var json: JSONValue { .fields([("message", .string(message)), ("verbose", verbose?.json)]) }
}
