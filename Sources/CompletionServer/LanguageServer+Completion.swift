import CodeCompletion
import Foundation
import JSON
import LSPTransport
import LSPTypes
import Logging

extension LanguageServer {
  /// How the candidates are returned.
  enum CompletionStyle {
    /// `textDocument/inlineCompletion`: ghost text.
    case inline
    /// `textDocument/completion`: menu items.
    case menu
  }

  /// Registers a completion request (superseding older ones of the same document) and queues it on the worker.
  func enqueueCompletion(
    id: RequestID, reply: ReplyOnce, uri: String, position: Position, trigger: CompletionTrigger,
    style: CompletionStyle
  ) {
    lock.lock()
    guard let open = documents[uri] else {
      lock.unlock()
      reply.fail(
        ResponseError(
          code: ResponseError.Code.invalidParams, message: "document \(uri) is not open: send 'didOpen' first"))
      return
    }
    let superseded = cancelCompletionsLocked(uri: uri, reason: .superseded)
    prefetchToken?.cancel(.superseded)
    let token = RequestCancellation()
    pending[id] = PendingRequest(reply: reply, token: token, uri: uri, isCompletion: true)
    useClock += 1
    documents[uri]!.lastUsed = useClock
    let version = open.version
    lock.unlock()
    answerCancelled(superseded, reason: .superseded)

    worker.async { [self] in
      runCompletion(
        id: id, reply: reply, token: token, uri: uri, version: version, position: position, trigger: trigger,
        style: style)
    }
  }

  /// Runs one completion on the worker and answers it (unless someone answered it first).
  func runCompletion(
    id: RequestID, reply: ReplyOnce, token: RequestCancellation, uri: String, version: Int, position: Position,
    trigger: CompletionTrigger, style: CompletionStyle
  ) {
    defer { removePending(id) }
    if token.isCancelled || reply.isAnswered { return }
    guard let snapshot = snapshot(uri: uri, withContext: true), snapshot.version == version else {
      reply.fail(
        ResponseError(code: ResponseError.Code.contentModified, message: "the document changed before the completion"))
      return
    }
    let started = DispatchTime.now().uptimeNanoseconds
    let document = snapshot.document
    let offset = document.offset(of: position, encoding: snapshot.encoding)
    let cursor = document.position(ofOffset: offset, encoding: snapshot.encoding)
    let prefix = document.prefix(upToOffset: offset)
    let suffix = document.suffix(fromOffset: offset)

    guard let provider = ensureProvider(), isUsable(provider) else {
      reply.succeed(emptyResult(style))
      return
    }
    lock.lock()
    let verbose = trace == .verbose
    let deadline = settings.deadlineMilliseconds
    lock.unlock()
    let providerToken = token.startToken(deadlineMilliseconds: deadline)
    var request = CompletionRequest(
      documentID: uri, fileName: LanguageServer.fileName(fromURI: uri), languageId: snapshot.languageId,
      prefix: prefix, suffix: suffix, trigger: trigger,
      contextDocuments: snapshot.context.map {
        ContextDocument(
          name: LanguageServer.fileName(fromURI: $0.uri) ?? $0.uri, languageId: snapshot.languageId,
          text: $0.document.text)
      },
      explain: verbose)
    let contextNotes = addRepositoryContext(to: &request, uri: uri)
    if !contextNotes.isEmpty { log(.debug, contextNotes.joined(separator: "\n")) }

    let result: CompletionResult
    do {
      result = try provider.complete(request, cancellation: providerToken)
    } catch CompletionProviderError.unavailable(let reason) {
      announceOnce(.error, reason)
      reply.succeed(emptyResult(style))
      return
    } catch {
      log(.error, "completion failed for \(uri) at \(cursor): \(error)")
      reply.fail(ResponseError(code: ResponseError.Code.requestFailed, message: "completion failed: \(error)"))
      return
    }
    if let notice = result.notice { announceOnce(.warning, notice) }
    if let reason = token.reason {
      answerCancelled([PendingRequest(reply: reply, token: token, uri: uri, isCompletion: true)], reason: reason)
      return
    }
    let candidates = result.candidates.filter { !$0.text.allSatisfy(\.isWhitespace) }
    let response: JSONValue
    switch style {
    case .inline:
      response =
        InlineCompletionList(
          items: candidates.map { InlineCompletionItem(insertText: $0.text, range: LSPRange(at: cursor)) }
        ).json
    case .menu:
      response = menuList(candidates, prefix: prefix, cursor: cursor, encoding: snapshot.encoding).json
    }
    let milliseconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e6
    // The trace goes out before the answer, so a client sees it by the time it has the result.
    logTrace(
      "\(style == .inline ? "inlineCompletion" : "completion") \(uri) \(cursor): \(candidates.count) candidate(s) in "
        + "\(String(format: "%.1f", milliseconds)) ms\(result.fromCache ? " (cache)" : ""), prompt "
        + "\(result.promptTokensComputed)/\(result.promptTokens) tokens computed, \(result.generatedTokens) generated",
      verbose: result.trace.isEmpty ? nil : (contextNotes + result.trace).joined(separator: "\n"))
    reply.succeed(response)
    scheduleExtension(uri: uri, after: id)
  }

