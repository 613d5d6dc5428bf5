import CodeCompletion
import Foundation
import GGUF
import Inference
import Logging
import Sampling
import Synchronization
import SyntaxCheck
import Tokenization

/// The completion provider backed by a local model: prompt (FIM from the model's metadata, coarse context
/// windows, other open documents), KV-cache reuse across keystrokes, the sampler chain with code-aware penalties,
/// the syntax middleware while tokens stream and at the end, post-filters, a completion cache and deadlines.
///
/// - Important: `complete`, `generate` and `prepare` run on the server's single worker queue (or the CLI's main
///   thread), one at a time; `updateSettings` and `status` may be called from any thread (guarded by `lock`).
public final class ModelProvider: CompletionProvider, @unchecked Sendable {
  public let model: LanguageModel
  public let tokenizer: Tokenizer
  let session: InferenceSession
  let template: FIMTemplate?
  let chatFormat: ChatFormat?
  let promptBuilder: PromptBuilder
  let tokenClasses: TokenClasses
  let logger: Logger
  private var cache = CompletionCache()
  /// The chunk of the prefills that a deadline or a newer request can interrupt: the model's `prefillChunk` while
  /// prefills finish in time, halved (down to `minimumPrefillChunk`) after each request whose prefill ran out of time
  /// before its first chunk was done, and doubled back when a finished prefill shows that twice the chunk takes at most
  /// two thirds of the time. A chunk abandoned half-way is not cached, so on a CPU too slow to prefill one whole chunk
  /// before the deadline every request would start again from the same position and none would ever complete (seen on a
  /// CPU that Debian's OpenBLAS ran with its SSE3 kernels: Benchmarks/RESULTS.md, ninth session); with smaller chunks
  /// each request keeps what it finished and the next one goes on from there.
  var prefillChunk: Int
  static let minimumPrefillChunk = 16
  /// How often an empty first candidate is generated again with its first token forbidden.
  static let firstCandidateRetries = 2
  /// The engine's measured speed on this machine (calibrated at load, refined by every request).
  let speedTracker: SpeedTracker
  /// A second KV cache for requests answered from a short window while the full context is not computed yet, so
  /// the full context's progress in `session` is kept for the next requests.
  private var shortSessionStorage: InferenceSession?
  var shortSession: InferenceSession {
    if let shortSessionStorage { return shortSessionStorage }
    let created = InferenceSession(model: model)
    shortSessionStorage = created
    return created
  }
  /// The machine was found too slow for the latency target once (said once per provider).
  private var toldTooSlow = false
  /// The last completion whose first candidate was cut by time (the typing target or the editor's deadline): its
  /// request and the text shown (`extendLastCompletion` goes on from there).
  private var cutCompletion: (request: CompletionRequest, shown: String)?
  /// A request whose prompt lacks at most this many tokens in the KV cache is one made while typing.
  static let typingPromptTokens = 16
  /// The settings in force; read by the worker, replaced by configuration changes from the server's thread.
  private let settingsStorage: Mutex<CompletionSettings>
  private let statusValue: ProviderStatus

  /// Loads the model a specification names and builds a provider for it (a `ModelRouter`, which hands invoked
  /// completions and generate-code to the model configured for them); never throws: a missing or broken model
  /// gives a provider whose status is `.unavailable` with a message that says what is wrong and what to do.
  /// - Parameter slowdown: run the engine this many times slower (benchmarks of slow machines; 1 in the product).
  public static func make(modelSpec: String, settings: CompletionSettings, slowdown: Double = 1) -> CompletionProvider {
    switch ModelPresets.locate(modelSpec) {
    case .missing(let message):
      return UnavailableProvider(reason: message)
    case .file(let path, _):
      let calibration = slowdown == 1 ? SpeedCalibrationCache() : nil
      let main: ModelProvider
      do {
        main = try ModelProvider(path: path, settings: settings, calibrationCache: calibration, slowdown: slowdown)
      } catch {
        return UnavailableProvider(reason: "Cannot use the model \(path): \(error)")
      }
      let threads = settings.threads > 0 ? settings.threads : ProcessInfo.processInfo.activeProcessorCount
      return ModelRouter(
        main: main, mainPath: path,
        load: { other, settings in
          do {
            return try ModelProvider(
              path: other, settings: settings, calibrationCache: calibration, slowdown: slowdown)
          } catch {
            return UnavailableProvider(reason: "Cannot use the model \(other): \(error)")
          }
        },
        cachedSpeed: { other in
          SpeedCalibrationCache.key(modelPath: other, threads: threads).flatMap { calibration?.lookup($0) }
        })
    }
  }

