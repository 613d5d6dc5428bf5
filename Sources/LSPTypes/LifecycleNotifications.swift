import JSON

/// `initialized`: the client received the `initialize` result.
public struct InitializedNotification: LSPNotification, Hashable, Sendable {
  public static let method = "initialized"
  public init() {}
  public init(json: JSONValue, path: String) throws {}
  public var json: JSONValue { .object([:]) }
}

/// `shutdown`: stop serving; the next message should be `exit`.
public struct ShutdownRequest: LSPRequest, Hashable, Sendable {
  public static let method = "shutdown"
  public typealias Response = VoidResponse
  public init() {}
  public init(json: JSONValue, path: String) throws {}
  public var json: JSONValue { .null }
}

/// `exit`: the process ends (code 0 after `shutdown`, 1 otherwise).
public struct ExitNotification: LSPNotification, Hashable, Sendable {
  public static let method = "exit"
  public init() {}
  public init(json: JSONValue, path: String) throws {}
  public var json: JSONValue { .null }
}
