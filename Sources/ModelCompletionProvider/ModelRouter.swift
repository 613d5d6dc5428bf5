import CodeCompletion
import Foundation
import Logging
import Synchronization

/// Which model answers one request: the main model, or another file.
public struct ModelChoice: Sendable, Equatable {
  /// The other model's file; nil for the main model.
  public var path: String?
  /// Why, in words (for `--explain` and the debug log).
  public var reason: String
}

/// Chooses the model of invoked completions (`invokedModel`) and of generate-code (`generateModel`).
///
/// `auto` takes the larger preset of the main model's family (`ModelPreset.larger`) when its file is downloaded
/// and the speed of this machine lets it answer within the request kind's time: `latencyTargetMilliseconds` for an
/// invoked completion, a quarter of `generateDeadlineMilliseconds` for generate-code. The estimate is the request's
/// prompt at the larger model's prefill speed plus a typical answer at its decode speed, plus loading the model
/// when it is not held yet. Nothing is ever downloaded.
public enum ModelChooser {
  /// The kinds of request that may use another model.
  public enum Kind: String, Sendable {
    case invoked
    case generate
  }

  /// Generated tokens of a typical generate-code answer (a function body of ten lines or so).
  public static let typicalGenerateTokens = 128
  /// The share of `generateDeadlineMilliseconds` a typical generate-code answer of the larger model may take.
  public static let generateShareOfDeadline = 0.25
  /// Bytes per second assumed for loading a model file that is not held yet (mapping it and touching every weight
  /// once; 1.1 GB took about 0.3 s from the page cache on a 2-core Zen 4 host, more from a cold disk).
  public static let loadBytesPerSecond = 2e9

  /// The time to load the file at `path` (0 when it is held already).
  public static func loadSeconds(path: String, held: Bool) -> Double {
    held ? 0 : Double(fileSize(path) ?? 0) / loadBytesPerSecond
  }

  /// The setting's name for `kind`.
  public static func settingName(_ kind: Kind) -> String { kind == .invoked ? "invokedModel" : "generateModel" }

  /// An estimate of the tokens of a prompt made of `prefix` and `suffix` within the budgets of `kind`: three bytes
  /// per token (code tokenizes at three to four), so the estimate errs on the slow side.
  public static func estimatedPromptTokens(
    prefixBytes: Int, suffixBytes: Int, kind: Kind, settings: CompletionSettings
  ) -> Int {
    let prefixBudget = kind == .generate ? max(settings.prefixTokens, 1536) : settings.prefixTokens
    return min(prefixBytes / 3, prefixBudget) + min(suffixBytes / 3, settings.suffixTokens)
  }

  /// The speed of the model in `path` on this machine: its cached calibration when `cached` has one, else the main
  /// model's speed scaled by the ratio of the file sizes (on a CPU both prefill and decode are bound by the bytes of
  /// weights read per token).
  public static func estimatedSpeed(
    path: String, mainPath: String, mainSpeed: MachineSpeed?, cached: MachineSpeed?
  ) -> MachineSpeed? {
    if let cached { return cached }
    guard let mainSpeed, let size = fileSize(path), let mainSize = fileSize(mainPath), size > 0, mainSize > 0 else {
      return nil
    }
    let ratio = Double(mainSize) / Double(size)
    return MachineSpeed(
      prefillTokensPerSecond: mainSpeed.prefillTokensPerSecond * ratio,
      decodeTokensPerSecond: mainSpeed.decodeTokensPerSecond * ratio, source: "scaled from the main model by file size")
  }

