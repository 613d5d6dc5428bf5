import JSON

/// `window/workDoneProgress/create`: the server asks the client to create a progress token.
public struct WorkDoneProgressCreateRequest: LSPRequest, Hashable, Sendable {
  public static let method = "window/workDoneProgress/create"
  public typealias Response = VoidResponse
  public var token: ProgressToken
  public init(token: ProgressToken) { self.token = token }
  public init(json: JSONValue, path: String) throws { token = try JSONObjectReader(json, path: path).decode("token") }
  public var json: JSONValue { ["token": token.json] }
}

/// `window/workDoneProgress/cancel`: the user cancelled a cancellable progress.
public struct WorkDoneProgressCancelNotification: LSPNotification, Hashable, Sendable {
  public static let method = "window/workDoneProgress/cancel"
  public var token: ProgressToken
  public init(token: ProgressToken) { self.token = token }
  public init(json: JSONValue, path: String) throws { token = try JSONObjectReader(json, path: path).decode("token") }
  public var json: JSONValue { ["token": token.json] }
}

/// The value of a work-done `$/progress`: begin, report or end.
public enum WorkDoneProgressValue: JSONConvertible, Hashable, Sendable {
  case begin(title: String, cancellable: Bool?, message: String?, percentage: Int?)
  case report(cancellable: Bool?, message: String?, percentage: Int?)
  case end(message: String?)

  public init(json: JSONValue, path: String) throws {
    let reader = try JSONObjectReader(json, path: path)
    let kind: String = try reader.decode("kind")
    switch kind {
    case "begin":
      self = .begin(
        title: try reader.decode("title"), cancellable: try reader.decodeIfPresent("cancellable"),
        message: try reader.decodeIfPresent("message"), percentage: try reader.decodeIfPresent("percentage"))
    case "report":
      self = .report(
        cancellable: try reader.decodeIfPresent("cancellable"), message: try reader.decodeIfPresent("message"),
        percentage: try reader.decodeIfPresent("percentage"))
    case "end":
      self = .end(message: try reader.decodeIfPresent("message"))
    default:
      throw LSPTypesError.invalidValue(path: reader.path(of: "kind"), message: "must be begin, report or end")
    }
  }

  public var json: JSONValue {
    switch self {
    case .begin(let title, let cancellable, let message, let percentage):
      return .fields([
        ("kind", "begin"), ("title", .string(title)), ("cancellable", cancellable?.json), ("message", message?.json),
        ("percentage", percentage?.json),
      ])
    case .report(let cancellable, let message, let percentage):
      return .fields([
        ("kind", "report"), ("cancellable", cancellable?.json), ("message", message?.json),
        ("percentage", percentage?.json),
      ])
    case .end(let message):
      return .fields([("kind", "end"), ("message", message?.json)])
    }
  }

  /// "begin", "report" or "end".
  public var kind: String {
    switch self {
    case .begin: return "begin"
    case .report: return "report"
    case .end: return "end"
    }
  }
}

/// `$/progress` with a work-done value.
public struct ProgressNotification: LSPNotification, Hashable, Sendable {
  public static let method = "$/progress"
  public var token: ProgressToken
  public var value: WorkDoneProgressValue
  public init(token: ProgressToken, value: WorkDoneProgressValue) {
    self.token = token
    self.value = value
  }
  public init(json: JSONValue, path: String) throws {
    let reader = try JSONObjectReader(json, path: path)
    token = try reader.decode("token")
    value = try reader.decode("value")
  }
  public var json: JSONValue { ["token": token.json, "value": value.json] }
}

/// `workspace/applyEdit`: the server asks the client to apply an edit.
public struct ApplyWorkspaceEditRequest: LSPRequest, Hashable, Sendable {
  public static let method = "workspace/applyEdit"
  public typealias Response = ApplyWorkspaceEditResult
  public var label: String?
  public var edit: WorkspaceEdit
  public init(label: String? = nil, edit: WorkspaceEdit) {
    self.label = label
    self.edit = edit
  }
  public init(json: JSONValue, path: String) throws {
    let reader = try JSONObjectReader(json, path: path)
    label = try reader.decodeIfPresent("label")
    edit = try reader.decode("edit")
  }
  public var json: JSONValue { .fields([("label", label?.json), ("edit", edit.json)]) }
}

/// The client's answer to `workspace/applyEdit`.
public struct ApplyWorkspaceEditResult: JSONConvertible, Hashable, Sendable {
  public var applied: Bool
  public var failureReason: String?
  public init(applied: Bool, failureReason: String? = nil) {
    self.applied = applied
    self.failureReason = failureReason
  }
  public init(json: JSONValue, path: String) throws {
    let reader = try JSONObjectReader(json, path: path)
    applied = try reader.decode("applied")
    failureReason = try reader.decodeIfPresent("failureReason")
  }
  public var json: JSONValue { .fields([("applied", .bool(applied)), ("failureReason", failureReason?.json)]) }
}
