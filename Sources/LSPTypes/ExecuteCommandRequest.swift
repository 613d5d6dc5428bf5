import JSON

/// `workspace/executeCommand`.
public struct ExecuteCommandRequest: LSPRequest, Hashable, Sendable {
  public static let method = "workspace/executeCommand"
  /// The command's own result (for `codegen-lsp.generateCode`: `GenerateCodeResult`).
  public typealias Response = JSONValue

  public var command: String
  public var arguments: [JSONValue]
  /// A progress token the client created for this request, if any.
  public var workDoneToken: ProgressToken?

  public init(command: String, arguments: [JSONValue] = [], workDoneToken: ProgressToken? = nil) {
    self.command = command
    self.arguments = arguments
    self.workDoneToken = workDoneToken
  }
  public init(json: JSONValue, path: String) throws {
    let reader = try JSONObjectReader(json, path: path)
    command = try reader.decode("command")
    arguments = try reader.decodeIfPresent("arguments") ?? []
    workDoneToken = try reader.decodeIfPresent("workDoneToken")
  }
  public var json: JSONValue {
    .fields([("command", .string(command)), ("arguments", arguments.json), ("workDoneToken", workDoneToken?.json)])
  }
}

/// The one argument of `codegen-lsp.generateCode`: `{ uri, range? | position?, instruction? }`.
///
/// With a range the result replaces it (the selection is given to the provider); with a position the result is
/// inserted there. Exactly one of the two is required.
public struct GenerateCodeArguments: JSONConvertible, Hashable, Sendable {
  public static let command = "codegen-lsp.generateCode"
  public var uri: String
  public var range: LSPRange?
  public var position: Position?
  public var instruction: String?

  public init(uri: String, range: LSPRange? = nil, position: Position? = nil, instruction: String? = nil) {
    self.uri = uri
    self.range = range
    self.position = position
    self.instruction = instruction
  }
  public init(json: JSONValue, path: String) throws {
    let reader = try JSONObjectReader(json, path: path)
    uri = try reader.decode("uri")
    range = try reader.decodeIfPresent("range")
    position = try reader.decodeIfPresent("position")
    instruction = try reader.decodeIfPresent("instruction")
    if range != nil && position != nil {
      throw LSPTypesError.invalidValue(path: path, message: "give either 'range' or 'position', not both")
    }
    if range == nil && position == nil {
      throw LSPTypesError.missingField(path: "\(path).range or \(path).position")
    }
  }
  public var json: JSONValue {
    .fields([
      ("uri", .string(uri)), ("range", range?.json), ("position", position?.json), ("instruction", instruction?.json),
    ])
  }
}

/// The result of `codegen-lsp.generateCode`: `{ applied, text }`.
public struct GenerateCodeResult: JSONConvertible, Hashable, Sendable {
  /// True when the client applied the edit.
  public var applied: Bool
  /// The generated text (partial when generation was cancelled through progress).
  public var text: String
  public init(applied: Bool, text: String) {
    self.applied = applied
    self.text = text
  }
  public init(json: JSONValue, path: String) throws {
    let reader = try JSONObjectReader(json, path: path)
    applied = try reader.decode("applied")
    text = try reader.decode("text")
  }
  public var json: JSONValue { ["applied": .bool(applied), "text": .string(text)] }
}