  static func fileSize(_ path: String) -> Int64? {
    (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.int64Value
  }

  /// The choice for one request.
  /// - Parameters:
  ///   - setting: the value of `invokedModel` or `generateModel`.
  ///   - mainPath: the main model's file.
  ///   - promptTokens: the estimated prompt of the request (`estimatedPromptTokens`).
  ///   - speedOf: the speed of a model file on this machine (`estimatedSpeed`), nil when unknown.
  ///   - loadSecondsOf: the time to load a model file before it answers (`loadSeconds`).
  public static func choose(
    setting: String, kind: Kind, mainPath: String, promptTokens: Int, settings: CompletionSettings,
    environment: [String: String] = ProcessInfo.processInfo.environment, speedOf: (String) -> MachineSpeed?,
    loadSecondsOf: (String) -> Double = { _ in 0 }
  ) -> ModelChoice {
    let name = settingName(kind)
    let value = setting.trimmingCharacters(in: .whitespaces)
    if value.isEmpty || value == "same" { return ModelChoice(path: nil, reason: "\(name) is same: the main model") }
    guard value == "auto" else {
      switch ModelPresets.locate(value, environment: environment) {
      case .file(let path, _):
        if (path as NSString).standardizingPath == (mainPath as NSString).standardizingPath {
          return ModelChoice(path: nil, reason: "\(name) names the main model")
        }
        return ModelChoice(path: path, reason: "\(name) is \(value)")
      case .missing(let message):
        return ModelChoice(path: nil, reason: "\(name): \(message) The main model answers.")
      }
    }
    guard let larger = ModelPresets.preset(atPath: mainPath)?.larger else {
      return ModelChoice(path: nil, reason: "\(name) auto: the main model has no larger preset of its family")
    }
    guard case .file(let path, _) = ModelPresets.locate(larger, environment: environment) else {
      return ModelChoice(path: nil, reason: "\(name) auto: \(larger) is not downloaded, the main model answers")
    }
    guard let speed = speedOf(path), speed.prefillTokensPerSecond > 0, speed.decodeTokensPerSecond > 0 else {
      return ModelChoice(path: nil, reason: "\(name) auto: the speed of \(larger) here is not known yet")
    }
    let generated = kind == .generate ? typicalGenerateTokens : LatencyPolicy.expectedGeneration(block: true)
    let load = loadSecondsOf(path)
    let estimate =
      load + Double(promptTokens) / speed.prefillTokensPerSecond + Double(generated) / speed.decodeTokensPerSecond
    let budget =
      kind == .generate
      ? Double(settings.generateDeadlineMilliseconds) * generateShareOfDeadline / 1000
      : Double(settings.latencyTargetMilliseconds) / 1000
    let figures =
      "\(larger) estimated at \(LatencyPolicy.milliseconds(estimate)) ms for about \(promptTokens) prompt and "
      + "\(generated) generated tokens (\(speed.description))"
      + (load > 0 ? " and \(LatencyPolicy.milliseconds(load)) ms to load it, " : ", ")
    if estimate <= budget {
      return ModelChoice(path: path, reason: "\(name) auto: \(figures)within \(LatencyPolicy.milliseconds(budget)) ms")
    }
    return ModelChoice(
      path: nil,
      reason: "\(name) auto: \(figures)over \(LatencyPolicy.milliseconds(budget)) ms, the main model answers")
  }
}

/// The provider of the main model that hands invoked completions and generate-code to the model configured for
/// them (`invokedModel`, `generateModel`; see `ModelChooser`). Typing, prefetch and the completion cache stay with
/// the main model. Another model is loaded on first use, with the settings in force, and kept; at most one other
/// model is held, and one that cannot be loaded is reported once and leaves the request to the main model.
///
/// - Important: `complete`, `generate` and `prepare` run on one worker, as for `ModelProvider`.
public final class ModelRouter: CompletionProvider, @unchecked Sendable {
  /// The main model.
  public let main: ModelProvider
  let mainPath: String
  /// Loads another model file with the given settings.
  let load: @Sendable (_ path: String, _ settings: CompletionSettings) -> CompletionProvider
  /// The cached calibration of a model file on this machine, if any.
  let cachedSpeed: @Sendable (_ path: String) -> MachineSpeed?
  /// The other model now held, by path.
  private let other = Mutex<(path: String, provider: CompletionProvider)?>(nil)
  private let logger = Logger(label: "codegen-lsp.provider")

