import CodeCompletion
import Foundation
import InferenceTestSupport
import XCTest

@testable import ModelCompletionProvider

/// The latency policy with injected speeds (no timing): which window a request gets on a fast and a slow machine.
final class LatencyPolicyTests: XCTestCase {
  let fast = MachineSpeed(prefillTokensPerSecond: 600, decodeTokensPerSecond: 50, source: "test")
  /// The slowest host measured for Qwen2.5-Coder-0.5B on 2 cores, at a quarter of its speed.
  let slow = MachineSpeed(prefillTokensPerSecond: 13, decodeTokensPerSecond: 5, source: "test")

  func testFastMachinePrefillsTheFullContext() {
    let plan = LatencyPolicy.plan(
      fullRemaining: 420, speed: fast, targetMilliseconds: 1000, block: false, settings: CompletionSettings())
    XCTAssertEqual(plan.window, .full)
    XCTAssertFalse(plan.tooSlow)
  }

  func testColdRequestOnASlowerMachineGetsAWindowItCanPrefillInTime() {
    let medium = MachineSpeed(prefillTokensPerSecond: 120, decodeTokensPerSecond: 20, source: "test")
    let plan = LatencyPolicy.plan(
      fullRemaining: 420, speed: medium, targetMilliseconds: 1000, block: false, settings: CompletionSettings())
    guard case .short(let prefix, let suffix) = plan.window else { return XCTFail("\(plan)") }
    // 1 s less 12 tokens at 20/s leaves 0.4 s, at least half the target: 0.5 s at 120 tokens/s is 60 tokens.
    XCTAssertEqual(prefix + suffix, 60)
    XCTAssertGreaterThan(prefix, suffix)
    XCTAssertFalse(plan.tooSlow)
    XCTAssertTrue(plan.reason.contains("420 more tokens"), plan.reason)
  }

  func testWarmTypingKeepsTheFullContextOnASlowMachine() {
    // A keystroke adds a few tokens to a prompt already in the KV cache.
    let plan = LatencyPolicy.plan(
      fullRemaining: 3, speed: MachineSpeed(prefillTokensPerSecond: 60, decodeTokensPerSecond: 16, source: "test"),
      targetMilliseconds: 1000, block: false, settings: CompletionSettings())
    XCTAssertEqual(plan.window, .full)
  }

  func testTooSlowEvenForTheShortestWindowIsSaid() {
    let plan = LatencyPolicy.plan(
      fullRemaining: 420, speed: slow, targetMilliseconds: 1000, block: true, settings: CompletionSettings())
    XCTAssertEqual(
      plan.window, .short(prefixTokens: LatencyPolicy.shortestPrefix, suffixTokens: LatencyPolicy.shortestSuffix))
    XCTAssertTrue(plan.tooSlow)
    XCTAssertTrue(plan.reason.contains("even the shortest window misses it"), plan.reason)
    let message = LatencyPolicy.tooSlowMessage(slow, targetMilliseconds: 1000, model: "m")
    XCTAssertTrue(message.contains("prefill 13 tokens/s"), message)
    XCTAssertTrue(message.contains("latencyTargetMilliseconds"), message)
  }

  func testShortWindowNeverExceedsTheConfiguredBudgets() {
    var settings = CompletionSettings()
    settings.prefixTokens = 40
    settings.suffixTokens = 0
    let plan = LatencyPolicy.plan(
      fullRemaining: 10_000, speed: fast, targetMilliseconds: 1000, block: false, settings: settings)
    XCTAssertEqual(plan.window, .short(prefixTokens: 40, suffixTokens: LatencyPolicy.shortestSuffix))
  }

  func testWithoutAMeasuredSpeedTheFullContextIsUsed() {
    let plan = LatencyPolicy.plan(
      fullRemaining: 10_000, speed: nil, targetMilliseconds: 1, block: false, settings: CompletionSettings())
    XCTAssertEqual(plan.window, .full)
  }

  func testTrackerFollowsTheRequestsAndIgnoresShortOnes() {
    let tracker = SpeedTracker(fast)
    tracker.recordPrefill(tokens: 8, seconds: 1)
    XCTAssertEqual(tracker.speed, fast, "too short to count")
    tracker.recordPrefill(tokens: 100, seconds: 1)
    XCTAssertEqual(tracker.speed!.prefillTokensPerSecond, 600 + 0.3 * (100 - 600), accuracy: 1e-9)
    tracker.recordDecode(tokens: 10, seconds: 1)
    XCTAssertEqual(tracker.speed!.decodeTokensPerSecond, 50 + 0.3 * (10 - 50), accuracy: 1e-9)
    XCTAssertEqual(tracker.speed!.source, "requests")
  }

  func testCalibrationCacheKeysByFileAndThreadsAndExpires() throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("calibration-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: directory) }
    let cache = SpeedCalibrationCache(path: directory.appendingPathComponent("calibration.json").path)
    let model = try TinyModel.temporaryFile()
    let key = try XCTUnwrap(SpeedCalibrationCache.key(modelPath: model, threads: 2))
    XCTAssertNotEqual(key, SpeedCalibrationCache.key(modelPath: model, threads: 1))
    XCTAssertNil(SpeedCalibrationCache.key(modelPath: "/nonexistent.gguf", threads: 2))
    XCTAssertNil(cache.lookup(key))
    let now = Date()
    cache.store(fast, key: key, now: now)
    XCTAssertEqual(cache.lookup(key, now: now)?.prefillTokensPerSecond, 600)
    XCTAssertEqual(cache.lookup(key, now: now)?.source, "cache")
    XCTAssertNil(cache.lookup(key, now: now.addingTimeInterval(SpeedCalibrationCache.maximumAge + 1)), "stale")
  }

