import Foundation

/// A model the project knows how to fetch (see `Scripts/fetch_model.py`, which pins every part by sha256).
public struct ModelPreset: Sendable, Equatable {
  /// The name users pass to `--model` or the `model` setting.
  public var name: String
  /// The file name inside the models directory.
  public var fileName: String
  /// What it is.
  public var summary: String
  /// The preset of the same family one size up (same tokenizer and prompt format), which `invokedModel` and
  /// `generateModel` `auto` use when it is downloaded and fast enough here.
  public var larger: String?

  public init(name: String, fileName: String, summary: String, larger: String? = nil) {
    self.name = name
    self.fileName = fileName
    self.summary = summary
    self.larger = larger
  }
}

/// Where a model specification (a preset name or a path) leads.
public enum ModelLocation: Sendable, Equatable {
  /// A GGUF file that exists.
  case file(path: String, preset: ModelPreset?)
  /// Nothing usable; the message says what is missing and how to get it.
  case missing(message: String)
}

/// The pinned presets and the rules that turn a `--model` value into a file.
public enum ModelPresets {
  /// The default model.
  public static let defaultName = "qwen2.5-coder-0.5b"

  /// Every preset, default first.
  public static let all: [ModelPreset] = [
    ModelPreset(
      name: "qwen2.5-coder-0.5b", fileName: "qwen2.5-coder-0.5b.gguf",
      summary: "Qwen2.5-Coder-0.5B-Instruct Q4_K_M, 491 MB, fill-in-the-middle (default)",
      larger: "qwen2.5-coder-1.5b"),
    ModelPreset(
      name: "qwen2.5-coder-1.5b", fileName: "qwen2.5-coder-1.5b.gguf",
      summary: "Qwen2.5-Coder-1.5B-Instruct Q4_K_M, 1.1 GB, fill-in-the-middle, better and slower"),
    ModelPreset(
      name: "smollm2-135m", fileName: "smollm2-135m.gguf",
      summary: "SmolLM2-135M-Instruct Q4_1, 98 MB, no fill-in-the-middle (prefix only), fastest"),
  ]

  /// The preset whose file this is (by file name), if any.
  public static func preset(atPath path: String) -> ModelPreset? {
    let name = (path as NSString).lastPathComponent
    return all.first { $0.fileName == name }
  }

  /// The preset with this name, if any.
  public static func preset(named name: String) -> ModelPreset? {
    all.first { $0.name == name }
  }

  /// The directory models are fetched into: `$CODEGEN_LSP_MODELS_DIR`, else `$XDG_CACHE_HOME/codegen-lsp/models`,
  /// else `~/.cache/codegen-lsp/models` (the same rule as `Scripts/fetch_model.py`).
  public static func modelsDirectory(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
    if let dir = environment["CODEGEN_LSP_MODELS_DIR"], !dir.isEmpty { return dir }
    let cache: String
    if let xdg = environment["XDG_CACHE_HOME"], !xdg.isEmpty {
      cache = xdg
    } else {
      let home = environment["HOME"] ?? NSHomeDirectory()
      cache = (home as NSString).appendingPathComponent(".cache")
    }
    return ((cache as NSString).appendingPathComponent("codegen-lsp") as NSString).appendingPathComponent("models")
  }

  /// Picks the model specification by precedence: configuration, then `--model`, then `CODEGEN_LSP_MODEL`, then
  /// the default preset.
  public static func choose(
    configuration: String?, commandLine: String?, environment: [String: String] = ProcessInfo.processInfo.environment
  ) -> String {
    for candidate in [configuration, commandLine, environment["CODEGEN_LSP_MODEL"]] {
      if let candidate, !candidate.trimmingCharacters(in: .whitespaces).isEmpty { return candidate }
    }
    return defaultName
  }

  /// Resolves a preset name or a path to a file.
  public static func locate(
    _ spec: String, environment: [String: String] = ProcessInfo.processInfo.environment
  ) -> ModelLocation {
    let fileManager = FileManager.default
    if let preset = preset(named: spec) {
      let path = (modelsDirectory(environment: environment) as NSString).appendingPathComponent(preset.fileName)
      if fileManager.fileExists(atPath: path) { return .file(path: path, preset: preset) }
      return .missing(
        message: "The model '\(spec)' (\(preset.summary)) is not downloaded: expected \(path). "
          + "Fetch it with `python3 Scripts/fetch_model.py \(spec)` from the codegen-lsp checkout, "
          + "or set `model` to the path of a GGUF file.")
    }
    let expanded = (spec as NSString).expandingTildeInPath
    var isDirectory: ObjCBool = false
    if fileManager.fileExists(atPath: expanded, isDirectory: &isDirectory), !isDirectory.boolValue {
      return .file(path: expanded, preset: nil)
    }
    let names = all.map(\.name).joined(separator: ", ")
    return .missing(
      message: "The model '\(spec)' is neither a preset (\(names)) nor an existing GGUF file. "
        + "Set `model` (or --model, or CODEGEN_LSP_MODEL) to a preset name or to the path of a GGUF file.")
  }
}
