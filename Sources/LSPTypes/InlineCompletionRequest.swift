import JSON

/// How an inline completion was triggered (LSP 3.18 `InlineCompletionTriggerKind`).
public enum InlineCompletionTriggerKind: Int, JSONConvertible, Hashable, Sendable {
  /// Explicitly requested by the user.
  case invoked = 1
  /// Automatically, while typing.
  case automatic = 2

  public init(json: JSONValue, path: String) throws {
    let raw = try Int(json: json, path: path)
    guard let value = InlineCompletionTriggerKind(rawValue: raw) else {
      throw LSPTypesError.invalidValue(path: path, message: "must be 1 (Invoked) or 2 (Automatic), not \(raw)")
    }
    self = value
  }
  public var json: JSONValue { .int(Int64(rawValue)) }
}

/// The item selected in the completion menu while inline completion was asked (LSP 3.18).
public struct SelectedCompletionInfo: JSONConvertible, Hashable, Sendable {
  public var range: LSPRange
  public var text: String
  public init(range: LSPRange, text: String) {
    self.range = range
    self.text = text
  }
  public init(json: JSONValue, path: String) throws {
    let reader = try JSONObjectReader(json, path: path)
    range = try reader.decode("range")
    text = try reader.decode("text")
  }
  public var json: JSONValue { ["range": range.json, "text": .string(text)] }
}

/// `InlineCompletionContext`.
public struct InlineCompletionContext: JSONConvertible, Hashable, Sendable {
  public var triggerKind: InlineCompletionTriggerKind
  public var selectedCompletionInfo: SelectedCompletionInfo?
  public init(triggerKind: InlineCompletionTriggerKind, selectedCompletionInfo: SelectedCompletionInfo? = nil) {
    self.triggerKind = triggerKind
    self.selectedCompletionInfo = selectedCompletionInfo
  }
  public init(json: JSONValue, path: String) throws {
    let reader = try JSONObjectReader(json, path: path)
    triggerKind = try reader.decode("triggerKind")
    selectedCompletionInfo = try reader.decodeIfPresent("selectedCompletionInfo")
  }
  public var json: JSONValue {
    .fields([("triggerKind", triggerKind.json), ("selectedCompletionInfo", selectedCompletionInfo?.json)])
  }
}

/// One ghost-text suggestion.
public struct InlineCompletionItem: JSONConvertible, Hashable, Sendable {
  /// The text inserted (replacing `range` when given).
  public var insertText: String
  public var filterText: String?
  public var range: LSPRange?
  public init(insertText: String, filterText: String? = nil, range: LSPRange? = nil) {
    self.insertText = insertText
    self.filterText = filterText
    self.range = range
  }
  public init(json: JSONValue, path: String) throws {
    let reader = try JSONObjectReader(json, path: path)
    if let raw = reader.raw("insertText"), case .object = raw {
      // A StringValue snippet: `{ kind: "snippet", value }`.
      insertText = try JSONObjectReader(raw, path: reader.path(of: "insertText")).decode("value")
    } else {
      insertText = try reader.decode("insertText")
    }
    filterText = try reader.decodeIfPresent("filterText")
    range = try reader.decodeIfPresent("range")
  }
  public var json: JSONValue {
    .fields([("insertText", .string(insertText)), ("filterText", filterText?.json), ("range", range?.json)])
  }
}

/// The result of an inline completion.
public struct InlineCompletionList: JSONConvertible, Hashable, Sendable {
  public var items: [InlineCompletionItem]
  public init(items: [InlineCompletionItem]) { self.items = items }
  public init(json: JSONValue, path: String) throws {
    if case .array = json {
      items = try [InlineCompletionItem](json: json, path: path)
    } else {
      items = try JSONObjectReader(json, path: path).decode("items")
    }
  }
  public var json: JSONValue { ["items": items.json] }
}

/// `textDocument/inlineCompletion` (LSP 3.18): ghost text at the cursor.
///
/// `context.selectedCompletionInfo` is decoded but codegen-lsp does not use it: the completion is computed for the
/// document text as it is, not as it would be with the menu's selection applied.
public struct InlineCompletionRequest: LSPRequest, Hashable, Sendable {
  public static let method = "textDocument/inlineCompletion"
  public typealias Response = InlineCompletionList

  public var textDocument: TextDocumentIdentifier
  public var position: Position
  public var context: InlineCompletionContext

  public init(textDocument: TextDocumentIdentifier, position: Position, context: InlineCompletionContext) {
    (self.textDocument, self.position, self.context) = (textDocument, position, context)
  }
  public init(json: JSONValue, path: String) throws {
    let base = try TextDocumentPositionParams(json: json, path: path)
    (textDocument, position) = (base.textDocument, base.position)
    let reader = try JSONObjectReader(json, path: path)
    context = try reader.decodeIfPresent("context") ?? InlineCompletionContext(triggerKind: .automatic)
  }
  public var json: JSONValue {
    ["textDocument": textDocument.json, "position": position.json, "context": context.json]
  }
}
