import JSON

/// `workspace/didChangeConfiguration`: `settings` as `{"codegen-lsp": {...}}` or flat.
public struct DidChangeConfigurationNotification: LSPNotification, Hashable, Sendable {
  public static let method = "workspace/didChangeConfiguration"
  public var settings: JSONValue
  public init(settings: JSONValue) { self.settings = settings }
  public init(json: JSONValue, path: String) throws {
    settings = try JSONObjectReader(json, path: path).raw("settings") ?? .null
  }
  public var json: JSONValue { ["settings": settings] }
}
