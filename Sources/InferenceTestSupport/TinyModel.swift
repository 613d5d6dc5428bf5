import Foundation

/// Writes small random-weight GGUF models with a byte-level BPE vocabulary and FIM tokens, so that tests of the
/// completion pipeline run the real engine end to end without a downloaded model.
///
/// The weights are random (seeded), so the text a tiny model generates is gibberish, but it is deterministic and
/// exercises every stage: tokenizer, prompt, KV cache, sampling, stop conditions, detokenizer.
///
/// ```
/// let path = try TinyModel.temporaryFile()                 // written once per process and spec
/// let model = try LanguageModel(path: path)
/// ```
public enum TinyModel {
  /// The shape of a tiny model.
  public struct Spec: Hashable, Sendable {
    /// `qwen2` (NeoX rope, QKV biases) or `llama` (normal rope).
    public var architecture: String = "qwen2"
    public var embeddingLength: Int = 32
    public var blockCount: Int = 2
    public var headCount: Int = 4
    public var headCountKV: Int = 2
    public var feedForwardLength: Int = 64
    public var contextLength: Int = 1024
    /// The output head shares the embedding matrix.
    public var tiedOutput: Bool = true
    /// Include `<|fim_prefix|>`, `<|fim_suffix|>`, `<|fim_middle|>`, `<|fim_pad|>`, `<|repo_name|>`, `<|file_sep|>`.
    public var fimTokens: Bool = true
    /// Seed of the weights.
    public var seed: UInt64 = 1
    /// Tensors left out (to test the loader's errors).
    public var omitTensors: Set<String> = []
    /// Integer metadata written instead of (or in addition to) the computed values, keyed by full name.
    public var metadataOverrides: [String: UInt32] = [:]

    public init() {}
  }

  /// The special tokens, in id order after the byte tokens and merges.
  public static func specialTokens(_ spec: Spec) -> [String] {
    ["<|endoftext|>"]
      + (spec.fimTokens
        ? ["<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>", "<|fim_pad|>", "<|repo_name|>", "<|file_sep|>"] : [])
  }

  /// Merges of the vocabulary (byte-level spelling: `Ġ` is a space, `Ċ` a newline).
  public static let merges = [
    "Ġ Ġ", "ĠĠ ĠĠ", "Ġ t", "Ġ a", "e t", "r e", "i n", "Ġ =", "( )", "Ċ Ġ", "r e t", "u r", "ret ur", "retur n",
    "d e", "de f", "Ġ def", "Ġ return",
  ]

  private static let lock = NSLock()
  nonisolated(unsafe) private static var written: [Spec: String] = [:]

  /// Writes the model for `spec` into a temporary folder once per process and returns its path.
  public static func temporaryFile(_ spec: Spec = Spec()) throws -> String {
    lock.lock()
    defer { lock.unlock() }
    if let path = written[spec] { return path }
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
      "codegen-lsp-tiny-\(ProcessInfo.processInfo.processIdentifier)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    let path = dir.appendingPathComponent("tiny-\(spec.architecture)-\(spec.seed)-\(written.count).gguf").path
    try write(spec, to: path)
    written[spec] = path
    return path
  }

