import CodeCompletion
import Foundation
import JSON
import LSPTransport
import LSPTypes
import Logging

/// The codegen-lsp language server: lifecycle, documents, completion endpoints, the generate-code command,
/// configuration, cancellation and logging, over one `JSONRPCConnection`.
///
/// Threads: the connection's reader thread calls `handle` for every message in order; it only updates state and
/// queues work, so reading never waits on a running completion. Every provider call (`complete`, `generate`,
/// `prepare`, and creating the provider) runs on one serial worker queue. Shared state is guarded by `lock`.
///
/// Cancellation: `$/cancelRequest` answers RequestCancelled (-32800) at once, queued or running, and cancels the
/// request's `CancellationToken` (its deadline starts when the worker begins the request); a `didChange` answers every pending completion of that document ContentModified
/// (-32801); a newer completion request for the same document answers the older ones RequestCancelled (superseded).
/// `ReplyOnce` guarantees exactly one reply per request whoever answers first.
/// - Important: `run()` blocks; call it from one thread only once.
public final class LanguageServer: @unchecked Sendable {
  /// The command `workspace/executeCommand` serves.
  public static let generateCodeCommand = GenerateCodeArguments.command

  enum Phase {
    case uninitialized
    case running
    case shutDown
  }

  /// A request that is queued or running on the worker.
  struct PendingRequest {
    let reply: ReplyOnce
    let token: RequestCancellation
    /// The document it reads, for ContentModified and superseding.
    let uri: String?
    /// True for completions (superseded by a newer completion of the same document).
    let isCompletion: Bool
  }

  /// An open document.
  struct OpenDocument {
    var languageId: String
    var version: Int
    var document: TextDocument
    /// Larger is more recent (for context documents, most recently used first).
    var lastUsed: Int
  }

  let connection: JSONRPCConnection
  let options: ServerOptions
  let providerFactory: (_ modelSpec: String?) -> CompletionProvider
  let worker = DispatchQueue(label: "codegen-lsp.worker", qos: .userInitiated)
  let lock = NSLock()
  /// Held while settings are handed to a provider, so updates reach it in the order they were made.
  let settingsUpdateLock = NSLock()
  private let finished = DispatchSemaphore(value: 0)

  // State guarded by `lock`.
  var phase = Phase.uninitialized
  var documents: [String: OpenDocument] = [:]
  var useClock = 0
  var pending: [RequestID: PendingRequest] = [:]
  var settings: CompletionSettings
  var configuredModel: String?
  var logLevel: Logger.Level
  var trace = TraceValue.off
  var prefetchEnabled: Bool
  var prefetchToken: CancellationToken?
  var editGeneration = 0
  var encoding = PositionEncodingKind.utf16
  var clientCapabilities = ClientCapabilities()
  /// The workspace folders of `initialize` (local paths), and whether the context source was given them.
  var workspaceFolderPaths: [String] = []
  var workspaceIndexStarted = false
  /// Progress tokens of running generate-code commands, mapped to the command's cancellation token.
  var progressTokens: [ProgressToken: RequestCancellation] = [:]
  /// Progress tokens whose progress the user cancelled.
  var cancelledProgress: Set<ProgressToken> = []
  var progressCounter = 0
  var announced: Set<String> = []
  var exitCode: Int32 = 1
  var hasFinished = false
  /// After `run()` returns: whether the worker had stopped (false when it was still busy after
  /// `ServerOptions.shutdownWaitSeconds`, and the process should end without running library destructors).
  public private(set) var workerStopped = true
  /// Set on the worker; read anywhere under `lock`.
  var provider: CompletionProvider?
  var providerSpec: String??

  var logger: Logger

  /// Creates a server; nothing happens until `run()`.
  /// - Parameters:
  ///   - connection: the JSON-RPC connection (not started yet).
  ///   - options: command-line options.
  ///   - providerFactory: makes the provider for a model spec (nil: default preset). Called on the worker queue
  ///     after `initialize`, and again whenever the configuration's `model` changes.
  public init(
    connection: JSONRPCConnection, options: ServerOptions,
    providerFactory: @escaping (_ modelSpec: String?) -> CompletionProvider
  ) {
    self.connection = connection
    self.options = options
    self.providerFactory = providerFactory
    self.settings = options.settings
    self.logLevel = options.logLevel
    self.prefetchEnabled = options.prefetch
    var logger = Logger(label: "codegen-lsp.server")
    logger.logLevel = options.logLevel
    self.logger = logger
  }

