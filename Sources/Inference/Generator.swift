import Dispatch
import Sampling
import Tokenization

/// Why generation ended: the one stop reason of every generation (the completion pipeline, `generate`,
/// `generate-code`, the benchmarks), shown by `--explain` and the CLI through `description`.
public enum StopReason: Sendable, Equatable, CustomStringConvertible {
  /// The model produced an end-of-generation token (EOS, EOT, FIM end, or one of `stopTokens`); not in the text.
  case endOfGeneration(token: Int32)
  /// A stop string appeared in the text; the text ends just before it.
  case stopString(String)
  /// `maxTokens` tokens were generated.
  case maxTokens
  /// The deadline passed.
  case deadline
  /// The cancellation closure returned true.
  case cancelled
  /// The context window is full.
  case contextFull
  /// The per-token hook stopped generation (and may have cut the text); the rule's own words, such as
  /// `syntax: ...` or `repeated line`.
  case rule(String)
  /// The sampler's constraints left no token (token healing found none, every first token forbidden).
  case noViableToken

  public var description: String {
    switch self {
    case .endOfGeneration: return "end of generation"
    case .stopString(let stop): return "stop string \(stop.debugDescription)"
    case .maxTokens: return "max tokens"
    case .deadline: return "deadline"
    case .cancelled: return "cancelled"
    case .contextFull: return "context full"
    case .rule(let reason): return reason
    case .noViableToken: return "no viable token"
    }
  }

  /// True when generation was cut off (by its length, time, cancellation or the context window) rather than
  /// ended by the model or a stop rule: the text may end anywhere.
  public var isInterruption: Bool {
    switch self {
    case .maxTokens, .deadline, .cancelled, .contextFull: return true
    case .endOfGeneration, .stopString, .rule, .noViableToken: return false
    }
  }
}

/// Limits and stop conditions of one generation.
public struct GenerationOptions {
  /// Most tokens to generate (end-of-generation tokens not counted).
  public var maxTokens: Int = 256
  /// Generation stops when the text contains one of these; the text ends just before it. Text that could be
  /// the start of a stop string is held back from `onText` and the hook until it is known not to be one.
  public var stopStrings: [String] = []
  /// Stop at the tokenizer's end-of-generation tokens (EOS, EOT, `<|endoftext|>`, FIM end...).
  public var stopAtEndOfGeneration: Bool = true
  /// More token ids that end generation.
  public var stopTokens: Set<Int32> = []
  /// Token healing: text the first generated tokens spell again (the prompt's last token, taken off). It is not
  /// part of the result's text. The sampler must hold the matching `TokenHealingProcessor`.
  public var healedText: [UInt8] = []
  /// Uptime in nanoseconds (`DispatchTime.now().uptimeNanoseconds`) after which generation stops; nil for none.
  /// Checked between prefill chunks and after every token.
  public var deadlineNanoseconds: UInt64? = nil
  /// Polled between prefill chunks and after every token; true stops generation.
  public var shouldCancel: (() -> Bool)? = nil

  public init(
    maxTokens: Int = 256, stopStrings: [String] = [], stopAtEndOfGeneration: Bool = true,
    stopTokens: Set<Int32> = [], healedText: [UInt8] = [], deadlineNanoseconds: UInt64? = nil,
    shouldCancel: (() -> Bool)? = nil
  ) {
    self.maxTokens = maxTokens
    self.stopStrings = stopStrings
    self.stopAtEndOfGeneration = stopAtEndOfGeneration
    self.stopTokens = stopTokens
    self.healedText = healedText
    self.deadlineNanoseconds = deadlineNanoseconds
    self.shouldCancel = shouldCancel
  }

  /// Sets the deadline to `seconds` from now (saturating: a value too large for the clock is no deadline).
  public mutating func setDeadline(secondsFromNow seconds: Double) {
    let now = DispatchTime.now().uptimeNanoseconds
    guard seconds > 0 else {
      deadlineNanoseconds = now
      return
    }
    let nanoseconds = seconds * 1e9
    guard nanoseconds < Double(UInt64.max - now) else {
      deadlineNanoseconds = nil
      return
    }
    deadlineNanoseconds = now + UInt64(nanoseconds)
  }
}

