import JSON

/// `textDocument/didSave`.
public struct DidSaveTextDocumentNotification: LSPNotification, Hashable, Sendable {
  public static let method = "textDocument/didSave"
  public var textDocument: TextDocumentIdentifier
  /// Present only when the server asked for `includeText`.
  public var text: String?
  public init(textDocument: TextDocumentIdentifier, text: String? = nil) {
    self.textDocument = textDocument
    self.text = text
  }
  public init(json: JSONValue, path: String) throws {
    let reader = try JSONObjectReader(json, path: path)
    textDocument = try reader.decode("textDocument")
    text = try reader.decodeIfPresent("text")
  }
  public var json: JSONValue { .fields([("textDocument", textDocument.json), ("text", text?.json)]) }
}