  func testProviderCalibratesOnceAndReadsTheCacheAfterwards() throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("calibration-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: directory) }
    let cache = SpeedCalibrationCache(path: directory.appendingPathComponent("calibration.json").path)
    let path = try TinyModel.temporaryFile()
    let first = try ModelProvider(path: path, settings: CompletionSettings(), calibrationCache: cache)
    XCTAssertEqual(first.speed?.source, "calibration")
    XCTAssertGreaterThan(first.speed?.prefillTokensPerSecond ?? 0, 0)
    let second = try ModelProvider(path: path, settings: CompletionSettings(), calibrationCache: cache)
    XCTAssertEqual(second.speed?.source, "cache")
    XCTAssertEqual(second.speed?.prefillTokensPerSecond, first.speed?.prefillTokensPerSecond)
  }

  /// On a machine measured too slow for the full context, a cold request is answered from the short window in
  /// the second KV cache and the full context's cache is left as it was.
  func testSlowMachineAnswersColdRequestsFromTheShortWindow() throws {
    let provider = try ModelProvider(
      path: try TinyModel.temporaryFile(), settings: CompletionSettings(), calibrationCache: nil)
    provider.speedTracker.speed = MachineSpeed(prefillTokensPerSecond: 100, decodeTokensPerSecond: 40, source: "test")
    let prefix = (0..<40).map { "def f\($0)(a):\n    return a + \($0)\n" }.joined() + "x = "
    let request = CompletionRequest(
      documentID: "file:///a.py", fileName: "a.py", languageId: "python", prefix: prefix, suffix: "\nprint(x)\n",
      explain: true)
    let result = try provider.complete(request, cancellation: CancellationToken(deadline: 600))
    XCTAssertTrue(
      result.trace.contains { $0.hasPrefix("latency: a short window") }, result.trace.joined(separator: "\n"))
    XCTAssertLessThanOrEqual(result.promptTokens, 100)
    XCTAssertEqual(provider.session.tokens.count, 0, "the full context's KV cache is untouched")
    // Offline (no deadline), the full context.
    provider.prepare(request, cancellation: CancellationToken())
    let offline = try provider.complete(
      CompletionRequest(
        documentID: "file:///a.py", fileName: "a.py", languageId: "python", prefix: prefix + "1",
        suffix: "\nprint(x)\n",
        explain: true), cancellation: CancellationToken())
    XCTAssertFalse(offline.trace.contains { $0.hasPrefix("latency:") })
    XCTAssertGreaterThan(offline.promptTokens, 200)
  }

  /// While typing, generation stops at the typing target; `extendLastCompletion` then generates the rest, and typing
  /// through the suggestion finds it in the completion cache.
  func testCompletionCutAtTheTypingTargetIsExtendedInTheBackground() throws {
    var settings = CompletionSettings()
    settings.syntaxCheck = false
    settings.penalties = false
    settings.typingLatencyTargetMilliseconds = 1
    settings.maxTokensLine = 600
    let provider = try ModelProvider(path: try TinyModel.temporaryFile(), settings: settings, calibrationCache: nil)
    provider.speedTracker.speed = nil
    let prefix = (0..<6).map { "let value\($0) = compute(\($0))\n" }.joined() + "let result = "
    func request(_ typed: String) -> CompletionRequest {
      CompletionRequest(
        documentID: "file:///a.swift", fileName: "a.swift", languageId: "plaintext", prefix: prefix + typed,
        suffix: "\n", explain: true)
    }
    // A cold request fills the KV cache; the next keystroke's prompt then lacks a token or two: typing.
    _ = try provider.complete(request(""), cancellation: CancellationToken(deadline: 600))
    let typed = try provider.complete(request("c"), cancellation: CancellationToken(deadline: 600))
    let joined = typed.trace.joined(separator: "\n")
    XCTAssertTrue(typed.trace.contains { $0.hasPrefix("typing:") }, joined)
    XCTAssertLessThan(typed.generatedTokens, 600, joined)
    XCTAssertTrue(typed.trace.contains { $0.hasPrefix("cut by time") }, joined)
    let shown = typed.candidates.first?.text ?? ""
    provider.extendLastCompletion(documentID: "file:///a.swift", cancellation: CancellationToken())
    // Typing what was shown: the cache answers with the rest, longer than what the cut request showed.
    let next = try provider.complete(request("c" + shown), cancellation: CancellationToken(deadline: 600))
    XCTAssertTrue(next.fromCache, next.trace.joined(separator: "\n"))
    XCTAssertFalse(next.candidates.first?.text.isEmpty ?? true)
    // Nothing left to extend: a second call does nothing.
    provider.extendLastCompletion(documentID: "file:///a.swift", cancellation: CancellationToken())
  }
}
