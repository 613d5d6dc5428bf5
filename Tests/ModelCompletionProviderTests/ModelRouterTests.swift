import CodeCompletion
import Foundation
import InferenceTestSupport
import Synchronization
import XCTest

@testable import ModelCompletionProvider

/// `invokedModel` and `generateModel`: the choice from settings, presets and measured speeds (injected), and the
/// router that hands requests to the chosen model (tiny random-weight models, no download).
final class ModelRouterTests: XCTestCase {
  /// A models directory with files named like the 0.5B preset (`mainBytes` bytes) and, when `largerBytes` is
  /// given, the 1.5B preset: the chooser only looks at names and sizes.
  func modelsDirectory(mainBytes: Int = 100, largerBytes: Int?) throws -> (environment: [String: String], main: String)
  {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("models-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    addTeardownBlock { try? FileManager.default.removeItem(at: directory) }
    let main = directory.appendingPathComponent("qwen2.5-coder-0.5b.gguf").path
    FileManager.default.createFile(atPath: main, contents: Data(count: mainBytes))
    if let largerBytes {
      FileManager.default.createFile(
        atPath: directory.appendingPathComponent("qwen2.5-coder-1.5b.gguf").path, contents: Data(count: largerBytes))
    }
    return (["CODEGEN_LSP_MODELS_DIR": directory.path], main)
  }

  func speed(_ prefill: Double, _ decode: Double) -> MachineSpeed {
    MachineSpeed(prefillTokensPerSecond: prefill, decodeTokensPerSecond: decode, source: "test")
  }

  func choose(
    _ setting: String, _ kind: ModelChooser.Kind, promptTokens: Int, speed: MachineSpeed?,
    _ models: (environment: [String: String], main: String), settings: CompletionSettings = CompletionSettings()
  ) -> ModelChoice {
    ModelChooser.choose(
      setting: setting, kind: kind, mainPath: models.main, promptTokens: promptTokens, settings: settings,
      environment: models.environment, speedOf: { _ in speed })
  }

  /// The 1.5B preset's speed measured on a 2-core Zen 4 host (prefill 82, decode 28.7 tokens/s): generate-code on
  /// a HumanEval-sized prompt fits a quarter of the 60 s deadline, an invoked completion with a full prompt does
  /// not fit the 1 s target; at a quarter of that speed neither does generate-code.
  func testAutoTakesTheLargerPresetWhereItsEstimatedTimeFits() throws {
    let models = try modelsDirectory(largerBytes: 300)
    let measured = speed(82, 28.7)
    let generate = choose("auto", .generate, promptTokens: 150, speed: measured, models)
    XCTAssertEqual((generate.path as NSString?)?.lastPathComponent, "qwen2.5-coder-1.5b.gguf", generate.reason)
    XCTAssertTrue(generate.reason.contains("within 15000 ms"), generate.reason)
    let invoked = choose("auto", .invoked, promptTokens: 384, speed: measured, models)
    XCTAssertNil(invoked.path, invoked.reason)
    XCTAssertTrue(invoked.reason.contains("over 1000 ms"), invoked.reason)
    let slow = choose("auto", .generate, promptTokens: 150, speed: speed(82 / 4, 28.7 / 4), models)
    XCTAssertNil(slow.path, slow.reason)
    // A longer target lets the invoked completion use it too.
    var patient = CompletionSettings()
    patient.latencyTargetMilliseconds = 10_000
    XCTAssertNotNil(choose("auto", .invoked, promptTokens: 384, speed: measured, models, settings: patient).path)
    // A small invoked request fits the target once the model is held, not while it still has to be loaded.
    let held = choose("auto", .invoked, promptTokens: 5, speed: measured, models)
    XCTAssertNotNil(held.path, held.reason)
    let loading = ModelChooser.choose(
      setting: "auto", kind: .invoked, mainPath: models.main, promptTokens: 5, settings: CompletionSettings(),
      environment: models.environment, speedOf: { _ in measured }, loadSecondsOf: { _ in 0.5 })
    XCTAssertNil(loading.path, loading.reason)
    XCTAssertTrue(loading.reason.contains("500 ms to load it"), loading.reason)
    XCTAssertEqual(ModelChooser.loadSeconds(path: models.main, held: false), 100 / ModelChooser.loadBytesPerSecond)
    XCTAssertEqual(ModelChooser.loadSeconds(path: models.main, held: true), 0)
  }

  func testAutoKeepsTheMainModelWithoutADownloadedLargerPresetOrAKnownSpeed() throws {
    let missing = try modelsDirectory(largerBytes: nil)
    let notDownloaded = choose("auto", .generate, promptTokens: 10, speed: speed(1000, 1000), missing)
    XCTAssertNil(notDownloaded.path)
    XCTAssertTrue(notDownloaded.reason.contains("not downloaded"), notDownloaded.reason)
    let models = try modelsDirectory(largerBytes: 300)
    XCTAssertNil(choose("auto", .generate, promptTokens: 10, speed: nil, models).path)
    // A main model that is not a preset with a larger sibling.
    let other = (models.environment, (models.main as NSString).deletingLastPathComponent + "/smollm2-135m.gguf")
    FileManager.default.createFile(atPath: other.1, contents: Data(count: 10))
    let noFamily = choose("auto", .generate, promptTokens: 10, speed: speed(1000, 1000), other)
    XCTAssertNil(noFamily.path)
    XCTAssertTrue(noFamily.reason.contains("no larger preset"), noFamily.reason)
  }

  func testSameAndNamedModels() throws {
    let models = try modelsDirectory(largerBytes: 300)
    for same in ["same", "", "  "] {
      XCTAssertNil(choose(same, .invoked, promptTokens: 10, speed: speed(1000, 1000), models).path)
    }
    let named = choose("qwen2.5-coder-1.5b", .invoked, promptTokens: 10_000, speed: speed(1, 1), models)
    XCTAssertEqual((named.path as NSString?)?.lastPathComponent, "qwen2.5-coder-1.5b.gguf", "named: no speed check")
    XCTAssertNil(choose(models.main, .generate, promptTokens: 10, speed: nil, models).path, "the main model's own path")
    let missing = choose("/nonexistent/model.gguf", .generate, promptTokens: 10, speed: nil, models)
    XCTAssertNil(missing.path)
    XCTAssertTrue(missing.reason.contains("The main model answers"), missing.reason)
  }

  func testSpeedOfAnotherFileIsItsCalibrationElseScaledByFileSize() throws {
    let models = try modelsDirectory(mainBytes: 100, largerBytes: 300)
    let larger = (models.main as NSString).deletingLastPathComponent + "/qwen2.5-coder-1.5b.gguf"
    let scaled = ModelChooser.estimatedSpeed(path: larger, mainPath: models.main, mainSpeed: speed(90, 30), cached: nil)
    XCTAssertEqual(scaled?.prefillTokensPerSecond ?? 0, 30, accuracy: 1e-9)
    XCTAssertEqual(scaled?.decodeTokensPerSecond ?? 0, 10, accuracy: 1e-9)
    let cached = ModelChooser.estimatedSpeed(
      path: larger, mainPath: models.main, mainSpeed: speed(90, 30), cached: speed(50, 20))
    XCTAssertEqual(cached?.prefillTokensPerSecond, 50)
    XCTAssertNil(ModelChooser.estimatedSpeed(path: larger, mainPath: models.main, mainSpeed: nil, cached: nil))
  }

  func testPromptEstimateStaysWithinTheBudgets() {
    let settings = CompletionSettings()
    XCTAssertEqual(
      ModelChooser.estimatedPromptTokens(prefixBytes: 300, suffixBytes: 30, kind: .invoked, settings: settings), 110)
    XCTAssertEqual(
      ModelChooser.estimatedPromptTokens(
        prefixBytes: 1 << 20, suffixBytes: 1 << 20, kind: .invoked, settings: settings),
      settings.prefixTokens + settings.suffixTokens)
    XCTAssertEqual(
      ModelChooser.estimatedPromptTokens(prefixBytes: 1 << 20, suffixBytes: 0, kind: .generate, settings: settings),
      1536)
  }

  // MARK: The router

  func router(_ settings: CompletionSettings) throws -> (ModelRouter, loads: () -> [String]) {
    let mainPath = try TinyModel.temporaryFile()
    let main = try ModelProvider(path: mainPath, settings: settings, calibrationCache: nil)
    let loads = Mutex<[String]>([])
    let router = ModelRouter(
      main: main, mainPath: mainPath,
      load: { path, settings in
        loads.withLock { $0.append(path) }
        do {
          return try ModelProvider(path: path, settings: settings, calibrationCache: nil)
        } catch {
          return UnavailableProvider(reason: "Cannot use the model \(path): \(error)")
        }
      })
    return (router, { loads.withLock { $0 } })
  }

  func generateRequest() -> GenerateRequest {
    GenerateRequest(
      documentID: "file:///a.py", fileName: "a.py", languageId: "python", prefix: "def f(a):\n    ", selection: "",
      suffix: "", instruction: nil)
  }

  func completionRequest(_ trigger: CompletionTrigger) -> CompletionRequest {
    CompletionRequest(
      documentID: "file:///a.py", fileName: "a.py", languageId: "python", prefix: "x = ", suffix: "\n",
      trigger: trigger, explain: true)
  }

  func testNamedModelAnswersGenerateAndInvokedRequestsAndIsLoadedOnce() throws {
    var spec = TinyModel.Spec()
    spec.seed = 2
    let otherPath = try TinyModel.temporaryFile(spec)
    var settings = CompletionSettings()
    settings.generateModel = otherPath
    settings.invokedModel = otherPath
    settings.maxTokensGenerate = 8
    let (router, loads) = try router(settings)
    let name = (otherPath as NSString).lastPathComponent
    let generated = try router.generate(generateRequest(), cancellation: CancellationToken()) { _ in }
    XCTAssertTrue(generated.trace.first?.hasPrefix("model: \(name)") ?? false, generated.trace.joined(separator: "\n"))
    let invoked = try router.complete(completionRequest(.invoked), cancellation: CancellationToken())
    XCTAssertTrue(invoked.trace.first?.hasPrefix("model: \(name)") ?? false, invoked.trace.joined(separator: "\n"))
    XCTAssertEqual(loads(), [otherPath], "loaded on first use and kept")
    // Typing stays with the main model, which never names itself in the trace.
    let typed = try router.complete(completionRequest(.automatic), cancellation: CancellationToken())
    XCTAssertFalse(typed.trace.contains { $0.hasPrefix("model:") }, typed.trace.joined(separator: "\n"))
    // Back to the main model by setting.
    settings.generateModel = "same"
    router.updateSettings(settings)
    let same = try router.generate(generateRequest(), cancellation: CancellationToken()) { _ in }
    XCTAssertEqual(same.trace.first, "model: the main model (generateModel is same: the main model)")
  }

  func testAModelThatCannotBeLoadedLeavesTheRequestToTheMainModel() throws {
    let broken = FileManager.default.temporaryDirectory.appendingPathComponent("broken-\(UUID().uuidString).gguf")
    FileManager.default.createFile(atPath: broken.path, contents: Data("not a model".utf8))
    defer { try? FileManager.default.removeItem(at: broken) }
    var settings = CompletionSettings()
    settings.generateModel = broken.path
    settings.maxTokensGenerate = 8
    let (router, loads) = try router(settings)
    for _ in 0..<2 {
      let result = try router.generate(generateRequest(), cancellation: CancellationToken()) { _ in }
      XCTAssertTrue(
        result.trace.first?.hasPrefix("model: the main model (\(broken.lastPathComponent) cannot be used") ?? false,
        result.trace.joined(separator: "\n"))
    }
    XCTAssertEqual(loads().count, 1, "a failed load is remembered")
  }
}