  /// Loads a GGUF model.
  /// - Throws: `GGUFError`, `InferenceError` or `TokenizerError` naming the file and what is wrong.
  /// - Parameters:
  ///   - calibrationCache: where calibrations are kept between starts; nil measures at every load.
  ///   - slowdown: `Inference.ModelOptions.slowdown` (benchmarks of slow machines).
  public init(
    path: String, settings: CompletionSettings, calibrationCache: SpeedCalibrationCache? = SpeedCalibrationCache(),
    slowdown: Double = 1
  ) throws {
    logger = Logger(label: "codegen-lsp.provider")
    let file = try GGUFFile(path: path)
    var options = Inference.ModelOptions()
    options.contextLimit = settings.contextLength
    options.threads = settings.threads
    options.slowdown = slowdown
    model = try LanguageModel(file: file, options: options)
    tokenizer = try model.tokenizer ?? Tokenizer(gguf: file)
    session = InferenceSession(model: model)
    prefillChunk = max(1, model.options.prefillChunk)
    let adapter = TokenizerAdapter(tokenizer)
    template = FIMTemplate.detect(adapter)
    chatFormat = ChatFormat.detect(template: file.string("tokenizer.chat_template"))
    promptBuilder = PromptBuilder(
      tokenizer: adapter, template: template, bos: tokenizer.addBOSByDefault ? tokenizer.bosID : nil)
    tokenClasses = TokenClasses(tokenizer: tokenizer, exemptCharacters: settings.penaltyExemptCharacters)
    settingsStorage = Mutex(settings)
    // Touch every weight once (page faults of the mapping, caches) so the first completion is not the slow one.
    if let warmToken = tokenizer.encode("\n").first {
      _ = try? session.evaluate([warmToken])
      session.reset()
    }
    let threads = settings.threads > 0 ? settings.threads : ProcessInfo.processInfo.activeProcessorCount
    let key = SpeedCalibrationCache.key(modelPath: path, threads: threads)
    var speed = key.flatMap { calibrationCache?.lookup($0) }
    if speed == nil {
      speed = Self.calibrate(session: session, tokenizer: tokenizer, chunk: prefillChunk)
      if let speed, let key { calibrationCache?.store(speed, key: key) }
    }
    speedTracker = SpeedTracker(speed)
    let name = model.summary
    if let template {
      statusValue = .ready(description: "\(name), fill-in-the-middle (\(template.family))")
    } else {
      statusValue = .degraded(
        description: name,
        warning: "The model \((path as NSString).lastPathComponent) has no fill-in-the-middle tokens: completions "
          + "see only the text before the cursor and are weaker. A code model such as qwen2.5-coder-0.5b "
          + "(python3 Scripts/fetch_model.py qwen2.5-coder-0.5b) completes with the text after the cursor too.")
    }
  }

  public var status: ProviderStatus { statusValue }

  /// The engine's speed for this model on this machine, as measured so far.
  public var speed: MachineSpeed? { speedTracker.speed }

  /// Measures prefill (one chunk of 128 prompt tokens) and decode (8 tokens) on `session`, then empties it.
  static func calibrate(session: InferenceSession, tokenizer: Tokenizer, chunk: Int) -> MachineSpeed? {
    let sample =
      "def mean(values):\n    total = 0\n    for value in values:\n        total += value\n"
      + "    return total / len(values) if values else 0.0\n\n\nclass Point:\n    def __init__(self, x, y):\n"
    var tokens: [Int32] = []
    let piece = tokenizer.encode(sample)
    guard !piece.isEmpty else { return nil }
    while tokens.count < 128 { tokens += piece }
    tokens = Array(tokens.prefix(min(128, max(1, session.capacity - 16))))
    defer { session.reset() }
    session.reset()
    let start = DispatchTime.now().uptimeNanoseconds
    guard (try? session.evaluate(tokens, chunk: max(chunk, tokens.count))) != nil else { return nil }
    let prefilled = DispatchTime.now().uptimeNanoseconds
    var generated = 0
    for index in 0..<8 {
      guard (try? session.append(tokens[index % tokens.count])) != nil else { break }
      generated += 1
    }
    let decoded = DispatchTime.now().uptimeNanoseconds
    guard generated > 0, prefilled > start, decoded > prefilled else { return nil }
    return MachineSpeed(
      prefillTokensPerSecond: Double(tokens.count) / (Double(prefilled - start) / 1e9),
      decodeTokensPerSecond: Double(generated) / (Double(decoded - prefilled) / 1e9), source: "calibration")
  }

  public var settings: CompletionSettings {
    settingsStorage.withLock { $0 }
  }

  public func updateSettings(_ settings: CompletionSettings) {
    settingsStorage.withLock { $0 = settings }
  }

  // MARK: Completion

  public func complete(_ request: CompletionRequest, cancellation: CancellationToken) throws -> CompletionResult {
    try answer(request, cancellation: cancellation, extending: false)
  }

