import JSON

/// `textDocument/didOpen`: the client now owns the document's content.
public struct DidOpenTextDocumentNotification: LSPNotification, Hashable, Sendable {
  public static let method = "textDocument/didOpen"
  public var textDocument: TextDocumentItem
  public init(textDocument: TextDocumentItem) { self.textDocument = textDocument }
  public init(json: JSONValue, path: String) throws {
    textDocument = try JSONObjectReader(json, path: path).decode("textDocument")
  }
  public var json: JSONValue { ["textDocument": textDocument.json] }
}