/// What the per-token hook sees after each generated token.
public struct TokenEvent: Sendable {
  /// 0-based index of the token among the generated ones.
  public var index: Int
  public var token: Int32
  /// Its log-probability under the model's distribution (before penalties and truncation).
  public var logprob: Float
  /// Text released by this token (possibly empty: incomplete UTF-8, healed text, or a possible stop string held
  /// back).
  public var piece: String
  /// All text released so far.
  public var text: String
  /// Text decoded but held back because it may start a stop string.
  public var heldBack: String
}

/// The hook's answer.
public enum TokenAction: Sendable, Equatable {
  case proceed
  /// Stop generation (`StopReason.rule(reason)`); the text keeps its first `keepingBytes` UTF-8 bytes (nil: all
  /// of it, without what is held back).
  case stop(reason: String, keepingBytes: Int?)

  /// Stop, keeping the text released so far.
  public static func stop(_ reason: String) -> TokenAction { .stop(reason: reason, keepingBytes: nil) }
}

/// The outcome of a generation.
public struct GenerationResult: Sendable {
  /// The generated text (without stop strings, end-of-generation tokens or healed text).
  public var text: String
  /// The generated tokens (without the end-of-generation token).
  public var tokens: [Int32]
  /// Log-probability of each generated token.  // (tokens.count)
  public var logprobs: [Float]
  public var stopReason: StopReason
  /// The first token sampled, also when it ended generation at once (nil when none was sampled).
  public var firstToken: Int32?
  /// Tokens of the prompt, and how many of them came from the KV cache.
  public var promptTokens: Int
  public var reusedPromptTokens: Int
  /// Wall time of the prompt evaluation and of the token loop, in seconds.
  public var prefillSeconds: Double
  public var decodeSeconds: Double
  /// Tokens the token loop computed (appended to the KV cache).
  public var decodedTokens: Int

  /// Sum of the log-probabilities (0 for no token).
  public var totalLogprob: Double { logprobs.reduce(0) { $0 + Double($1) } }
}

/// Generates tokens from a session: samples, checks stop conditions, streams text (llama2.c's `generate()`).
/// It is the only token loop: the completion pipeline, `generate`, `generate-code` and the benchmarks all run it.
///
/// ```
/// let generator = Generator(session: session, tokenizer: tokenizer, sampler: try Sampler(settings: settings))
/// generator.onText = { print($0, terminator: "") }
/// let result = try generator.generate(prompt: ids, options: GenerationOptions(maxTokens: 64))
/// ```
/// The prompt goes through `InferenceSession.evaluate`, so a prompt that extends the previous call's tokens
/// reuses the KV cache. After generation the cache holds the prompt and the generated tokens but the last.
/// `generate(continuing:logits:)` starts from a prompt already evaluated (several candidates from one prefill).
///
/// - Important: not thread-safe; one generation at a time per generator (and per session).
public final class Generator {
  public let session: InferenceSession
  public let tokenizer: Tokenizer
  public let sampler: Sampler
  /// Called before sampling each token with the model's logits and the tokens generated so far; may change the
  /// logits (penalties of the caller, banned tokens). The log-probabilities reported are of the changed logits.
  public var adjustLogits: ((_ logits: inout [Float], _ generated: [Int32]) -> Void)?
  /// Receives every piece of released text as it streams, including the final held-back text.
  public var onText: ((String) -> Void)?

  public init(session: InferenceSession, tokenizer: Tokenizer, sampler: Sampler) {
    self.session = session
    self.tokenizer = tokenizer
    self.sampler = sampler
  }

