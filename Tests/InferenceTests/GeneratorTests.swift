import Foundation
import InferenceTestSupport
import Sampling
import Tokenization
import XCTest

@testable import Inference

final class StopStringMatcherTests: XCTestCase {
  func testPassThroughWithoutStops() {
    var m = StopStringMatcher([])
    XCTAssertEqual(m.feed("abc").0, "abc")
    XCTAssertNil(m.feed("def").1)
  }

  func testHoldsBackPossibleStartAndReleasesWhenItDiverges() {
    var m = StopStringMatcher(["\n\n"])
    var (out, hit) = m.feed("foo\n")
    XCTAssertEqual(out, "foo")
    XCTAssertNil(hit)
    XCTAssertEqual(m.heldBack, "\n")
    (out, hit) = m.feed("bar")
    XCTAssertEqual(out, "\nbar")
    XCTAssertNil(hit)
    XCTAssertEqual(m.heldBack, "")
  }

  func testMatchAcrossPiecesCutsBeforeIt() {
    var m = StopStringMatcher(["</code>", "\nclass"])
    XCTAssertEqual(m.feed("x = 1</co").0, "x = 1")
    let (out, hit) = m.feed("de> tail")
    XCTAssertEqual(out, "")
    XCTAssertEqual(hit, "</code>")
  }

  func testEarliestOfSeveralStopsWins() {
    var m = StopStringMatcher(["bb", "ab"])
    let (out, hit) = m.feed("xxabb")
    XCTAssertEqual(out, "xx")
    XCTAssertEqual(hit, "ab")
  }

  func testMultibyteStopString() {
    var m = StopStringMatcher(["→é"])
    XCTAssertEqual(m.feed("a→").0, "a")
    let (out, hit) = m.feed("é!")
    XCTAssertEqual(out, "")
    XCTAssertEqual(hit, "→é")
  }
}

final class GeneratorTests: XCTestCase {
  var model: LanguageModel!
  var tokenizer: Tokenizer!
  var prompt: [Int32] = []

  override func setUpWithError() throws {
    let ref = try TinyReference("llama")
    model = try LanguageModel(
      path: ref.modelPath, options: ModelOptions(contextLimit: 128, threads: 2, prefillChunk: 8))
    tokenizer = try XCTUnwrap(model.tokenizer)
    prompt = Array(ref.tokens.prefix(12))
  }

  func greedyGenerator(_ session: InferenceSession? = nil) throws -> Generator {
    var settings = SamplerSettings()
    settings.temperature = 0
    settings.penalties = false
    return Generator(
      session: session ?? InferenceSession(model: model), tokenizer: tokenizer, sampler: try Sampler(settings: settings)
    )
  }

  /// Greedy decoding through the session alone, as the independent expectation.
  func manualGreedy(_ count: Int) throws -> [Int32] {
    let session = InferenceSession(model: model)
    var logits = try session.evaluate(prompt).logits
    var out = [Int32]()
    for _ in 0..<count {
      let best = Int32(logits.indices.max { logits[$0] < logits[$1] }!)
      out.append(best)
      logits = try session.append(best)
    }
    return out
  }

  func testGreedyTokensMatchArgmaxAndStreamedTextMatchesResult() throws {
    let generator = try greedyGenerator()
    var streamed = ""
    generator.onText = { streamed += $0 }
    let options = GenerationOptions(maxTokens: 20, stopAtEndOfGeneration: false)
    let result = try generator.generate(prompt: prompt, options: options)
    XCTAssertEqual(result.stopReason, .maxTokens)
    XCTAssertEqual(result.tokens, try manualGreedy(20))
    XCTAssertEqual(result.logprobs.count, 20)
    XCTAssertTrue(result.logprobs.allSatisfy { $0 <= 0 && $0.isFinite })
    XCTAssertEqual(streamed, result.text)
    XCTAssertEqual(result.text, tokenizer.decode(result.tokens))
  }