  /// Writes a tiny model as a GGUF v3 file at `path`.
  public static func write(_ spec: Spec = Spec(), to path: String) throws {
    precondition(spec.embeddingLength % spec.headCount == 0 && spec.headCount % spec.headCountKV == 0)
    let (tokens, types) = vocabulary(spec)
    let vocab = tokens.count
    let arch = spec.architecture
    var w = GGUFWriter()
    w.add("general.architecture", .string(arch))
    w.add("general.name", .string("tiny-\(arch)"))
    w.add("\(arch).context_length", .uint32(UInt32(spec.contextLength)))
    w.add("\(arch).embedding_length", .uint32(UInt32(spec.embeddingLength)))
    w.add("\(arch).block_count", .uint32(UInt32(spec.blockCount)))
    w.add("\(arch).feed_forward_length", .uint32(UInt32(spec.feedForwardLength)))
    w.add("\(arch).attention.head_count", .uint32(UInt32(spec.headCount)))
    w.add("\(arch).attention.head_count_kv", .uint32(UInt32(spec.headCountKV)))
    w.add("\(arch).attention.layer_norm_rms_epsilon", .float32(1e-6))
    w.add("\(arch).rope.freq_base", .float32(10000))
    w.add("tokenizer.ggml.model", .string("gpt2"))
    w.add("tokenizer.ggml.pre", .string(arch == "qwen2" ? "qwen2" : "gpt-2"))
    w.add("tokenizer.ggml.tokens", .strings(tokens))
    w.add("tokenizer.ggml.token_type", .int32s(types))
    w.add("tokenizer.ggml.merges", .strings(merges))
    let eot = Int32(tokens.firstIndex(of: "<|endoftext|>")!)
    w.add("tokenizer.ggml.bos_token_id", .uint32(UInt32(eot)))
    w.add("tokenizer.ggml.eos_token_id", .uint32(UInt32(eot)))
    w.add("tokenizer.ggml.add_bos_token", .bool(false))
    for (key, value) in spec.metadataOverrides.sorted(by: { $0.key < $1.key }) { w.add(key, .uint32(value)) }
    w.omit = spec.omitTensors

    var rng = SplitMix64(seed: spec.seed)
    let d = spec.embeddingLength
    let hd = d / spec.headCount
    let kv = spec.headCountKV * hd
    let ffn = spec.feedForwardLength
    func matrix(_ rows: Int, _ cols: Int, scale: Float) -> [Float] {
      (0..<(rows * cols)).map { _ in rng.normal() * scale / Float(cols).squareRoot() }
    }
    func norm(_ n: Int) -> [Float] { (0..<n).map { _ in 1 + 0.1 * rng.normal() } }
    func bias(_ n: Int) -> [Float] { (0..<n).map { _ in 0.2 * rng.normal() } }
    w.tensor("token_embd.weight", [d, vocab], (0..<(vocab * d)).map { _ in rng.normal() })
    for i in 0..<spec.blockCount {
      let b = "blk.\(i)."
      w.tensor(b + "attn_norm.weight", [d], norm(d))
      w.tensor(b + "attn_q.weight", [d, d], matrix(d, d, scale: 1.5))
      w.tensor(b + "attn_k.weight", [d, kv], matrix(kv, d, scale: 1.5))
      w.tensor(b + "attn_v.weight", [d, kv], matrix(kv, d, scale: 1.5))
      if arch == "qwen2" {
        w.tensor(b + "attn_q.bias", [d], bias(d))
        w.tensor(b + "attn_k.bias", [kv], bias(kv))
        w.tensor(b + "attn_v.bias", [kv], bias(kv))
      }
      w.tensor(b + "attn_output.weight", [d, d], matrix(d, d, scale: 1.5))
      w.tensor(b + "ffn_norm.weight", [d], norm(d))
      w.tensor(b + "ffn_gate.weight", [d, ffn], matrix(ffn, d, scale: 1.5))
      w.tensor(b + "ffn_up.weight", [d, ffn], matrix(ffn, d, scale: 1.5))
      w.tensor(b + "ffn_down.weight", [ffn, d], matrix(d, ffn, scale: 1.5))
    }
    w.tensor("output_norm.weight", [d], norm(d))
    if !spec.tiedOutput { w.tensor("output.weight", [d, vocab], matrix(vocab, d, scale: 1.5)) }
    try w.data().write(to: URL(fileURLWithPath: path))
  }

