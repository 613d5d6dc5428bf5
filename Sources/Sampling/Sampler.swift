import Foundation

/// Every sampling knob of one chain; `Sampler(settings:)` builds it.
///
/// The defaults are the plain chain: greedy, no truncation, no penalties. The product's choices are
/// `CodeCompletion.CompletionSettings`' defaults (the one place each is declared, with its reason); the pipeline
/// maps those onto this struct and adds what only it knows (token sets, the soft budget of the completion kind).
public struct SamplerSettings: Sendable, Equatable {
  // MARK: Distribution
  /// 0: greedy (argmax). A positive temperature draws from the softmax of logits / temperature.
  public var temperature: Double = 0
  /// Keep the k most likely tokens; bounds every later step to k entries. 0 disables.
  public var topK: Int = 0
  /// Keep the smallest set of tokens whose probability mass reaches p (nucleus). 1 disables.
  public var topP: Double = 1
  /// Drop tokens below minP times the best one's probability (scale-aware tail cut). 0 disables.
  public var minP: Double = 0
  /// Seed of the generator; `reset()` restarts from it, so equal inputs give equal outputs.
  public var seed: UInt64 = 0

  // MARK: Penalties
  /// Master switch for the penalties, the n-gram blocker and the length penalty.
  public var penalties: Bool = false
  /// Divides positive and multiplies negative logits of tokens in the window. 1 disables.
  public var repetitionPenalty: Double = 1
  /// Recent generated tokens the repetition, frequency and presence penalties count (llama.cpp's `penalty_last_n`).
  public var repetitionWindow: Int = 64
  /// Subtracted per occurrence in the window. 0 disables.
  public var frequencyPenalty: Double = 0
  /// Subtracted once per token present in the window. 0 disables.
  public var presencePenalty: Double = 0
  /// Token ids never penalised (build with `TokenSets.exemptTokens`).
  public var exemptTokens: Set<Int32> = []
  /// An n-gram of this many tokens cannot be generated twice. 0 disables.
  public var noRepeatNgramSize: Int = 0
  /// Soft budget in generated tokens, past which the length penalty raises the end tokens.
  public var lengthPenaltyStart: Int = 0
  /// Factor per token past the budget by which the end logits' magnitude is added. 1 disables.
  public var lengthPenaltyDecay: Double = 1
  /// End-of-line token ids raised by the length penalty (build with `TokenSets.endOfLineTokens`).
  public var endOfLineTokens: Set<Int32> = []
  /// End-of-sequence token ids raised by the length penalty (EOS, EOT, FIM end…).
  public var endOfSequenceTokens: Set<Int32> = []
  /// Candidates are ranked by sum(log p) / length^alpha (`SamplingMath.lengthNormalizedScore`).
  public var lengthNormalizationAlpha: Double = 1

  // MARK: Output
  /// Compute the chosen token's log-probability under the model's distribution (one vectorised pass).
  public var computeLogprob: Bool = true

  public init() {}

  /// Throws `SamplingError.invalidSetting` naming the first setting out of range.
  public func validate() throws {
    func check(_ ok: Bool, _ name: String, _ value: Any, _ expected: String) throws {
      if !ok { throw SamplingError.invalidSetting(name: name, value: "\(value)", expected: expected) }
    }
    try check(temperature.isFinite && temperature >= 0, "temperature", temperature, "a finite number >= 0")
    try check(topK >= 0, "topK", topK, "an integer >= 0 (0 disables)")
    try check(topP > 0 && topP <= 1, "topP", topP, "a number in (0, 1] (1 disables)")
    try check(minP >= 0 && minP < 1, "minP", minP, "a number in [0, 1) (0 disables)")
    try check(
      repetitionPenalty.isFinite && repetitionPenalty > 0, "repetitionPenalty", repetitionPenalty,
      "a finite number > 0 (1 disables)")
    try check(repetitionWindow > 0, "repetitionWindow", repetitionWindow, "an integer > 0")
    try check(frequencyPenalty.isFinite, "frequencyPenalty", frequencyPenalty, "a finite number")
    try check(presencePenalty.isFinite, "presencePenalty", presencePenalty, "a finite number")
    try check(noRepeatNgramSize >= 0, "noRepeatNgramSize", noRepeatNgramSize, "an integer >= 0 (0 disables)")
    try check(lengthPenaltyStart >= 0, "lengthPenaltyStart", lengthPenaltyStart, "an integer >= 0")
    try check(
      lengthPenaltyDecay.isFinite && lengthPenaltyDecay >= 1, "lengthPenaltyDecay", lengthPenaltyDecay,
      "a finite number >= 1 (1 disables)")
    try check(
      lengthNormalizationAlpha.isFinite, "lengthNormalizationAlpha", lengthNormalizationAlpha, "a finite number")
  }

  /// The penalty processors these settings ask for, in chain order (repetition, n-gram, length).
  public func makePenaltyProcessors() -> [LogitProcessor] {
    guard penalties else { return [] }
    var chain: [LogitProcessor] = []
    if repetitionPenalty != 1 || frequencyPenalty != 0 || presencePenalty != 0 {
      chain.append(
        RepetitionPenaltyProcessor(
          repetitionPenalty: Float(repetitionPenalty), frequencyPenalty: Float(frequencyPenalty),
          presencePenalty: Float(presencePenalty), window: repetitionWindow, exempt: exemptTokens))
    }
    if noRepeatNgramSize > 0 { chain.append(NoRepeatNGramProcessor(size: noRepeatNgramSize, exempt: exemptTokens)) }
    let boosted = endOfLineTokens.union(endOfSequenceTokens)
    if lengthPenaltyDecay != 1 && !boosted.isEmpty {
      chain.append(LengthPenaltyProcessor(start: lengthPenaltyStart, decay: lengthPenaltyDecay, boosted: boosted))
    }
    return chain
  }

