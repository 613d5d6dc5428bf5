/// Inference: runs llama-family GGUF models (llama, qwen2) on the CPU: model config, weight views, KV cache,
/// forward pass, and the generation loop.
///
/// ## API summary
/// ```
/// let model = try LanguageModel(path: "qwen2.5-coder-0.5b.gguf",           // throws InferenceError naming the file
///                               options: ModelOptions(contextLimit: 4096, threads: 0, kvCacheType: .f16))
/// model.config                    // ModelConfig: architecture, sizes, heads, rope (style, base, linear scale), context
/// model.weights                   // ModelWeights: Kernels.WeightMatrix views into the mapping, F32 norms in place
/// model.tokenizer                 // Tokenization.Tokenizer from the file's metadata
///
/// let session = InferenceSession(model: model)      // KV cache + scratch; one thread at a time
/// let e = try session.evaluate(ids, allLogits: false, shouldStop: { token.shouldStop })
///     // reuses the longest cached prefix; e.logits (vocab), e.reusedTokens, e.computedTokens, e.completed
/// let next = try session.append(token)              // one decode step, logits after it
/// try session.rollback(to: n); session.reset(); session.tokens
///
/// let generator = Generator(session: session, tokenizer: tok, sampler: try Sampler(settings: s))
/// generator.adjustLogits = { logits, generated in ... }        // before each sampling step
/// generator.onText = { piece in ... }                          // streamed text, stop strings held back
/// let r = try generator.generate(prompt: ids, options: GenerationOptions(maxTokens:, stopStrings:,
///                                deadlineNanoseconds:, shouldCancel:)) { event in .proceed / .stop(reason) }
///     // r.text, r.tokens, r.logprobs, r.stopReason (StopReason)
///
/// try model.generate(prompt: "def f(", parameters: GenerateParameters(maxTokens: 64, greedy: true)) { print($0) }
/// ```
///
/// - Important: `LanguageModel` is immutable and shareable between threads; an `InferenceSession` (and the
///   `Generator` on it) is used from one thread at a time and owns its worker pool.

import GGUF
import Kernels
import Tokenization

/// How to load and run a model.
public struct ModelOptions: Sendable, Equatable {
  /// Upper bound on the context window in tokens (the model's trained length applies when lower); nil for none.
  public var contextLimit: Int? = 4096
  /// Worker threads of the engine (0: one per core).
  public var threads: Int = 0
  /// Element type of the key/value cache. F16 (as llama.cpp's default): half the memory and faster decode at long
  /// context, with top-1 agreement against transformers as with F32 (Benchmarks/RESULTS.md). F32 is exact.
  public var kvCacheType: KVCacheType = .f16
  /// For measuring a slower machine on this one (benchmarks only): after each prefill chunk and decode step the
  /// session waits so that it takes this many times as long (1: full speed). Not a configuration key.
  public var slowdown: Double = 1
  /// Tokens per batched prefill step (each step dequantises the weights once, so larger steps prefill faster);
  /// cancellation is checked between steps and between the layers of a step.
  public var prefillChunk: Int = 256
  /// Keep decode activations in F32 (dequantise each weight row) instead of quantising them to 8 bits as
  /// llama.cpp does: slower, for accuracy checks.
  public var exactProducts: Bool = false
  /// Load the tokenizer from the file's `tokenizer.ggml.*` metadata (tests of bare weights turn it off).
  public var loadTokenizer: Bool = true
  /// Regroup Q5_0, Q4_1 and Q8_0 matrices at load into the layout of the faster decode kernels (same size;
  /// Kernels' BlockGroups.swift). False keeps every weight a view into the mapping (benchmarks compare the two).
  public var repackWeights: Bool = true
  /// With `repackWeights`, regroup Q8_0 matrices too (false keeps them in the file layout; benchmarks compare).
  public var repackQ8_0: Bool = true
  /// Where the weight matrices live. By default the matrices regrouped at load (copies in any case) go into memory
  /// in 2 MiB transparent huge pages (Kernels' WeightArena.swift) and every other matrix stays a view into the file
  /// mapping, as the GGUF reader gives it. `.hugePagesAll` copies every matrix there too (the file's pages are
  /// released, so the resident size stays that of the file); it measured within the noise of the default
  /// (Benchmarks/RESULTS.md), so the default keeps the views.
  public var weightMemory: WeightMemory = .hugePages
  /// Kernel choices of the decode products (the defaults are the measured best; benchmarks compare others).
  public var matVecOptions = MatVecOptions()
  /// Decode each token as one dispatch to the worker pool, its threads meeting at spin barriers between dependent
  /// steps (false: one dispatch per group of products, as prefill does; benchmarks compare the two).
  public var fusedDecode: Bool = true
  /// How the fused decode step hands out the rows of each product to the threads.
  public var decodeSchedule: RowSchedule = .stealing
  /// Whether the decode step's spin barriers run `pause` between polls (benchmarks compare the two).
  public var spinPause: Bool = true