  /// Queues the background extension of a completion cut at the typing target
  /// (`CompletionProvider.extendLastCompletion`) once the request `id` is answered; like a prefetch, the next edit or
  /// request cancels it.
  func scheduleExtension(uri: String, after id: RequestID) {
    startBackgroundWork(if: { !pending.keys.contains(where: { $0 != id }) }) { [self] token in
      guard !token.isCancelled, let provider = ensureProvider() else { return }
      provider.extendLastCompletion(documentID: uri, cancellation: token)
    }
  }

  /// Starts background work on the worker (a prefetch, an extension) when background work is on and `allowed`
  /// holds (checked under `lock`): earlier background work is cancelled, and the new work gets the token that the
  /// next edit or request cancels.
  func startBackgroundWork(if allowed: () -> Bool, _ work: @escaping @Sendable (CancellationToken) -> Void) {
    lock.lock()
    guard prefetchEnabled, phase == .running, allowed() else {
      lock.unlock()
      return
    }
    prefetchToken?.cancel(.superseded)
    let token = CancellationToken()
    prefetchToken = token
    lock.unlock()
    worker.async { work(token) }
  }

  func emptyResult(_ style: CompletionStyle) -> JSONValue {
    switch style {
    case .inline: return InlineCompletionList(items: []).json
    case .menu: return CompletionList(isIncomplete: true, items: []).json
    }
  }

  /// The identifier being typed at the end of `prefix` (letters, digits, `_`, `$`), on the cursor's line.
  static func wordBeforeCursor(_ prefix: String) -> Substring {
    var start = prefix.endIndex
    while start > prefix.startIndex {
      let previous = prefix.index(before: start)
      let character = prefix[previous]
      guard character.isLetter || character.isNumber || character == "_" || character == "$" else { break }
      start = previous
    }
    return prefix[start...]
  }

  /// Leading spaces and tabs of the cursor's line.
  static func lineIndentation(_ prefix: String) -> Substring {
    let lineStart =
      prefix.lastIndex(where: { $0 == "\n" || $0 == "\r" }).map { prefix.index(after: $0) }
      ?? prefix.startIndex
    return prefix[lineStart...].prefix { $0 == " " || $0 == "\t" }
  }

  /// One menu item per candidate: its `textEdit` replaces the word typed so far (word start to cursor) with the word
  /// plus the candidate, so the client's filter (on `filterText`, the same text) keeps the item while typing.
  func menuList(_ candidates: [CompletionCandidate], prefix: String, cursor: Position, encoding: PositionEncodingKind)
    -> CompletionList
  {
    let word = LanguageServer.wordBeforeCursor(prefix)
    let wordUnits: Int
    switch encoding {
    case .utf8: wordUnits = word.utf8.count
    case .utf16: wordUnits = word.utf16.count
    case .utf32: wordUnits = word.unicodeScalars.count
    }
    let start = Position(line: cursor.line, character: max(0, cursor.character - wordUnits))
    lock.lock()
    let modes = clientCapabilities.completionInsertTextModes
    lock.unlock()
    // asIs keeps the model's indentation; without it the client adjusts continuation lines to the cursor line's
    // indentation, so that indentation is removed from them first.
    let asIs = modes.contains(InsertTextMode.asIs.rawValue)
    let indentation = LanguageServer.lineIndentation(prefix)
    let items = candidates.enumerated().map { index, candidate -> CompletionItem in
      var text = candidate.text
      if !asIs && !indentation.isEmpty {
        text = text.replacingOccurrences(of: "\n" + indentation, with: "\n")
      }
      let newText = String(word) + text
      let firstLine = newText.split(separator: "\n", omittingEmptySubsequences: false).first.map(String.init) ?? ""
      let multiline = newText.contains("\n")
      let label = firstLine.trimmingCharacters(in: .whitespaces) + (multiline ? " …" : "")
      return CompletionItem(
        label: label.isEmpty ? newText.trimmingCharacters(in: .whitespacesAndNewlines) : label,
        kind: 1, detail: "codegen-lsp", documentation: multiline ? newText : nil,
        sortText: String(format: "%04d", index), filterText: newText, preselect: index == 0 ? true : nil,
        textEdit: TextEdit(range: LSPRange(start: start, end: cursor), newText: newText),
        insertTextFormat: .plainText, insertTextMode: asIs ? .asIs : nil)
    }
    return CompletionList(isIncomplete: true, items: items)
  }

