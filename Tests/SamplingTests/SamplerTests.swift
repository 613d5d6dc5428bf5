import XCTest

@testable import Sampling

/// The chain, the selector, the generator, log-softmax and ranking.
final class SamplerTests: XCTestCase {
  func testSplitMixAndXoshiroReferenceVectors() {
    var s = SplitMix64(seed: 1_234_567)  // Vigna's published splitmix64 sequence
    XCTAssertEqual(
      [s.next(), s.next(), s.next()], [6_457_827_717_110_365_317, 3_203_168_211_198_807_973, 9_817_491_932_198_370_423])
    var x = Xoshiro256(seed: 42)  // computed with an independent Python transcription of xoshiro256**
    XCTAssertEqual(
      [x.next(), x.next(), x.next()],
      [1_546_998_764_402_558_742, 6_990_951_692_964_543_102, 12_544_586_762_248_559_009])
  }

  func testGreedyIsArgmaxAndPenaltyChangesTheChoice() throws {
    var settings = SamplerSettings()
    settings.penalties = true
    settings.repetitionPenalty = 2
    let sampler = try Sampler(settings: settings)
    let logits: [Float] = [1, 3, 2.5, -1]
    XCTAssertEqual(try sampler.sample(logits: logits).token, 1)
    sampler.accept(1)  // 3 / 2 = 1.5 < 2.5
    XCTAssertEqual(try sampler.sample(logits: logits).token, 2)
    sampler.reset()
    XCTAssertEqual(try sampler.sample(logits: logits).token, 1)
  }

  func testExemptTokensKeepWinning() throws {
    var settings = SamplerSettings()
    settings.penalties = true
    settings.repetitionPenalty = 2
    settings.exemptTokens = [1]
    let sampler = try Sampler(settings: settings)
    sampler.accept(1)
    XCTAssertEqual(try sampler.sample(logits: [1, 3, 2.5]).token, 1)
  }

  func testGreedyLogprobIsModelLogSoftmax() throws {
    let sampler = try Sampler(settings: SamplerSettings())
    let result = try sampler.sample(logits: [1, 2, 3])
    XCTAssertEqual(result.token, 2)
    XCTAssertEqual(result.logprob, -0.407_605_964, accuracy: 1e-6)
  }

  func testLogSumExpVectorisedMatchesDouble() {
    var rng = Xoshiro256(seed: 9)
    var logits = (0..<10_003).map { _ in Float(rng.nextUnit() * 60 - 40) }
    logits[17] = -.infinity
    logits[18] = -200
    let m = Double(logits.max()!)
    let reference = m + log(logits.reduce(0.0) { $0 + exp(Double($1) - m) })
    let value = logits.withUnsafeBufferPointer { SamplingMath.logSumExp($0) }
    XCTAssertEqual(Double(value), reference, accuracy: 1e-5)
    let ls = SamplingMath.logSoftmax([0, Float(log(3.0))])
    XCTAssertEqual(ls[0], Float(log(0.25)), accuracy: 1e-6)
    XCTAssertEqual(ls[1], Float(log(0.75)), accuracy: 1e-6)
    XCTAssertEqual([Float]().withUnsafeBufferPointer { SamplingMath.logSumExp($0) }, -.infinity)
  }

  func testSeededSamplingIsReproducibleAndSeedDependent() throws {
    var settings = SamplerSettings()
    settings.temperature = 1
    settings.topK = 0
    settings.topP = 1
    settings.minP = 0
    settings.penalties = false
    settings.seed = 7
    let logits: [Float] = [0, 0.5, 1, 0.2, -0.3]
    func run(_ s: Sampler) throws -> [Int32] { try (0..<64).map { _ in try s.sample(logits: logits).token } }
    let a = try Sampler(settings: settings)
    let first = try run(a)
    XCTAssertEqual(try run(try Sampler(settings: settings)), first)
    a.reset()
    XCTAssertEqual(try run(a), first)
    settings.seed = 8
    XCTAssertNotEqual(try run(try Sampler(settings: settings)), first)
    XCTAssertGreaterThan(Set(first).count, 2)  // it really draws
  }

  func testDrawFollowsTheDistribution() throws {
    var settings = SamplerSettings()
    settings.temperature = 1
    settings.topK = 0
    settings.topP = 1
    settings.minP = 0
    let sampler = try Sampler(settings: settings)
    let logits: [Float] = [Float(log(0.75)), Float(log(0.25))]
    var zeros = 0
    for _ in 0..<20_000 where try sampler.sample(logits: logits).token == 0 { zeros += 1 }
    XCTAssertEqual(Double(zeros) / 20_000, 0.75, accuracy: 0.015)
  }

