import CodeCompletion
import Foundation
import JSON
import LSPTransport
import LSPTypes
import Logging

extension LanguageServer {
  /// Safety limit on waiting for the client's answer to a server-to-client request (not a latency target).
  static let clientReplyTimeout: DispatchTimeInterval = .seconds(60)

  /// `workspace/executeCommand`: only `codegen-lsp.generateCode`.
  func executeCommand(id: RequestID, _ request: ExecuteCommandRequest, _ reply: ReplyOnce) {
    guard request.command == LanguageServer.generateCodeCommand else {
      reply.fail(
        ResponseError(
          code: ResponseError.Code.invalidParams,
          message: "unknown command '\(request.command)': the server runs '\(LanguageServer.generateCodeCommand)'"))
      return
    }
    guard request.arguments.count == 1 else {
      reply.fail(
        ResponseError(
          code: ResponseError.Code.invalidParams,
          message: "'\(request.command)' takes one argument {uri, range | position, instruction?}, got "
            + "\(request.arguments.count)"))
      return
    }
    let arguments: GenerateCodeArguments
    do {
      arguments = try GenerateCodeArguments(json: request.arguments[0], path: "params.arguments[0]")
    } catch {
      reply.fail(ResponseError(code: ResponseError.Code.invalidParams, message: "invalid params: \(error)"))
      return
    }
    lock.lock()
    guard let open = documents[arguments.uri] else {
      lock.unlock()
      reply.fail(
        ResponseError(
          code: ResponseError.Code.invalidParams,
          message: "document \(arguments.uri) is not open: send 'didOpen' first"))
      return
    }
    prefetchToken?.cancel(.superseded)
    let token = RequestCancellation()
    pending[id] = PendingRequest(reply: reply, token: token, uri: arguments.uri, isCompletion: false)
    var progress: (token: ProgressToken, create: Bool)?
    if let given = request.workDoneToken {
      progress = (given, false)
    } else if clientCapabilities.workDoneProgress {
      progressCounter += 1
      progress = (.string("codegen-lsp/generate/\(progressCounter)"), true)
    }
    let version = open.version
    lock.unlock()
    let plan = progress
    worker.async { [self] in
      runGenerate(id: id, reply: reply, token: token, arguments: arguments, version: version, progress: plan)
    }
  }

  /// Shortens streamed text for a progress message: its last non-empty line, at most 80 characters.
  public static func progressMessage(for text: String) -> String {
    let lines = text.split(whereSeparator: \.isNewline)
    let last = lines.last.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
    let count = lines.count
    let shown = last.count > 80 ? "…" + last.suffix(79) : last
    return "\(count) line\(count == 1 ? "" : "s"): \(shown)"
  }

