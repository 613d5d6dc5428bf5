import CodeCompletion
import CompletionServer
import Foundation
import JSON
import LSPTransport
import LSPTypes

/// Errors of the test client.
public enum TestClientError: Error, CustomStringConvertible {
  /// No reply (or no event) within the safety timeout; the server is probably hung.
  case timedOut(String)
  /// The reply did not decode as the request's response type.
  case badResponse(method: String, error: Error)

  public var description: String {
    switch self {
    case .timedOut(let what): return "timed out waiting for \(what)"
    case .badResponse(let method, let error): return "bad response to \(method): \(error)"
    }
  }
}

/// A reply that will arrive later.
public final class PendingReply: @unchecked Sendable {
  /// The request's id.
  public internal(set) var id: RequestID = .int(0)
  public let method: String
  private let semaphore = DispatchSemaphore(value: 0)
  private let lock = NSLock()
  private var result: Result<JSONValue, ResponseError>?

  init(method: String) { self.method = method }

  func fulfil(_ result: Result<JSONValue, ResponseError>) {
    lock.lock()
    self.result = result
    lock.unlock()
    semaphore.signal()
  }

  /// Waits for the reply. The timeout is a safety net against hangs, never a speed assertion.
  public func wait(timeout: Double = TestClient.safetyTimeout) throws -> Result<JSONValue, ResponseError> {
    if semaphore.wait(timeout: .now() + timeout) == .timedOut { throw TestClientError.timedOut("reply to \(method)") }
    semaphore.signal()  // Later waits return at once.
    lock.lock()
    defer { lock.unlock() }
    return result!
  }

  /// Waits for a successful result; throws the `ResponseError` otherwise.
  public func value(timeout: Double = TestClient.safetyTimeout) throws -> JSONValue {
    try wait(timeout: timeout).get()
  }

  /// Waits for an error reply; nil if the request succeeded.
  public func error(timeout: Double = TestClient.safetyTimeout) throws -> ResponseError? {
    if case .failure(let error) = try wait(timeout: timeout) { return error }
    return nil
  }
}

/// One message the server sent to the client (notification or request), in arrival order.
public struct ServerMessage: Sendable {
  public let method: String
  public let params: JSONValue
  /// Set for server-to-client requests.
  public let id: RequestID?
}

/// An in-process LSP client that speaks real JSON-RPC (framed, over pipes) to a `LanguageServer` running on its own
/// thread (after sourcekit-lsp's `TestSourceKitLSPClient`).
///
/// It records every notification and server-to-client request, and answers `workspace/applyEdit`
/// (with `applyEditResult`) and `window/workDoneProgress/create` (with null).
/// - Important: thread-safe; replies and notifications arrive on the client connection's reader thread.
public final class TestClient: @unchecked Sendable {
  /// Generous limit for any wait, so that a broken server fails a test instead of hanging it.
  public static let safetyTimeout: Double = 60

  public let pair: ConnectionPair
  public let server: LanguageServer
  private let condition = NSCondition()
  private var messages: [ServerMessage] = []
  private var protocolErrors: [String] = []
  /// Holds the exit code; captured strongly by the server thread, which may outlive the client's `deinit`.
  private let exitBox = ExitBox()
  private var applyEditAnswer = true
  private var closed = false

  /// Starts a server with a provider factory.
  public init(
    options: ServerOptions = ServerOptions(prefetch: false), maxMessageSize: Int = 64 << 20,
    providerFactory: @escaping (String?) -> CompletionProvider
  ) throws {
    pair = try ConnectionPair(maxMessageSize: maxMessageSize)
    server = LanguageServer(connection: pair.server, options: options, providerFactory: providerFactory)
    pair.client.start(
      handler: { [weak self] message in self?.receive(message) },
      onProtocolError: { [weak self] error in
        guard let self else { return }
        condition.lock()
        protocolErrors.append(error)
        condition.broadcast()
        condition.unlock()
      },
      onClose: { _ in })
    let server = self.server
    let exitBox = self.exitBox
    let thread = Thread { exitBox.set(server.run()) }
    thread.name = "test-language-server"
    thread.start()
  }

  /// Starts a server with one provider for every model.
  public convenience init(provider: CompletionProvider, options: ServerOptions = ServerOptions(prefetch: false))
    throws
  {
    try self.init(options: options, providerFactory: { _ in provider })
  }

