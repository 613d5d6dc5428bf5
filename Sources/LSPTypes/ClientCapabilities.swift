import JSON

/// The client's capabilities, kept as sent, with typed accessors for what codegen-lsp uses.
///
/// Unknown or malformed sub-fields read as "not supported" rather than failing: clients vary widely and a
/// capability the server does not understand must not break `initialize`.
public struct ClientCapabilities: JSONConvertible, Hashable, Sendable {
  /// The raw capabilities object.
  public var raw: JSONValue

  public init(raw: JSONValue = .object([:])) { self.raw = raw }

  public init(json: JSONValue, path: String) throws {
    guard case .object = json else {
      throw LSPTypesError.wrongType(path: path, expected: "an object", found: json.typeName)
    }
    raw = json
  }
  public var json: JSONValue { raw }

  /// The value at a key path, nil if any step is missing.
  public func value(at keys: [String]) -> JSONValue? {
    var current: JSONValue? = raw
    for key in keys { current = current?[key] }
    return current
  }

  /// `general.positionEncodings`, in the client's order of preference (empty when not sent).
  public var positionEncodings: [PositionEncodingKind] {
    (value(at: ["general", "positionEncodings"])?.arrayValue ?? []).compactMap {
      $0.stringValue.flatMap(PositionEncodingKind.init(rawValue:))
    }
  }

  /// `workspace.didChangeWatchedFiles.dynamicRegistration`: the server may register file watchers.
  public var watchedFilesRegistration: Bool {
    value(at: ["workspace", "didChangeWatchedFiles", "dynamicRegistration"])?.boolValue ?? false
  }

  /// `window.workDoneProgress`: the server may create progress tokens.
  public var workDoneProgress: Bool { value(at: ["window", "workDoneProgress"])?.boolValue ?? false }

  /// `workspace.applyEdit`: the client accepts `workspace/applyEdit`.
  public var applyEdit: Bool { value(at: ["workspace", "applyEdit"])?.boolValue ?? false }

  /// `workspace.workspaceEdit.documentChanges`: versioned edits are understood.
  public var documentChanges: Bool {
    value(at: ["workspace", "workspaceEdit", "documentChanges"])?.boolValue ?? false
  }

  /// `textDocument.completion.completionItem.insertTextModeSupport.valueSet` (1 asIs, 2 adjustIndentation).
  public var completionInsertTextModes: [Int] {
    (value(at: ["textDocument", "completion", "completionItem", "insertTextModeSupport", "valueSet"])?.arrayValue
      ?? []).compactMap { $0.intValue.map(Int.init) }
  }

  /// `textDocument.completion.insertTextMode`: the client's default mode, when it says.
  public var completionDefaultInsertTextMode: Int? {
    value(at: ["textDocument", "completion", "insertTextMode"])?.intValue.map(Int.init)
  }
}