  func runGenerate(
    id: RequestID, reply: ReplyOnce, token: RequestCancellation, arguments: GenerateCodeArguments, version: Int,
    progress: (token: ProgressToken, create: Bool)?
  ) {
    defer { removePending(id) }
    if token.isCancelled || reply.isAnswered { return }
    guard let snapshot = snapshot(uri: arguments.uri, withContext: false) else {
      reply.fail(ResponseError(code: ResponseError.Code.contentModified, message: "the document was closed"))
      return
    }
    let document = snapshot.document
    let range: LSPRange
    if let given = arguments.range {
      range = LSPRange(
        start: document.clamp(given.start, encoding: snapshot.encoding),
        end: document.clamp(given.end, encoding: snapshot.encoding))
    } else {
      let position = arguments.position ?? Position(line: 0, character: 0)
      range = LSPRange(at: document.clamp(position, encoding: snapshot.encoding))
    }
    let startOffset = document.offset(of: range.start, encoding: snapshot.encoding)
    let endOffset = max(startOffset, document.offset(of: range.end, encoding: snapshot.encoding))

    guard let provider = ensureProvider(), isUsable(provider) else {
      var reason = "no model is available"
      if let provider = self.provider, case .unavailable(let why) = provider.status { reason = why }
      reply.fail(ResponseError(code: ResponseError.Code.requestFailed, message: "cannot generate code: \(reason)"))
      return
    }

    // Progress: create the token when the server chose it, then begin.
    var progressToken: ProgressToken?
    if let progress {
      if !progress.create || sendAndWait(WorkDoneProgressCreateRequest(token: progress.token)).isSuccess {
        progressToken = progress.token
      }
    }
    if let progressToken {
      lock.lock()
      progressTokens[progressToken] = token
      lock.unlock()
      sendNotification(
        ProgressNotification(
          token: progressToken,
          value: .begin(
            title: "Generating code", cancellable: true,
            message: arguments.instruction.map { "“\($0)”" } ?? "completing the block at the cursor",
            percentage: nil)))
    }
    // Generation stops on $/cancelRequest, on the progress's cancel button (both cancel `token`), or at the deadline.
    lock.lock()
    let deadline = settings.generateDeadlineMilliseconds
    lock.unlock()
    let providerToken = token.startToken(deadlineMilliseconds: deadline)
    var lastMessage = ""
    let request = GenerateRequest(
      documentID: arguments.uri, fileName: LanguageServer.fileName(fromURI: arguments.uri),
      languageId: snapshot.languageId, prefix: document.prefix(upToOffset: startOffset),
      selection: document.text(inOffsets: startOffset, endOffset), suffix: document.suffix(fromOffset: endOffset),
      instruction: arguments.instruction)
    let result: GenerateResult
    do {
      result = try provider.generate(request, cancellation: providerToken) { [self] partial in
        guard let progressToken else { return }
        let message = LanguageServer.progressMessage(for: partial)
        guard message != lastMessage else { return }
        lastMessage = message
        sendNotification(
          ProgressNotification(
            token: progressToken, value: .report(cancellable: true, message: message, percentage: nil)))
      }
    } catch {
      endProgress(progressToken, message: "failed: \(error)")
      log(.error, "generate-code failed for \(arguments.uri): \(error)")
      reply.fail(ResponseError(code: ResponseError.Code.requestFailed, message: "generate-code failed: \(error)"))
      return
    }
    let cancelledByProgress = progressToken.map(takeProgressCancelled) ?? false
    if token.isCancelled && !cancelledByProgress {
      endProgress(progressToken, message: "cancelled")
      answerCancelled(
        [PendingRequest(reply: reply, token: token, uri: arguments.uri, isCompletion: false)],
        reason: token.reason ?? .cancelled)
      return
    }
    if cancelledByProgress {
      endProgress(progressToken, message: "cancelled")
      reply.succeed(GenerateCodeResult(applied: false, text: result.text).json)
      return
    }
    guard !result.text.isEmpty else {
      endProgress(progressToken, message: "nothing generated")
      reply.succeed(GenerateCodeResult(applied: false, text: "").json)
      return
    }
    endProgress(progressToken, message: "done")
    let edit = TextEdit(range: range, newText: result.text)
    lock.lock()
    let versioned = clientCapabilities.documentChanges
    lock.unlock()
    let workspaceEdit =
      versioned
      ? WorkspaceEdit(
        documentChanges: [
          TextDocumentEdit(
            textDocument: VersionedTextDocumentIdentifier(uri: arguments.uri, version: snapshot.version),
            edits: [edit])
        ])
      : WorkspaceEdit(changes: [arguments.uri: [edit]])
    let answer = sendAndWait(ApplyWorkspaceEditRequest(label: "Generate code", edit: workspaceEdit))
    var applied = false
    switch answer {
    case .success(let json):
      applied = (try? ApplyWorkspaceEditResult(json: json, path: "result"))?.applied ?? false
    case .failure(let error):
      log(.warning, "workspace/applyEdit failed: \(error.message)")
    }
    reply.succeed(GenerateCodeResult(applied: applied, text: result.text).json)
  }

  /// True (once) when the user cancelled this progress with `window/workDoneProgress/cancel`.
  func takeProgressCancelled(_ token: ProgressToken) -> Bool {
    lock.lock()
    defer { lock.unlock() }
    return cancelledProgress.remove(token) != nil
  }

  func endProgress(_ token: ProgressToken?, message: String) {
    guard let token else { return }
    lock.lock()
    progressTokens.removeValue(forKey: token)
    lock.unlock()
    sendNotification(ProgressNotification(token: token, value: .end(message: message)))
  }

  /// Sends a server-to-client request and waits for its answer (on the worker only: the reader thread delivers it).
  func sendAndWait<R: LSPRequest>(_ request: R) -> Result<JSONValue, ResponseError> {
    let done = DispatchSemaphore(value: 0)
    let box = ResultBox()
    _ = connection.sendRequest(method: R.method, params: request.json) { result in
      box.set(result)
      done.signal()
    }
    if done.wait(timeout: .now() + LanguageServer.clientReplyTimeout) == .timedOut {
      return .failure(
        ResponseError(code: ResponseError.Code.requestFailed, message: "no answer to '\(R.method)' from the client"))
    }
    return box.get() ?? .failure(ResponseError(code: ResponseError.Code.internalError, message: "no answer"))
  }
}

/// Holds one reply across threads.
final class ResultBox: @unchecked Sendable {
  private let lock = NSLock()
  private var value: Result<JSONValue, ResponseError>?
  func set(_ result: Result<JSONValue, ResponseError>) {
    lock.lock()
    value = result
    lock.unlock()
  }
  func get() -> Result<JSONValue, ResponseError>? {
    lock.lock()
    defer { lock.unlock() }
    return value
  }
}

extension Result {
  var isSuccess: Bool {
    if case .success = self { return true }
    return false
  }
}