  func testTopKOneMakesSamplingDeterministic() throws {
    var settings = SamplerSettings()
    settings.temperature = 1.5
    settings.topK = 1
    let sampler = try Sampler(settings: settings)
    for _ in 0..<20 { XCTAssertEqual(try sampler.sample(logits: [0.1, 0.3, 0.2]).token, 1) }
    XCTAssertEqual(sampler.lastCandidates.ids, [1])
  }

  func testDefaultChainIsPlainAndFullChainOrder() throws {
    XCTAssertEqual(try Sampler(settings: SamplerSettings()).processors.count, 0, "the default is plain greedy")
    var settings = SamplerSettings()
    settings.temperature = 0.7
    settings.topK = 40
    settings.topP = 0.95
    settings.minP = 0.05
    settings.penalties = true
    settings.repetitionPenalty = 1.1
    settings.lengthPenaltyDecay = 1.06
    settings.noRepeatNgramSize = 3
    settings.endOfSequenceTokens = [0]
    let names = try Sampler(settings: settings).processors.map(\.name)
    XCTAssertEqual(
      names, ["repetition", "no-repeat-ngram", "length-penalty", "top-k", "top-p", "min-p", "temperature"])
    settings.temperature = 0
    XCTAssertEqual(
      try Sampler(settings: settings).processors.map(\.name), ["repetition", "no-repeat-ngram", "length-penalty"])
    settings.penalties = false
    XCTAssertEqual(try Sampler(settings: settings).processors.count, 0)
  }

  func testLengthPenaltyEndsALongCompletion() throws {
    var settings = SamplerSettings()
    settings.penalties = true
    settings.lengthPenaltyStart = 2
    settings.lengthPenaltyDecay = 2
    settings.endOfLineTokens = [1]
    let sampler = try Sampler(settings: settings)
    let logits: [Float] = [2, -1.5]
    XCTAssertEqual(try sampler.sample(logits: logits).token, 0)
    for _ in 0..<4 { sampler.accept(0) }  // factor 2^2 - 1 = 3: -1.5 + 4.5 = 3 > 2
    XCTAssertEqual(try sampler.sample(logits: logits).token, 1)
  }

  func testNoViableTokenAndEmptyLogitsThrow() throws {
    var settings = SamplerSettings()
    settings.penalties = true
    settings.noRepeatNgramSize = 1
    let sampler = try Sampler(settings: settings)
    sampler.accept(0)
    sampler.accept(1)
    XCTAssertThrowsError(try sampler.sample(logits: [1, 2])) { error in
      XCTAssertEqual(error as? SamplingError, .noViableToken(candidates: 2))
    }
    XCTAssertThrowsError(try sampler.sample(logits: [])) { XCTAssertEqual($0 as? SamplingError, .emptyLogits) }
  }

  func testInvalidSettingsAreNamed() {
    var settings = SamplerSettings()
    settings.topP = 0
    XCTAssertThrowsError(try Sampler(settings: settings)) { error in
      guard case .invalidSetting(let name, _, _) = error as? SamplingError else { return XCTFail("\(error)") }
      XCTAssertEqual(name, "topP")
      XCTAssertTrue("\(error)".contains("topP"))
    }
    settings = SamplerSettings()
    settings.temperature = -1
    XCTAssertThrowsError(try Sampler(settings: settings))
    settings = SamplerSettings()
    settings.repetitionWindow = 0
    XCTAssertThrowsError(try Sampler(settings: settings))
  }

  func testRankingByLengthNormalisedLogprob() {
    let candidates: [(sumLogprob: Double, length: Int)] = [(-4, 4), (-3, 2), (-6, 8)]
    XCTAssertEqual(SamplingMath.rank(candidates, alpha: 1), [2, 0, 1])  // -1, -1.5, -0.75
    XCTAssertEqual(SamplingMath.rank(candidates, alpha: 0), [1, 0, 2])  // raw sums
    XCTAssertEqual(SamplingMath.lengthNormalizedScore(sumLogprob: -6, length: 4, alpha: 0.5), -3)
    XCTAssertEqual(SamplingMath.lengthNormalizedScore(sumLogprob: -6, length: 0, alpha: 1), -.infinity)
  }

  func testExemptAndEndOfLineTokenSets() {
    let vocab = ["    ", ")", "){", "foo", "", "\n", "x)", ";\n", "<|endoftext|>", "\n\n  ", "\r"]
    let text: (Int32) -> String = { vocab[Int($0)] }
    let exempt = TokenSets.exemptTokens(vocabularySize: vocab.count, exemptCharacters: "(){};", tokenText: text)
    XCTAssertEqual(exempt, [0, 1, 2, 5, 7, 9, 10])
    XCTAssertEqual(TokenSets.endOfLineTokens(vocabularySize: vocab.count, tokenText: text), [5, 7, 9])
    XCTAssertEqual(TokenSets.blankLineTokens(vocabularySize: vocab.count, tokenText: text), [9])
  }
}