  /// The truncation processors (top-k, top-p, min-p, then temperature; llama.cpp's default order); empty when
  /// greedy.
  public func makeDistributionProcessors() -> [LogitProcessor] {
    guard temperature > 0 else { return [] }
    var chain: [LogitProcessor] = []
    if topK > 0 { chain.append(TopKProcessor(k: topK)) }
    if topP < 1 { chain.append(TopPProcessor(p: topP)) }
    if minP > 0 { chain.append(MinPProcessor(minP: minP)) }
    chain.append(TemperatureProcessor(temperature: Float(temperature)))
    return chain
  }
}

/// The token a sampler step chose.
public struct SampledToken: Sendable, Equatable {
  /// The chosen token id.
  public var token: Int32
  /// Its log-probability under the model's own distribution (the logits before any processor); NaN when
  /// `SamplerSettings.computeLogprob` is off. Sum these to rank candidates (`SamplingMath.rank`).
  public var logprob: Float

  public init(token: Int32, logprob: Float) {
    self.token = token
    self.logprob = logprob
  }
}

/// A sampler chain: penalty processors, then (when T > 0) truncation and temperature, then a selector that is
/// greedy (argmax in one pass) at T = 0 and a seeded draw otherwise (llama.cpp's `llama_sampler_chain`).
///
/// A greedy step costs one copy of the logits, O(window) for the penalties and one argmax pass; nothing sorts
/// the vocabulary (top-k is a partial selection; top-p sorts only what top-k kept).
///
/// - Important: not thread-safe; one sampler per generation loop. Call `accept` with every generated token
///   and `reset` before a new completion.
public final class Sampler {
  /// The settings it was built from.
  public let settings: SamplerSettings
  /// The chain in order: penalties first, then truncation and temperature.
  public let processors: [LogitProcessor]
  private var rng: Xoshiro256
  private var work = Candidates(logits: [])

  /// Builds the chain; throws `SamplingError.invalidSetting` for a setting out of range.
  public init(settings: SamplerSettings = SamplerSettings()) throws {
    try settings.validate()
    self.settings = settings
    self.processors = settings.makePenaltyProcessors() + settings.makeDistributionProcessors()
    self.rng = Xoshiro256(seed: settings.seed)
  }

  /// Builds the chain of `settings` behind `constraints` (processors that decide which tokens may come at all:
  /// token healing, banned tokens), which see the model's logits first.
  public init(settings: SamplerSettings, constraints: [LogitProcessor]) throws {
    try settings.validate()
    self.settings = settings
    self.processors = constraints + settings.makePenaltyProcessors() + settings.makeDistributionProcessors()
    self.rng = Xoshiro256(seed: settings.seed)
  }

  /// Builds a sampler from custom processors (the selector is still greedy at temperature 0, a draw otherwise).
  public init(settings: SamplerSettings, processors: [LogitProcessor]) throws {
    try settings.validate()
    self.settings = settings
    self.processors = processors
    self.rng = Xoshiro256(seed: settings.seed)
  }

  /// The candidates of the last step after the chain (for traces and tests).
  public var lastCandidates: Candidates { work }

  /// Runs the chain on a model's logits and chooses a token. Does not `accept` it: call `accept` once the
  /// pipeline keeps the token.
  ///
  /// - Parameter logits: one logit per vocabulary entry.  // (vocab)
  /// - Throws: `SamplingError.emptyLogits`, `.noViableToken` when everything was banned.
  public func sample(logits: UnsafeBufferPointer<Float>) throws -> SampledToken {
    guard !logits.isEmpty else { throw SamplingError.emptyLogits }
    work.reset(from: logits)
    for processor in processors { processor.apply(&work) }
    let index: Int
    if settings.temperature == 0 {
      guard let best = work.argmax() else { throw SamplingError.noViableToken(candidates: work.count) }
      index = best
    } else {
      guard let drawn = draw() else { throw SamplingError.noViableToken(candidates: work.count) }
      index = drawn
    }
    let token = work.id(at: index)
    let logprob = settings.computeLogprob ? logits[Int(token)] - SamplingMath.logSumExp(logits) : .nan
    return SampledToken(token: token, logprob: logprob)
  }

  /// Array convenience for `sample(logits:)`.
  public func sample(logits: [Float]) throws -> SampledToken {
    try logits.withUnsafeBufferPointer { try sample(logits: $0) }
  }

  /// Records a generated token in every processor's history.
  public func accept(_ token: Int32) {
    for processor in processors { processor.accept(token) }
  }

  /// Forgets all history and restarts the generator from the seed.
  public func reset() {
    for processor in processors { processor.reset() }
    rng = Xoshiro256(seed: settings.seed)
  }

  /// Draws an entry from softmax(work.logits) with one uniform number; nil when nothing is finite.
  private func draw() -> Int? {
    let probs = work.probabilities()
    let total = probs.reduce(0, +)
    guard total > 0, total.isFinite else { return nil }
    let u = rng.nextUnit() * total
    var cumulative = 0.0
    var last: Int?
    for i in 0..<probs.count where probs[i] > 0 {
      cumulative += probs[i]
      last = i
      if u < cumulative { return i }
    }
    return last  // rounding left u at the very end
  }
}
