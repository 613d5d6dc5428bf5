import JSON

/// A JSON-RPC 2.0 request id: an integer or a string.
public enum RequestID: Hashable, Sendable, CustomStringConvertible {
  /// An integer id (a JSON number with an integral value).
  case int(Int64)
  /// A string id.
  case string(String)

  /// The id as it appears on the wire.
  public var json: JSONValue {
    switch self {
    case .int(let value): return .int(value)
    case .string(let value): return .string(value)
    }
  }

  /// Reads an id: a string, an integer, or a double with an integral value; nil for anything else.
  public init?(json: JSONValue) {
    switch json {
    case .string(let value): self = .string(value)
    case .int(let value): self = .int(value)
    case .double(let value):
      guard let integer = Int64(exactly: value) else { return nil }
      self = .int(integer)
    default: return nil
    }
  }

  /// The id as JSON text (`7` or `"abc"`).
  public var description: String { json.serialized() }
}

/// A JSON-RPC error object, as sent in a response's `error` member.
public struct ResponseError: Error, Sendable, Equatable, CustomStringConvertible {
  /// The error code; negative, from the JSON-RPC and LSP reserved ranges or the server's own.
  public var code: Int
  /// A short human-readable description.
  public var message: String
  /// Optional extra information.
  public var data: JSONValue?

  /// Creates an error object.
  public init(code: Int, message: String, data: JSONValue? = nil) {
    self.code = code
    self.message = message
    self.data = data
  }

  /// The codes of JSON-RPC 2.0 and LSP 3.17 (`ErrorCodes` and `LSPErrorCodes`).
  public enum Code {
    /// Invalid JSON was received.
    public static let parseError = -32700
    /// The JSON sent is not a valid request object.
    public static let invalidRequest = -32600
    /// The method does not exist or is not available.
    public static let methodNotFound = -32601
    /// Invalid method parameters.
    public static let invalidParams = -32602
    /// Internal JSON-RPC error.
    public static let internalError = -32603
    /// A request arrived before `initialize`.
    public static let serverNotInitialized = -32002
    /// Unknown error.
    public static let unknownErrorCode = -32001
    /// A request failed although its parameters were valid (LSP 3.17).
    public static let requestFailed = -32803
    /// The server cancelled the request (LSP 3.17).
    public static let serverCancelled = -32802
    /// The document changed under the request (LSP).
    public static let contentModified = -32801
    /// The client cancelled the request (LSP).
    public static let requestCancelled = -32800
    /// A request this side sent got no response because the connection closed (the code vscode-jsonrpc
    /// uses for `PendingResponseRejected`, in JSON-RPC's implementation-defined range).
    public static let pendingResponseRejected = -32097
  }

  /// -32700: the body is not valid JSON.
  public static func parseError(_ message: String = "Parse error", data: JSONValue? = nil) -> ResponseError {
    ResponseError(code: Code.parseError, message: message, data: data)
  }
  /// -32600: the message is not a valid JSON-RPC request.
  public static func invalidRequest(_ message: String = "Invalid request", data: JSONValue? = nil) -> ResponseError {
    ResponseError(code: Code.invalidRequest, message: message, data: data)
  }
  /// -32601: no such method.
  public static func methodNotFound(_ method: String) -> ResponseError {
    ResponseError(code: Code.methodNotFound, message: "Method not found: \(method)")
  }
  /// -32602: the parameters are wrong.
  public static func invalidParams(_ message: String, data: JSONValue? = nil) -> ResponseError {
    ResponseError(code: Code.invalidParams, message: message, data: data)
  }
  /// -32603: an internal error.
  public static func internalError(_ message: String, data: JSONValue? = nil) -> ResponseError {
    ResponseError(code: Code.internalError, message: message, data: data)
  }
  /// -32002: a request before `initialize`.
  public static let serverNotInitialized = ResponseError(
    code: Code.serverNotInitialized, message: "Server not initialized: send 'initialize' first")
  /// -32001: an unknown error.
  public static func unknownErrorCode(_ message: String) -> ResponseError {
    ResponseError(code: Code.unknownErrorCode, message: message)
  }
  /// -32803: the request failed.
  public static func requestFailed(_ message: String, data: JSONValue? = nil) -> ResponseError {
    ResponseError(code: Code.requestFailed, message: message, data: data)
  }
  /// -32802: the server cancelled the request.
  public static func serverCancelled(_ message: String = "Request cancelled by the server") -> ResponseError {
    ResponseError(code: Code.serverCancelled, message: message)
  }
  /// -32801: the document changed while the request ran.
  public static let contentModified = ResponseError(
    code: Code.contentModified, message: "Content modified: the document changed while the request ran")
  /// -32800: the client cancelled the request.
  public static let requestCancelled = ResponseError(code: Code.requestCancelled, message: "Request cancelled")
  /// -32097: the connection closed before the response arrived.
  public static let pendingResponseRejected = ResponseError(
    code: Code.pendingResponseRejected, message: "The connection closed before a response arrived")

  /// The error object as it appears on the wire: `{"code", "message", "data"?}`.
  public var json: JSONValue {
    var object: [String: JSONValue] = ["code": .int(Int64(code)), "message": .string(message)]
    if let data { object["data"] = data }
    return .object(object)
  }

  /// Reads an error object; nil unless it has an integral `code` and a string `message`.
  public init?(json: JSONValue) {
    guard let code = json["code"]?.intValue, let small = Int(exactly: code),
      let message = json["message"]?.stringValue
    else { return nil }
    self.init(code: small, message: message, data: json["data"])
  }

  /// `message (code)`.
  public var description: String { "\(message) (\(code))" }
}

/// A request or notification received from the peer. `params` is nil when absent or `null`.
public enum IncomingMessage: Sendable {
  /// A request: the handler's side must send exactly one response with this id.
  case request(id: RequestID, method: String, params: JSONValue?)
  /// A notification: never answered.
  case notification(method: String, params: JSONValue?)

  /// The method name.
  public var method: String {
    switch self {
    case .request(_, let method, _), .notification(let method, _): return method
    }
  }

  /// The parameters, nil when absent or `null`.
  public var params: JSONValue? {
    switch self {
    case .request(_, _, let params), .notification(_, let params): return params
    }
  }
}

/// Why a connection stopped reading.
public enum ConnectionCloseReason: Sendable, Equatable {
  /// The input ended between messages.
  case endOfInput
  /// The input ended inside a message (a header or body was incomplete).
  case endOfInputInsideMessage
  /// `read` or `poll` failed with this `errno`.
  case readError(Int32)
  /// `close()` was called.
  case closed
}
