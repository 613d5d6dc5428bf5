import JSON
import LSPTransport

/// A position in a text document: a zero-based line and a zero-based character offset in the negotiated
/// position encoding (UTF-16 code units unless the client negotiated UTF-8 or UTF-32).
public struct Position: JSONConvertible, Hashable, Sendable, Comparable, CustomStringConvertible {
  public var line: Int
  public var character: Int

  public init(line: Int, character: Int) {
    self.line = line
    self.character = character
  }

  public init(json: JSONValue, path: String) throws {
    let reader = try JSONObjectReader(json, path: path)
    line = try reader.decode("line")
    character = try reader.decode("character")
    if line < 0 { throw LSPTypesError.invalidValue(path: reader.path(of: "line"), message: "must not be negative") }
    if character < 0 {
      throw LSPTypesError.invalidValue(path: reader.path(of: "character"), message: "must not be negative")
    }
  }

  public var json: JSONValue { ["line": .int(Int64(line)), "character": .int(Int64(character))] }

  public static func < (lhs: Position, rhs: Position) -> Bool {
    (lhs.line, lhs.character) < (rhs.line, rhs.character)
  }

  public var description: String { "\(line):\(character)" }
}

/// A range between two positions; `end` is exclusive. (Named `LSPRange` so it never shadows `Swift.Range`.)
public struct LSPRange: JSONConvertible, Hashable, Sendable, CustomStringConvertible {
  public var start: Position
  public var end: Position

  public init(start: Position, end: Position) {
    self.start = start
    self.end = end
  }

  /// An empty range at one position.
  public init(at position: Position) { self.init(start: position, end: position) }

  public init(json: JSONValue, path: String) throws {
    let reader = try JSONObjectReader(json, path: path)
    start = try reader.decode("start")
    end = try reader.decode("end")
  }

  public var json: JSONValue { ["start": start.json, "end": end.json] }
  public var description: String { "\(start)-\(end)" }
}

/// How the characters of a `Position` are counted.
public enum PositionEncodingKind: String, JSONConvertible, Sendable, CaseIterable {
  case utf8 = "utf-8"
  case utf16 = "utf-16"
  case utf32 = "utf-32"

  public init(json: JSONValue, path: String) throws {
    let raw = try String(json: json, path: path)
    guard let value = PositionEncodingKind(rawValue: raw) else {
      throw LSPTypesError.invalidValue(path: path, message: "unknown position encoding '\(raw)'")
    }
    self = value
  }
  public var json: JSONValue { .string(rawValue) }
}

/// `{ uri }`.
public struct TextDocumentIdentifier: JSONConvertible, Hashable, Sendable {
  public var uri: String
  public init(uri: String) { self.uri = uri }
  public init(json: JSONValue, path: String) throws {
    uri = try JSONObjectReader(json, path: path).decode("uri")
  }
  public var json: JSONValue { ["uri": .string(uri)] }
}

/// `{ uri, version }` (version may be null in some messages).
public struct VersionedTextDocumentIdentifier: JSONConvertible, Hashable, Sendable {
  public var uri: String
  public var version: Int?
  public init(uri: String, version: Int?) {
    self.uri = uri
    self.version = version
  }
  public init(json: JSONValue, path: String) throws {
    let reader = try JSONObjectReader(json, path: path)
    uri = try reader.decode("uri")
    version = try reader.decodeIfPresent("version")
  }
  public var json: JSONValue { ["uri": .string(uri), "version": version.json] }
}

/// The whole of a document, as sent by `didOpen`.
public struct TextDocumentItem: JSONConvertible, Hashable, Sendable {
  public var uri: String
  public var languageId: String
  public var version: Int
  public var text: String
  public init(uri: String, languageId: String, version: Int, text: String) {
    self.uri = uri
    self.languageId = languageId
    self.version = version
    self.text = text
  }
  public init(json: JSONValue, path: String) throws {
    let reader = try JSONObjectReader(json, path: path)
    uri = try reader.decode("uri")
    languageId = try reader.decode("languageId")
    version = try reader.decode("version")
    text = try reader.decode("text")
  }
  public var json: JSONValue {
    ["uri": .string(uri), "languageId": .string(languageId), "version": .int(Int64(version)), "text": .string(text)]
  }
}

/// `{ textDocument, position }`, the base of position-based requests.
public struct TextDocumentPositionParams: JSONConvertible, Hashable, Sendable {
  public var textDocument: TextDocumentIdentifier
  public var position: Position
  public init(textDocument: TextDocumentIdentifier, position: Position) {
    self.textDocument = textDocument
    self.position = position
  }
  public init(json: JSONValue, path: String) throws {
    let reader = try JSONObjectReader(json, path: path)
    textDocument = try reader.decode("textDocument")
    position = try reader.decode("position")
  }
  public var json: JSONValue { ["textDocument": textDocument.json, "position": position.json] }
}

/// One change of a `didChange`: a range replaced by text, or (without range) the whole new text.
public struct TextDocumentContentChangeEvent: JSONConvertible, Hashable, Sendable {
  /// The replaced range; nil means `text` is the whole document.
  public var range: LSPRange?
  /// Deprecated by the spec and ignored (the range is authoritative).
  public var rangeLength: Int?
  public var text: String