  public init(
    main: ModelProvider, mainPath: String,
    load: @escaping @Sendable (_ path: String, _ settings: CompletionSettings) -> CompletionProvider,
    cachedSpeed: @escaping @Sendable (_ path: String) -> MachineSpeed? = { _ in nil }
  ) {
    self.main = main
    self.mainPath = mainPath
    self.load = load
    self.cachedSpeed = cachedSpeed
  }

  public var status: ProviderStatus { main.status }

  /// The main model's speed on this machine.
  public var speed: MachineSpeed? { main.speed }

  public func updateSettings(_ settings: CompletionSettings) {
    main.updateSettings(settings)
    other.withLock { $0?.provider.updateSettings(settings) }
  }

  /// The choice for a request of `kind` around `prefix` and `suffix`.
  public func choice(kind: ModelChooser.Kind, prefix: String, suffix: String) -> ModelChoice {
    let settings = main.settings
    return ModelChooser.choose(
      setting: kind == .invoked ? settings.invokedModel : settings.generateModel, kind: kind, mainPath: mainPath,
      promptTokens: ModelChooser.estimatedPromptTokens(
        prefixBytes: prefix.utf8.count, suffixBytes: suffix.utf8.count, kind: kind, settings: settings),
      settings: settings,
      speedOf: { [main, mainPath, cachedSpeed] path in
        ModelChooser.estimatedSpeed(path: path, mainPath: mainPath, mainSpeed: main.speed, cached: cachedSpeed(path))
      },
      loadSecondsOf: { path in
        ModelChooser.loadSeconds(path: path, held: self.other.withLock { $0?.path == path })
      })
  }

  /// The provider of `choice`, loaded when needed; nil (with the reason) when it is the main model or unusable.
  private func provider(for choice: ModelChoice) -> (CompletionProvider?, String) {
    guard let path = choice.path else { return (nil, "model: the main model (\(choice.reason))") }
    let name = (path as NSString).lastPathComponent
    if let held = other.withLock({ $0?.path == path ? $0?.provider : nil }) {
      return usable(held, name: name, reason: choice.reason)
    }
    other.withLock { $0 = nil }
    logger.info("loading \(path) (\(choice.reason))")
    let loaded = load(path, main.settings)
    other.withLock { $0 = (path, loaded) }
    switch loaded.status {
    case .ready(let description), .degraded(let description, _):
      logger.info("model ready: \(description)")
    case .unavailable(let reason):
      logger.warning("\(reason); the main model answers instead")
    }
    return usable(loaded, name: name, reason: choice.reason)
  }

  private func usable(_ provider: CompletionProvider, name: String, reason: String) -> (CompletionProvider?, String) {
    if case .unavailable(let why) = provider.status {
      return (nil, "model: the main model (\(name) cannot be used: \(why))")
    }
    return (provider, "model: \(name) (\(reason))")
  }

  public func complete(_ request: CompletionRequest, cancellation: CancellationToken) throws -> CompletionResult {
    guard request.trigger == .invoked else { return try main.complete(request, cancellation: cancellation) }
    let (chosen, line) = provider(for: choice(kind: .invoked, prefix: request.prefix, suffix: request.suffix))
    var result = try (chosen ?? main).complete(request, cancellation: cancellation)
    result.trace.insert(line, at: 0)
    return result
  }

  public func generate(
    _ request: GenerateRequest, cancellation: CancellationToken, onPartial: @escaping (String) -> Void
  ) throws -> GenerateResult {
    let (chosen, line) = provider(for: choice(kind: .generate, prefix: request.prefix, suffix: request.suffix))
    var result = try (chosen ?? main).generate(request, cancellation: cancellation, onPartial: onPartial)
    result.trace.insert(line, at: 0)
    return result
  }

  public func prepare(_ request: CompletionRequest, cancellation: CancellationToken) {
    main.prepare(request, cancellation: cancellation)
  }

  public func extendLastCompletion(documentID: String, cancellation: CancellationToken) {
    main.extendLastCompletion(documentID: documentID, cancellation: cancellation)
    other.withLock { $0?.provider }?.extendLastCompletion(documentID: documentID, cancellation: cancellation)
  }
}
