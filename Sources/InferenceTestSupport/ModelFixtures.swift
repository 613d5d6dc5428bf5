import Foundation

/// Where tests find real model files, and whether they may use them.
///
/// Tests that need a real model call `ModelFixtures.realModelPath(preset)` and skip (XCTSkip) when it returns nil:
/// the environment variable `CODEGEN_LSP_MODEL_TESTS=1` turns them on, and the models are looked up in
/// `$CODEGEN_LSP_MODELS_DIR` (default `~/.cache/codegen-lsp/models`) by preset file name (`smollm2-135m.gguf`).
public enum ModelFixtures {
  /// The preset names of the models the correctness tests use.
  public static let smollm = "smollm2-135m"
  public static let qwenCoder = "qwen2.5-coder-0.5b"

  /// True when `CODEGEN_LSP_MODEL_TESTS=1`.
  public static var realModelTestsEnabled: Bool {
    ProcessInfo.processInfo.environment["CODEGEN_LSP_MODEL_TESTS"] == "1"
  }

  /// The models folder: `$CODEGEN_LSP_MODELS_DIR` or `~/.cache/codegen-lsp/models`.
  public static var modelsDirectory: String {
    if let dir = ProcessInfo.processInfo.environment["CODEGEN_LSP_MODELS_DIR"], !dir.isEmpty { return dir }
    return FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/codegen-lsp/models").path
  }

  /// The path of `preset`'s GGUF when real-model tests are enabled and the file exists; nil otherwise.
  public static func realModelPath(_ preset: String) -> String? {
    guard realModelTestsEnabled else { return nil }
    let path = (modelsDirectory as NSString).appendingPathComponent(preset + ".gguf")
    return FileManager.default.fileExists(atPath: path) ? path : nil
  }

  /// Resident memory of this process from /proc/self/status: (VmRSS, VmHWM) in bytes; nil where unavailable.
  public static func residentMemory() -> (current: Int, peak: Int)? {
    guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
    var rss: Int?
    var hwm: Int?
    for line in text.split(separator: "\n") {
      let parts = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
      guard parts.count >= 2, let kb = Int(parts[1]) else { continue }
      if parts[0] == "VmRSS:" { rss = kb * 1024 }
      if parts[0] == "VmHWM:" { hwm = kb * 1024 }
    }
    guard let rss, let hwm else { return nil }
    return (rss, hwm)
  }
}
