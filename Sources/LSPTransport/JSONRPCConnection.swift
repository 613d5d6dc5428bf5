import Foundation
import JSON

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A JSON-RPC 2.0 connection over two file descriptors, framed with `Content-Length` headers (LSP base protocol).
///
/// One reader thread reads the input, splits it with `MessageFramer`, parses each body with `JSONValue.parse`
/// and calls the handler for every valid request and notification, in arrival order. Responses from the peer
/// are matched to the requests sent with `sendRequest`. Malformed input is answered here and reading goes on:
/// - framing errors (no or bad `Content-Length`, too large, malformed header line): -32700 ParseError, id null;
/// - a body that is not JSON, including invalid UTF-8: -32700 ParseError, id null;
/// - JSON that is not an object, `jsonrpc` missing or not `"2.0"`, `method` not a string, `id` not an
///   integer or string, an object with neither `method` nor `result`/`error`: -32600 InvalidRequest, with the
///   id when it could be read, else null.
/// Each of these, and every response that matches no pending request, is also reported to `onProtocolError`.
///
/// The connection never closes the descriptors it was given: their owner does, after the reader has exited.
/// `SIGPIPE` is ignored process-wide the first time a connection is created, so a closed peer makes `write`
/// fail with `EPIPE` instead of killing the process.
///
/// - Important: `send*` may be called from any thread; each message is written as one whole frame under a
///   lock. The handler, `onProtocolError`, `onClose` and the `reply` callbacks of `sendRequest` run on the
///   reader thread (a write failure is reported to `onProtocolError` on the sending thread), so a slow handler
///   delays reading; hand long work to another thread.
public final class JSONRPCConnection: @unchecked Sendable {
  private let inputFD: Int32
  private let outputFD: Int32
  private let maxMessageSize: Int
  /// Written by `close()` to wake the reader out of `poll`; -1 if the pipe could not be made.
  private let wakeRead: Int32
  private let wakeWrite: Int32

  private let stateLock = NSLock()
  private let writeLock = NSLock()
  private let exitCondition = NSCondition()
  // Guarded by `stateLock`.
  private var isClosed = false
  private var isStarted = false
  private var readerFinished = false
  private var outputDisabled = false
  private var nextRequestID: Int64 = 1
  private var pending: [RequestID: (Result<JSONValue, ResponseError>) -> Void] = [:]
  private var protocolErrorHandler: ((String) -> Void)?
  private var readerThread: pthread_t?
  // Guarded by `exitCondition`.
  private var readerExited = false

  private static let ignoreSIGPIPE: Void = { _ = signal(SIGPIPE, SIG_IGN) }()

  /// Creates a connection; nothing is read until `start`.
  /// - Parameters:
  ///   - inputFD: the descriptor messages are read from (for a server, the original stdin).
  ///   - outputFD: the descriptor messages are written to (for a server, a duplicate of the original stdout).
  ///   - maxMessageSize: the largest message body accepted; larger ones are skipped and answered -32700.
  public init(inputFD: Int32, outputFD: Int32, maxMessageSize: Int = 64 << 20) {
    Self.ignoreSIGPIPE
    self.inputFD = inputFD
    self.outputFD = outputFD
    self.maxMessageSize = maxMessageSize
    if let wake = try? makePipe() {
      wakeRead = wake.read
      wakeWrite = wake.write
    } else {
      wakeRead = -1
      wakeWrite = -1
    }
  }

  deinit {
    if wakeRead >= 0 { Glibc.close(wakeRead) }
    if wakeWrite >= 0 { Glibc.close(wakeWrite) }
  }

  /// Starts ONE reader thread; calls `handler` on it for every valid request/notification, in order.
  /// - Parameters:
  ///   - handler: receives each request and notification.
  ///   - onProtocolError: receives a description of each malformed message (already answered) and of
  ///     each unmatched response (ignored).
  ///   - onClose: called once, last, when reading stops; by then every pending `sendRequest` reply has
  ///     been called with `ResponseError.pendingResponseRejected`.
  /// - Precondition: `start` is called at most once.
  public func start(
    handler: @escaping (IncomingMessage) -> Void,
    onProtocolError: @escaping (String) -> Void,
    onClose: @escaping (ConnectionCloseReason) -> Void
  ) {
    stateLock.lock()
    precondition(!isStarted, "JSONRPCConnection.start called twice")
    isStarted = true
    protocolErrorHandler = onProtocolError
    stateLock.unlock()
    let thread = Thread { [self] in
      stateLock.lock()
      readerThread = pthread_self()
      stateLock.unlock()
      let reason = readLoop(handler: handler, onProtocolError: onProtocolError)
      finishReading(reason: reason, onClose: onClose)
    }
    thread.name = "jsonrpc-reader"
    thread.stackSize = 8 << 20
    thread.start()
  }

