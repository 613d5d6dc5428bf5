import Foundation
import Kernels

/// How fast the engine runs the loaded model on this machine: prompt tokens per second in batched prefill
/// chunks, and generated tokens per second.
///
/// Measured, never assumed: a short calibration when a model is first loaded on a machine (cached by
/// `SpeedCalibrationCache`), then refined from every request served (`SpeedTracker`). The latency policy sizes the
/// context of a cold request from it.
public struct MachineSpeed: Sendable, Equatable, Codable {
  /// Prompt tokens per second in batched prefill.
  public var prefillTokensPerSecond: Double
  /// Generated tokens per second.
  public var decodeTokensPerSecond: Double
  /// Where the figures come from: `calibration`, `cache` (a calibration of an earlier start) or `requests`.
  public var source: String

  public init(prefillTokensPerSecond: Double, decodeTokensPerSecond: Double, source: String) {
    self.prefillTokensPerSecond = prefillTokensPerSecond
    self.decodeTokensPerSecond = decodeTokensPerSecond
    self.source = source
  }

  /// One line for `--explain`, `model info` and logs.
  public var description: String {
    String(
      format: "prefill %.0f tokens/s, decode %.1f tokens/s (%@)", prefillTokensPerSecond, decodeTokensPerSecond,
      source)
  }
}

/// Keeps the current speed estimate, refined from what requests measure: an exponentially weighted average, so
/// a host that slows down (another load, thermal limits) is followed within a few requests.
///
/// - Important: not thread-safe; the provider uses it on its worker.
final class SpeedTracker {
  var speed: MachineSpeed?
  /// Weight of a new measurement.
  static let weight = 0.3
  /// Shorter prefills and generations say more about overheads than about throughput, and are not counted.
  static let minimumPrefillTokens = 16
  static let minimumDecodeTokens = 4

  init(_ initial: MachineSpeed?) { speed = initial }

  /// Records a prefill of `tokens` that took `seconds`.
  func recordPrefill(tokens: Int, seconds: Double) {
    record(\.prefillTokensPerSecond, tokens: tokens, minimum: Self.minimumPrefillTokens, seconds: seconds)
  }

  /// Records `tokens` generated in `seconds`.
  func recordDecode(tokens: Int, seconds: Double) {
    record(\.decodeTokensPerSecond, tokens: tokens, minimum: Self.minimumDecodeTokens, seconds: seconds)
  }

  private func record(
    _ rate: WritableKeyPath<MachineSpeed, Double>, tokens: Int, minimum: Int, seconds: Double
  ) {
    guard tokens >= minimum, seconds > 0, var current = speed else { return }
    current[keyPath: rate] += Self.weight * (Double(tokens) / seconds - current[keyPath: rate])
    current.source = "requests"
    speed = current
  }
}

/// Calibrations kept between starts, keyed by model file (path, size, modification time), CPU model and engine
/// threads, in `calibration.json` beside the models; an entry older than `maximumAge` is measured again.
public struct SpeedCalibrationCache: Sendable {
  /// The JSON file.
  public let path: String
  /// How long a calibration is trusted.
  public static let maximumAge: TimeInterval = 7 * 24 * 3600
  /// Entries kept; the oldest go first.
  public static let maximumEntries = 64

  struct Entry: Codable {
    var prefillTokensPerSecond: Double
    var decodeTokensPerSecond: Double
    var measured: Date
  }

  public init(path: String = (ModelPresets.modelsDirectory() as NSString).appendingPathComponent("calibration.json")) {
    self.path = path
  }

  /// The key of a model file on this CPU with `threads` engine threads; nil when the file cannot be read.
  public static func key(modelPath: String, threads: Int) -> String? {
    guard let attributes = try? FileManager.default.attributesOfItem(atPath: modelPath),
      let size = attributes[.size] as? NSNumber
    else { return nil }
    let modified = (attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
    let cpu = QuantTraits.cpuModelName.isEmpty ? "unknown CPU" : QuantTraits.cpuModelName
    return "\((modelPath as NSString).standardizingPath)|\(size)|\(Int(modified))|\(cpu)|threads \(threads)"
  }

  /// The cached calibration for `key`, when there is one younger than `maximumAge`.
  public func lookup(_ key: String, now: Date = Date()) -> MachineSpeed? {
    guard let entry = read()[key], now.timeIntervalSince(entry.measured) < Self.maximumAge,
      entry.prefillTokensPerSecond > 0, entry.decodeTokensPerSecond > 0
    else { return nil }
    return MachineSpeed(
      prefillTokensPerSecond: entry.prefillTokensPerSecond, decodeTokensPerSecond: entry.decodeTokensPerSecond,
      source: "cache")
  }

  /// Stores a calibration (best effort: a cache that cannot be written only means measuring again next time).
  public func store(_ speed: MachineSpeed, key: String, now: Date = Date()) {
    var entries = read().filter { now.timeIntervalSince($0.value.measured) < Self.maximumAge }
    if entries.count >= Self.maximumEntries {
      for stale in entries.sorted(by: { $0.value.measured < $1.value.measured }).prefix(
        entries.count - Self.maximumEntries + 1)
      {
        entries[stale.key] = nil
      }
    }
    entries[key] = Entry(
      prefillTokensPerSecond: speed.prefillTokensPerSecond, decodeTokensPerSecond: speed.decodeTokensPerSecond,
      measured: now)
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    encoder.dateEncodingStrategy = .iso8601
    guard let data = try? encoder.encode(entries) else { return }
    try? FileManager.default.createDirectory(
      atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
    let temporary = path + ".\(ProcessInfo.processInfo.processIdentifier).tmp"
    guard FileManager.default.createFile(atPath: temporary, contents: data) else { return }
    _ = rename(temporary, path)
  }

  private func read() -> [String: Entry] {
    guard let data = FileManager.default.contents(atPath: path), data.count < 1 << 20 else { return [:] }
    let decoder = JSONDecoder()
    decoder.dateDecodingStrategy = .iso8601
    return (try? decoder.decode([String: Entry].self, from: data)) ?? [:]
  }
}
