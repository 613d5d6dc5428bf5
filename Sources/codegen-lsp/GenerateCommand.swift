import ArgumentParser
import Foundation
import Inference
import ModelCompletionProvider

/// `codegen-lsp generate`: continue a raw prompt from stdin, streaming to stdout, so any model can be tried.
struct GenerateCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "generate",
    abstract: "Continue the prompt on stdin with the model and stream the text to stdout.",
    discussion: """
      The prompt is used as is (special-token text such as <|fim_prefix|> is parsed as special tokens with \
      --special); BOS is added when the model asks for it. Generation stops at an end-of-generation token, a \
      --stop string, or --max-tokens. Sampling is greedy with --greedy or --temperature 0.
      """)

  @Option(name: .long, help: "A model preset or a GGUF path (default: CODEGEN_LSP_MODEL, else qwen2.5-coder-0.5b).")
  var model: String?
  @Option(name: .long, help: "Most tokens to generate.")
  var maxTokens: Int = 128
  @Option(name: .long, help: "Softmax temperature (0 is greedy).")
  var temperature: Double = 0.7
  @Option(name: .long, help: "Top-k filter (0 disables).")
  var topK: Int = 40
  @Option(name: .long, help: "Top-p filter (1 disables).")
  var topP: Double = 0.95
  @Option(name: .long, help: "Seed of the random choices.")
  var seed: UInt64 = 42
  @Flag(name: .long, help: "Always pick the most likely token.")
  var greedy = false
  @Flag(name: .long, help: "Parse special-token text in the prompt as special tokens.")
  var special = false
  @Option(name: .long, help: "Stop when this text appears (repeatable).")
  var stop: [String] = []
  @Option(name: .long, help: "Engine threads (0: one per core).")
  var threads: Int = 0
  @Flag(name: .long, help: "Print timing to stderr at the end.")
  var verbose = false

  func run() throws {
    let path = try resolveModelPath(ModelPresets.choose(configuration: nil, commandLine: model))
    var options = Inference.ModelOptions()
    options.threads = threads
    let languageModel = try LanguageModel(path: path, options: options)
    let prompt = readAllStandardInput()
    var parameters = GenerateParameters()
    parameters.maxTokens = maxTokens
    parameters.temperature = temperature
    parameters.topK = topK
    parameters.topP = topP
    parameters.minP = 0
    parameters.seed = seed
    parameters.greedy = greedy
    parameters.stopStrings = stop
    parameters.parseSpecial = special
    let result = try languageModel.generate(prompt: prompt, parameters: parameters) { piece in
      FileHandle.standardOutput.write(Data(piece.utf8))
    }
    FileHandle.standardOutput.write(Data("\n".utf8))
    if verbose {
      let timing = String(
        format: "prompt %d tokens in %.2f s (%.1f t/s), generated %d tokens in %.2f s (%.1f t/s)",
        result.promptTokens, result.prefillSeconds, Double(result.promptTokens) / max(result.prefillSeconds, 1e-9),
        result.tokens.count, result.decodeSeconds, Double(result.tokens.count) / max(result.decodeSeconds, 1e-9))
      FileHandle.standardError.write(Data("\(timing), stopped by \(result.stopReason)\n".utf8))
    }
  }
}
