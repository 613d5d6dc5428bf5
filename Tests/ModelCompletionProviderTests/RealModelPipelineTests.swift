import CodeCompletion
import Foundation
import XCTest

@testable import ModelCompletionProvider

/// The whole pipeline on the real models (CODEGEN_LSP_MODEL_TESTS=1; models from Scripts/fetch_model.py).
final class RealModelPipelineTests: XCTestCase {
  static var providers: [String: ModelProvider] = [:]

  func provider(_ preset: String, settings: CompletionSettings = CompletionSettings()) throws -> ModelProvider {
    guard ProcessInfo.processInfo.environment["CODEGEN_LSP_MODEL_TESTS"] == "1" else {
      throw XCTSkip("set CODEGEN_LSP_MODEL_TESTS=1 to run the real models")
    }
    if let cached = Self.providers[preset] {
      cached.updateSettings(settings)
      return cached
    }
    guard case .file(let path, _) = ModelPresets.locate(preset) else {
      XCTFail("\(preset) is not downloaded: python3 Scripts/fetch_model.py \(preset)")
      throw XCTSkip("missing model")
    }
    let provider = try ModelProvider(path: path, settings: settings)
    Self.providers[preset] = provider
    return provider
  }

  /// Settings with a generous deadline: tests check what is produced, not how fast.
  var slowSettings: CompletionSettings {
    var settings = CompletionSettings()
    settings.deadlineMilliseconds = 60_000
    settings.latencyTargetMilliseconds = 60_000  // the full context, whatever the machine's speed
    return settings
  }

  func request(
    _ marked: String, id: String = "file:///t.py", language: String = "python", trigger: CompletionTrigger = .automatic
  )
    -> CompletionRequest
  {
    let parts = marked.components(separatedBy: "<|cursor|>")
    return CompletionRequest(
      documentID: id, fileName: (id as NSString).lastPathComponent, languageId: language, prefix: parts[0],
      suffix: parts[1], trigger: trigger, explain: true)
  }

  /// A request whose deadline passes before its prefill finishes one chunk halves the chunk of the next prefill (so
  /// that on a slow CPU each request keeps some of the prompt in the KV cache), down to the minimum; a prefill that
  /// finishes with time to spare doubles it back.
  func testPrefillChunkShrinksWhenTheDeadlineStopsTheFirstChunk() throws {
    guard ProcessInfo.processInfo.environment["CODEGEN_LSP_MODEL_TESTS"] == "1" else {
      throw XCTSkip("set CODEGEN_LSP_MODEL_TESTS=1 to run the real models")
    }
    guard case .file(let path, _) = ModelPresets.locate("smollm2-135m") else {
      return XCTFail("smollm2-135m is not downloaded: python3 Scripts/fetch_model.py smollm2-135m")
    }
    var expired = CompletionSettings()
    expired.deadlineMilliseconds = 0
    expired.prefillDeadlineMilliseconds = 0
    expired.latencyTargetMilliseconds = 60_000
    let provider = try ModelProvider(path: path, settings: expired)
    let full = provider.model.options.prefillChunk
    XCTAssertEqual(provider.prefillChunk, full)
    let body = (0..<30).map { "total_\($0) = compute(\($0), scale=\($0 + 1))\n" }.joined()
    var expected = full
    for step in 0..<6 {
      // Each request differs from the last one, so nothing of its prompt is answered from a cache.
      let result = try provider.complete(
        request(body + "value_\(step) = <|cursor|>\n"), cancellation: CancellationToken(deadline: 0))
      XCTAssertTrue(result.candidates.isEmpty, result.trace.joined(separator: "\n"))
      XCTAssertEqual(result.promptTokensComputed, 0)
      expected = max(ModelProvider.minimumPrefillChunk, expected / 2)
      XCTAssertEqual(provider.prefillChunk, expected, "after request \(step)")
    }
    XCTAssertEqual(provider.prefillChunk, ModelProvider.minimumPrefillChunk)
    provider.updateSettings(slowSettings)
    let result = try provider.complete(
      request(body + "value = <|cursor|>\n"), cancellation: CancellationToken(deadline: 60))
    XCTAssertGreaterThan(result.promptTokensComputed, 0)
    XCTAssertEqual(
      provider.prefillChunk, 2 * ModelProvider.minimumPrefillChunk, "a prefill with time to spare doubles it")
  }

  func testSingleLineCompletionClosesTheCallAndKeepsTheLine() throws {
    let provider = try provider("qwen2.5-coder-0.5b", settings: slowSettings)
    guard case .ready(let description) = provider.status else { return XCTFail("qwen must be ready with FIM") }
    XCTAssertTrue(description.contains("fill-in-the-middle"))
    let result = try provider.complete(
      request(
        "import os\n\ndef python_files(root):\n    return [n for n in os.listdir(root) if n.endswith(<|cursor|>]\n"),
      cancellation: CancellationToken(deadline: 60))
    let text = try XCTUnwrap(result.candidates.first?.text, result.trace.joined(separator: "\n"))
    XCTAssertFalse(text.contains("\n"), text)
    XCTAssertTrue(text.contains(")"), "the call to endswith must be closed: \(text)")
    XCTAssertFalse(text.hasSuffix("]"), "the suffix already has the closing bracket: \(text)")
  }