  /// Stops reading: the reader thread exits after the handler call in progress, if any, returns. Messages
  /// sent after this are dropped. Idempotent; callable from any thread, the handler included. Pending
  /// `sendRequest` replies get `ResponseError.pendingResponseRejected` (on the reader thread; on the calling
  /// thread if `start` was never called).
  public func close() {
    stateLock.lock()
    if isClosed {
      stateLock.unlock()
      return
    }
    isClosed = true
    let started = isStarted
    let orphans = started ? [:] : takePending()
    stateLock.unlock()
    if wakeWrite >= 0 {
      var byte: UInt8 = 1
      _ = Glibc.write(wakeWrite, &byte, 1)
    }
    for reply in orphans.values { reply(.failure(.pendingResponseRejected)) }
  }

  /// Blocks until the reader thread has exited and `onClose` has returned; returns at once if `start` was
  /// never called.
  /// - Precondition: not called on the reader thread (from a handler), which would wait for itself.
  public func waitForReaderExit() {
    precondition(!isOnReaderThread, "waitForReaderExit called from the reader thread")
    stateLock.lock()
    let started = isStarted
    stateLock.unlock()
    guard started else { return }
    exitCondition.lock()
    while !readerExited { exitCondition.wait() }
    exitCondition.unlock()
  }

  /// Whether the caller is this connection's reader thread.
  var isOnReaderThread: Bool {
    stateLock.lock()
    defer { stateLock.unlock() }
    guard let readerThread else { return false }
    return pthread_equal(readerThread, pthread_self()) != 0
  }

  // MARK: Sending

  /// Sends one message (any JSON value) as one frame. Thread-safe; dropped after `close()` or a write error.
  public func send(_ message: JSONValue) {
    writeFrame(MessageFramer.frame(message.serializedBytes()))
  }

  /// Sends a notification: `{"jsonrpc": "2.0", "method", "params"?}`.
  public func sendNotification(method: String, params: JSONValue?) {
    var object: [String: JSONValue] = ["jsonrpc": "2.0", "method": .string(method)]
    if let params { object["params"] = params }
    send(.object(object))
  }

  /// Sends a successful response: `{"jsonrpc": "2.0", "id", "result"}`.
  public func sendResponse(id: RequestID, result: JSONValue) {
    send(["jsonrpc": "2.0", "id": id.json, "result": result])
  }

  /// Sends an error response: `{"jsonrpc": "2.0", "id", "error"}`; a nil id is written as `null`.
  public func sendError(id: RequestID?, error: ResponseError) {
    send(["jsonrpc": "2.0", "id": id?.json ?? .null, "error": error.json])
  }

  /// Sends a request to the peer (server-to-client) with a fresh integer id.
  /// - Parameter reply: runs once, on the reader thread, with the result or error; with
  ///   `ResponseError.pendingResponseRejected` if the connection closes first (on the calling thread if it
  ///   is already closed).
  /// - Returns: the id used.
  @discardableResult
  public func sendRequest(
    method: String, params: JSONValue?, reply: @escaping (Result<JSONValue, ResponseError>) -> Void
  ) -> RequestID {
    stateLock.lock()
    let id = RequestID.int(nextRequestID)
    nextRequestID += 1
    let refused = isClosed || readerFinished
    if !refused { pending[id] = reply }
    stateLock.unlock()
    if refused {
      reply(.failure(.pendingResponseRejected))
      return id
    }
    var object: [String: JSONValue] = ["jsonrpc": "2.0", "id": id.json, "method": .string(method)]
    if let params { object["params"] = params }
    send(.object(object))
    return id
  }

  /// Writes bytes as they are, under the write lock (for tests that need malformed input).
  func writeRaw(_ bytes: [UInt8]) {
    writeFrame(bytes)
  }

  /// Stops all further writes (before the owner closes the output descriptor).
  func disableOutput() {
    writeLock.lock()
    stateLock.lock()
    outputDisabled = true
    stateLock.unlock()
    writeLock.unlock()
  }

  private func writeFrame(_ frame: [UInt8]) {
    writeLock.lock()
    defer { writeLock.unlock() }
    stateLock.lock()
    let dropped = isClosed || outputDisabled
    stateLock.unlock()
    if dropped { return }
    let failure: Int32? = frame.withUnsafeBytes { raw -> Int32? in
      var offset = 0
      while offset < raw.count {
        let written = Glibc.write(outputFD, raw.baseAddress! + offset, raw.count - offset)
        if written >= 0 {
          offset += written
          continue
        }
        let code = errno
        if code == EINTR { continue }
        if code == EAGAIN || code == EWOULDBLOCK {
          var request = pollfd(fd: outputFD, events: Int16(POLLOUT), revents: 0)
          _ = poll(&request, 1, -1)
          continue
        }
        return code
      }
      return nil
    }
    if let failure {
      stateLock.lock()
      outputDisabled = true
      let report = protocolErrorHandler
      stateLock.unlock()
      report?(
        "write to descriptor \(outputFD) failed: \(String(cString: strerror(failure))) (errno \(failure)); "
          + "further messages are dropped")
    }
  }