  /// Serves until `exit` or the end of input.
  /// - Returns: the process exit code: 0 when `shutdown` came before `exit` (or before the end of input), else 1.
  public func run() -> Int32 {
    connection.start(
      handler: { [self] message in handle(message) },
      onProtocolError: { [self] error in log(.warning, "protocol error: \(error)") },
      onClose: { [self] reason in
        lock.lock()
        let shutDown = phase == .shutDown
        lock.unlock()
        if !shutDown { currentLogger.info("connection closed (\(reason)) without shutdown") }
        finish(code: shutDown ? 0 : 1)
      })
    finished.wait()
    lock.lock()
    let code = exitCode
    // Nothing new starts from here on (prefetches check the phase), and everything running is told to stop.
    phase = .shutDown
    let requests = pending.values.map(\.token) + progressTokens.values
    let prefetch = prefetchToken
    lock.unlock()
    for request in requests { request.cancel(.shutdown) }
    prefetch?.cancel(.shutdown)
    // Wait for the worker to leave the engine: a prefill still running in OpenBLAS while the process exits crashes in
    // the library's teardown. Cancelled work stops within one layer of one prefill chunk.
    workerStopped = waitForWorker(seconds: options.shutdownWaitSeconds)
    if !workerStopped {
      currentLogger.warning("the worker did not stop within \(options.shutdownWaitSeconds) s of the end of the session")
    }
    connection.close()
    return code
  }

  /// True when everything queued on the worker before this call has finished within `seconds`.
  func waitForWorker(seconds: Double) -> Bool {
    let idle = DispatchSemaphore(value: 0)
    worker.async { idle.signal() }
    return idle.wait(timeout: .now() + seconds) == .success
  }

  func finish(code: Int32) {
    lock.lock()
    if hasFinished {
      lock.unlock()
      return
    }
    hasFinished = true
    exitCode = code
    lock.unlock()
    finished.signal()
  }

  // MARK: Dispatch

  func handle(_ message: IncomingMessage) {
    switch message {
    case .request(let id, let method, let params):
      handleRequest(id: id, method: method, params: params ?? .null)
    case .notification(let method, let params):
      handleNotification(method: method, params: params ?? .null)
    }
  }

  func handleRequest(id: RequestID, method: String, params: JSONValue) {
    let reply = ReplyOnce(id: id, connection: connection)
    lock.lock()
    let phase = self.phase
    lock.unlock()
    switch phase {
    case .uninitialized where method != InitializeRequest.method:
      reply.fail(
        ResponseError(
          code: ResponseError.Code.serverNotInitialized,
          message: "the server is not initialized: send 'initialize' first (got '\(method)')"))
      return
    case .shutDown:
      reply.fail(
        ResponseError(
          code: ResponseError.Code.invalidRequest,
          message: "the server is shut down: only 'exit' is accepted (got '\(method)')"))
      return
    default:
      break
    }
    switch method {
    case InitializeRequest.method:
      decode(InitializeRequest.self, params, reply).map { initialize($0, reply) }
    case ShutdownRequest.method:
      shutdown(reply)
    case InlineCompletionRequest.method:
      decode(InlineCompletionRequest.self, params, reply).map { request in
        let trigger: CompletionTrigger = request.context.triggerKind == .invoked ? .invoked : .automatic
        enqueueCompletion(
          id: id, reply: reply, uri: request.textDocument.uri, position: request.position, trigger: trigger,
          style: .inline)
      }
    case TextDocumentCompletionRequest.method:
      decode(TextDocumentCompletionRequest.self, params, reply).map { request in
        enqueueCompletion(
          id: id, reply: reply, uri: request.textDocument.uri, position: request.position, trigger: .invoked,
          style: .menu)
      }
    case ExecuteCommandRequest.method:
      decode(ExecuteCommandRequest.self, params, reply).map { executeCommand(id: id, $0, reply) }
    default:
      reply.fail(
        ResponseError(code: ResponseError.Code.methodNotFound, message: "method not found: '\(method)'"))
    }
  }