  func testTypingReusesTheKVCacheAndTheCompletionCache() throws {
    let provider = try provider("qwen2.5-coder-0.5b", settings: slowSettings)
    let body = (0..<40).map { "value_\($0) = compute(\($0))\n" }.joined()
    let first = try provider.complete(
      request(body + "total = value_1 + <|cursor|>\n\nprint(total)\n", id: "file:///kv.py"),
      cancellation: CancellationToken(deadline: 60))
    XCTAssertGreaterThan(first.promptTokensComputed, 100)
    // Two characters typed that differ from the suggestion: only a few prompt tokens are computed.
    let suggestion = first.candidates.first?.text ?? ""
    let typed = suggestion.hasPrefix("zz") ? "yy" : "zz"
    let second = try provider.complete(
      request(body + "total = value_1 + \(typed)<|cursor|>\n\nprint(total)\n", id: "file:///kv.py"),
      cancellation: CancellationToken(deadline: 60))
    XCTAssertFalse(second.fromCache)
    XCTAssertLessThanOrEqual(second.promptTokensComputed, 6, second.trace.joined(separator: "\n"))
    // Typing the first characters of the suggestion answers from the completion cache.
    if let next = second.candidates.first?.text, next.count > 2 {
      let third = try provider.complete(
        request(body + "total = value_1 + \(typed)\(next.prefix(2))<|cursor|>\n\nprint(total)\n", id: "file:///kv.py"),
        cancellation: CancellationToken(deadline: 60))
      XCTAssertTrue(third.fromCache)
      XCTAssertEqual(third.candidates.first?.text, String(next.dropFirst(2)))
    }
  }

  func testBlockCompletionStopsAtTheEndOfTheFunction() throws {
    let provider = try provider("qwen2.5-coder-0.5b", settings: slowSettings)
    let result = try provider.complete(
      request("def is_even(n):\n    <|cursor|>\n\n\ndef is_odd(n):\n    return not is_even(n)\n"),
      cancellation: CancellationToken(deadline: 60))
    let text = try XCTUnwrap(result.candidates.first?.text, result.trace.joined(separator: "\n"))
    XCTAssertTrue(text.contains("return"), text)
    XCTAssertFalse(text.contains("def is_odd"), "must not repeat the code below the cursor: \(text)")
    for line in text.split(separator: "\n").dropFirst() where !line.trimmingCharacters(in: .whitespaces).isEmpty {
      XCTAssertTrue(line.hasPrefix("    "), "the block must stay inside the function: \(text)")
    }
  }

  func testInvokedTriggerReturnsRankedDistinctCandidates() throws {
    let provider = try provider("qwen2.5-coder-0.5b", settings: slowSettings)
    let result = try provider.complete(
      request("names = ['b', 'a']\nsorted_names = <|cursor|>\n", trigger: .invoked),
      cancellation: CancellationToken(deadline: 120))
    XCTAssertGreaterThanOrEqual(result.candidates.count, 1)
    XCTAssertLessThanOrEqual(result.candidates.count, 3)
    XCTAssertEqual(Set(result.candidates.map(\.text)).count, result.candidates.count, "candidates are distinct")
    let sampled = result.candidates.dropFirst().map(\.score)
    XCTAssertEqual(sampled, sampled.sorted(by: >), "sampled candidates are ranked by normalised log-probability")
  }

  func testDeadlineReturnsPromptlyWithAValidPartialAnswer() throws {
    let provider = try provider("qwen2.5-coder-0.5b", settings: slowSettings)
    let cancel = CancellationToken()
    cancel.cancel()
    let result = try provider.complete(
      request("def add(a, b):\n    <|cursor|>\n", id: "file:///cancel.py"), cancellation: cancel)
    XCTAssertEqual(result.generatedTokens, 0, "a cancelled request generates nothing")
  }

  func testModelWithoutFIMIsDegradedAndStillCompletes() throws {
    let provider = try provider("smollm2-135m", settings: slowSettings)
    guard case .degraded(_, let warning) = provider.status else { return XCTFail("smollm2 has no FIM tokens") }
    XCTAssertTrue(warning.contains("fill-in-the-middle"), warning)
    let result = try provider.complete(
      request("def add(a, b):\n    return <|cursor|>\n"), cancellation: CancellationToken(deadline: 60))
    XCTAssertFalse(result.candidates.isEmpty, result.trace.joined(separator: "\n"))
  }

  func testGenerateCodeWithAnInstructionUsesTheChatTemplate() throws {
    let provider = try provider("qwen2.5-coder-0.5b", settings: slowSettings)
    var partials = 0
    let result = try provider.generate(
      GenerateRequest(
        documentID: "file:///g.py", fileName: "g.py", languageId: "python", prefix: "import math\n\n", suffix: "\n",
        instruction: "Write a function circle_area(r) that returns the area of a circle."),
      cancellation: CancellationToken(deadline: 120), onPartial: { _ in partials += 1 })
    XCTAssertTrue(result.text.contains("def circle_area"), result.text)
    XCTAssertFalse(result.text.contains("```"), "the code block's fences are removed")
    XCTAssertGreaterThan(partials, 0, "partial text streams")
  }
}