  /// Evaluates `prompt` (reusing the cached prefix) and generates until a stop condition.
  ///
  /// - Parameters:
  ///   - prompt: the prompt's token ids (BOS included when the model wants it).
  ///   - options: limits and stop conditions.
  ///   - onToken: called after every generated token with its text; `.stop` ends generation (`.rule`).
  /// - Returns: the text, tokens, log-probabilities and why it stopped. Cancellation and deadlines are not
  ///   errors: the result holds what was generated until then.
  /// - Throws: `InferenceError` for a prompt the model cannot take (empty, unknown ids, longer than the context)
  ///   or a sampler failure.
  public func generate(
    prompt: [Int32], options: GenerationOptions = GenerationOptions(),
    onToken: (TokenEvent) -> TokenAction = { _ in .proceed }
  ) throws(InferenceError) -> GenerationResult {
    let started = DispatchTime.now().uptimeNanoseconds
    let evaluation = try session.evaluate(prompt, shouldStop: { Self.interruption(options) != nil })
    let prefillSeconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
    guard evaluation.completed else {
      return GenerationResult(
        text: "", tokens: [], logprobs: [], stopReason: Self.interruption(options) ?? .cancelled, firstToken: nil,
        promptTokens: prompt.count, reusedPromptTokens: evaluation.reusedTokens, prefillSeconds: prefillSeconds,
        decodeSeconds: 0, decodedTokens: 0)
    }
    var result = try generate(
      continuing: prompt.count, logits: evaluation.logits, options: options, onToken: onToken)
    result.reusedPromptTokens = evaluation.reusedTokens
    result.prefillSeconds = prefillSeconds
    return result
  }

  /// Generates from a prompt the session has already evaluated: the KV cache is rolled back to its first
  /// `promptLength` tokens (dropping an earlier generation from the same prompt) and the first token is sampled
  /// from `logits`, the model's output at the prompt's last token.
  ///
  /// - Throws: `InferenceError.invalidArgument` when the session holds fewer than `promptLength` tokens, and
  ///   sampler failures other than a step with no viable token (that ends generation: `.noViableToken`).
  public func generate(
    continuing promptLength: Int, logits initialLogits: [Float], options: GenerationOptions = GenerationOptions(),
    onToken: (TokenEvent) -> TokenAction = { _ in .proceed }
  ) throws(InferenceError) -> GenerationResult {
    try session.rollback(to: promptLength)
    let started = DispatchTime.now().uptimeNanoseconds
    var result = GenerationResult(
      text: "", tokens: [], logprobs: [], stopReason: .maxTokens, firstToken: nil, promptTokens: promptLength,
      reusedPromptTokens: promptLength, prefillSeconds: 0, decodeSeconds: 0, decodedTokens: 0)
    sampler.reset()
    var stops = StopStringMatcher(options.stopStrings)
    var detokenizer = StreamingDetokenizer(tokenizer: tokenizer)
    /// Bytes of the healed text still to be dropped from the decoded text.
    var healedBytesLeft = options.healedText.count
    var text = ""
    var logits = initialLogits
    var stopReason: StopReason = .maxTokens
    var index = 0
    func visible(_ decoded: String) -> String {
      guard healedBytesLeft > 0, !decoded.isEmpty else { return decoded }
      let bytes = decoded.utf8
      let dropped = min(healedBytesLeft, bytes.count)
      healedBytesLeft -= dropped
      return dropped == bytes.count ? "" : String(decoding: bytes.dropFirst(dropped), as: UTF8.self)
    }
    loop: while true {
      if index >= options.maxTokens {
        stopReason = .maxTokens
        break
      }
      adjustLogits?(&logits, result.tokens)
      let sampled: SampledToken
      do {
        sampled = try sampler.sample(logits: logits)
      } catch SamplingError.noViableToken {
        stopReason = .noViableToken
        break
      } catch {
        throw .sampling("\(error)")
      }
      let token = sampled.token
      if index == 0 { result.firstToken = token }
      if options.stopTokens.contains(token)
        || (options.stopAtEndOfGeneration && tokenizer.isEndOfGeneration(token))
      {
        stopReason = .endOfGeneration(token: token)
        break
      }
      sampler.accept(token)
      result.tokens.append(token)
      result.logprobs.append(sampled.logprob)

      let (released, matched) = stops.feed(visible(detokenizer.append(token)))
      if !released.isEmpty {
        text += released
        onText?(released)
      }
      if let matched {
        stopReason = .stopString(matched)
        break
      }
      let event = TokenEvent(
        index: index, token: token, logprob: sampled.logprob, piece: released, text: text, heldBack: stops.heldBack)
      index += 1
      if case .stop(let reason, let keeping) = onToken(event) {
        stopReason = .rule(reason)
        if let keeping, keeping < text.utf8.count {
          text = String(decoding: text.utf8.prefix(max(0, keeping)), as: UTF8.self)
        }
        break
      }
      if index >= options.maxTokens {
        stopReason = .maxTokens
        break
      }
      if let reason = Self.interruption(options) {
        stopReason = reason
        break
      }
      do {
        logits = try session.append(token)
        result.decodedTokens += 1
      } catch {
        if case .contextOverflow = error {
          stopReason = .contextFull
          break loop
        }
        throw error
      }
    }
    switch stopReason {
    case .stopString, .rule, .noViableToken:
      break
    case .endOfGeneration, .maxTokens:
      // Whatever was held back is text after all (no stop string completed), and so is a last incomplete
      // character.
      let tail = stops.heldBack + visible(detokenizer.flush())
      if !tail.isEmpty {
        text += tail
        onText?(tail)
      }
    case .deadline, .cancelled, .contextFull:
      // Held-back text is complete text; bytes of an unfinished character are dropped.
      let tail = stops.heldBack
      if !tail.isEmpty {
        text += tail
        onText?(tail)
      }
    }
    result.text = text
    result.stopReason = stopReason
    result.decodeSeconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
    return result
  }