  func handleNotification(method: String, params: JSONValue) {
    if method == ExitNotification.method {
      lock.lock()
      let code: Int32 = phase == .shutDown ? 0 : 1
      lock.unlock()
      finish(code: code)
      return
    }
    lock.lock()
    let phase = self.phase
    lock.unlock()
    // Before initialize and after shutdown, notifications other than exit are dropped (LSP 3.17).
    guard phase == .running else { return }
    switch method {
    case InitializedNotification.method:
      registerFileWatchers()
    case DidChangeWatchedFilesNotification.method:
      decodeNotification(DidChangeWatchedFilesNotification.self, params).map(didChangeWatchedFiles)
    case DidOpenTextDocumentNotification.method:
      decodeNotification(DidOpenTextDocumentNotification.self, params).map(didOpen)
    case DidChangeTextDocumentNotification.method:
      decodeNotification(DidChangeTextDocumentNotification.self, params).map(didChange)
    case DidSaveTextDocumentNotification.method:
      decodeNotification(DidSaveTextDocumentNotification.self, params).map(didSave)
    case DidCloseTextDocumentNotification.method:
      decodeNotification(DidCloseTextDocumentNotification.self, params).map(didClose)
    case DidChangeConfigurationNotification.method:
      decodeNotification(DidChangeConfigurationNotification.self, params).map { applyConfiguration($0.settings) }
    case CancelRequestNotification.method:
      decodeNotification(CancelRequestNotification.self, params).map(cancelRequest)
    case SetTraceNotification.method:
      decodeNotification(SetTraceNotification.self, params).map { notification in
        lock.lock()
        trace = notification.value
        lock.unlock()
      }
    case WorkDoneProgressCancelNotification.method:
      decodeNotification(WorkDoneProgressCancelNotification.self, params).map { notification in
        lock.lock()
        let token = progressTokens[notification.token]
        if token != nil { cancelledProgress.insert(notification.token) }
        lock.unlock()
        token?.cancel(.cancelled)
      }
    default:
      // Unknown notifications (including `$/` ones) are ignored, as the spec asks.
      log(.debug, "ignored notification '\(method)'")
    }
  }

  /// Decodes request params, answering InvalidParams (naming the bad field) when they do not fit.
  func decode<T: LSPRequest>(_ type: T.Type, _ params: JSONValue, _ reply: ReplyOnce) -> T? {
    do {
      return try T(json: params, path: "params")
    } catch {
      reply.fail(
        ResponseError(code: ResponseError.Code.invalidParams, message: "invalid params of '\(T.method)': \(error)"))
      return nil
    }
  }

  /// Decodes notification params; logs and drops the notification when they do not fit.
  func decodeNotification<T: LSPNotification>(_ type: T.Type, _ params: JSONValue) -> T? {
    do {
      return try T(json: params, path: "params")
    } catch {
      log(.error, "ignored '\(T.method)' with invalid params: \(error)")
      return nil
    }
  }

  // MARK: Lifecycle

  func initialize(_ request: InitializeRequest, _ reply: ReplyOnce) {
    let offered = request.capabilities.positionEncodings
    lock.lock()
    guard phase == .uninitialized else {
      lock.unlock()
      reply.fail(ResponseError(code: ResponseError.Code.invalidRequest, message: "'initialize' was already received"))
      return
    }
    clientCapabilities = request.capabilities
    encoding = offered.first ?? .utf16
    trace = request.trace ?? .off
    phase = .running
    let negotiated = encoding
    lock.unlock()

    let capabilities = ServerCapabilities(
      positionEncoding: negotiated, textDocumentSyncChange: 2, saveIncludesText: false,
      completionTriggerCharacters: [], inlineCompletionProvider: true,
      executeCommands: [LanguageServer.generateCodeCommand])
    reply.succeed(
      InitializeResult(capabilities: capabilities, serverName: "codegen-lsp", serverVersion: options.serverVersion)
        .json)
    log(
      .info,
      "initialized for \(request.clientName ?? "an unnamed client"); position encoding \(negotiated.rawValue)")
    if let initializationOptions = request.initializationOptions {
      applyConfiguration(initializationOptions, creatingProvider: false)
    }
    startWorkspaceIndex(request)
    worker.async { [self] in ensureProvider() }
  }