  /// Byte tokens (GPT-2's byte-to-unicode spelling, in byte order), the merged tokens, then the specials.
  static func vocabulary(_ spec: Spec) -> ([String], [Int32]) {
    var printable = Array(33...126) + Array(161...172) + Array(174...255)
    var map = [Int: Int]()
    for b in printable { map[b] = b }
    var extra = 0
    for b in 0..<256 where map[b] == nil {
      map[b] = 256 + extra
      printable.append(b)
      extra += 1
    }
    var tokens = (0..<256).map { String(UnicodeScalar(UInt32(map[$0]!))!) }
    for merge in merges {
      let parts = merge.split(separator: " ")
      tokens.append(String(parts[0]) + String(parts[1]))
    }
    var types = [Int32](repeating: 1, count: tokens.count)
    for special in specialTokens(spec) {
      tokens.append(special)
      types.append(3)
    }
    return (tokens, types)
  }
}

/// SplitMix64 (Steele, Lea & Flood 2014): a tiny seeded generator for reproducible test weights.
struct SplitMix64 {
  var state: UInt64
  init(seed: UInt64) { state = seed }
  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
  /// Uniform in [0, 1).
  mutating func uniform() -> Float { Float(next() >> 40) / Float(1 << 24) }
  /// Standard normal (Box–Muller).
  mutating func normal() -> Float {
    let u1 = max(uniform(), 1e-7)
    let u2 = uniform()
    return (-2 * log(u1)).squareRoot() * cos(2 * Float.pi * u2)
  }
}

/// A minimal GGUF v3 writer: metadata of the types the tiny models need and F32 tensors (layout as in
/// `GGUF.GGUFFile`'s doc comment; alignment 32).
public struct GGUFWriter {
  /// A metadata value.
  public enum Value {
    case uint32(UInt32)
    case float32(Float)
    case bool(Bool)
    case string(String)
    case strings([String])
    case int32s([Int32])
  }

  private var kv: [(String, Value)] = []
  private var tensors: [(name: String, dims: [Int], data: [Float])] = []
  /// Tensor names `tensor(_:_:_:)` ignores.
  public var omit: Set<String> = []

  public init() {}

  /// Adds a metadata key (replacing an earlier value of the same key).
  public mutating func add(_ key: String, _ value: Value) {
    kv.removeAll { $0.0 == key }
    kv.append((key, value))
  }

  /// Adds an F32 tensor; `dims` are ggml's (ne0 first: the row length).
  public mutating func tensor(_ name: String, _ dims: [Int], _ data: [Float]) {
    precondition(dims.reduce(1, *) == data.count, "tensor \(name): \(data.count) values for shape \(dims)")
    if omit.contains(name) { return }
    tensors.append((name, dims, data))
  }

  /// The file's bytes.
  public func data() -> Data {
    var out = Data()
    func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
    func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
    func str(_ s: String) {
      u64(UInt64(s.utf8.count))
      out.append(contentsOf: Array(s.utf8))
    }
    func pad() { while out.count % 32 != 0 { out.append(0) } }
    u32(0x4655_4747)
    u32(3)
    u64(UInt64(tensors.count))
    u64(UInt64(kv.count))
    for (key, value) in kv {
      str(key)
      switch value {
      case .uint32(let v):
        u32(4)
        u32(v)
      case .float32(let v):
        u32(6)
        u32(v.bitPattern)
      case .bool(let v):
        u32(7)
        out.append(v ? 1 : 0)
      case .string(let s):
        u32(8)
        str(s)
      case .strings(let a):
        u32(9)
        u32(8)
        u64(UInt64(a.count))
        for s in a { str(s) }
      case .int32s(let a):
        u32(9)
        u32(5)
        u64(UInt64(a.count))
        for v in a { u32(UInt32(bitPattern: v)) }
      }
    }
    var offset = 0
    for t in tensors {
      str(t.name)
      u32(UInt32(t.dims.count))
      for d in t.dims { u64(UInt64(d)) }
      u32(0)  // F32
      u64(UInt64(offset))
      offset += (t.data.count * 4 + 31) / 32 * 32
    }
    pad()
    for t in tensors {
      for v in t.data { u32(v.bitPattern) }
      pad()
    }
    return out
  }
}
