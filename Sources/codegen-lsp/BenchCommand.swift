import ArgumentParser
import Foundation
import GGUF
import Inference
import Kernels
import ModelCompletionProvider
import Sampling
import Tokenization

/// `codegen-lsp model bench`: engine speed, memory and the memory-bandwidth bound, for Benchmarks/.
struct BenchCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "bench",
    abstract: "Measure prefill and decode speed, resident memory, and decode speed against the memory bandwidth.",
    discussion: """
      Prefill evaluates --prompt-tokens tokens of real code (this binary's own source is not needed: the text \
      comes from --text-file, else a built-in Python snippet repeated) in one batched call; decode then appends \
      --decode-tokens tokens one at a time, greedily, through the same token loop as completions (Generator, penalties off). Each phase runs \
      --repeat times and the best run is reported. Bandwidth is measured by summing a 1 GiB buffer with every \
      thread; the bound is bandwidth divided by the bytes of weights one decode step reads.
      """)

  @Option(name: .long, help: "A GGUF file or a preset name.")
  var model: String?
  @Option(name: .long, help: "Prompt tokens for the prefill measurement.")
  var promptTokens: Int = 512
  @Option(name: .long, help: "Tokens generated for the decode measurement.")
  var decodeTokens: Int = 64
  @Option(name: .long, help: "Engine threads (0: one per core).")
  var threads: Int = 0
  @Option(name: .long, help: "Runs of each phase; the best is reported.")
  var `repeat`: Int = 3
  @Option(name: .long, help: "Text to tokenize for the prompt.")
  var textFile: String?
  @Option(name: .long, help: "KV cache element type: f16 (the default) or f32.")
  var kvCache: String = "f16"
  @Option(name: .long, help: "Tokens per batched prefill step (default: the engine's).")
  var prefillChunk: Int?
  @Option(
    name: .long,
    help:
      "Where the weights live: regrouped (the default: matrices regrouped at load in huge pages, the rest views into the file), all (every matrix copied into huge pages) or heap (regrouped copies in ordinary pages)."
  )
  var weights: String = "regrouped"
  @Flag(name: .long, help: "Print one JSON object instead of text.")
  var json = false

  func run() throws {
    let path = try resolveModelPath(ModelPresets.choose(configuration: nil, commandLine: model))
    var options = Inference.ModelOptions()
    options.threads = threads
    options.contextLimit = max(promptTokens + decodeTokens + 16, 1024)
    guard let type = KVCacheType(rawValue: kvCache) else {
      throw ValidationError("--kv-cache must be f16 or f32, not \(kvCache)")
    }
    options.kvCacheType = type
    let memories: [String: WeightMemory] = ["regrouped": .hugePages, "all": .hugePagesAll, "heap": .heap]
    guard let placement = memories[weights] else {
      throw ValidationError("--weights must be regrouped, all or heap, not \(weights)")
    }
    options.weightMemory = placement
    if let prefillChunk {
      guard prefillChunk >= 1 else { throw ValidationError("--prefill-chunk must be at least 1") }
      options.prefillChunk = prefillChunk
    }
    let loadStart = DispatchTime.now().uptimeNanoseconds
    let file = try GGUFFile(path: path)
    let model = try LanguageModel(file: file, options: options)
    let tokenizer = try Tokenizer(gguf: file)
    let loadSeconds = Double(DispatchTime.now().uptimeNanoseconds - loadStart) / 1e9
    let text: String
    if let textFile {
      text = try String(contentsOfFile: textFile, encoding: .utf8)
    } else {
      text = String(repeating: BenchCommand.sampleCode, count: 64)
    }
    var promptIDs = tokenizer.encode(text)
    guard promptIDs.count >= promptTokens else { throw ValidationError("the text has only \(promptIDs.count) tokens") }
    promptIDs = Array(promptIDs.prefix(promptTokens))

    var bestPrefill = Double.infinity
    var bestDecode = Double.infinity
    var generated: [Int32] = []
    for _ in 0..<max(1, self.repeat) {
      let session = InferenceSession(model: model)
      let t0 = DispatchTime.now().uptimeNanoseconds
      let evaluation = try session.evaluate(promptIDs)
      let t1 = DispatchTime.now().uptimeNanoseconds
      bestPrefill = min(bestPrefill, Double(t1 - t0) / 1e9)
      // Greedy decoding through the product's token loop, without stop conditions: `decodeTokens` forward passes.
      var settings = SamplerSettings()
      settings.penalties = false
      settings.computeLogprob = false
      let generator = Generator(session: session, tokenizer: tokenizer, sampler: try Sampler(settings: settings))
      let result = try generator.generate(
        continuing: promptIDs.count, logits: evaluation.logits,
        options: GenerationOptions(maxTokens: decodeTokens + 1, stopAtEndOfGeneration: false))
      generated = Array(result.tokens.prefix(decodeTokens))
      bestDecode = min(bestDecode, result.decodeSeconds * Double(decodeTokens) / Double(max(1, result.decodedTokens)))
    }
    let memory = BenchCommand.memoryStatus()
    let kvBytes = InferenceSession(model: model).kvBytesPerToken * (promptTokens + decodeTokens)
    let weightBytes = BenchCommand.bytesReadPerDecodeStep(file)
    let bandwidth = BenchCommand.measureReadBandwidth(threads: threads == 0 ? ThreadPool.defaultThreadCount : threads)
    let prefillRate = Double(promptTokens) / bestPrefill
    let decodeRate = Double(decodeTokens) / bestDecode
    let bound = bandwidth / Double(weightBytes)
    let result: [(String, String)] = [
      ("model", path), ("summary", model.summary),
      ("threads", "\(threads == 0 ? ThreadPool.defaultThreadCount : threads)"),
      ("load_seconds", String(format: "%.3f", loadSeconds)),
      ("prefill_tokens", "\(promptTokens)"), ("prefill_tokens_per_second", String(format: "%.1f", prefillRate)),
      ("decode_tokens", "\(decodeTokens)"), ("decode_tokens_per_second", String(format: "%.1f", decodeRate)),
      ("weights_bytes_per_decode_step", "\(weightBytes)"),
      ("read_bandwidth_gb_per_second", String(format: "%.2f", bandwidth / 1e9)),
      ("decode_bound_tokens_per_second", String(format: "%.1f", bound)),
      ("decode_fraction_of_bound", String(format: "%.2f", decodeRate / bound)),
      ("file_bytes", "\(file.fileSize)"), ("kv_cache_bytes", "\(kvBytes)"),
      ("rss_bytes", "\(memory.rss)"), ("peak_rss_bytes", "\(memory.peak)"),
      ("peak_rss_minus_file_minus_kv_mb", String(format: "%.1f", Double(memory.peak - file.fileSize - kvBytes) / 1e6)),
      ("decoded_text", tokenizer.decode(generated).debugDescription),
    ]
    if json {
      let body = result.map {
        "\"\($0.0)\": \(Double($0.1) != nil ? $0.1 : "\"" + $0.1.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\"")"
      }
      print("{" + body.joined(separator: ", ") + "}")
    } else {
      for (key, value) in result { print("\(key): \(value)") }
    }
  }

  /// VmRSS and VmHWM of this process, in bytes.
  static func memoryStatus() -> (rss: Int, peak: Int) {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return (0, 0) }
    func value(_ key: String) -> Int {
      guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix(key) }) else { return 0 }
      return (Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0) * 1024
    }
    return (value("VmRSS:"), value("VmHWM:"))
  }

  /// Bytes of weights one decode step reads: every 2-D weight, except that the token embedding contributes one
  /// row unless it doubles as the output head.
  static func bytesReadPerDecodeStep(_ file: GGUFFile) -> Int {
    let tied = file.tensor(named: "output.weight") == nil
    var total = 0
    for tensor in file.tensors {
      if tensor.name == "token_embd.weight" {
        total += tied ? tensor.byteCount : tensor.rowBytes
      } else {
        total += tensor.byteCount
      }
    }
    return total
  }

  /// Read bandwidth in bytes per second: the best of five sums of a 1 GiB buffer split over the threads.
  static func measureReadBandwidth(threads: Int) -> Double {
    let count = 1 << 28  // floats: 1 GiB
    let buffer = UnsafeMutablePointer<Float>.allocate(capacity: count)
    defer { buffer.deallocate() }
    buffer.initialize(repeating: 1, count: count)
    let pool = ThreadPool(threads: threads)
    var best = Double.infinity
    let sums = UnsafeMutablePointer<Float>.allocate(capacity: threads)
    defer { sums.deallocate() }
    for _ in 0..<5 {
      let start = DispatchTime.now().uptimeNanoseconds
      pool.run { thread, threadCount in
        let range = ThreadPool.chunk(count / 16, thread, threadCount)
        var acc0 = SIMD16<Float>(repeating: 0)
        var acc1 = SIMD16<Float>(repeating: 0)
        let raw = UnsafeRawPointer(buffer)
        var i = range.lowerBound
        while i + 1 < range.upperBound {
          acc0 += raw.load(fromByteOffset: i * 64, as: SIMD16<Float>.self)
          acc1 += raw.load(fromByteOffset: (i + 1) * 64, as: SIMD16<Float>.self)
          i += 2
        }
        sums[thread] = (acc0 + acc1).sum()
      }
      best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }
    return Double(count * 4) / best
  }

  static let sampleCode = """
    import os
    import sys
    from collections import defaultdict


    def read_config(path, defaults=None):
        \"\"\"Read a key=value configuration file into a dictionary.\"\"\"
        config = dict(defaults or {})
        with open(path, encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                line = line.strip()
                if not line or line.startswith("#"):
                    continue
                if "=" not in line:
                    raise ValueError(f"{path}:{number}: expected key=value, got {line!r}")
                key, value = line.split("=", 1)
                config[key.strip()] = value.strip()
        return config


    class Inventory:
        def __init__(self):
            self.items = defaultdict(int)

        def add(self, name, count=1):
            if count <= 0:
                raise ValueError("count must be positive")
            self.items[name] += count

        def remove(self, name, count=1):
            if self.items[name] < count:
                raise KeyError(name)
            self.items[name] -= count
            if self.items[name] == 0:
                del self.items[name]


    """
}