  public init(range: LSPRange? = nil, rangeLength: Int? = nil, text: String) {
    self.range = range
    self.rangeLength = rangeLength
    self.text = text
  }
  public init(json: JSONValue, path: String) throws {
    let reader = try JSONObjectReader(json, path: path)
    range = try reader.decodeIfPresent("range")
    rangeLength = try reader.decodeIfPresent("rangeLength")
    text = try reader.decode("text")
  }
  public var json: JSONValue {
    .fields([("range", range?.json), ("rangeLength", rangeLength?.json), ("text", .string(text))])
  }
}

/// A text edit: replace `range` by `newText`.
public struct TextEdit: JSONConvertible, Hashable, Sendable {
  public var range: LSPRange
  public var newText: String
  public init(range: LSPRange, newText: String) {
    self.range = range
    self.newText = newText
  }
  public init(json: JSONValue, path: String) throws {
    let reader = try JSONObjectReader(json, path: path)
    range = try reader.decode("range")
    newText = try reader.decode("newText")
  }
  public var json: JSONValue { ["range": range.json, "newText": .string(newText)] }
}

/// Edits of one versioned document (`documentChanges` form of a workspace edit).
public struct TextDocumentEdit: JSONConvertible, Hashable, Sendable {
  public var textDocument: VersionedTextDocumentIdentifier
  public var edits: [TextEdit]
  public init(textDocument: VersionedTextDocumentIdentifier, edits: [TextEdit]) {
    self.textDocument = textDocument
    self.edits = edits
  }
  public init(json: JSONValue, path: String) throws {
    let reader = try JSONObjectReader(json, path: path)
    textDocument = try reader.decode("textDocument")
    edits = try reader.decode("edits")
  }
  public var json: JSONValue { ["textDocument": textDocument.json, "edits": edits.json] }
}

/// A workspace edit: either `changes` (uri -> edits) or `documentChanges` (versioned).
public struct WorkspaceEdit: JSONConvertible, Hashable, Sendable {
  public var changes: [String: [TextEdit]]?
  public var documentChanges: [TextDocumentEdit]?

  public init(changes: [String: [TextEdit]]? = nil, documentChanges: [TextDocumentEdit]? = nil) {
    self.changes = changes
    self.documentChanges = documentChanges
  }
  public init(json: JSONValue, path: String) throws {
    let reader = try JSONObjectReader(json, path: path)
    if let raw = reader.raw("changes") {
      let object = try JSONObjectReader(raw, path: reader.path(of: "changes"))
      var changes: [String: [TextEdit]] = [:]
      for key in object.members.keys { changes[key] = try object.decode(key, as: [TextEdit].self) }
      self.changes = changes
    }
    documentChanges = try reader.decodeIfPresent("documentChanges")
  }
  public var json: JSONValue {
    .fields([
      ("changes", changes.map { JSONValue.object($0.mapValues(\.json)) }),
      ("documentChanges", documentChanges?.json),
    ])
  }
}

/// The kind of a `window/showMessage` or `window/logMessage`.
public enum MessageType: Int, JSONConvertible, Sendable, Comparable {
  case error = 1
  case warning = 2
  case info = 3
  case log = 4
  /// LSP 3.18.
  case debug = 5

  public init(json: JSONValue, path: String) throws {
    let raw = try Int(json: json, path: path)
    guard let value = MessageType(rawValue: raw) else {
      throw LSPTypesError.invalidValue(path: path, message: "unknown message type \(raw)")
    }
    self = value
  }
  public var json: JSONValue { .int(Int64(rawValue)) }
  public static func < (lhs: MessageType, rhs: MessageType) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// The trace level set by `initialize` or `$/setTrace`.
public enum TraceValue: String, JSONConvertible, Sendable {
  case off
  case messages
  case verbose

  public init(json: JSONValue, path: String) throws {
    let raw = try String(json: json, path: path)
    guard let value = TraceValue(rawValue: raw) else {
      throw LSPTypesError.invalidValue(path: path, message: "must be 'off', 'messages' or 'verbose', not '\(raw)'")
    }
    self = value
  }
  public var json: JSONValue { .string(rawValue) }
}

/// A progress token: an integer or a string.
public enum ProgressToken: JSONConvertible, Hashable, Sendable, CustomStringConvertible {
  case int(Int)
  case string(String)

  public init(json: JSONValue, path: String) throws {
    switch json {
    case .int, .double: self = .int(try Int(json: json, path: path))
    case .string(let value): self = .string(value)
    default: throw LSPTypesError.wrongType(path: path, expected: "an integer or a string", found: json.typeName)
    }
  }
  public var json: JSONValue {
    switch self {
    case .int(let value): return .int(Int64(value))
    case .string(let value): return .string(value)
    }
  }
  public var description: String {
    switch self {
    case .int(let value): return String(value)
    case .string(let value): return value
    }
  }
}

/// A JSON-RPC request id (LSPTransport's `RequestID`) as carried in message params (`$/cancelRequest`).
extension RequestID: JSONConvertible {
  public init(json: JSONValue, path: String) throws {
    guard let id = RequestID(json: json) else {
      throw LSPTypesError.wrongType(path: path, expected: "an integer or a string", found: json.typeName)
    }
    self = id
  }
}