  func testStopStringEndsTextBeforeIt() throws {
    let full = try greedyGenerator().generate(
      prompt: prompt, options: GenerationOptions(maxTokens: 40, stopAtEndOfGeneration: false))
    let chars = Array(full.text)
    try XCTSkipIf(chars.count < 12, "greedy text too short")
    let stop = String(chars[6..<9])
    let expected = String(full.text[..<full.text.range(of: stop)!.lowerBound])
    let generator = try greedyGenerator()
    var streamed = ""
    generator.onText = { streamed += $0 }
    let result = try generator.generate(
      prompt: prompt, options: GenerationOptions(maxTokens: 40, stopStrings: [stop], stopAtEndOfGeneration: false))
    XCTAssertEqual(result.stopReason, .stopString(stop))
    XCTAssertEqual(result.text, expected)
    XCTAssertEqual(streamed, expected)
    XCTAssertLessThan(result.tokens.count, full.tokens.count)
  }

  func testStopTokenEndsGenerationWithoutIt() throws {
    let expected = try manualGreedy(6)
    let stopToken = expected[4]
    let firstIndex = expected.firstIndex(of: stopToken)!
    let result = try greedyGenerator().generate(
      prompt: prompt, options: GenerationOptions(maxTokens: 40, stopTokens: [stopToken]))
    XCTAssertEqual(result.stopReason, .endOfGeneration(token: stopToken))
    XCTAssertEqual(result.tokens, Array(expected[..<firstIndex]))
  }

  func testHookStopsAfterSeeingText() throws {
    var seen: [TokenEvent] = []
    let result = try greedyGenerator().generate(
      prompt: prompt, options: GenerationOptions(maxTokens: 40, stopAtEndOfGeneration: false)
    ) { event in
      seen.append(event)
      return event.index == 2 ? .stop("enough") : .proceed
    }
    XCTAssertEqual(result.stopReason, .rule("enough"))
    XCTAssertEqual(result.stopReason.description, "enough")
    XCTAssertFalse(result.stopReason.isInterruption)
    XCTAssertEqual(result.tokens.count, 3)
    XCTAssertEqual(seen.map(\.index), [0, 1, 2])
    XCTAssertEqual(seen.map(\.token), result.tokens)
    XCTAssertEqual(result.text, seen.last?.text)
  }

  func testHookCanCutTheText() throws {
    let full = try greedyGenerator().generate(
      prompt: prompt, options: GenerationOptions(maxTokens: 6, stopAtEndOfGeneration: false))
    XCTAssertGreaterThan(full.text.utf8.count, 2)
    var streamed = ""
    let generator = try greedyGenerator()
    generator.onText = { streamed += $0 }
    let result = try generator.generate(
      prompt: prompt, options: GenerationOptions(maxTokens: 40, stopAtEndOfGeneration: false)
    ) { event in
      event.text.utf8.count >= 2 ? .stop(reason: "cut", keepingBytes: 1) : .proceed
    }
    XCTAssertEqual(result.stopReason, .rule("cut"))
    XCTAssertEqual(Array(result.text.utf8), Array(full.text.utf8.prefix(1)))
    // The streamed pieces were released before the cut; the result is the cut text.
    XCTAssertTrue(streamed.hasPrefix(result.text))
  }

  func testContinuingFromEvaluatedLogitsRepeatsTheSameGeneration() throws {
    let session = InferenceSession(model: model)
    let first = try greedyGenerator(session).generate(
      prompt: prompt, options: GenerationOptions(maxTokens: 8, stopAtEndOfGeneration: false))
    XCTAssertEqual(first.tokens, try manualGreedy(8))
    // The KV cache now holds the prompt and generated tokens; a second candidate from the same prompt rolls back.
    let logits = try InferenceSession(model: model).evaluate(prompt).logits
    XCTAssertGreaterThan(session.tokens.count, prompt.count)
    let again = try greedyGenerator(session).generate(
      continuing: prompt.count, logits: logits, options: GenerationOptions(maxTokens: 8, stopAtEndOfGeneration: false))
    XCTAssertEqual(again.tokens, first.tokens)
    XCTAssertEqual(again.text, first.text)
    XCTAssertEqual(again.decodedTokens, 7)
    XCTAssertEqual(again.firstToken, first.tokens.first)
    XCTAssertThrowsError(
      try greedyGenerator(InferenceSession(model: model)).generate(continuing: prompt.count, logits: logits))
  }

