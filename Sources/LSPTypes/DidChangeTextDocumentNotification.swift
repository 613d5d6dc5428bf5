import JSON

/// `textDocument/didChange`: content changes applied in order (incremental, or full with no range).
public struct DidChangeTextDocumentNotification: LSPNotification, Hashable, Sendable {
  public static let method = "textDocument/didChange"
  public var textDocument: VersionedTextDocumentIdentifier
  public var contentChanges: [TextDocumentContentChangeEvent]
  public init(textDocument: VersionedTextDocumentIdentifier, contentChanges: [TextDocumentContentChangeEvent]) {
    self.textDocument = textDocument
    self.contentChanges = contentChanges
  }
  public init(json: JSONValue, path: String) throws {
    let reader = try JSONObjectReader(json, path: path)
    textDocument = try reader.decode("textDocument")
    contentChanges = try reader.decode("contentChanges")
  }
  public var json: JSONValue { ["textDocument": textDocument.json, "contentChanges": contentChanges.json] }
}
