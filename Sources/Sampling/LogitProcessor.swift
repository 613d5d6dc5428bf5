import Foundation

/// One link of the sampler chain: sees every accepted token, rewrites or truncates the candidates of a step.
///
/// After llama.cpp's `llama_sampler` interface (`include/llama.h`: `accept`, `apply`, `reset`) and MLX's
/// `LogitProcessor`. Processors hold per-completion state (history); `reset()` forgets it.
///
/// - Important: a processor is used from one thread at a time (the generation loop); it is not thread-safe.
public protocol LogitProcessor: AnyObject {
  /// A short name for traces (`repetition`, `top-k`, …).
  var name: String { get }
  /// Records a token that was chosen (generated), in order.
  func accept(_ token: Int32)
  /// Rewrites, truncates or reorders the candidates of the current step.
  func apply(_ candidates: inout Candidates)
  /// Forgets all history (start of a new completion).
  func reset()
}

extension LogitProcessor {
  public func accept(_ token: Int32) {}
  public func reset() {}
}

// MARK: - Truncation and temperature

/// Divides every logit by the temperature (T > 0). T = 1 leaves them unchanged.
public final class TemperatureProcessor: LogitProcessor {
  public let name = "temperature"
  /// The divisor (> 0).
  public let temperature: Float

  /// - Parameter temperature: must be > 0 (temperature 0 is the greedy selector, not a processor).
  public init(temperature: Float) {
    precondition(temperature > 0, "temperature processor needs T > 0; use greedy selection for 0")
    self.temperature = temperature
  }

  public func apply(_ candidates: inout Candidates) {
    if temperature == 1 { return }
    let t = temperature
    candidates.logits.withUnsafeMutableBufferPointer { buf in
      for i in 0..<buf.count { buf[i] /= t }
    }
  }
}

/// Keeps the k most likely tokens, sorted (llama.cpp `llama_sampler_top_k`), by partial selection.
public final class TopKProcessor: LogitProcessor {
  public let name = "top-k"
  /// Entries kept; 0 or less keeps all.
  public let k: Int

  /// - Parameter k: tokens to keep; 0 or less keeps all.
  public init(k: Int) { self.k = k }

  public func apply(_ candidates: inout Candidates) {
    guard k > 0 else { return }
    candidates.keepTop(k)
  }
}

/// Keeps the smallest prefix of the sorted candidates whose probability mass reaches p (nucleus sampling,
/// Holtzman et al. 2019; llama.cpp `llama_sampler_top_p`): entries are added until the cumulative probability
/// is >= p, keeping at least `minKeep`.
public final class TopPProcessor: LogitProcessor {
  public let name = "top-p"
  /// Probability mass kept, in (0, 1].
  public let p: Double
  /// The fewest entries kept.
  public let minKeep: Int

  /// - Parameters:
  ///   - p: probability mass to keep, in (0, 1]; 1 disables.
  ///   - minKeep: the fewest entries kept.
  public init(p: Double, minKeep: Int = 1) {
    self.p = p
    self.minKeep = max(1, minKeep)
  }

  public func apply(_ candidates: inout Candidates) {
    guard p < 1, candidates.count > 1 else { return }
    candidates.sortDescending()  // a no-op after top-k
    let probs = candidates.probabilities()
    var cumulative = 0.0
    var keep = candidates.count
    for i in 0..<probs.count {
      cumulative += probs[i]
      if cumulative >= p && i + 1 >= minKeep {
        keep = i + 1
        break
      }
    }
    candidates.truncate(to: keep)
  }
}

/// Drops tokens whose probability is below `minP` times the most likely one's (llama.cpp `llama_sampler_min_p`):
/// a token is kept when `logit >= maxLogit + ln(minP)`. One pass, no sort, no softmax.
public final class MinPProcessor: LogitProcessor {
  public let name = "min-p"
  /// Fraction of the best token's probability below which tokens are dropped.
  public let minP: Double
  /// The fewest entries kept.
  public let minKeep: Int

  /// - Parameter minP: in [0, 1); 0 disables.
  public init(minP: Double, minKeep: Int = 1) {
    self.minP = minP
    self.minKeep = max(1, minKeep)
  }

  public func apply(_ candidates: inout Candidates) {
    guard minP > 0, candidates.count > 1, let top = candidates.argmax() else { return }
    let threshold = Float(Double(candidates.logits[top]) + log(minP))
    var kept = 0
    for value in candidates.logits where value >= threshold { kept += 1 }
    if kept == candidates.count { return }
    if kept < minKeep {
      candidates.keepTop(minKeep)
      return
    }
    candidates.retain { $0 >= threshold }  // order is preserved, and so is `isSorted`
  }
}

// MARK: - Penalties

/// Repetition, frequency and presence penalties over a window of recent generated tokens, after llama.cpp
/// `llama_sampler_penalties_apply`: for every token seen `count > 0` times in the window,
/// `logit = logit <= 0 ? logit * repeat : logit / repeat`, then `logit -= count * frequency + presence`.
///
/// Tokens in `exempt` (whitespace, brackets, punctuation: text that code legitimately repeats) are never
/// penalised. Only generated tokens are counted, not the prompt: code repeats the names it uses.
/// Cost per step: O(distinct tokens in the window), whatever the vocabulary size.
public final class RepetitionPenaltyProcessor: LogitProcessor {
  public let name = "repetition"
  /// Divides positive and multiplies non-positive logits of seen tokens (1 disables).
  public let repetitionPenalty: Float
  /// Subtracted once per occurrence in the window.
  public let frequencyPenalty: Float
  /// Subtracted once for a token present in the window.
  public let presencePenalty: Float
  /// How many recent accepted tokens are counted.
  public let window: Int
  /// Token ids never penalised.
  public let exempt: Set<Int32>