  func shutdown(_ reply: ReplyOnce) {
    lock.lock()
    phase = .shutDown
    let running = pending
    pending.removeAll()
    let tokens = Array(progressTokens.values)
    let prefetch = prefetchToken
    lock.unlock()
    prefetch?.cancel(.shutdown)
    for request in running.values {
      request.token.cancel(.shutdown)
      request.reply.fail(
        ResponseError(code: ResponseError.Code.requestCancelled, message: "cancelled: the server is shutting down"))
    }
    for token in tokens { token.cancel(.shutdown) }
    reply.succeed(.null)
  }

  // MARK: Cancellation

  func cancelRequest(_ notification: CancelRequestNotification) {
    let id: RequestID
    switch notification.id {
    case .int(let value): id = .int(value)
    case .string(let value): id = .string(value)
    }
    lock.lock()
    let request = pending.removeValue(forKey: id)
    lock.unlock()
    guard let request else { return }  // Already answered, or unknown: nothing to do.
    request.token.cancel(.cancelled)
    request.reply.fail(ResponseError(code: ResponseError.Code.requestCancelled, message: "request cancelled"))
  }

  /// Answers every pending completion of a document and cancels its token. Call with `lock` held.
  func cancelCompletionsLocked(uri: String, reason: CancellationReason) -> [PendingRequest] {
    let ids = pending.filter { $0.value.isCompletion && $0.value.uri == uri }.map(\.key)
    return ids.compactMap { pending.removeValue(forKey: $0) }.map { request in
      request.token.cancel(reason)
      return request
    }
  }

  func answerCancelled(_ requests: [PendingRequest], reason: CancellationReason) {
    for request in requests {
      switch reason {
      case .contentModified:
        request.reply.fail(
          ResponseError(
            code: ResponseError.Code.contentModified, message: "the document changed while the completion ran"))
      case .superseded:
        request.reply.fail(
          ResponseError(
            code: ResponseError.Code.requestCancelled,
            message: "superseded by a newer completion request for the same document"))
      case .cancelled, .shutdown:
        request.reply.fail(ResponseError(code: ResponseError.Code.requestCancelled, message: "request cancelled"))
      }
    }
  }

  /// Removes a finished request from the pending table (it may already be gone).
  func removePending(_ id: RequestID) {
    lock.lock()
    pending.removeValue(forKey: id)
    lock.unlock()
  }

  // MARK: Documents

  func didOpen(_ notification: DidOpenTextDocumentNotification) {
    let item = notification.textDocument
    lock.lock()
    let reopened = documents[item.uri] != nil
    useClock += 1
    var cancelled: [PendingRequest] = []
    if reopened { cancelled = cancelCompletionsLocked(uri: item.uri, reason: .contentModified) }
    documents[item.uri] = OpenDocument(
      languageId: item.languageId, version: item.version, document: TextDocument(text: item.text), lastUsed: useClock)
    lock.unlock()
    answerCancelled(cancelled, reason: .contentModified)
    if reopened {
      log(.warning, "'didOpen' of \(item.uri), which was already open: its text was replaced")
    }
    if let path = LanguageServer.filePath(fromURI: item.uri) {
      options.contextSource?.documentChanged(path: path, languageId: item.languageId, text: item.text)
    }
    schedulePrefetch(uri: item.uri, at: nil, afterPause: false)
  }