  public init(
    contextLimit: Int? = 4096, threads: Int = 0, kvCacheType: KVCacheType = .f16, prefillChunk: Int = 256,
    exactProducts: Bool = false, loadTokenizer: Bool = true, repackWeights: Bool = true,
    matVecOptions: MatVecOptions = MatVecOptions(), fusedDecode: Bool = true
  ) {
    self.fusedDecode = fusedDecode
    self.repackWeights = repackWeights
    self.matVecOptions = matVecOptions
    self.exactProducts = exactProducts
    self.contextLimit = contextLimit
    self.threads = threads
    self.kvCacheType = kvCacheType
    self.prefillChunk = prefillChunk
    self.loadTokenizer = loadTokenizer
  }
}

/// A loaded model: hyperparameters, weights (views into the mapped file) and tokenizer. Immutable and shareable;
/// each `InferenceSession` made from it owns its own KV cache and scratch buffers.
///
/// ```
/// let model = try LanguageModel(path: "qwen2.5-coder-0.5b.gguf")
/// let session = try InferenceSession(model: model)
/// let result = try session.evaluate(model.tokenizer!.encode("def fib(n):"))
/// ```
public final class LanguageModel: @unchecked Sendable {
  /// The file it was loaded from.
  public let path: String
  public let config: ModelConfig
  public let weights: ModelWeights
  /// The tokenizer from the file's metadata; nil when `ModelOptions.loadTokenizer` was false.
  public let tokenizer: Tokenizer?
  public let options: ModelOptions

  /// Maps `path` and checks every tensor.
  ///
  /// - Throws: `InferenceError` naming the file: unreadable GGUF, unsupported architecture, missing tensor,
  ///   wrong shape, unsupported tensor type, or a tokenizer that cannot be built.
  public convenience init(path: String, options: ModelOptions = ModelOptions()) throws(InferenceError) {
    let file: GGUFFile
    do { file = try GGUFFile(path: path) } catch { throw .file(error) }
    try self.init(file: file, options: options)
  }

  /// Uses an already opened file.
  public init(file: GGUFFile, options: ModelOptions = ModelOptions()) throws(InferenceError) {
    path = file.path
    self.options = options
    config = try ModelConfig(file: file, contextLimit: options.contextLimit)
    weights = try ModelWeights(
      file: file, config: config, repack: options.repackWeights, repackQ8_0: options.repackQ8_0,
      memory: options.weightMemory)
    if options.loadTokenizer {
      do {
        tokenizer = try Tokenizer(gguf: file)
      } catch {
        throw .tokenizer(path: file.path, reason: "\(error)")
      }
      if let tokenizer, tokenizer.vocabularySize > config.vocabularySize {
        throw .tokenizer(
          path: file.path,
          reason: "\(tokenizer.vocabularySize) tokens but the embedding has only \(config.vocabularySize) rows")
      }
    } else {
      tokenizer = nil
    }
  }

  /// Bytes of the model file.
  public var fileSize: Int { weights.file.fileSize }

  /// A one-line description: name, architecture, size and weight types.
  public var summary: String {
    var counts = [String: Int]()
    for t in weights.file.tensors where t.dimensions.count == 2 { counts[t.type.name, default: 0] += 1 }
    let types = counts.sorted { $0.value > $1.value }.map { "\($0.key)×\($0.value)" }.joined(separator: " ")
    return
      "\(config.name) (\(config.architecture.rawValue), \(config.blockCount) layers, d=\(config.embeddingLength), "
      + "heads \(config.headCount)/\(config.headCountKV), ctx \(config.contextLength), \(types))"
  }
}