  deinit { close() }

  /// Closes the pipes (the server sees the end of input) and waits for the server thread.
  public func close() {
    condition.lock()
    let alreadyClosed = closed
    closed = true
    condition.unlock()
    if alreadyClosed { return }
    pair.closeClientToServer()
    _ = try? waitForExit()
    pair.close()
  }

  /// What the client answers to `workspace/applyEdit` (`applied`).
  public var applyEditResult: Bool {
    get {
      condition.lock()
      defer { condition.unlock() }
      return applyEditAnswer
    }
    set {
      condition.lock()
      applyEditAnswer = newValue
      condition.unlock()
    }
  }

  private func receive(_ message: IncomingMessage) {
    switch message {
    case .notification(let method, let params):
      record(ServerMessage(method: method, params: params ?? .null, id: nil))
    case .request(let id, let method, let params):
      record(ServerMessage(method: method, params: params ?? .null, id: id))
      switch method {
      case ApplyWorkspaceEditRequest.method:
        pair.client.sendResponse(id: id, result: ApplyWorkspaceEditResult(applied: applyEditResult).json)
      case WorkDoneProgressCreateRequest.method, RegisterCapabilityRequest.method:
        pair.client.sendResponse(id: id, result: .null)
      default:
        pair.client.sendError(id: id, error: .methodNotFound(method))
      }
    }
  }

  private func record(_ message: ServerMessage) {
    condition.lock()
    messages.append(message)
    condition.broadcast()
    condition.unlock()
  }

  // MARK: Sending

  /// Sends a request; the reply arrives later.
  @discardableResult
  public func sendRequest(method: String, params: JSONValue?) -> PendingReply {
    let pending = PendingReply(method: method)
    pending.id = pair.client.sendRequest(method: method, params: params) { result in pending.fulfil(result) }
    return pending
  }

  /// Sends a typed request; the reply arrives later.
  @discardableResult
  public func sendRequest<R: LSPRequest>(_ request: R) -> PendingReply {
    sendRequest(method: R.method, params: request.json)
  }

  /// Sends a typed request and waits for its typed response.
  /// - Throws: the `ResponseError` of an error reply, `TestClientError` on timeout or an undecodable result.
  public func send<R: LSPRequest>(_ request: R) throws -> R.Response {
    let json = try sendRequest(request).value()
    do {
      return try R.Response(json: json, path: "result")
    } catch {
      throw TestClientError.badResponse(method: R.method, error: error)
    }
  }

  /// Sends a notification.
  public func notify(method: String, params: JSONValue?) {
    pair.client.sendNotification(method: method, params: params)
  }

  /// Sends a typed notification.
  public func notify<N: LSPNotification>(_ notification: N) {
    notify(method: N.method, params: notification.json)
  }

  /// Writes raw bytes into the server's input (malformed-input tests).
  public func writeRaw(_ bytes: [UInt8]) { pair.writeRawToServer(bytes) }

  /// Writes a raw string into the server's input.
  public func writeRaw(_ text: String) { writeRaw(Array(text.utf8)) }

  // MARK: Observing

  /// Every message the server sent to the client so far (notifications and requests), in order.
  public var received: [ServerMessage] {
    condition.lock()
    defer { condition.unlock() }
    return messages
  }

  /// Params of every notification or request of one method received so far.
  public func received(_ method: String) -> [JSONValue] {
    received.filter { $0.method == method }.map(\.params)
  }

  /// Waits until `count` messages of a method (matching `predicate`) arrived; returns them all.
  @discardableResult
  public func waitFor(
    _ method: String, count: Int = 1, timeout: Double = TestClient.safetyTimeout,
    where predicate: (JSONValue) -> Bool = { _ in true }
  ) throws -> [JSONValue] {
    let limit = Date(timeIntervalSinceNow: timeout)
    condition.lock()
    defer { condition.unlock() }
    while true {
      let matching = messages.filter { $0.method == method && predicate($0.params) }.map(\.params)
      if matching.count >= count { return matching }
      if !condition.wait(until: limit) { throw TestClientError.timedOut("\(count) × \(method)") }
    }
  }

  /// Waits for the server's exit code (after `exit` or the end of input).
  public func waitForExit(timeout: Double = TestClient.safetyTimeout) throws -> Int32 {
    guard let code = exitBox.wait(timeout: timeout) else { throw TestClientError.timedOut("the server to exit") }
    return code
  }

