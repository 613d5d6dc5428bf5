import GGUF
import Kernels

/// The model families the engine runs.
public enum Architecture: String, Sendable, CaseIterable {
  /// Llama and its descendants (SmolLM2, DeepSeek-Coder, ...): q/k weights permuted for ggml's normal rope.
  case llama
  /// Qwen2 and Qwen2.5 (Qwen2.5-Coder, DeepSeek-R1-Distill-Qwen): NeoX rope, QKV biases.
  case qwen2
}

/// The hyperparameters of a llama-family transformer, read from GGUF metadata (`{arch}.*` keys).
public struct ModelConfig: Sendable, Equatable {
  public var architecture: Architecture
  /// `general.name`, or the file name when absent.
  public var name: String
  /// Vocabulary size (rows of `token_embd`).
  public var vocabularySize: Int
  /// Model width (`embedding_length`).
  public var embeddingLength: Int
  /// Number of transformer blocks (`block_count`).
  public var blockCount: Int
  /// Hidden width of the SwiGLU feed-forward (`feed_forward_length`).
  public var feedForwardLength: Int
  /// Attention heads of the queries (`attention.head_count`).
  public var headCount: Int
  /// Key/value heads (`attention.head_count_kv`; fewer than `headCount` for grouped-query attention).
  public var headCountKV: Int
  /// Dimension of one head (`attention.key_length`, default `embeddingLength / headCount`).
  public var headDimension: Int
  /// Epsilon of RMSNorm (`attention.layer_norm_rms_epsilon`).
  public var rmsNormEpsilon: Float
  /// RoPE base frequency (`rope.freq_base`, default 10000).
  public var ropeFrequencyBase: Float
  /// Rotated dimensions per head (`rope.dimension_count`, default the head dimension).
  public var ropeDimensionCount: Int
  /// Position multiplier of linear RoPE scaling: 1 / `rope.scaling.factor` when `rope.scaling.type` is linear,
  /// else 1.
  public var ropeFrequencyScale: Float
  /// Pairing of rotated dimensions, from the architecture (llama.cpp `llama_model_rope_type`): llama files store
  /// q/k permuted for the normal (adjacent pairs) rope, qwen2 uses NeoX (halves).
  public var ropeStyle: RopeStyle
  /// The context length the model was trained for (`context_length`).
  public var trainedContextLength: Int
  /// The context window used: the trained length, capped by the limit given at load time.
  public var contextLength: Int

  /// Width of all query heads together.
  public var queryDimension: Int { headCount * headDimension }
  /// Width of all key (or value) heads together.
  public var kvDimension: Int { headCountKV * headDimension }

  /// Reads the hyperparameters of `file`.
  ///
  /// - Parameters:
  ///   - file: an opened GGUF model.
  ///   - contextLimit: upper bound on the context window (the model's own length applies when lower); nil for none.
  /// - Throws: `InferenceError.unsupportedArchitecture` or `.invalidMetadata`, naming the file.
  /// The shortest trained context window a model may declare.
  public static let minimumContextLength = 16

  public init(file: GGUFFile, contextLimit: Int? = nil) throws(InferenceError) {
    let path = file.path
    guard let archName = file.string("general.architecture") else {
      throw .invalidMetadata(path: path, key: "general.architecture", reason: "missing")
    }
    guard let arch = Architecture(rawValue: archName) else {
      throw .unsupportedArchitecture(path: path, architecture: archName)
    }
    func int(_ key: String, default value: Int? = nil) throws(InferenceError) -> Int {
      let full = "\(archName).\(key)"
      if let v = file.int(full) {
        guard v > 0 else { throw .invalidMetadata(path: path, key: full, reason: "must be positive, is \(v)") }
        return v
      }
      if let value { return value }
      throw .invalidMetadata(path: path, key: full, reason: "missing")
    }
    func float(_ key: String, default value: Float? = nil) throws(InferenceError) -> Float {
      let full = "\(archName).\(key)"
      if let v = file.float(full) { return v }
      if let value { return value }
      throw .invalidMetadata(path: path, key: full, reason: "missing")
    }

    architecture = arch
    name = file.string("general.name") ?? String(path.split(separator: "/").last ?? "")
    embeddingLength = try int("embedding_length")
    blockCount = try int("block_count")
    feedForwardLength = try int("feed_forward_length")
    headCount = try int("attention.head_count")
    headCountKV = try int("attention.head_count_kv", default: headCount)
    guard headCount % headCountKV == 0 else {
      throw .invalidMetadata(
        path: path, key: "\(archName).attention.head_count_kv",
        reason: "\(headCountKV) does not divide the head count \(headCount)")
    }
    guard embeddingLength % headCount == 0 || file.int("\(archName).attention.key_length") != nil else {
      throw .invalidMetadata(
        path: path, key: "\(archName).attention.head_count",
        reason: "\(headCount) does not divide the embedding length \(embeddingLength)")
    }
    headDimension = try int("attention.key_length", default: embeddingLength / headCount)
    if let valueLength = file.int("\(archName).attention.value_length"), valueLength != headDimension {
      throw .invalidMetadata(
        path: path, key: "\(archName).attention.value_length",
        reason: "\(valueLength) differs from the key length \(headDimension)")
    }
    rmsNormEpsilon = try float("attention.layer_norm_rms_epsilon", default: 1e-5)
    ropeFrequencyBase = try float("rope.freq_base", default: 10000)
    ropeDimensionCount = try int("rope.dimension_count", default: headDimension)
    guard ropeDimensionCount <= headDimension, ropeDimensionCount % 2 == 0 else {
      throw .invalidMetadata(
        path: path, key: "\(archName).rope.dimension_count",
        reason: "\(ropeDimensionCount) must be even and at most the head dimension \(headDimension)")
    }
    let scalingType = file.string("\(archName).rope.scaling.type") ?? "none"
    switch scalingType {
    case "none":
      ropeFrequencyScale = 1
    case "linear":
      let factor = try float("rope.scaling.factor", default: 1)
      guard factor > 0 else {
        throw .invalidMetadata(path: path, key: "\(archName).rope.scaling.factor", reason: "must be positive")
      }
      ropeFrequencyScale = 1 / factor
    default:
      throw .invalidMetadata(
        path: path, key: "\(archName).rope.scaling.type",
        reason: "'\(scalingType)' is not supported (none or linear)")
    }
    ropeStyle = arch == .llama ? .normal : .neox
    trainedContextLength = try int("context_length", default: 2048)
    guard trainedContextLength >= Self.minimumContextLength else {
      throw .invalidMetadata(
        path: path, key: "\(archName).context_length",
        reason:
          "\(trainedContextLength) tokens is too short to complete anything (at least \(Self.minimumContextLength))")
    }
    if let contextLimit {
      guard contextLimit > 0 else { throw .invalidArgument("context limit must be positive, is \(contextLimit)") }
      contextLength = min(trainedContextLength, contextLimit)
    } else {
      contextLength = trainedContextLength
    }
    // The vocabulary size comes from the embedding matrix, the only authority the forward pass needs.
    guard let embd = file.tensor(named: "token_embd.weight") else {
      throw .missingTensor(path: path, name: "token_embd.weight")
    }
    guard embd.dimensions.count == 2, embd.dimensions[0] == embeddingLength else {
      throw .wrongShape(
        path: path, name: "token_embd.weight", expected: [embeddingLength, file.int("\(archName).vocab_size") ?? -1],
        found: embd.dimensions)
    }
    vocabularySize = embd.dimensions[1]
  }
}