  private var recent: [Int32] = []  // ring buffer  // (window)
  private var head = 0
  private var counts: [Int32: Int] = [:]

  /// - Parameters:
  ///   - repetitionPenalty: > 0; 1 disables.
  ///   - frequencyPenalty: subtracted per occurrence; 0 disables.
  ///   - presencePenalty: subtracted once for a present token; 0 disables.
  ///   - window: how many recent tokens are counted (> 0).
  ///   - exempt: token ids that are never penalised.
  public init(
    repetitionPenalty: Float, frequencyPenalty: Float = 0, presencePenalty: Float = 0, window: Int,
    exempt: Set<Int32> = []
  ) {
    precondition(window > 0, "penalty window must be positive")
    self.repetitionPenalty = repetitionPenalty
    self.frequencyPenalty = frequencyPenalty
    self.presencePenalty = presencePenalty
    self.window = window
    self.exempt = exempt
    // The ring buffer grows with the tokens seen, never to a configured size up front (a window of 2^53 is valid).
    recent.reserveCapacity(min(window, 4096))
  }

  /// How often `token` occurs in the window now.
  public func count(of token: Int32) -> Int { counts[token] ?? 0 }

  public func accept(_ token: Int32) {
    if recent.count < window {
      recent.append(token)
    } else {
      let old = recent[head]
      if let c = counts[old] { counts[old] = c > 1 ? c - 1 : nil }
      recent[head] = token
      head = (head + 1) % window
    }
    counts[token, default: 0] += 1
  }

  public func apply(_ candidates: inout Candidates) {
    if counts.isEmpty { return }
    if repetitionPenalty == 1 && frequencyPenalty == 0 && presencePenalty == 0 { return }
    let r = repetitionPenalty
    let f = frequencyPenalty
    let p = presencePenalty
    let exempt = self.exempt
    let counts = self.counts
    candidates.modifyLogits(of: counts.keys) { token, logit in
      if exempt.contains(token) { return }
      let c = Float(counts[token] ?? 0)
      if logit <= 0 { logit *= r } else { logit /= r }
      logit -= c * f + (c > 0 ? p : 0)
    }
  }

  public func reset() {
    recent.removeAll(keepingCapacity: true)
    head = 0
    counts.removeAll(keepingCapacity: true)
  }
}

/// Bans every token that would complete an n-gram already generated (transformers
/// `NoRepeatNGramLogitsProcessor`): with the last n-1 generated tokens as key, each token that followed the same
/// key before gets logit -inf. An n-gram made only of `exempt` tokens is never banned (code repeats `) {` and
/// indentation). Cost per step: one dictionary lookup.
public final class NoRepeatNGramProcessor: LogitProcessor {
  public let name = "no-repeat-ngram"
  /// n, the n-gram length.
  public let size: Int
  /// Token ids never penalised.
  public let exempt: Set<Int32>
  private var history: [Int32] = []
  private var followers: [[Int32]: Set<Int32>] = [:]

  /// - Parameter size: n, the n-gram length (> 0).
  public init(size: Int, exempt: Set<Int32> = []) {
    precondition(size > 0, "n-gram size must be positive")
    self.size = size
    self.exempt = exempt
  }

  /// Tokens banned at the current step.
  public func bannedTokens() -> Set<Int32> {
    guard history.count >= size - 1 else { return [] }
    let key = Array(history[(history.count - (size - 1))...])
    guard var banned = followers[key] else { return [] }
    if key.allSatisfy({ exempt.contains($0) }) { banned = banned.filter { !exempt.contains($0) } }
    return banned
  }

  public func accept(_ token: Int32) {
    history.append(token)
    if history.count >= size {
      let key = Array(history[(history.count - size)..<(history.count - 1)])
      followers[key, default: []].insert(token)
    }
  }

  public func apply(_ candidates: inout Candidates) {
    let banned = bannedTokens()
    if banned.isEmpty { return }
    candidates.modifyLogits(of: banned) { _, logit in logit = -.infinity }
  }

  public func reset() {
    history.removeAll(keepingCapacity: true)
    followers.removeAll(keepingCapacity: true)
  }
}

/// Raises end-of-line and end-of-sequence logits progressively past a soft budget (transformers
/// `ExponentialDecayLengthPenalty`): once `generated > start`, each boosted token's finite logit gets
/// `logit += abs(logit) * (decay^(generated - start) - 1)`, where `generated` counts accepted tokens.
public final class LengthPenaltyProcessor: LogitProcessor {
  public let name = "length-penalty"
  /// The soft budget in generated tokens.
  public let start: Int
  /// Growth factor per token past the budget.
  public let decay: Double
  /// End-of-line and end-of-sequence token ids, sorted.
  public let boosted: [Int32]
  /// Tokens accepted since the last reset.
  public private(set) var generated = 0

  /// - Parameters:
  ///   - start: the soft budget in generated tokens.
  ///   - decay: growth factor per token past it (> 1 raises; 1 disables).
  ///   - boosted: the end-of-line and end-of-sequence token ids.
  public init(start: Int, decay: Double, boosted: Set<Int32>) {
    self.start = start
    self.decay = decay
    self.boosted = boosted.sorted()
  }

  /// The factor `decay^(generated - start) - 1` applied now (0 before the budget is reached).
  public var currentFactor: Double {
    generated > start ? pow(decay, Double(generated - start)) - 1 : 0
  }

  public func accept(_ token: Int32) { generated += 1 }

  public func apply(_ candidates: inout Candidates) {
    let factor = Float(currentFactor)
    if factor == 0 { return }
    candidates.modifyLogits(of: boosted) { _, logit in
      if logit.isFinite { logit += abs(logit) * factor }
    }
  }

  public func reset() { generated = 0 }
}