  /// Waits for a protocol error of the client connection containing `text` (for example the server's error reply
  /// with a null id to a malformed message, which the client reports as an unmatched response).
  @discardableResult
  public func waitForProtocolError(containing text: String, timeout: Double = TestClient.safetyTimeout) throws
    -> String
  {
    let limit = Date(timeIntervalSinceNow: timeout)
    condition.lock()
    defer { condition.unlock() }
    while true {
      if let match = protocolErrors.first(where: { $0.contains(text) }) { return match }
      if !condition.wait(until: limit) { throw TestClientError.timedOut("a protocol error containing \(text)") }
    }
  }

  /// Protocol errors the client connection saw: malformed server output or responses it could not match (the
  /// server's null-id error replies to malformed input land here).
  public var clientProtocolErrors: [String] {
    condition.lock()
    defer { condition.unlock() }
    return protocolErrors
  }

  // MARK: Conveniences

  /// Capabilities of a typical modern client: work-done progress, applyEdit, versioned edits, insertTextMode.
  public static let defaultCapabilities: JSONValue = [
    "window": ["workDoneProgress": true],
    "workspace": ["applyEdit": true, "workspaceEdit": ["documentChanges": false]],
    "textDocument": [
      "completion": ["completionItem": ["insertTextModeSupport": ["valueSet": [1, 2]]]],
      "inlineCompletion": ["dynamicRegistration": false],
    ],
  ]

  /// `initialize` then `initialized`.
  @discardableResult
  public func initialize(
    capabilities: JSONValue = TestClient.defaultCapabilities, initializationOptions: JSONValue? = nil,
    trace: TraceValue? = nil, rootUri: String? = nil, workspaceFolders: [String]? = nil
  ) throws -> InitializeResult {
    var request = InitializeRequest(
      processId: Int(getpid()), clientName: "TestClient", rootUri: rootUri,
      capabilities: ClientCapabilities(raw: capabilities), initializationOptions: initializationOptions, trace: trace)
    request.workspaceFolders = workspaceFolders
    let result = try send(request)
    notify(InitializedNotification())
    return result
  }

  /// `didOpen` of a document.
  public func open(uri: String, languageId: String = "python", text: String, version: Int = 1) {
    notify(
      DidOpenTextDocumentNotification(
        textDocument: TextDocumentItem(uri: uri, languageId: languageId, version: version, text: text)))
  }

  /// `didChange` with one incremental change.
  public func change(uri: String, version: Int, range: LSPRange?, text: String) {
    notify(
      DidChangeTextDocumentNotification(
        textDocument: VersionedTextDocumentIdentifier(uri: uri, version: version),
        contentChanges: [TextDocumentContentChangeEvent(range: range, text: text)]))
  }

  /// `textDocument/inlineCompletion`, waiting for the items.
  public func inlineCompletion(uri: String, position: Position, trigger: InlineCompletionTriggerKind = .automatic)
    throws -> InlineCompletionList
  {
    try send(
      InlineCompletionRequest(
        textDocument: TextDocumentIdentifier(uri: uri), position: position,
        context: InlineCompletionContext(triggerKind: trigger)))
  }

  /// `textDocument/completion`, waiting for the list.
  public func completion(uri: String, position: Position) throws -> CompletionList {
    try send(TextDocumentCompletionRequest(textDocument: TextDocumentIdentifier(uri: uri), position: position))
  }

  /// `shutdown` then `exit`; returns the server's exit code.
  public func shutdownAndExit() throws -> Int32 {
    _ = try sendRequest(ShutdownRequest()).value()
    notify(ExitNotification())
    return try waitForExit()
  }
}

/// The server's exit code, set once by the server thread.
final class ExitBox: @unchecked Sendable {
  private let condition = NSCondition()
  private var code: Int32?

  func set(_ value: Int32) {
    condition.lock()
    code = value
    condition.broadcast()
    condition.unlock()
  }

  func wait(timeout: Double) -> Int32? {
    let limit = Date(timeIntervalSinceNow: timeout)
    condition.lock()
    defer { condition.unlock() }
    while code == nil {
      if !condition.wait(until: limit) { return nil }
    }
    return code
  }
}