  func testTokenHealingConstrainsTheFirstTokensAndHidesTheHealedText() throws {
    let pieces = TokenPieces(bytes: (0..<Int32(tokenizer.vocabularySize)).map { tokenizer.tokenBytes($0) })
    // Heal the text of a token the model would not choose first: the first token must be compatible with it.
    let free = try greedyGenerator().generate(
      prompt: prompt, options: GenerationOptions(maxTokens: 6, stopAtEndOfGeneration: false))
    let target = try XCTUnwrap(
      (0..<Int32(tokenizer.vocabularySize)).first { id in
        let bytes = tokenizer.tokenBytes(id)
        return bytes.count >= 2 && id != free.tokens.first && !tokenizer.isControl(id)
          && !bytes.contains { $0 >= 0x80 }
      })
    let healed = tokenizer.tokenBytes(target)
    var settings = SamplerSettings()
    settings.temperature = 0
    settings.penalties = false
    let sampler = try Sampler(settings: settings, constraints: [TokenHealingProcessor(text: healed, pieces: pieces)])
    let generator = Generator(session: InferenceSession(model: model), tokenizer: tokenizer, sampler: sampler)
    let result = try generator.generate(
      prompt: prompt, options: GenerationOptions(maxTokens: 6, stopAtEndOfGeneration: false, healedText: healed))
    let first = try XCTUnwrap(result.tokens.first)
    let firstBytes = tokenizer.tokenBytes(first)
    XCTAssertTrue(
      firstBytes.starts(with: healed) || healed.starts(with: firstBytes),
      "first token \(firstBytes) is not compatible with \(healed)")
    // The result's text is what follows the healed text.
    let all = result.tokens.flatMap { tokenizer.tokenBytes($0) }
    XCTAssertTrue(all.starts(with: healed))
    XCTAssertEqual(result.text, String(decoding: all.dropFirst(healed.count), as: UTF8.self))
  }

  func testCancellationAndDeadlineAreCheckedAfterEveryToken() throws {
    var polls = 0
    let cancelled = try greedyGenerator().generate(
      prompt: prompt,
      options: GenerationOptions(
        maxTokens: 40, stopAtEndOfGeneration: false,
        shouldCancel: {
          polls += 1
          return polls > 3
        }))
    XCTAssertEqual(cancelled.stopReason, .cancelled)
    XCTAssertGreaterThan(cancelled.tokens.count, 0)
    XCTAssertLessThan(cancelled.tokens.count, 40)

    var options = GenerationOptions(maxTokens: 40, stopAtEndOfGeneration: false)
    options.deadlineNanoseconds = 0  // already passed
    let late = try greedyGenerator().generate(prompt: prompt, options: options)
    XCTAssertEqual(late.stopReason, .deadline)
    XCTAssertLessThanOrEqual(late.tokens.count, 1, "one token at most: the check follows every token")
  }

  func testCancellationDuringPrefillStopsBetweenChunks() throws {
    let session = InferenceSession(model: model)
    var polls = 0
    let result = try greedyGenerator(session).generate(
      prompt: prompt,
      options: GenerationOptions(
        shouldCancel: {
          polls += 1
          return polls >= 2  // poll 1: between the layers of chunk 1; poll 2: after chunk 1
        }))
    XCTAssertEqual(result.stopReason, .cancelled)
    XCTAssertTrue(result.tokens.isEmpty)
    XCTAssertEqual(session.tokens.count, 8, "the first chunk of 8 stays cached")
  }

  /// `evaluate(chunk:)` prefills in smaller chunks than the model's (and never larger ones), and a stop keeps the
  /// chunks finished before it.
  func testEvaluateTakesASmallerChunk() throws {
    for (chunk, kept) in [(3, 3), (1000, 8)] {
      let session = InferenceSession(model: model)
      var polls = 0
      let evaluation = try session.evaluate(prompt, chunk: chunk) {
        polls += 1
        return polls >= 2  // poll 1: between the layers of chunk 1; poll 2: after chunk 1
      }
      XCTAssertFalse(evaluation.completed)
      XCTAssertEqual(evaluation.computedTokens, kept, "chunk \(chunk)")
      XCTAssertEqual(session.tokens, Array(prompt.prefix(kept)), "chunk \(chunk)")
    }
    let small = InferenceSession(model: model), whole = InferenceSession(model: model)
    let (a, b) = (try small.evaluate(prompt, chunk: 3).logits, try whole.evaluate(prompt).logits)
    XCTAssertEqual(a.count, b.count)
    XCTAssertLessThan(zip(a, b).map { abs($0 - $1) }.max()!, 1e-3, "the same logits in chunks of 3 and of 8")
  }

