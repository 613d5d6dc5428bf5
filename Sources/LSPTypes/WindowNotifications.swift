import JSON

/// `window/logMessage`.
public struct LogMessageNotification: LSPNotification, Hashable, Sendable {
  public static let method = "window/logMessage"
  public var type: MessageType
  public var message: String
  public init(type: MessageType, message: String) {
    self.type = type
    self.message = message
  }
  public init(json: JSONValue, path: String) throws {
    let reader = try JSONObjectReader(json, path: path)
    type = try reader.decode("type")
    message = try reader.decode("message")
  }
  public var json: JSONValue { ["type": type.json, "message": .string(message)] }
}

/// `window/showMessage`: shown to the user.
public struct ShowMessageNotification: LSPNotification, Hashable, Sendable {
  public static let method = "window/showMessage"
  public var type: MessageType
  public var message: String
  public init(type: MessageType, message: String) {
    self.type = type
    self.message = message
  }
  public init(json: JSONValue, path: String) throws {
    let reader = try JSONObjectReader(json, path: path)
    type = try reader.decode("type")
    message = try reader.decode("message")
  }
  public var json: JSONValue { ["type": type.json, "message": .string(message)] }
}