  /// The reason to stop now, from the cancellation closure and the deadline.
  static func interruption(_ options: GenerationOptions) -> StopReason? {
    if let cancel = options.shouldCancel, cancel() { return .cancelled }
    if let deadline = options.deadlineNanoseconds, DispatchTime.now().uptimeNanoseconds >= deadline {
      return .deadline
    }
    return nil
  }
}

/// Finds stop strings in streamed text, holding back any suffix that could be the start of one.
struct StopStringMatcher {
  private let stops: [[UInt8]]
  /// Bytes decoded but not released.
  private var pending: [UInt8] = []

  init(_ stops: [String]) {
    self.stops = stops.filter { !$0.isEmpty }.map { Array($0.utf8) }
  }

  /// The held-back text.
  var heldBack: String { String(decoding: pending, as: UTF8.self) }

  /// Adds complete text; returns the text that is now safe to release and the stop string found, if any (the
  /// released text then ends just before it, and nothing is held back any more).
  mutating func feed(_ piece: String) -> (String, String?) {
    if stops.isEmpty { return (piece, nil) }
    pending.append(contentsOf: piece.utf8)
    // Earliest occurrence of any stop string (the pending bytes hold every possible start).
    var best: (Int, Int)? = nil
    for (s, stop) in stops.enumerated() where stop.count <= pending.count {
      var i = 0
      while i + stop.count <= pending.count {
        if pending[i] == stop[0] && pending[i..<(i + stop.count)].elementsEqual(stop) {
          if best == nil || i < best!.0 { best = (i, s) }
          break
        }
        i += 1
      }
    }
    if let (at, s) = best {
      let released = String(decoding: pending[..<at], as: UTF8.self)
      pending.removeAll()
      return (released, String(decoding: stops[s], as: UTF8.self))
    }
    // Hold back the longest suffix that is a proper prefix of a stop string.
    var hold = 0
    for stop in stops {
      var k = min(stop.count - 1, pending.count)
      while k > hold {
        if pending[(pending.count - k)...].elementsEqual(stop[..<k]) {
          hold = k
          break
        }
        k -= 1
      }
    }
    let cut = pending.count - hold
    let released = String(decoding: pending[..<cut], as: UTF8.self)
    pending.removeFirst(cut)
    return (released, nil)
  }
}