  func didChange(_ notification: DidChangeTextDocumentNotification) {
    let uri = notification.textDocument.uri
    var failures: [String] = []
    lock.lock()
    guard documents[uri] != nil else {
      lock.unlock()
      log(.warning, "'didChange' of \(uri), which is not open: ignored (send 'didOpen' first)")
      return
    }
    let positionEncoding = encoding
    var lastEdit: Position?
    // Whether the text changed: a notification without changes, or whose changes insert and remove nothing, leaves
    // running completions valid (Neovim 0.7 can resend a flushed change as an empty one with the same version).
    var modified = false
    for change in notification.contentChanges {
      if let range = change.range {
        if !change.text.isEmpty || range.start != range.end { modified = true }
      } else if !modified, change.text != documents[uri]!.document.text {
        modified = true
      }
      do {
        try documents[uri]!.document.apply(change: change, encoding: positionEncoding)
        if let range = change.range {
          let end =
            documents[uri]!.document.offset(of: range.start, encoding: positionEncoding) + change.text.utf8.count
          lastEdit = documents[uri]!.document.position(ofOffset: end, encoding: positionEncoding)
        } else {
          lastEdit = nil
        }
      } catch {
        failures.append("\(error)")
      }
    }
    if let version = notification.textDocument.version {
      if version < documents[uri]!.version || (version == documents[uri]!.version && modified) {
        failures.append("version \(version) is not newer than \(documents[uri]!.version)")
      }
      documents[uri]!.version = version
    } else if modified {
      documents[uri]!.version += 1
    }
    useClock += 1
    documents[uri]!.lastUsed = useClock
    guard modified else {
      lock.unlock()
      for failure in failures { log(.error, "'didChange' of \(uri): \(failure)") }
      log(.debug, "'didChange' of \(uri) left the text as it was: running completions go on")
      return
    }
    let cancelled = cancelCompletionsLocked(uri: uri, reason: .contentModified)
    prefetchToken?.cancel(.contentModified)
    lock.unlock()
    answerCancelled(cancelled, reason: .contentModified)
    for failure in failures { log(.error, "'didChange' of \(uri): \(failure)") }
    schedulePrefetch(uri: uri, at: lastEdit, afterPause: true)
  }

  func didSave(_ notification: DidSaveTextDocumentNotification) {
    lock.lock()
    let open = documents[notification.textDocument.uri]
    lock.unlock()
    guard let open else {
      log(.debug, "'didSave' of \(notification.textDocument.uri), which is not open")
      return
    }
    if let source = options.contextSource, let path = LanguageServer.filePath(fromURI: notification.textDocument.uri) {
      source.documentChanged(path: path, languageId: open.languageId, text: open.document.text)
    }
  }

  func didClose(_ notification: DidCloseTextDocumentNotification) {
    let uri = notification.textDocument.uri
    lock.lock()
    let removed = documents.removeValue(forKey: uri)
    let cancelled = cancelCompletionsLocked(uri: uri, reason: .contentModified)
    lock.unlock()
    answerCancelled(cancelled, reason: .contentModified)
    if removed == nil { log(.warning, "'didClose' of \(uri), which is not open: ignored") }
    if let path = LanguageServer.filePath(fromURI: uri) {
      options.contextSource?.documentClosed(path: path, documentID: uri)
    }
  }

  /// A consistent copy of what a request needs from one document (O(1): documents are copy-on-write).
  struct DocumentSnapshot {
    let uri: String
    let languageId: String
    let version: Int
    let document: TextDocument
    let encoding: PositionEncodingKind
    /// Other open documents of the same language, most recently used first.
    let context: [(uri: String, document: TextDocument)]
  }

  func snapshot(uri: String, withContext: Bool) -> DocumentSnapshot? {
    lock.lock()
    defer { lock.unlock() }
    guard let open = documents[uri] else { return nil }
    var context: [(uri: String, document: TextDocument)] = []
    if withContext {
      context = documents.filter { $0.key != uri && $0.value.languageId == open.languageId }
        .sorted { $0.value.lastUsed > $1.value.lastUsed }
        .map { ($0.key, $0.value.document) }
    }
    return DocumentSnapshot(
      uri: uri, languageId: open.languageId, version: open.version, document: open.document, encoding: encoding,
      context: context)
  }

  /// The local path of a `file:` URI, else nil.
  public static func filePath(fromURI uri: String) -> String? {
    guard let url = URL(string: uri), url.scheme == "file", !url.path.isEmpty else { return nil }
    return url.standardizedFileURL.path
  }

  /// The file name (path) of a URI: the decoded path of a `file:` URI, else the last path component, else nil.
  public static func fileName(fromURI uri: String) -> String? {
    if let url = URL(string: uri), url.scheme == "file" {
      let path = url.path
      return path.isEmpty ? nil : path
    }
    if let url = URL(string: uri), !url.path.isEmpty {
      return url.path
    }
    let last = uri.split(separator: "/").last.map(String.init)
    return last?.isEmpty == false ? last : nil
  }
}