  public func extendLastCompletion(documentID: String, cancellation: CancellationToken) {
    guard let cut = cutCompletion, cut.request.documentID == documentID, !cancellation.isCancelled else { return }
    cutCompletion = nil
    // The request as if the text shown had been typed: its prompt extends the one in the KV cache, and its answer,
    // generated without the typing target, is the rest of the suggestion. The editor's deadline still chooses the
    // same window as the request did.
    var extended = cut.request
    extended.prefix += cut.shown
    extended.explain = false
    let token = CancellationToken(deadlineMilliseconds: settings.deadlineMilliseconds, following: cancellation)
    guard let result = try? answer(extended, cancellation: token, extending: true) else { return }
    let rest = result.candidates.first?.text ?? ""
    guard !rest.isEmpty else { return }
    cache.store(
      documentID: cut.request.documentID, prefix: cut.request.prefix, suffix: cut.request.suffix,
      candidates: [cut.shown + rest])
    if token.isCancelled { cutCompletion = (cut.request, cut.shown + rest) }
    logger.debug("completion extended in the background by \(rest.debugDescription)")
  }

  /// - Parameter extending: the request goes on with a completion cut by time (no cache lookup, no typing target).
  private func answer(_ request: CompletionRequest, cancellation: CancellationToken, extending: Bool) throws
    -> CompletionResult
  {
    let settings = self.settings
    var trace: [String] = []
    // 1. Typing through a suggestion shown before: answer from the cache.
    if !extending,
      let cached = cache.lookup(documentID: request.documentID, prefix: request.prefix, suffix: request.suffix)
    {
      trace.append("cache: the text typed since the last request matches a suggestion; returning the rest of it")
      let limit = request.trigger == .invoked ? max(1, settings.invokedCandidates) : 1
      return CompletionResult(
        candidates: cached.prefix(limit).map { CompletionCandidate(text: $0, score: 0, stopReason: "cache") },
        trace: request.explain ? trace : [], fromCache: true)
    }
    // An empty document (nothing but whitespace around the cursor) gives the model nothing to go on: no suggestion.
    if Self.isBlank(request.prefix), Self.isBlank(request.suffix) {
      trace.append("empty document: nothing to complete from")
      return CompletionResult(candidates: [], trace: request.explain ? trace : [])
    }
    // 2. Single line or block, from the cursor's context.
    var middleware = SyntaxMiddleware(
      language: request.languageId, prefix: request.prefix, suffix: request.suffix, enabled: settings.syntaxCheck)
    let mode = middleware.mode(forced: settings.multiline)
    trace.append("mode: \(mode.description) (\(middleware.modeReason))")
    // 3. Prompt and prefill (reusing the KV cache).
    let order = template?.order(for: settings.fimOrder) ?? .psm
    let prompt = promptBuilder.build(request, settings: settings, order: order, trace: &trace)
    var (healedTokens, healing) = heal(prompt, settings: settings)
    var promptTokens = fitToContext(healedTokens)
    guard !promptTokens.isEmpty else {
      trace.append("prompt: no tokens (a model without fill-in-the-middle or BOS tokens and no text before the cursor)")
      return CompletionResult(candidates: [], trace: request.explain ? trace : [])
    }
    // Under a deadline, the latency policy: the full context when the measured speed computes what the KV cache
    // lacks of it in time, else a short window around the cursor in a second KV cache.
    var session = self.session
    var notice: String?
    // While typing (the prompt nearly all in the KV cache), generation stops at the typing target; the rest is
    // generated afterwards by `extendLastCompletion`.
    var typingMilliseconds: Int?
    if cancellation.deadlineNanoseconds != nil {
      let target = settings.latencyTargetMilliseconds
      let plan = LatencyPolicy.plan(
        fullRemaining: promptTokens.count - Self.commonPrefixLength(session.tokens, promptTokens),
        speed: speedTracker.speed, targetMilliseconds: target, block: mode == .block, settings: settings)
      trace.append("latency: \(plan.reason)" + (speedTracker.speed.map { "; \($0.description)" } ?? ""))
      if plan.tooSlow, !toldTooSlow, let speed = speedTracker.speed {
        toldTooSlow = true
        notice = LatencyPolicy.tooSlowMessage(speed, targetMilliseconds: target, model: model.summary)
      }
      if case .short(let prefixTokens, let suffixTokens) = plan.window {
        var shortSettings = settings
        // The prefix window before the anchor fills three quarters of its budget (a stable window while typing),
        // and the budget leaves `middleTokens` for the text typed after the anchor: ask for a third more and the
        // middle's share, so the short window holds about `prefixTokens`.
        shortSettings.prefixTokens = prefixTokens * 4 / 3 + max(0, settings.middleTokens)
        shortSettings.suffixTokens = suffixTokens
        shortSettings.contextDocumentTokens = 0
        var shortRequest = request
        shortRequest.documentID = request.documentID + "\u{0}short"
        shortRequest.contextDocuments = []
        let shortPrompt = promptBuilder.build(
          shortRequest, settings: shortSettings, order: order, partialLines: true, trace: &trace)
        (healedTokens, healing) = heal(shortPrompt, settings: settings)
        promptTokens = fitToContext(healedTokens)
        session = shortSession
      }
      let remaining = promptTokens.count - Self.commonPrefixLength(session.tokens, promptTokens)
      if !extending, remaining <= Self.typingPromptTokens, session.tokens.count > remaining {
        typingMilliseconds = settings.typingLatencyTargetMilliseconds
        trace.append(
          "typing: \(remaining) prompt tokens to compute; generation stops at the typing target "
            + "(\(settings.typingLatencyTargetMilliseconds) ms) and goes on in the background")
      }
    }
    // Under a deadline (the editor's), a cold prompt may prefill until the later of the request's deadline and the
    // prefill allowance; without one (the offline modes), the whole prompt is computed and generation runs to its end.
    let started = DispatchTime.now().uptimeNanoseconds
    let prefillLimit: UInt64? = cancellation.deadlineNanoseconds.map { deadline in
      max(
        deadline,
        SaturatingTime.uptime(
          after: SaturatingTime.nanoseconds(milliseconds: settings.prefillDeadlineMilliseconds), from: started))
    }
    if !healing.isEmpty {
      trace.append(
        "token healing: the last prompt token \(String(decoding: healing, as: UTF8.self).debugDescription) is regenerated"
      )
    }
    let evaluation = try evaluatePrompt(promptTokens, session: session, cancellation: cancellation, until: prefillLimit)
    trace.append(
      "prefill: \(evaluation.computedTokens) of \(promptTokens.count) prompt tokens computed, "
        + "\(evaluation.reusedTokens) reused from the KV cache")
    // Generation ends at the request's deadline, or a little after a long cold prefill.
    var generationDeadline = max(
      cancellation.deadlineNanoseconds ?? UInt64.max,
      SaturatingTime.uptime(after: SaturatingTime.nanoseconds(milliseconds: settings.minimumGenerationMilliseconds)))
    if let typingMilliseconds {
      generationDeadline = min(
        generationDeadline,
        SaturatingTime.uptime(after: SaturatingTime.nanoseconds(milliseconds: typingMilliseconds), from: started))
    }
    var firstStop: StopReason?
    var result = CompletionResult(
      candidates: [], trace: [], promptTokensComputed: evaluation.computedTokens, promptTokens: promptTokens.count)
    result.notice = notice
    guard evaluation.completed else {
      trace.append("stopped during prefill: \(cancellation.reason?.rawValue ?? "prefill deadline")")
      result.trace = request.explain ? trace : []
      return result
    }
    // 4. Candidates.
    let wanted = request.trigger == .invoked ? max(1, settings.invokedCandidates) : 1
    var candidates: [CompletionCandidate] = []
    var seen = Set<String>()
    // A first candidate that leaves nothing to insert (dropped by the final check, cut to nothing, or only
    // whitespace) is generated again with its first token forbidden, up to `firstCandidateRetries` times: the model's
    // next choice often is the line that belongs there (the first choice repeated the line below the cursor, or
    // opened a block the suffix gives no body).
    var bannedFirst: Set<Int32> = []
    var index = 0
    while index < wanted {
      if index > 0 && (cancellation.isCancelled || DispatchTime.now().uptimeNanoseconds >= generationDeadline) { break }
      var sampler = samplerSettings(settings, mode: mode)
      if index > 0 {
        sampler.temperature = max(settings.candidateTemperature, 0.01)
        sampler.seed = settings.seed &+ UInt64(index)
      }
      let maxTokens = mode == .block ? settings.maxTokensBlock : settings.maxTokensLine
      let outcome = try runCandidate(
        session: session, promptLength: promptTokens.count, initialLogits: evaluation.logits, sampler: sampler,
        maxTokens: maxTokens,
        middleware: middleware, mode: mode, stopTokens: template?.stopTokens ?? [], stopStrings: [],
        healing: healing, bannedFirstTokens: index == 0 ? bannedFirst : [], cancellation: cancellation,
        deadline: generationDeadline, onText: nil)
      result.generatedTokens += outcome.tokenCount
      if index == 0 { firstStop = outcome.stopReason }
      trace.append("candidate \(index + 1): \(outcome.tokenCount) tokens, stopped by \(outcome.stopReason)")
      trace += outcome.trace.map { "candidate \(index + 1): \($0)" }
      let final = middleware.finalize(outcome.text, mode: mode, stoppedEarly: outcome.stoppedEarly)
      trace += final.trace.map { "candidate \(index + 1): \($0)" }
      if index == 0, final.text.map(Self.isBlank) ?? true, bannedFirst.count < Self.firstCandidateRetries,
        let first = outcome.firstToken, !cancellation.isCancelled,
        DispatchTime.now().uptimeNanoseconds < generationDeadline
      {
        bannedFirst.insert(first)
        trace.append(
          "candidate 1: nothing to insert; generating again without \(tokenizer.tokenText(first).debugDescription) "
            + "as the first token")
        continue
      }
      index += 1
      guard let text = final.text else { continue }
      if seen.contains(text) {
        trace.append("candidate \(index + 1): dropped, same as an earlier candidate")
        continue
      }
      seen.insert(text)
      if Self.isBlank(text) { continue }
      let score = SamplingMath.lengthNormalizedScore(
        sumLogprob: outcome.logprobSum, length: max(1, outcome.tokenCount), alpha: settings.lengthNormalizationAlpha)
      candidates.append(CompletionCandidate(text: text, score: score, stopReason: outcome.stopReason.description))
    }
    if candidates.count > 1 {
      // The first (greedy) candidate stays first; the sampled ones are ranked by length-normalised log-probability.
      let rest = Array(candidates.dropFirst())
      candidates = [candidates[0]] + SamplingMath.rank(scores: rest.map(\.score)).map { rest[$0] }
    }
    result.candidates = candidates
    if !extending {
      cutCompletion = nil
      if cancellation.deadlineNanoseconds != nil, firstStop == .deadline, !cancellation.isCancelled {
        cutCompletion = (request, candidates.first?.text ?? "")
        trace.append("cut by time: the rest of the first candidate follows in the background")
      }
    }
    cache.store(
      documentID: request.documentID, prefix: request.prefix, suffix: request.suffix,
      candidates: candidates.map(\.text))
    result.trace = request.explain ? trace : []
    if logger.logLevel <= .debug {
      for line in trace { logger.debug("\(line)") }
    }
    return result
  }

