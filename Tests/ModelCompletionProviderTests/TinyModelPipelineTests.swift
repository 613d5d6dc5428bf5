import CodeCompletion
import Foundation
import Inference
import InferenceTestSupport
import XCTest

@testable import ModelCompletionProvider

/// The completion pipeline on tiny random-weight models (no download): deadlines, empty documents, short context
/// windows and extreme settings. The text is gibberish; what is checked is how the pipeline treats it.
final class TinyModelPipelineTests: XCTestCase {
  func provider(_ spec: TinyModel.Spec = TinyModel.Spec(), settings: CompletionSettings = CompletionSettings())
    throws -> ModelProvider
  {
    try ModelProvider(path: try TinyModel.temporaryFile(spec), settings: settings, calibrationCache: nil)
  }

  func request(_ prefix: String, _ suffix: String = "", explain: Bool = true) -> CompletionRequest {
    CompletionRequest(
      documentID: "file:///a.py", fileName: "a.py", languageId: "python", prefix: prefix, suffix: suffix,
      trigger: .automatic, explain: explain)
  }

  /// A long prefix, so the prompt needs several prefill chunks.
  var longPrefix: String {
    (0..<40).map { "def f\($0)(a):\n    return a + \($0)\n" }.joined() + "def g(a):\n    return "
  }

  func testWithoutADeadlineTheWholePromptIsComputedWhateverTheDeadlineSettings() throws {
    var settings = CompletionSettings()
    settings.deadlineMilliseconds = 1
    settings.prefillDeadlineMilliseconds = 1
    settings.minimumGenerationMilliseconds = 0
    let provider = try provider(settings: settings)
    provider.prefillChunk = 16
    let result = try provider.complete(request(longPrefix), cancellation: CancellationToken())
    XCTAssertGreaterThan(result.promptTokens, 64)
    XCTAssertEqual(result.promptTokensComputed, result.promptTokens, result.trace.joined(separator: "\n"))
    XCTAssertFalse(result.trace.contains { $0.contains("stopped during prefill") })
    XCTAssertFalse(result.candidates.first?.stopReason == "deadline")
  }

  func testAnExpiredDeadlineStopsThePrefill() throws {
    let provider = try provider()
    provider.prefillChunk = 16
    let token = CancellationToken(deadline: 0)
    var settings = provider.settings
    settings.prefillDeadlineMilliseconds = 0
    provider.updateSettings(settings)
    let result = try provider.complete(request(longPrefix), cancellation: token)
    XCTAssertLessThan(result.promptTokensComputed, result.promptTokens)
    XCTAssertTrue(result.candidates.isEmpty)
  }

  func testEmptyDocumentGivesAnEmptyCompletion() throws {
    for fim in [true, false] {
      var spec = TinyModel.Spec()
      spec.fimTokens = fim
      let provider = try provider(spec)
      for (prefix, suffix) in [("", ""), ("\n  \n", "\n")] {
        let result = try provider.complete(request(prefix, suffix), cancellation: CancellationToken())
        XCTAssertTrue(result.candidates.isEmpty)
        XCTAssertTrue(result.trace.contains("empty document: nothing to complete from"), result.trace.description)
      }
      provider.prepare(request(""), cancellation: CancellationToken())
      // Text after the cursor alone: no prompt tokens at all without FIM tokens or BOS; never an engine error.
      XCTAssertNoThrow(try provider.complete(request("", "x = 1\n"), cancellation: CancellationToken()))
      let generated = try provider.generate(
        GenerateRequest(
          documentID: "file:///a.py", fileName: "a.py", languageId: "python", prefix: "", selection: "",
          suffix: "x = 1\n", instruction: nil),
        cancellation: CancellationToken(), onPartial: { _ in })
      if !fim { XCTAssertEqual(generated.text, "") }
    }
  }

  func testShortContextWindowsAreRefusedOrServed() throws {
    for length in [1, 7, 15] {
      var spec = TinyModel.Spec()
      spec.contextLength = length
      XCTAssertThrowsError(try provider(spec)) { error in
        XCTAssertTrue("\(error)".contains("context_length"), "\(error)")
      }
    }
    var spec = TinyModel.Spec()
    spec.contextLength = 16
    let provider = try provider(spec)
    let result = try provider.complete(request(longPrefix, "\nprint(g(1))\n"), cancellation: CancellationToken())
    // The prompt keeps its last 8 tokens; generation fills the window (the last token sampled finds it full).
    XCTAssertLessThanOrEqual(result.generatedTokens, 9)
  }