  func testAdjustLogitsCanBanTokens() throws {
    let banned = try manualGreedy(5)
    let generator = try greedyGenerator()
    var calls = 0
    generator.adjustLogits = { logits, generated in
      XCTAssertEqual(generated.count, calls)
      calls += 1
      for t in banned { logits[Int(t)] = -.infinity }
    }
    let result = try generator.generate(
      prompt: prompt, options: GenerationOptions(maxTokens: 10, stopAtEndOfGeneration: false))
    XCTAssertEqual(result.tokens.count, 10)
    XCTAssertTrue(result.tokens.allSatisfy { !banned.contains($0) })
  }

  func testSecondCallReusesTheCache() throws {
    let session = InferenceSession(model: model)
    let generator = try greedyGenerator(session)
    let first = try generator.generate(
      prompt: prompt, options: GenerationOptions(maxTokens: 5, stopAtEndOfGeneration: false))
    XCTAssertEqual(first.reusedPromptTokens, 0)
    let continued = prompt + first.tokens
    let second = try generator.generate(
      prompt: continued, options: GenerationOptions(maxTokens: 5, stopAtEndOfGeneration: false))
    XCTAssertEqual(second.reusedPromptTokens, continued.count - 1, "all but the last generated token were cached")
    XCTAssertEqual(first.tokens + second.tokens, try manualGreedy(10))
  }

  func testContextFullStopsGeneration() throws {
    let small = try LanguageModel(
      path: TinyReference("llama").modelPath, options: ModelOptions(contextLimit: 16, threads: 1))
    var settings = SamplerSettings()
    settings.temperature = 0
    let generator = Generator(
      session: InferenceSession(model: small), tokenizer: small.tokenizer!, sampler: try Sampler(settings: settings))
    let result = try generator.generate(
      prompt: prompt, options: GenerationOptions(maxTokens: 40, stopAtEndOfGeneration: false))
    XCTAssertEqual(result.stopReason, .contextFull)
    XCTAssertEqual(result.tokens.count, 16 - prompt.count + 1)
  }

  func testGenerateFromTextIsSeededAndStreams() throws {
    var streamed = ""
    var parameters = GenerateParameters(maxTokens: 12, temperature: 0.9, seed: 7)
    let a = try model.generate(prompt: "let x = ", parameters: parameters) { streamed += $0 }
    XCTAssertEqual(streamed, a.text)
    XCTAssertEqual(a.promptTokens, tokenizer.encode("let x = ").count)
    let b = try model.generate(prompt: "let x = ", parameters: parameters) { _ in }
    XCTAssertEqual(a.tokens, b.tokens, "same seed, same tokens")
    parameters.greedy = true
    let greedy = try model.generate(prompt: "let x = ", parameters: parameters) { _ in }
    XCTAssertEqual(greedy.tokens.count, greedy.logprobs.count)
  }
}

/// The tiny models of InferenceTestSupport load and run through the whole engine.
final class TinyModelSupportTests: XCTestCase {
  func testWrittenTinyModelsLoadAndGenerate() throws {
    for arch in ["qwen2", "llama"] {
      var spec = TinyModel.Spec()
      spec.architecture = arch
      spec.tiedOutput = arch == "qwen2"
      let path = try TinyModel.temporaryFile(spec)
      XCTAssertEqual(try TinyModel.temporaryFile(spec), path, "written once")
      let model = try LanguageModel(path: path)
      XCTAssertEqual(model.config.architecture.rawValue, arch)
      let tokenizer = try XCTUnwrap(model.tokenizer)
      XCTAssertNotNil(tokenizer.fimPrefixID)
      XCTAssertNotNil(tokenizer.fimMiddleID)
      XCTAssertEqual(tokenizer.decode(tokenizer.encode("def f():\n    return 1")), "def f():\n    return 1")
      let result = try model.generate(
        prompt: "<|fim_prefix|>def f():\n<|fim_suffix|>\n<|fim_middle|>",
        parameters: GenerateParameters(maxTokens: 8, greedy: true)
      ) { _ in }
      XCTAssertEqual(result.promptTokens, tokenizer.encode("def f():\n", parseSpecial: true).count + 4)
      XCTAssertTrue(result.tokens.count == 8 || result.stopReason != .maxTokens)
    }
  }
}