  public func prepare(_ request: CompletionRequest, cancellation: CancellationToken) {
    let settings = self.settings
    var trace: [String] = []
    let order = template?.order(for: settings.fimOrder) ?? .psm
    let prompt = promptBuilder.build(request, settings: settings, order: order, trace: &trace)
    let tokens = heal(prompt, settings: settings).tokens
    guard !tokens.isEmpty else { return }
    _ = try? evaluatePrompt(tokens, cancellation: cancellation)
  }

  /// Feeds the speed tracker with a finished prefill.
  private func recordPrefill(_ evaluation: Evaluation, since start: UInt64) {
    guard evaluation.completed else { return }
    let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    speedTracker.recordPrefill(tokens: evaluation.computedTokens, seconds: seconds)
  }

  /// The number of leading tokens two sequences share.
  static func commonPrefixLength(_ a: [Int32], _ b: [Int32]) -> Int {
    var count = 0
    let limit = min(a.count, b.count)
    while count < limit && a[count] == b[count] { count += 1 }
    return count
  }

  /// The last tokens of `tokens` that leave room for a few generated ones in the context window (a prompt is longer
  /// only on a model whose window is shorter than the prompt budgets).
  func fitToContext(_ tokens: [Int32]) -> [Int32] {
    let capacity = max(1, session.capacity - 8)
    return tokens.count > capacity ? Array(tokens.suffix(capacity)) : tokens
  }