  func testExtremeSettingsDoNotOverflow() throws {
    var settings = CompletionSettings()
    settings.prefixTokens = 1 << 62
    settings.suffixTokens = 1 << 62
    settings.middleTokens = 1 << 62
    settings.contextDocumentTokens = 1 << 62
    settings.repetitionWindow = (1 << 53) + 1
    settings.prefillDeadlineMilliseconds = Int.max
    settings.minimumGenerationMilliseconds = Int.max
    settings.deadlineMilliseconds = Int.max
    let provider = try provider(settings: settings)
    let token = CancellationToken(deadlineMilliseconds: Int.max)
    XCTAssertEqual(token.deadlineNanoseconds, UInt64.max)
    XCTAssertFalse(token.isExpired)
    let result = try provider.complete(request("def f(a):\n    return "), cancellation: token)
    XCTAssertEqual(result.promptTokensComputed, result.promptTokens)
  }
}

final class SaturatingTimeTests: XCTestCase {
  func testDeadlinesSaturateInsteadOfTrappingOrWrapping() {
    XCTAssertEqual(SaturatingTime.nanoseconds(milliseconds: Int.max), UInt64.max)
    XCTAssertEqual(SaturatingTime.nanoseconds(milliseconds: -5), 0)
    XCTAssertEqual(SaturatingTime.nanoseconds(milliseconds: 1500), 1_500_000_000)
    XCTAssertEqual(SaturatingTime.nanoseconds(seconds: 1.85e13), UInt64.max)
    XCTAssertEqual(SaturatingTime.nanoseconds(seconds: .infinity), UInt64.max)
    XCTAssertEqual(SaturatingTime.nanoseconds(seconds: .nan), 0)
    XCTAssertEqual(SaturatingTime.uptime(after: UInt64.max, from: 10), UInt64.max)
    XCTAssertEqual(SaturatingTime.uptime(after: 5, from: 10), 15)
    XCTAssertEqual(CancellationToken(deadline: 1.85e13).deadlineNanoseconds, UInt64.max)
    XCTAssertFalse(CancellationToken(deadline: 1e300).isExpired)
    XCTAssertTrue(CancellationToken(deadline: -1).isExpired)
    XCTAssertNil(CancellationToken(deadlineMilliseconds: nil).deadlineNanoseconds)
    XCTAssertEqual((Int.max / 2).multipliedSaturating(by: 3), Int.max)
    XCTAssertEqual((Int.min / 2).multipliedSaturating(by: 3), Int.min)
    XCTAssertEqual(Int.max.addingSaturating(1), Int.max)
    XCTAssertEqual(7.multipliedSaturating(by: 3), 21)
  }
}

/// Choices of the pipeline on the tiny model: retries of an empty first candidate, generate-code's prompt.
final class TinyModelChoicesTests: XCTestCase {
  func provider(_ settings: CompletionSettings = CompletionSettings()) throws -> ModelProvider {
    try ModelProvider(path: try TinyModel.temporaryFile(), settings: settings, calibrationCache: nil)
  }

  /// A first candidate with nothing to insert is generated again with its first token forbidden, at most twice.
  func testEmptyFirstCandidateIsRetriedWithAnotherFirstToken() throws {
    let provider = try provider()
    var retried = 0
    for index in 0..<12 {
      let request = CompletionRequest(
        documentID: "file:///r\(index).py", fileName: "r.py", languageId: "python",
        prefix: "def f\(index)(a):\n    if a:\n        return a\n    ", suffix: "\n    return \(index)\n", explain: true
      )
      let result = try provider.complete(request, cancellation: CancellationToken())
      let retries = result.trace.filter { $0.contains("generating again without") }
      XCTAssertLessThanOrEqual(retries.count, ModelProvider.firstCandidateRetries, result.trace.joined(separator: "\n"))
      XCTAssertEqual(Set(retries).count, retries.count, "each retry forbids another first token")
      if !retries.isEmpty { retried += 1 }
      for candidate in result.candidates { XCTAssertFalse(ModelProvider.isBlank(candidate.text)) }
    }
    XCTAssertGreaterThan(retried, 0, "the random model's first candidates are dropped often enough to retry")
  }

