import XCTest

@testable import Sampling

/// Each processor on a small distribution, with exact expected values.
final class ProcessorTests: XCTestCase {
  func testRepetitionFrequencyPresenceFollowLlamaCpp() {
    // Penalty 2, frequency 0.5, presence 0.25; token 0 seen twice, token 1 once, token 3 once but exempt.
    let p = RepetitionPenaltyProcessor(
      repetitionPenalty: 2, frequencyPenalty: 0.5, presencePenalty: 0.25, window: 8, exempt: [3])
    for t: Int32 in [0, 1, 0, 3] { p.accept(t) }
    var c = Candidates(logits: [2, -1, 0.5, 3, 0])
    p.apply(&c)
    // 2 / 2 - (2 * 0.5 + 0.25) = -0.25; -1 * 2 - (0.5 + 0.25) = -2.75; untouched; exempt; unseen.
    XCTAssertEqual(c.logits, [-0.25, -2.75, 0.5, 3, 0])
  }

  func testRepetitionPenaltyNeverDividesNegativeLogits() {
    let p = RepetitionPenaltyProcessor(repetitionPenalty: 1.25, window: 4)
    p.accept(0)
    p.accept(1)
    p.accept(2)
    var c = Candidates(logits: [2.5, -2, 0])
    p.apply(&c)
    XCTAssertEqual(c.logits, [2, -2.5, 0])  // a zero logit stays 0 (0 * 1.25)
  }

  func testRepetitionWindowForgetsOldTokens() {
    let p = RepetitionPenaltyProcessor(repetitionPenalty: 2, window: 2)
    for t: Int32 in [0, 1, 2] { p.accept(t) }  // token 0 left the window
    XCTAssertEqual(p.count(of: 0), 0)
    XCTAssertEqual(p.count(of: 1), 1)
    var c = Candidates(logits: [4, 4, 4])
    p.apply(&c)
    XCTAssertEqual(c.logits, [4, 2, 2])
    p.reset()
    var d = Candidates(logits: [4, 4, 4])
    p.apply(&d)
    XCTAssertEqual(d.logits, [4, 4, 4])
  }

  func testPenaltiesOnSparseCandidates() {
    let p = RepetitionPenaltyProcessor(repetitionPenalty: 2, window: 4)
    p.accept(7)
    var c = Candidates(ids: [3, 7, 9], logits: [1, 6, -1])
    p.apply(&c)
    XCTAssertEqual(c.logits, [1, 3, -1])
  }

  func testTopKKeepsLargestSortedWithLowerIDOnTies() {
    var c = Candidates(logits: [1, 5, 3, 5, 2, -.infinity, .nan])
    TopKProcessor(k: 3).apply(&c)
    XCTAssertEqual(c.ids, [1, 3, 2])
    XCTAssertEqual(c.logits, [5, 5, 3])
    XCTAssertTrue(c.isSorted)
    XCTAssertFalse(c.isDense)
  }

  func testTopKMatchesFullSortOnALargeVocabulary() {
    var rng = Xoshiro256(seed: 3)
    let logits = (0..<50_000).map { _ in Float(rng.nextUnit() * 20 - 10) }
    var c = Candidates(logits: logits)
    c.keepTop(40)
    let expected = logits.indices.sorted { logits[$0] != logits[$1] ? logits[$0] > logits[$1] : $0 < $1 }.prefix(40)
    XCTAssertEqual(c.ids, expected.map { Int32($0) })
    XCTAssertEqual(c.logits, expected.map { logits[$0] })
  }

  func testTopPKeepsSmallestPrefixReachingP() {
    // Probabilities 0.5, 0.25, 0.125, 0.125.
    let l2 = Float(log(2.0))
    let logits: [Float] = [-2 * l2, 0, -l2, -2 * l2]
    func kept(_ p: Double) -> [Int32] {
      var c = Candidates(logits: logits)
      TopPProcessor(p: p).apply(&c)
      return c.ids
    }
    XCTAssertEqual(kept(0.4), [1])
    XCTAssertEqual(kept(0.7), [1, 2])
    XCTAssertEqual(kept(0.8), [1, 2, 0])  // tie between 0 and 3 broken by lower id
    XCTAssertEqual(kept(0.99), [1, 2, 0, 3])
    var all = Candidates(logits: logits)
    TopPProcessor(p: 1).apply(&all)
    XCTAssertTrue(all.isDense)  // p = 1 disables
  }

  func testMinPKeepsTokensAboveFractionOfBest() {
    // Ratios to the best: 1, 0.5, 0.1, 0.025.
    let logits: [Float] = [0, Float(log(0.5)), Float(log(0.1)), Float(log(0.025))]
    var c = Candidates(logits: logits)
    MinPProcessor(minP: 0.2).apply(&c)
    XCTAssertEqual(c.ids, [0, 1])
    var d = Candidates(logits: logits)
    MinPProcessor(minP: 0.05).apply(&d)
    XCTAssertEqual(d.ids, [0, 1, 2])
    XCTAssertEqual(d.logits, Array(logits.prefix(3)))
  }

  func testTemperatureDividesLogits() {
    var c = Candidates(logits: [2, -1, 0.5])
    TemperatureProcessor(temperature: 0.5).apply(&c)
    XCTAssertEqual(c.logits, [4, -2, 1])
  }