  /// True for text of nothing but whitespace.
  static func isBlank(_ text: String) -> Bool {
    !text.utf8.contains { $0 != 32 && $0 != 9 && $0 != 10 && $0 != 13 }
  }

  /// Token healing (after Microsoft's guidance library and transformers' `token_healing`): the last plain-text
  /// token of the prompt is taken off and the first generated tokens must spell it again, so a completion that
  /// continues a partial word or an indentation starts at a token boundary the model saw in training.
  /// - Returns: the prompt without that token, and its bytes (empty when nothing is healed).
  func heal(_ prompt: Prompt, settings: CompletionSettings) -> (tokens: [Int32], healing: [UInt8]) {
    guard settings.tokenHealing, prompt.plainTail > 0, prompt.tokens.count > 1, let last = prompt.tokens.last,
      !tokenizer.isControl(last)
    else { return (prompt.tokens, []) }
    let bytes = tokenizer.tokenBytes(last)
    // Indentation right after the PSM middle token is not healed (measured: the model then wanders in whitespace);
    // at the end of a prefix-only or SPM prompt it is (the model continues it into the line's first token).
    let whitespace = !bytes.contains(where: { $0 != 32 && $0 != 9 && $0 != 10 && $0 != 13 })
    guard !bytes.isEmpty, !(whitespace && prompt.layout == FIMOrder.psm.rawValue) else { return (prompt.tokens, []) }
    return (Array(prompt.tokens.dropLast()), bytes)
  }

