import ArgumentParser
import Foundation
import GGUF
import Inference
import ModelCompletionProvider
import Sampling
import Tokenization

/// `codegen-lsp generate`: continue a raw prompt from stdin, streaming to stdout, so any model can be tried.
struct GenerateCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "generate",
    abstract: "Continue the prompt on stdin with the model and stream the text to stdout.",
    discussion: """
      The prompt is used as is (special-token text such as <|fim_prefix|> is parsed as special tokens with
      --special); BOS is added when the model asks for it. Generation stops at an end-of-generation token, a
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
    let file = try GGUFFile(path: path)
    var options = Inference.ModelOptions()
    options.threads = threads
    let languageModel = try LanguageModel(file: file, options: options)
    let tokenizer = try Tokenizer(gguf: file)
    let session = InferenceSession(model: languageModel)
    let prompt = readAllStandardInput()
    let ids = tokenizer.encode(prompt, addBOS: tokenizer.addBOSByDefault, parseSpecial: special)
    guard !ids.isEmpty else { throw ValidationError("the prompt is empty") }
    var settings = SamplerSettings()
    settings.temperature = greedy ? 0 : temperature
    settings.topK = topK
    settings.topP = topP
    settings.minP = 0
    settings.seed = seed
    settings.penalties = false
    let sampler = try Sampler(settings: settings)
    let start = DispatchTime.now().uptimeNanoseconds
    var logits = try session.evaluate(ids).logits
    let prefillDone = DispatchTime.now().uptimeNanoseconds
    var detokenizer = StreamingDetokenizer(tokenizer: tokenizer)
    var text = ""
    var printed = 0
    var generated = 0
    let maxStop = stop.map { $0.utf8.count }.max() ?? 0
    loop: while generated < maxTokens {
      let token = try sampler.sample(logits: logits).token
      if tokenizer.isEndOfGeneration(token) { break }
      sampler.accept(token)
      generated += 1
      text += detokenizer.append(token)
      for s in stop {
        if let range = text.range(of: s) {
          text = String(text[..<range.lowerBound])
          break loop
        }
      }
      // Hold back as many bytes as the longest stop string could still need.
      let bytes = Array(text.utf8)
      let safe = max(printed, bytes.count - max(0, maxStop - 1))
      if safe > printed, let chunk = String(validatingUTF8: bytes[printed..<safe].map { CChar(bitPattern: $0) } + [0]) {
        FileHandle.standardOutput.write(Data(chunk.utf8))
        printed = safe
      }
      logits = try session.append(token)
    }
    text += detokenizer.flush()
    let bytes = Array(text.utf8)
    if bytes.count > printed { FileHandle.standardOutput.write(Data(bytes[printed...])) }
    FileHandle.standardOutput.write(Data("\n".utf8))
    if verbose {
      let end = DispatchTime.now().uptimeNanoseconds
      let prefill = Double(prefillDone - start) / 1e9
      let decode = Double(end - prefillDone) / 1e9
      FileHandle.standardError.write(Data(String(
        format: "prompt %d tokens in %.2f s (%.1f t/s), generated %d tokens in %.2f s (%.1f t/s)\n",
        ids.count, prefill, Double(ids.count) / prefill, generated, decode, Double(generated) / max(decode, 1e-9)
      ).utf8))
    }
  }
}