  func testLengthPenaltyExactFormula() {
    // start 2, decay 2: nothing until 3 generated; then + |l| * (2^(n-2) - 1).
    let p = LengthPenaltyProcessor(start: 2, decay: 2, boosted: [1, 2, 4])
    let logits: [Float] = [1, -1.5, 2, 3, -.infinity]
    p.accept(9)
    p.accept(9)
    var c = Candidates(logits: logits)
    p.apply(&c)
    XCTAssertEqual(c.logits, logits)
    p.accept(9)
    c = Candidates(logits: logits)
    p.apply(&c)
    XCTAssertEqual(c.logits, [1, 0, 4, 3, -.infinity])
    p.accept(9)
    c = Candidates(logits: logits)
    p.apply(&c)
    XCTAssertEqual(c.logits, [1, 3, 8, 3, -.infinity])
    p.reset()
    XCTAssertEqual(p.generated, 0)
  }

  func testLengthPenaltyMatchesTransformersReference() {
    // transformers ExponentialDecayLengthPenalty((3, 1.06), eos=[1, 2]) after 8 generated tokens gives
    // [0.5, -1.32354879, 1.67278194, 3] for scores [0.5, -2.0, 1.25, 3.0].
    let p = LengthPenaltyProcessor(start: 3, decay: 1.06, boosted: [1, 2])
    for _ in 0..<8 { p.accept(0) }
    var c = Candidates(logits: [0.5, -2, 1.25, 3])
    p.apply(&c)
    XCTAssertEqual(c.logits[0], 0.5)
    XCTAssertEqual(c.logits[1], -1.32354879, accuracy: 1e-6)
    XCTAssertEqual(c.logits[2], 1.67278194, accuracy: 1e-6)
    XCTAssertEqual(c.logits[3], 3)
  }

  func testNoRepeatNGramBansCompletingTokens() {
    let bigram = NoRepeatNGramProcessor(size: 2)
    for t: Int32 in [5, 6, 5] { bigram.accept(t) }
    XCTAssertEqual(bigram.bannedTokens(), [6])
    var c = Candidates(logits: [1, 1, 1, 1, 1, 1, 1, 1])
    bigram.apply(&c)
    XCTAssertEqual(c.logits[6], -.infinity)
    XCTAssertEqual(c.logits.filter { $0 == -.infinity }.count, 1)

    let trigram = NoRepeatNGramProcessor(size: 3)
    for t: Int32 in [1, 2, 3, 1, 2] { trigram.accept(t) }
    XCTAssertEqual(trigram.bannedTokens(), [3])
    trigram.accept(4)
    XCTAssertEqual(trigram.bannedTokens(), [])
    trigram.reset()
    XCTAssertEqual(trigram.bannedTokens(), [])

    let unigram = NoRepeatNGramProcessor(size: 1)
    for t: Int32 in [2, 4] { unigram.accept(t) }
    XCTAssertEqual(unigram.bannedTokens(), [2, 4])
  }

  func testNoRepeatNGramSparesExemptNGrams() {
    // `)` = 1, `;` = 2 exempt; "x" = 3 is not.
    let p = NoRepeatNGramProcessor(size: 2, exempt: [1, 2])
    for t: Int32 in [1, 2, 3, 1, 3, 1] { p.accept(t) }
    // After `)`: earlier followers 2 (exempt bigram `) ;`, allowed) and 3 (`) x`, banned).
    XCTAssertEqual(p.bannedTokens(), [3])
  }

  func testTokenHealingKeepsOnlyTokensThatSpellTheHealedTextUntilItIsSpelled() throws {
    // 0 "s", 1 "se", 2 "self", 3 "self.", 4 "x", 5 "", 6 "sel", 7 "elf"
    let pieces = TokenPieces(bytes: ["s", "se", "self", "self.", "x", "", "sel", "elf"].map { Array($0.utf8) })
    XCTAssertEqual(pieces.compatible(with: Array("self".utf8)[...]).sorted(), [0, 1, 2, 3, 6])
    let healing = TokenHealingProcessor(text: Array("self".utf8), pieces: pieces)
    var c = Candidates(logits: [1, 2, 3, 4, 9, 9, 0, 8])
    healing.apply(&c)
    XCTAssertEqual(c.logits, [1, 2, 3, 4, -.infinity, -.infinity, 0, -.infinity])
    // After "s", the rest "elf" allows only "elf".
    healing.accept(0)
    var next = Candidates(logits: [1, 2, 3, 4, 9, 9, 0, 8])
    healing.apply(&next)
    XCTAssertEqual(next.argmax(), 7)
    XCTAssertEqual(next.logits.filter { $0 > -.infinity }.count, 1)
    // Spelled: no constraint any more; reset starts over.
    healing.accept(7)
    XCTAssertFalse(healing.isActive)
    var free = Candidates(logits: [1, 2, 3, 4, 9, 9, 0, 8])
    healing.apply(&free)
    XCTAssertEqual(free.argmax(), 4)
    healing.reset()
    XCTAssertTrue(healing.isActive)
    // Nothing compatible: every candidate is -inf, so a sampler finds no viable token.
    let none = TokenHealingProcessor(text: Array("zz".utf8), pieces: pieces)
    let sampler = try Sampler(settings: SamplerSettings(), constraints: [none])
    XCTAssertThrowsError(try sampler.sample(logits: [1, 2, 3, 4, 9, 9, 0, 8]))
  }

  func testBannedFirstTokensOnlyBanTheFirstToken() {
    let banned = BannedFirstTokensProcessor(tokens: [2, 9])
    var c = Candidates(logits: [1, 2, 3])
    banned.apply(&c)
    XCTAssertEqual(c.logits, [1, 2, -.infinity])
    banned.accept(0)
    var later = Candidates(logits: [1, 2, 3])
    banned.apply(&later)
    XCTAssertEqual(later.logits, [1, 2, 3])
    banned.reset()
    var again = Candidates(logits: [1, 2, 3])
    banned.apply(&again)
    XCTAssertEqual(again.argmax(), 1)
  }
}