  /// Brings the KV cache to `tokens`, computing only what it does not hold yet; stops early when cancelled or, with
  /// `until`, at that uptime (nanoseconds) instead of the token's own deadline. Prefills in chunks of
  /// `prefillChunk`, which a prefill under `until` adapts.
  func evaluatePrompt(
    _ tokens: [Int32], session: InferenceSession? = nil, cancellation: CancellationToken, until: UInt64? = nil
  ) throws -> Evaluation {
    let session = session ?? self.session
    let tokens = fitToContext(tokens)
    logger.debug("prefill started: a prompt of \(tokens.count) tokens, \(session.tokens.count) in the KV cache")
    let start = DispatchTime.now().uptimeNanoseconds
    do {
      guard let until else {
        let evaluation = try session.evaluate(tokens, chunk: prefillChunk, shouldStop: { cancellation.shouldStop })
        recordPrefill(evaluation, since: start)
        return evaluation
      }
      let evaluation = try session.evaluate(
        tokens, chunk: prefillChunk,
        shouldStop: { cancellation.isCancelled || DispatchTime.now().uptimeNanoseconds >= until })
      if !evaluation.completed && evaluation.computedTokens == 0 && !cancellation.isCancelled {
        prefillChunk = max(Self.minimumPrefillChunk, prefillChunk / 2)
        logger.notice(
          "prefill ran out of time before its first chunk finished; prefilling in chunks of \(prefillChunk)")
      } else if evaluation.completed && evaluation.computedTokens > 0 && prefillChunk < model.options.prefillChunk {
        // Tokens this speed computes in the whole prefill budget; twice the chunk should take at most 2/3 of it.
        let elapsed = Double(max(1, DispatchTime.now().uptimeNanoseconds - start))
        let fit = Double(evaluation.computedTokens) * Double(until > start ? until - start : 0) / elapsed
        if fit >= Double(3 * prefillChunk) {
          prefillChunk = min(model.options.prefillChunk, 2 * prefillChunk)
          logger.notice("prefilling in chunks of \(prefillChunk)")
        }
      }
      recordPrefill(evaluation, since: start)
      return evaluation
    } catch {
      throw CompletionProviderError.engineFailure(String(describing: error))
    }
  }

  /// The sampler settings of one candidate.
  func samplerSettings(_ settings: CompletionSettings, mode: CompletionMode) -> SamplerSettings {
    var s = SamplerSettings()
    s.temperature = settings.temperature
    s.topK = settings.topK
    s.topP = settings.topP
    s.minP = settings.minP
    s.seed = settings.seed
    s.penalties = settings.penalties
    s.repetitionPenalty = settings.repetitionPenalty
    s.repetitionWindow = settings.repetitionWindow
    s.frequencyPenalty = settings.frequencyPenalty
    s.presencePenalty = settings.presencePenalty
    s.exemptTokens = tokenClasses.exempt(for: settings.penaltyExemptCharacters)
    s.noRepeatNgramSize = settings.noRepeatNgramSize
    s.lengthPenaltyStart = mode == .block ? settings.lengthPenaltyStartBlock : settings.lengthPenaltyStartLine
    s.lengthPenaltyDecay = settings.lengthPenaltyDecay
    s.endOfLineTokens = mode == .block ? tokenClasses.blankLine : tokenClasses.newline
    s.endOfSequenceTokens = tokenClasses.endOfGeneration.union(template?.stopTokens ?? [])
    s.lengthNormalizationAlpha = settings.lengthNormalizationAlpha
    return s
  }

  /// What generating one candidate produced.
  struct CandidateOutcome {
    var text: String
    var tokenCount: Int
    var logprobSum: Double
    var stopReason: StopReason
    var trace: [String]
    /// The first token sampled (also when it ended generation at once).
    var firstToken: Int32?

    /// True when generation stopped for time or cancellation rather than by a stop rule.
    var stoppedEarly: Bool { stopReason.isInterruption }
  }