  func testGenerateCodeContinuesPlainTextWhenNothingFollowsTheCursor() throws {
    func trace(_ mode: String, suffix: String) throws -> [String] {
      var settings = CompletionSettings()
      settings.generateCodePrompt = mode
      settings.maxTokensGenerate = 8
      let result = try provider(settings).generate(
        GenerateRequest(
          documentID: "file:///g.py", fileName: "g.py", languageId: "python", prefix: "def f(a):\n    ", suffix: suffix),
        cancellation: CancellationToken(), onPartial: { _ in })
      return result.trace
    }
    XCTAssertTrue(try trace("auto", suffix: "\n\n").contains { $0.hasPrefix("generate: plain continuation") })
    XCTAssertFalse(
      try trace("auto", suffix: "\nprint(f(1))\n").contains { $0.hasPrefix("generate: plain continuation") })
    XCTAssertFalse(try trace("fillInTheMiddle", suffix: "").contains { $0.hasPrefix("generate: plain continuation") })
    XCTAssertTrue(
      try trace("continuation", suffix: "x = 1\n").contains { $0.hasPrefix("generate: plain continuation") })
  }

  /// The product's candidate loop (`runCandidate`, through the engine's `Generator`) on a random model: stop strings
  /// end the text before them and no partial shows their start; the text after token healing leaves out the healed
  /// text; a second candidate from the same prefill repeats the first.
  func testCandidateLoopHoldsBackStopStringsAndHidesHealedText() throws {
    let provider = try provider()
    let middleware = SyntaxMiddleware.disabled(language: "python")
    var sampler = provider.samplerSettings(provider.settings, mode: .block)
    sampler.penalties = false
    // A prompt after which the random model writes 24 tokens without an end-of-generation token.
    var found: (prompt: [Int32], logits: [Float], free: ModelProvider.CandidateOutcome)?
    for n in 0..<40 where found == nil {
      let prompt = provider.tokenizer.encode("def f\(n)(a):\n    return a + \(n)\n", addBOS: false, parseSpecial: false)
      let evaluation = try provider.evaluatePrompt(prompt, cancellation: CancellationToken())
      let outcome = try provider.runCandidate(
        promptLength: prompt.count, initialLogits: evaluation.logits, sampler: sampler, maxTokens: 24,
        middleware: middleware, mode: .block, stopTokens: [], stopStrings: [], cancellation: CancellationToken(),
        onText: nil)
      if outcome.tokenCount == 24 && outcome.text.count > 8 { found = (prompt, evaluation.logits, outcome) }
    }
    let (prompt, logits, free) = try XCTUnwrap(found)
    func run(stopStrings: [String] = [], healing: [UInt8] = [], onText: ((String) -> Void)? = nil) throws
      -> ModelProvider.CandidateOutcome
    {
      try provider.runCandidate(
        promptLength: prompt.count, initialLogits: logits, sampler: sampler, maxTokens: 24,
        middleware: middleware, mode: .block, stopTokens: [], stopStrings: stopStrings, healing: healing,
        cancellation: CancellationToken(), onText: onText)
    }
    XCTAssertEqual(free.stopReason, .maxTokens)
    XCTAssertEqual(try run().text, free.text, "a second candidate from the same prefill is the same")
    // A stop string made of characters from the middle of the free text.
    let characters = Array(free.text)
    let stop = String(characters[4..<7])
    var partials: [String] = []
    let stopped = try run(stopStrings: [stop]) { partials.append($0) }
    let expected = String(free.text[..<(try XCTUnwrap(free.text.range(of: stop))).lowerBound])
    XCTAssertEqual(stopped.text, expected)
    XCTAssertEqual(stopped.stopReason, .stopString(stop))
    for partial in partials {
      XCTAssertTrue(expected.hasPrefix(partial), "partial \(partial.debugDescription) goes past the stop string")
    }
    // Healing with the free text's first token: the same continuation, without that token's text.
    let firstBytes = provider.tokenizer.tokenBytes(try XCTUnwrap(free.firstToken))
    let healed = try run(healing: firstBytes)
    XCTAssertEqual(healed.tokenCount, 24)
    XCTAssertEqual(healed.text, String(decoding: free.text.utf8.dropFirst(firstBytes.count), as: UTF8.self))
  }
}
