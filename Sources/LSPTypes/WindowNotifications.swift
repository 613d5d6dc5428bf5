import JSON

/// A message for the client's window: `window/logMessage` and `window/showMessage` share these params.
public protocol WindowMessageNotification: LSPNotification {
  var type: MessageType { get }
  var message: String { get }
  init(type: MessageType, message: String)
}

extension WindowMessageNotification {
  public init(json: JSONValue, path: String) throws {
    let reader = try JSONObjectReader(json, path: path)
    self.init(type: try reader.decode("type"), message: try reader.decode("message"))
  }
  public var json: JSONValue { ["type": type.json, "message": .string(message)] }
}

/// `window/logMessage`.
public struct LogMessageNotification: WindowMessageNotification, Hashable, Sendable {
  public static let method = "window/logMessage"
  public var type: MessageType
  public var message: String
  public init(type: MessageType, message: String) { (self.type, self.message) = (type, message) }
}

/// `window/showMessage`: shown to the user.
public struct ShowMessageNotification: WindowMessageNotification, Hashable, Sendable {
  public static let method = "window/showMessage"
  public var type: MessageType
  public var message: String
  public init(type: MessageType, message: String) { (self.type, self.message) = (type, message) }
}