  /// Generates one candidate from the cached prompt through the engine's token loop (`Generator`): the sampler
  /// chain behind the token-healing and banned-first-token constraints; a per-token hook that feeds the streaming
  /// syntax stopper and the repeated-line rule, which may cut the text; stop strings held back; end of generation,
  /// the token limit, the deadline and cancellation checked after every token.
  ///
  /// - Parameter onText: receives the whole text so far after every token that added to it.
  func runCandidate(
    session: InferenceSession? = nil, promptLength: Int, initialLogits: [Float],
    sampler samplerSettings: SamplerSettings, maxTokens: Int,
    middleware: SyntaxMiddleware, mode: CompletionMode, stopTokens: Set<Int32>, stopStrings: [String],
    healing: [UInt8] = [], bannedFirstTokens: Set<Int32> = [], cancellation: CancellationToken,
    deadline: UInt64? = nil, onText: ((String) -> Void)?
  ) throws -> CandidateOutcome {
    let session = session ?? self.session
    var constraints: [LogitProcessor] = []
    if !healing.isEmpty { constraints.append(TokenHealingProcessor(text: healing, pieces: tokenClasses.pieces)) }
    if !bannedFirstTokens.isEmpty { constraints.append(BannedFirstTokensProcessor(tokens: bannedFirstTokens)) }
    let sampler: Sampler
    do {
      sampler = try Sampler(settings: samplerSettings, constraints: constraints)
    } catch {
      throw CompletionProviderError.invalidRequest("sampler settings: \(error)")
    }
    let generator = Generator(session: session, tokenizer: tokenizer, sampler: sampler)
    let options = GenerationOptions(
      maxTokens: maxTokens, stopStrings: stopStrings, stopTokens: stopTokens, healedText: healing,
      deadlineNanoseconds: deadline ?? cancellation.deadlineNanoseconds,
      shouldCancel: { cancellation.isCancelled })
    var stopper = middleware.makeStopper(mode: mode)
    let repeatedLines = RepeatedLineDetector()
    let checkRepeats = middleware.enabled && samplerSettings.penalties && self.settings.blockRepeatedLines
    var trace: [String] = []
    let result: GenerationResult
    do {
      result = try generator.generate(continuing: promptLength, logits: initialLogits, options: options) { event in
        guard !event.piece.isEmpty else { return .proceed }
        if let decision = stopper.feed(event.piece, accumulated: event.text) {
          trace.append("syntax stop: \(decision.reason)")
          return .stop(reason: "syntax: \(decision.reason)", keepingBytes: decision.cut)
        }
        if checkRepeats, event.piece.contains("\n"), let repeated = repeatedLines.repeatedLine(in: event.text) {
          trace.append(
            "repeated-line blocker: line \(repeated.lineIndex + 1) repeats line \(repeated.earlierLineIndex + 1) "
              + "\(repeated.text.debugDescription); cut before it")
          return .stop(reason: "repeated line", keepingBytes: repeated.start)
        }
        onText?(event.text)
        return .proceed
      }
    } catch {
      throw CompletionProviderError.engineFailure(String(describing: error))
    }
    speedTracker.recordDecode(tokens: result.decodedTokens, seconds: result.decodeSeconds)
    if case .endOfGeneration(let token) = result.stopReason {
      trace.insert("end of generation: \(tokenizer.tokenText(token).debugDescription)", at: 0)
    }
    return CandidateOutcome(
      text: result.text, tokenCount: result.tokens.count, logprobSum: result.totalLogprob,
      stopReason: result.stopReason, trace: trace, firstToken: result.firstToken)
  }

  // MARK: Generate code