  // MARK: Provider

  /// The provider for the model now configured, created (or re-created after a `model` change) on the worker.
  /// - Important: call on the worker queue only.
  @discardableResult
  func ensureProvider() -> CompletionProvider? {
    lock.lock()
    let spec = configuredModel ?? options.modelSpec
    let current = provider
    let currentSpec = providerSpec
    let running = phase == .running
    lock.unlock()
    if let current, let currentSpec, currentSpec == spec { return current }
    guard running || current == nil else { return current }
    log(.info, "loading model \(spec ?? "(default preset)")")
    let created = providerFactory(spec)
    // Publish the provider and give it the settings in force at that moment; `settingsUpdateLock` orders this
    // with `applyConfiguration`, so a configuration change racing with the creation is never lost.
    settingsUpdateLock.lock()
    lock.lock()
    provider = created
    providerSpec = .some(spec)
    let latestSettings = settings
    lock.unlock()
    created.updateSettings(latestSettings)
    settingsUpdateLock.unlock()
    switch created.status {
    case .ready(let description):
      log(.info, "model ready: \(description)")
    case .degraded(let description, let warning):
      log(.warning, "model degraded: \(description): \(warning)")
    case .unavailable(let reason):
      log(.error, "no model: \(reason)")
    }
    _ = isUsable(created)
    return created
  }

  /// False for an unavailable provider; shows its reason (or a degraded provider's warning) once.
  func isUsable(_ provider: CompletionProvider) -> Bool {
    switch provider.status {
    case .ready:
      return true
    case .degraded(_, let warning):
      announceOnce(.warning, warning)
      return true
    case .unavailable(let reason):
      announceOnce(.error, reason)
      return false
    }
  }

  /// Sends `window/showMessage` unless the same message was shown before.
  func announceOnce(_ type: MessageType, _ message: String) {
    lock.lock()
    let isNew = announced.insert(message).inserted
    lock.unlock()
    if isNew { showMessage(type, message) }
  }

  // MARK: Prefetch

  /// Queues a background `prepare` for a document: at once (didOpen) or after a typing pause (didChange).
  func schedulePrefetch(uri: String, at position: Position?, afterPause: Bool) {
    lock.lock()
    guard prefetchEnabled, phase == .running else {
      lock.unlock()
      return
    }
    editGeneration += 1
    let generation = editGeneration
    lock.unlock()
    let start: @Sendable () -> Void = { [self] in
      startBackgroundWork(if: { generation == editGeneration && pending.isEmpty }) { [self] token in
        runPrefetch(uri: uri, at: position, token: token)
      }
    }
    if afterPause {
      DispatchQueue.global().asyncAfter(
        deadline: .now() + .milliseconds(options.prefetchPauseMilliseconds), execute: start)
    } else {
      start()
    }
  }

  func runPrefetch(uri: String, at position: Position?, token: CancellationToken) {
    guard !token.isCancelled, let snapshot = snapshot(uri: uri, withContext: true) else { return }
    guard let provider = ensureProvider() else { return }
    if case .unavailable = provider.status { return }
    let document = snapshot.document
    let offset = position.map { document.offset(of: $0, encoding: snapshot.encoding) } ?? document.utf8Count
    var request = CompletionRequest(
      documentID: uri, fileName: LanguageServer.fileName(fromURI: uri), languageId: snapshot.languageId,
      prefix: document.prefix(upToOffset: offset), suffix: document.suffix(fromOffset: offset), trigger: .automatic,
      contextDocuments: snapshot.context.map {
        ContextDocument(
          name: LanguageServer.fileName(fromURI: $0.uri) ?? $0.uri, languageId: snapshot.languageId,
          text: $0.document.text)
      })
    _ = addRepositoryContext(to: &request, uri: uri)
    provider.prepare(request, cancellation: token)
  }
}