  // MARK: Reading

  private func readLoop(
    handler: (IncomingMessage) -> Void, onProtocolError: (String) -> Void
  ) -> ConnectionCloseReason {
    var framer = MessageFramer(maxMessageSize: maxMessageSize)
    let chunkSize = 64 << 10
    let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkSize, alignment: 16)
    defer { chunk.deallocate() }
    while true {
      if closedNow { return .closed }
      var fds = [
        pollfd(fd: inputFD, events: Int16(POLLIN), revents: 0),
        pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0),
      ]
      let ready = poll(&fds, wakeRead >= 0 ? 2 : 1, -1)
      if ready < 0 {
        if errno == EINTR { continue }
        return .readError(errno)
      }
      if closedNow || fds[1].revents != 0 && wakeRead >= 0 { return .closed }
      if fds[0].revents & Int16(POLLNVAL) != 0 { return .readError(EBADF) }
      if fds[0].revents == 0 { continue }
      let count = read(inputFD, chunk.baseAddress, chunkSize)
      if count < 0 {
        if errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK { continue }
        return .readError(errno)
      }
      if count == 0 {
        return framer.hasPartialMessage ? .endOfInputInsideMessage : .endOfInput
      }
      for event in framer.push(UnsafeRawBufferPointer(rebasing: chunk[0..<count])) {
        if closedNow { return .closed }
        switch event {
        case .message(let body):
          handleBody(body, handler: handler, onProtocolError: onProtocolError)
        case .error(let error):
          onProtocolError("framing error: \(error)")
          sendError(id: nil, error: .parseError("Parse error: \(error)"))
        }
      }
    }
  }

  private var closedNow: Bool {
    stateLock.lock()
    defer { stateLock.unlock() }
    return isClosed
  }

  /// Classifies one body and dispatches it; answers malformed ones.
  private func handleBody(_ body: [UInt8], handler: (IncomingMessage) -> Void, onProtocolError: (String) -> Void) {
    let value: JSONValue
    do {
      value = try JSONValue.parse(body)
    } catch {
      onProtocolError("message body is not valid JSON: \(error)")
      sendError(id: nil, error: .parseError("Parse error: \(error)"))
      return
    }
    guard case .object(let object) = value else {
      reject(id: nil, "Invalid request: a message must be a JSON object", onProtocolError)
      return
    }
    let idMember = object["id"]
    let id = idMember.flatMap(RequestID.init(json:))
    guard object["jsonrpc"] == "2.0" else {
      reject(id: id, "Invalid request: \"jsonrpc\" must be \"2.0\"", onProtocolError)
      return
    }
    if let methodMember = object["method"] {
      guard case .string(let method) = methodMember else {
        reject(id: id, "Invalid request: \"method\" must be a string", onProtocolError)
        return
      }
      var params = object["params"]
      if params == .null { params = nil }
      if let idMember {
        guard let id else {
          reject(id: nil, "Invalid request: \"id\" must be an integer or a string, not \(idMember)", onProtocolError)
          return
        }
        handler(.request(id: id, method: method, params: params))
      } else {
        handler(.notification(method: method, params: params))
      }
      return
    }
    let result = object["result"]
    let errorMember = object["error"]
    guard result != nil || errorMember != nil else {
      reject(id: id, "Invalid request: a message needs \"method\", or \"result\" or \"error\"", onProtocolError)
      return
    }
    // A response: never answered, only matched.
    guard let id else {
      onProtocolError("response without a usable id ignored: \(value)")
      return
    }
    stateLock.lock()
    let reply = pending.removeValue(forKey: id)
    stateLock.unlock()
    guard let reply else {
      onProtocolError("response to unknown request id \(id) ignored")
      return
    }
    if let errorMember {
      if let error = ResponseError(json: errorMember) {
        reply(.failure(error))
      } else {
        onProtocolError("response \(id) has a malformed error object: \(errorMember)")
        reply(.failure(.internalError("malformed error object in response", data: errorMember)))
      }
    } else {
      reply(.success(result ?? .null))
    }
  }

  private func reject(id: RequestID?, _ message: String, _ onProtocolError: (String) -> Void) {
    onProtocolError(message)
    sendError(id: id, error: .invalidRequest(message))
  }

  /// Removes and returns all pending replies. Call with `stateLock` held.
  private func takePending() -> [RequestID: (Result<JSONValue, ResponseError>) -> Void] {
    let taken = pending
    pending = [:]
    return taken
  }

  private func finishReading(reason: ConnectionCloseReason, onClose: (ConnectionCloseReason) -> Void) {
    stateLock.lock()
    readerFinished = true
    let orphans = takePending()
    stateLock.unlock()
    for reply in orphans.values { reply(.failure(.pendingResponseRejected)) }
    onClose(reason)
    exitCondition.lock()
    readerExited = true
    exitCondition.broadcast()
    exitCondition.unlock()
  }
}