  public func generate(
    _ request: GenerateRequest, cancellation: CancellationToken, onPartial: @escaping (String) -> Void
  ) throws -> GenerateResult {
    let settings = self.settings
    var trace: [String] = []
    let middleware = SyntaxMiddleware(
      language: request.languageId, prefix: request.prefix, suffix: request.suffix, enabled: settings.syntaxCheck)
    var sampler = samplerSettings(settings, mode: .block)
    sampler.lengthPenaltyStart = settings.maxTokensGenerate / 2
    if let instruction = request.instruction, !instruction.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty,
      let chatFormat
    {
      // Instruction: the chat template with the surrounding code as context; the answer's code block is the result.
      let prompt = chatPrompt(request, instruction: instruction, format: chatFormat)
      let tokens = fitToContext(
        (tokenizer.addBOSByDefault ? [tokenizer.bosID].compactMap { $0 } : [])
          + tokenizer.encode(prompt, parseSpecial: true))
      trace.append("generate: chat prompt (\(chatFormat.rawValue)), \(tokens.count) tokens")
      let evaluation = try evaluatePrompt(tokens, cancellation: cancellation)
      guard evaluation.completed else { return GenerateResult(text: "", trace: trace) }
      let outcome = try runCandidate(
        promptLength: tokens.count, initialLogits: evaluation.logits, sampler: sampler,
        maxTokens: settings.maxTokensGenerate, middleware: SyntaxMiddleware.disabled(language: request.languageId),
        mode: .block, stopTokens: [], stopStrings: chatFormat.stopStrings, cancellation: cancellation,
        onText: { onPartial(extractCode(fromChatAnswer: $0)) })
      trace.append("generate: \(outcome.tokenCount) tokens, stopped by \(outcome.stopReason)")
      var code = extractCode(fromChatAnswer: outcome.text)
      let context = CursorContext(
        prefix: request.prefix, suffix: request.suffix, language: Languages.lookup(languageId: request.languageId))
      if request.selection.isEmpty, let bodyIndent = context.emptyBody?.body {
        code = fitAnswerToEmptyBody(code, prefix: request.prefix, bodyIndent: bodyIndent)
        trace.append("generate: the answer fitted to the body below the docstring (column \(bodyIndent))")
      }
      let final = middleware.finalize(code, mode: .block, stoppedEarly: outcome.stoppedEarly)
      trace += final.trace
      return GenerateResult(text: final.text ?? "", trace: trace, generatedTokens: outcome.tokenCount)
    }
    // No instruction (or no chat template): complete the block at the cursor with fill-in-the-middle.
    if request.instruction != nil { trace.append("generate: the model has no chat template; completing the block") }
    let completionRequest = CompletionRequest(
      documentID: request.documentID, fileName: request.fileName, languageId: request.languageId,
      prefix: request.prefix, suffix: request.suffix, trigger: .invoked)
    let order = template?.order(for: settings.fimOrder) ?? .psm
    var generateSettings = settings
    generateSettings.prefixTokens = max(settings.prefixTokens, 1536)
    var prompt = promptBuilder.build(completionRequest, settings: generateSettings, order: order, trace: &trace)
    let continuation =
      template != nil
      && (settings.generateCodePrompt == "continuation"
        || (settings.generateCodePrompt == "auto" && Self.isBlank(request.suffix)))
    if continuation {
      // Nothing after the cursor: the text before it, continued as plain text (no fill-in-the-middle tokens).
      let (_, tokens) = promptBuilder.prefixWindow(
        documentID: request.documentID + "\u{0}continuation", prefix: request.prefix,
        budget: generateSettings.prefixTokens, trace: &trace)
      let bos = tokenizer.addBOSByDefault ? [tokenizer.bosID].compactMap { $0 } : []
      prompt = Prompt(
        tokens: bos + tokens, prefixTokenCount: tokens.count, suffixTokenCount: 0, contextTokenCount: 0,
        prefixWindow: "", suffixWindow: "", layout: "continuation", plainTail: tokens.count)
      trace.append("generate: plain continuation of the \(tokens.count) tokens before the cursor")
    }
    let (healedTokens, healing) = heal(prompt, settings: settings)
    let promptTokens = fitToContext(healedTokens)
    guard !promptTokens.isEmpty else {
      trace.append("generate: no prompt tokens (no text before the cursor and no fill-in-the-middle tokens)")
      return GenerateResult(text: "", trace: trace)
    }
    let evaluation = try evaluatePrompt(promptTokens, cancellation: cancellation)
    guard evaluation.completed else { return GenerateResult(text: "", trace: trace) }
    let outcome = try runCandidate(
      promptLength: promptTokens.count, initialLogits: evaluation.logits, sampler: sampler,
      maxTokens: settings.maxTokensGenerate, middleware: middleware, mode: .block,
      stopTokens: template?.stopTokens ?? [], stopStrings: [], healing: healing, cancellation: cancellation,
      onText: onPartial)
    trace.append("generate: \(outcome.tokenCount) tokens, stopped by \(outcome.stopReason)")
    trace += outcome.trace
    let final = middleware.finalize(outcome.text, mode: .block, stoppedEarly: outcome.stoppedEarly)
    trace += final.trace
    return GenerateResult(text: final.text ?? "", trace: trace, generatedTokens: outcome.tokenCount)
  }

  /// The user message of generate-code: the instruction with the code around the cursor (tails cut to budget).
  func chatPrompt(_ request: GenerateRequest, instruction: String, format: ChatFormat) -> String {
    let settings = self.settings
    let before = String(request.prefix.suffix(max(256, settings.prefixTokens.multipliedSaturating(by: 3))))
    let after = String(request.suffix.prefix(max(128, settings.suffixTokens.multipliedSaturating(by: 3))))
    let language = request.languageId
    var user = "File: \(request.fileName ?? request.documentID) (\(language))\n\n"
    user += "Code before the cursor:\n```\(language)\n\(before)\n```\n\n"
    if !request.selection.isEmpty {
      user += "Selected code (to be replaced):\n```\(language)\n\(request.selection)\n```\n\n"
    }
    user += "Code after the cursor:\n```\(language)\n\(after)\n```\n\n"
    user += "Instruction: \(instruction)\n\n"
    user +=
      request.selection.isEmpty
      ? "Write only the code to insert at the cursor, in one ```\(language) block, with no explanation."
      : "Write only the code that replaces the selected code, in one ```\(language) block, with no explanation."
    let system = "You are a precise coding assistant inside an editor. You answer with code only."
    return format.render(system: system, user: user)
  }
}

/// A provider without a model: empty completions; its status says what is missing.
public final class UnavailableProvider: CompletionProvider, @unchecked Sendable {
  let reason: String

  public init(reason: String) {
    self.reason = reason
  }

  public var status: ProviderStatus { .unavailable(reason: reason) }
  public func updateSettings(_ settings: CompletionSettings) {}
  public func complete(_ request: CompletionRequest, cancellation: CancellationToken) throws -> CompletionResult {
    .empty
  }
  public func generate(
    _ request: GenerateRequest, cancellation: CancellationToken, onPartial: @escaping (String) -> Void
  ) throws -> GenerateResult {
    throw CompletionProviderError.unavailable(reason)
  }
}
