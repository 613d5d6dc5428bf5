import JSON

/// `CompletionTriggerKind`: 1 invoked, 2 trigger character, 3 re-trigger of an incomplete list.
public struct CompletionContext: JSONConvertible, Hashable, Sendable {
  public var triggerKind: Int
  public var triggerCharacter: String?
  public init(triggerKind: Int, triggerCharacter: String? = nil) {
    self.triggerKind = triggerKind
    self.triggerCharacter = triggerCharacter
  }
  public init(json: JSONValue, path: String) throws {
    let reader = try JSONObjectReader(json, path: path)
    triggerKind = try reader.decode("triggerKind")
    triggerCharacter = try reader.decodeIfPresent("triggerCharacter")
  }
  public var json: JSONValue {
    .fields([("triggerKind", .int(Int64(triggerKind))), ("triggerCharacter", triggerCharacter?.json)])
  }
}

/// `InsertTextFormat`.
public enum InsertTextFormat: Int, Sendable {
  case plainText = 1
  case snippet = 2
}

/// `InsertTextMode`.
public enum InsertTextMode: Int, Sendable {
  /// Inserted exactly as given (the model's indentation is kept).
  case asIs = 1
  /// The client re-indents continuation lines to the cursor line's indentation.
  case adjustIndentation = 2
}

/// One entry of the completion menu.
public struct CompletionItem: JSONConvertible, Hashable, Sendable {
  public var label: String
  /// `CompletionItemKind` (1 Text, 15 Snippet, …).
  public var kind: Int?
  public var detail: String?
  public var documentation: String?
  public var sortText: String?
  public var filterText: String?
  public var preselect: Bool?
  public var textEdit: TextEdit?
  public var insertTextFormat: InsertTextFormat?
  public var insertTextMode: InsertTextMode?

  public init(
    label: String, kind: Int? = nil, detail: String? = nil, documentation: String? = nil, sortText: String? = nil,
    filterText: String? = nil, preselect: Bool? = nil, textEdit: TextEdit? = nil,
    insertTextFormat: InsertTextFormat? = nil, insertTextMode: InsertTextMode? = nil
  ) {
    self.label = label
    self.kind = kind
    self.detail = detail
    self.documentation = documentation
    self.sortText = sortText
    self.filterText = filterText
    self.preselect = preselect
    self.textEdit = textEdit
    self.insertTextFormat = insertTextFormat
    self.insertTextMode = insertTextMode
  }

  public init(json: JSONValue, path: String) throws {
    let reader = try JSONObjectReader(json, path: path)
    label = try reader.decode("label")
    kind = try reader.decodeIfPresent("kind")
    detail = try reader.decodeIfPresent("detail")
    documentation = reader.raw("documentation").flatMap { $0.stringValue ?? $0["value"]?.stringValue }
    sortText = try reader.decodeIfPresent("sortText")
    filterText = try reader.decodeIfPresent("filterText")
    preselect = try reader.decodeIfPresent("preselect")
    textEdit = try reader.decodeIfPresent("textEdit")
    insertTextFormat = try reader.decodeIfPresent("insertTextFormat", as: Int.self).flatMap(InsertTextFormat.init)
    insertTextMode = try reader.decodeIfPresent("insertTextMode", as: Int.self).flatMap(InsertTextMode.init)
  }

  public var json: JSONValue {
    .fields([
      ("label", .string(label)),
      ("kind", kind?.json),
      ("detail", detail?.json),
      ("documentation", documentation.map { ["kind": "plaintext", "value": .string($0)] }),
      ("sortText", sortText?.json),
      ("filterText", filterText?.json),
      ("preselect", preselect?.json),
      ("textEdit", textEdit?.json),
      ("insertTextFormat", insertTextFormat.map { .int(Int64($0.rawValue)) }),
      ("insertTextMode", insertTextMode.map { .int(Int64($0.rawValue)) }),
    ])
  }
}

/// The result of `textDocument/completion`.
public struct CompletionList: JSONConvertible, Hashable, Sendable {
  /// True: the client asks again as the user types (the model's answer depends on every character).
  public var isIncomplete: Bool
  public var items: [CompletionItem]
  public init(isIncomplete: Bool, items: [CompletionItem]) {
    self.isIncomplete = isIncomplete
    self.items = items
  }
  public init(json: JSONValue, path: String) throws {
    if case .array = json {
      isIncomplete = false
      items = try [CompletionItem](json: json, path: path)
    } else {
      let reader = try JSONObjectReader(json, path: path)
      isIncomplete = try reader.decodeIfPresent("isIncomplete") ?? false
      items = try reader.decode("items")
    }
  }
  public var json: JSONValue { ["isIncomplete": .bool(isIncomplete), "items": items.json] }
}

/// `textDocument/completion`: the completion menu (fallback for clients without inline completion).
public struct TextDocumentCompletionRequest: LSPRequest, Hashable, Sendable {
  public static let method = "textDocument/completion"
  public typealias Response = CompletionList

  public var textDocument: TextDocumentIdentifier
  public var position: Position
  public var context: CompletionContext?

  public init(textDocument: TextDocumentIdentifier, position: Position, context: CompletionContext? = nil) {
    (self.textDocument, self.position, self.context) = (textDocument, position, context)
  }
  public init(json: JSONValue, path: String) throws {
    let base = try TextDocumentPositionParams(json: json, path: path)
    (textDocument, position) = (base.textDocument, base.position)
    let reader = try JSONObjectReader(json, path: path)
    context = try reader.decodeIfPresent("context")
  }
  public var json: JSONValue {
    .fields([("textDocument", textDocument.json), ("position", position.json), ("context", context?.json)])
  }
}
