import ArgumentParser
import CodeCompletion
import Foundation
import GGUF
import ModelCompletionProvider
import Tokenization

/// `codegen-lsp model …`: inspect models and tokenizers.
struct ModelCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "model",
    abstract: "Inspect models: list presets, print a GGUF file's header, tokenize text.",
    subcommands: [ListPresets.self, Info.self, Tokenize.self, BenchCommand.self]
  )

  struct ListPresets: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "list", abstract: "List the model presets and whether each is downloaded.")

    func run() throws {
      let directory = ModelPresets.modelsDirectory()
      print("models directory: \(directory)")
      for preset in ModelPresets.all {
        let path = (directory as NSString).appendingPathComponent(preset.fileName)
        let present =
          FileManager.default.fileExists(atPath: path)
          ? "present" : "missing (python3 Scripts/fetch_model.py \(preset.name))"
        print("\(preset.name.padding(toLength: 20, withPad: " ", startingAt: 0)) \(preset.summary) [\(present)]")
      }
    }
  }

  struct Info: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Print a GGUF file's architecture, sizes, tokenizer, special and FIM tokens, and tensor types.")

    @Argument(help: "A GGUF file or a preset name.")
    var model: String

    @Option(name: .long, help: "Engine threads the speed is shown for (0: one per core).")
    var threads: Int = 0

    @Flag(name: .long, help: "Measure the engine's speed on this machine now (loads the model) and cache it.")
    var calibrate = false

    func run() throws {
      let path = try resolveModelPath(model)
      let file = try GGUFFile(path: path)
      print(ModelInfo.describe(file))
      let threadCount = threads > 0 ? threads : ProcessInfo.processInfo.activeProcessorCount
      let cache = SpeedCalibrationCache()
      let key = SpeedCalibrationCache.key(modelPath: path, threads: threadCount)
      var speed = key.flatMap { cache.lookup($0) }
      if calibrate {
        var settings = CompletionSettings()
        settings.threads = threads
        speed = try ModelProvider(path: path, settings: settings, calibrationCache: nil).speed
        if let speed, let key { cache.store(speed, key: key) }
      }
      print(
        "speed:         "
          + (speed.map { "\($0.description), \(threadCount) threads" }
            ?? "not measured on this machine yet (measured when a completion first loads it; --calibrate measures now)")
      )
    }
  }

  struct Tokenize: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Print the token ids of the text on stdin, space-separated on one line.",
      discussion:
        "Works on any GGUF with a tokenizer, vocabulary-only files included. Special-token text is not parsed as special tokens unless --special is given."
    )

    @Option(name: .long, help: "A GGUF file or a preset name (default: CODEGEN_LSP_MODEL or the default preset).")
    var model: String?

    @Flag(name: .long, help: "Prepend the beginning-of-sequence token.")
    var bos = false

    @Flag(name: .long, help: "Parse special-token text (such as <|fim_prefix|>) as special tokens.")
    var special = false

    func run() throws {
      let path = try resolveModelPath(ModelPresets.choose(configuration: nil, commandLine: model))
      let file = try GGUFFile(path: path)
      let tokenizer = try Tokenizer(gguf: file)
      let text = readAllStandardInput()
      let ids = tokenizer.encode(text, addBOS: bos, parseSpecial: special)
      print(ids.map(String.init).joined(separator: " "))
    }
  }
}

/// Resolves a preset name or path, or fails with the message that says how to get the model.
func resolveModelPath(_ spec: String) throws -> String {
  switch ModelPresets.locate(spec) {
  case .file(let path, _): return path
  case .missing(let message): throw ValidationError(message)
  }
}

/// Reads standard input to the end as UTF-8 (invalid bytes become U+FFFD).
func readAllStandardInput() -> String {
  let data = FileHandle.standardInput.readDataToEndOfFile()
  return String(decoding: data, as: UTF8.self)
}
