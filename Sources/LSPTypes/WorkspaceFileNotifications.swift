import JSON

/// One file event of `workspace/didChangeWatchedFiles`.
public struct FileEvent: JSONConvertible, Hashable, Sendable {
  /// 1 created, 2 changed, 3 deleted.
  public enum ChangeType: Int, Sendable {
    case created = 1
    case changed = 2
    case deleted = 3
  }
  public var uri: String
  public var type: ChangeType
  public init(uri: String, type: ChangeType) {
    self.uri = uri
    self.type = type
  }
  public init(json: JSONValue, path: String) throws {
    let reader = try JSONObjectReader(json, path: path)
    uri = try reader.decode("uri")
    let raw: Int = try reader.decode("type")
    guard let type = ChangeType(rawValue: raw) else {
      throw LSPTypesError.invalidValue(path: reader.path(of: "type"), message: "must be 1, 2 or 3, found \(raw)")
    }
    self.type = type
  }
  public var json: JSONValue { .fields([("uri", .string(uri)), ("type", .int(Int64(type.rawValue)))]) }
}

/// `workspace/didChangeWatchedFiles`: files changed on disk (the server registers for them when the client allows).
public struct DidChangeWatchedFilesNotification: LSPNotification, Hashable, Sendable {
  public static let method = "workspace/didChangeWatchedFiles"
  public var changes: [FileEvent]
  public init(changes: [FileEvent]) { self.changes = changes }
  public init(json: JSONValue, path: String) throws {
    let reader = try JSONObjectReader(json, path: path)
    changes = try reader.decode("changes")
  }
  public var json: JSONValue { .fields([("changes", changes.json)]) }
}

/// `client/registerCapability` with one registration of `workspace/didChangeWatchedFiles` for glob patterns.
public struct RegisterCapabilityRequest: LSPRequest, Hashable, Sendable {
  public static let method = "client/registerCapability"
  public typealias Response = JSONValue
  public var id: String
  public var method: String
  public var globPatterns: [String]
  public init(id: String, method: String, globPatterns: [String]) {
    self.id = id
    self.method = method
    self.globPatterns = globPatterns
  }
  public init(json: JSONValue, path: String) throws {
    let reader = try JSONObjectReader(json, path: path)
    let registrations: [JSONValue] = try reader.decode("registrations")
    guard let first = registrations.first else {
      throw LSPTypesError.invalidValue(path: reader.path(of: "registrations"), message: "needs one registration")
    }
    let registration = try JSONObjectReader(first, path: reader.path(of: "registrations") + "[0]")
    id = try registration.decode("id")
    method = try registration.decode("method")
    var patterns: [String] = []
    if let options = registration.raw("registerOptions"), let watchers = options["watchers"]?.arrayValue {
      patterns = watchers.compactMap { $0["globPattern"]?.stringValue }
    }
    globPatterns = patterns
  }
  public var json: JSONValue {
    .fields([
      (
        "registrations",
        .array([
          .fields([
            ("id", .string(id)), ("method", .string(method)),
            (
              "registerOptions",
              .fields([("watchers", .array(globPatterns.map { .fields([("globPattern", .string($0))]) }))])
            ),
          ])
        ])
      )
    ])
  }
}
