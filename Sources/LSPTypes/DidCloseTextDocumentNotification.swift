import JSON

/// `textDocument/didClose`: the document's truth is on disk again.
public struct DidCloseTextDocumentNotification: LSPNotification, Hashable, Sendable {
  public static let method = "textDocument/didClose"
  public var textDocument: TextDocumentIdentifier
  public init(textDocument: TextDocumentIdentifier) { self.textDocument = textDocument }
  public init(json: JSONValue, path: String) throws {
    textDocument = try JSONObjectReader(json, path: path).decode("textDocument")
  }
  public var json: JSONValue { ["textDocument": textDocument.json] }
}
