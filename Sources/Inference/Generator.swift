import Dispatch
import Sampling
import Tokenization

/// Why generation ended.
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
  /// The per-token hook asked to stop.
  case hook

  /// A short name for traces and `CompletionCandidate.stopReason` (`eos`, `stop-string`, `max-tokens`, ...).
  public var description: String {
    switch self {
    case .endOfGeneration: return "eos"
    case .stopString: return "stop-string"
    case .maxTokens: return "max-tokens"
    case .deadline: return "deadline"
    case .cancelled: return "cancelled"
    case .contextFull: return "context-full"
    case .hook: return "hook"
    }
  }
}

/// Limits and stop conditions of one generation.
public struct GenerationOptions {
  /// Most tokens to generate (end-of-generation tokens not counted).
  public var maxTokens: Int = 256
  /// Generation stops when the text contains one of these; the text ends just before it. Text that could be
  /// the start of a stop string is held back from `onText` until it is known not to be one.
  public var stopStrings: [String] = []
  /// Stop at the tokenizer's end-of-generation tokens (EOS, EOT, `<|endoftext|>`, FIM end...).
  public var stopAtEndOfGeneration: Bool = true
  /// More token ids that end generation.
  public var stopTokens: Set<Int32> = []
  /// Uptime in nanoseconds (`DispatchTime.now().uptimeNanoseconds`) after which generation stops; nil for none.
  /// Checked between prefill chunks and after every token.
  public var deadlineNanoseconds: UInt64? = nil
  /// Polled between prefill chunks and after every token; true stops generation.
  public var shouldCancel: (() -> Bool)? = nil

  public init(
    maxTokens: Int = 256, stopStrings: [String] = [], stopAtEndOfGeneration: Bool = true,
    stopTokens: Set<Int32> = [], deadlineNanoseconds: UInt64? = nil, shouldCancel: (() -> Bool)? = nil
  ) {
    self.maxTokens = maxTokens
    self.stopStrings = stopStrings
    self.stopAtEndOfGeneration = stopAtEndOfGeneration
    self.stopTokens = stopTokens
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
  /// Text released by this token (possibly empty: incomplete UTF-8, or a possible stop string held back).
  public var piece: String
  /// All text released so far.
  public var text: String
  /// Text decoded but held back because it may start a stop string.
  public var heldBack: String
}

/// The hook's answer.
public enum TokenAction: Sendable {
  case proceed
  case stop
}

/// The outcome of a generation.
public struct GenerationResult: Sendable {
  /// The generated text (without stop strings or end-of-generation tokens).
  public var text: String
  /// The generated tokens (without the end-of-generation token).
  public var tokens: [Int32]
  /// Log-probability of each generated token.  // (tokens.count)
  public var logprobs: [Float]
  public var stopReason: StopReason
  /// Tokens of the prompt, and how many of them came from the KV cache.
  public var promptTokens: Int
  public var reusedPromptTokens: Int
  /// Wall time of the prompt evaluation and of the token loop, in seconds.
  public var prefillSeconds: Double
  public var decodeSeconds: Double

  /// Sum of the log-probabilities (0 for no token).
  public var totalLogprob: Double { logprobs.reduce(0) { $0 + Double($1) } }
}

/// Generates tokens from a session: samples, checks stop conditions, streams text (llama2.c's `generate()`).
///
/// ```
/// let generator = Generator(session: session, tokenizer: tokenizer, sampler: try Sampler(settings: settings))
/// generator.onText = { print($0, terminator: "") }
/// let result = try generator.generate(prompt: ids, options: GenerationOptions(maxTokens: 64))
/// ```
/// The prompt goes through `InferenceSession.evaluate`, so a prompt that extends the previous call's tokens
/// reuses the KV cache. After generation the cache holds the prompt and the generated tokens but the last.
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
  ///   - onToken: called after every generated token with its text; `.stop` ends generation (`.hook`).
  /// - Returns: the text, tokens, log-probabilities and why it stopped. Cancellation and deadlines are not
  ///   errors: the result holds what was generated until then.
  /// - Throws: `InferenceError` for a prompt the model cannot take (empty, unknown ids, longer than the context)
  ///   or a sampler failure.
  public func generate(
    prompt: [Int32], options: GenerationOptions = GenerationOptions(),
    onToken: (TokenEvent) -> TokenAction = { _ in .proceed }
  ) throws(InferenceError) -> GenerationResult {
    let started = DispatchTime.now().uptimeNanoseconds
    let deadline = options.deadlineNanoseconds
    func interruption() -> StopReason? {
      if let cancel = options.shouldCancel, cancel() { return .cancelled }
      if let deadline, DispatchTime.now().uptimeNanoseconds >= deadline { return .deadline }
      return nil
    }

    var result = GenerationResult(
      text: "", tokens: [], logprobs: [], stopReason: .maxTokens, promptTokens: prompt.count, reusedPromptTokens: 0,
      prefillSeconds: 0, decodeSeconds: 0)
    sampler.reset()
    let evaluation = try session.evaluate(prompt, shouldStop: { interruption() != nil })
    result.reusedPromptTokens = evaluation.reusedTokens
    let prefillDone = DispatchTime.now().uptimeNanoseconds
    result.prefillSeconds = Double(prefillDone - started) / 1e9
    guard evaluation.completed else {
      result.stopReason = interruption() ?? .cancelled
      return result
    }

    var stops = StopStringMatcher(options.stopStrings)
    var detokenizer = StreamingDetokenizer(tokenizer: tokenizer)
    var text = ""
    var logits = evaluation.logits
    var stopReason: StopReason = .maxTokens
    var index = 0
    loop: while true {
      if index >= options.maxTokens {
        stopReason = .maxTokens
        break
      }
      adjustLogits?(&logits, result.tokens)
      let sampled: SampledToken
      do { sampled = try sampler.sample(logits: logits) } catch { throw .sampling("\(error)") }
      let token = sampled.token
      if options.stopTokens.contains(token)
        || (options.stopAtEndOfGeneration && tokenizer.isEndOfGeneration(token))
      {
        stopReason = .endOfGeneration(token: token)
        break
      }
      sampler.accept(token)
      result.tokens.append(token)
      result.logprobs.append(sampled.logprob)

      let (released, matched) = stops.feed(detokenizer.append(token))
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
      if onToken(event) == .stop {
        stopReason = .hook
        break
      }
      if index >= options.maxTokens {
        stopReason = .maxTokens
        break
      }
      if let reason = interruption() {
        stopReason = reason
        break
      }
      do {
        logits = try session.append(token)
      } catch {
        if case .contextOverflow = error {
          stopReason = .contextFull
          break loop
        }
        throw error
      }
    }
    if case .stopString = stopReason {
    } else {
      // Whatever was held back is text after all (no stop string completed), plus any incomplete character.
      let tail = stops.heldBack + detokenizer.flush()
      if !tail.isEmpty {
        text += tail
        onText?(tail)
      }
    }
    result.text = text
    result.stopReason = stopReason
    result.decodeSeconds = Double(DispatchTime.now().uptimeNanoseconds - prefillDone) / 1e9
    return result
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
