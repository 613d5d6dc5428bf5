import GGUF
import Kernels

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A vector of F32 parameters (norm weights, biases): a view into the mapping when stored as F32, else a converted
/// copy (a few KB at most).
public struct WeightVector: @unchecked Sendable {
  public let name: String
  public let count: Int
  /// Points into the mapping, or into `storage`.
  public let pointer: UnsafePointer<Float>
  /// Keeps a converted copy alive when the file stores the vector as another type.
  private let storage: FloatStorage?

  init(name: String, count: Int, pointer: UnsafePointer<Float>, storage: FloatStorage?) {
    self.name = name
    self.count = count
    self.pointer = pointer
    self.storage = storage
  }
}

/// The tensors of one transformer block.
public struct LayerWeights: Sendable {
  public let attentionNorm: WeightVector  // (embd)
  public let wq: WeightMatrix  // (qDim, embd)
  public let wk: WeightMatrix  // (kvDim, embd)
  public let wv: WeightMatrix  // (kvDim, embd)
  public let bq: WeightVector?  // (qDim)
  public let bk: WeightVector?  // (kvDim)
  public let bv: WeightVector?  // (kvDim)
  public let wo: WeightMatrix  // (embd, qDim)
  public let ffnNorm: WeightVector  // (embd)
  public let wGate: WeightMatrix  // (ffn, embd)
  public let wUp: WeightMatrix  // (ffn, embd)
  public let wDown: WeightMatrix  // (embd, ffn)
}

/// All weights of a model as views into the mapped GGUF file (llama2.c's `TransformerWeights`).
///
/// - Important: holds the `GGUFFile` so the mapping outlives every view. Immutable; safe to share between threads.
public final class ModelWeights: @unchecked Sendable {
  /// The mapped file the views point into.
  public let file: GGUFFile
  public let tokenEmbedding: WeightMatrix  // (vocab, embd)
  public let layers: [LayerWeights]
  public let outputNorm: WeightVector  // (embd)
  /// The output head (vocab, embd): `output.weight`, or `token_embd.weight` when the file ties them.
  public let output: WeightMatrix
  /// True when `output.weight` is absent and the embeddings double as the output head.
  public let tiedOutput: Bool
  /// Owners of the matrices regrouped at load (Q5_0, Q4_1 and Q8_0 rows, see Kernels' BlockGroups.swift); empty when none were.
  public let packedStorage: [PackedWeightStorage]
  /// The huge-page arena holding the copied matrices (`WeightMemory`), nil when none were copied there.
  public let arena: WeightArena?

  /// Finds and checks every tensor `config` needs in `file`.
  ///
  /// - Parameter repack: regroup Q5_0, Q4_1 and Q8_0 matrices into the layout of the faster decode kernels (a copy
  ///   of the same size; the mapped pages of the original are released, so the resident size stays that of the file). With
  ///   false, or without AVX2, every matrix stays a view into the mapping.
  /// - Throws: `InferenceError.missingTensor`, `.wrongShape` or `.unsupportedTensorType`, naming the file.
  /// - Parameter memory: where the copies go (`WeightMemory`): with `.hugePagesAll` every matrix but an untied
  ///   embedding table is copied (the file's pages released) into a huge-page arena, with `.hugePages` the
  ///   regrouped ones only.
  /// - Parameter repackQ8_0: with `repack`, regroup Q8_0 matrices too (benchmarks compare the two layouts).
  public init(
    file: GGUFFile, config: ModelConfig, repack: Bool = true, repackQ8_0: Bool = true,
    memory: WeightMemory = .hugePages
  ) throws(InferenceError) {
    self.file = file
    var storage: [PackedWeightStorage] = []
    let regroup = repack && QuantTraits.cpuHasAVX2FMA
    // Room for every 2-D tensor of the file: what is not used is never touched, so costs no memory.
    let arena = memory == .heap ? nil : WeightArena(capacity: file.tensors.reduce(0) { $0 + $1.byteCount + 64 })
    let copiesAll = memory == .hugePagesAll
    let path = file.path
    let embd = config.embeddingLength

    func matrix(_ name: String, rows: Int, cols: Int, repackable: Bool = true) throws(InferenceError) -> WeightMatrix {
      guard let info = file.tensor(named: name) else { throw .missingTensor(path: path, name: name) }
      guard info.dimensions.count == 2, info.dimensions[0] == cols, info.dimensions[1] == rows else {
        throw .wrongShape(path: path, name: name, expected: [cols, rows], found: info.dimensions)
      }
      guard QuantTraits.isSupported(info.type) else {
        throw .unsupportedTensorType(path: path, name: name, type: info.type.name)
      }
      let view = WeightMatrix(rows: rows, cols: cols, type: info.type, data: file.data(for: info).baseAddress!)
      let regroups = regroup && repackable && BlockGroups.regroups(view, q8_0: repackQ8_0)
      if regroups || (copiesAll && repackable), let arena, let dst = arena.allocate(view.byteCount) {
        let copy: WeightMatrix
        if regroups {
          copy = BlockGroups.regrouped(view, into: dst)
        } else {
          dst.copyMemory(from: view.data, byteCount: view.byteCount)
          copy = WeightMatrix(rows: rows, cols: cols, type: info.type, data: dst)
        }
        releasePages(view.data, byteCount: view.byteCount)
        return copy
      }
      guard regroups, let (packed, owner) = BlockGroups.repack(view, q8_0: repackQ8_0) else { return view }
      storage.append(owner)
      releasePages(view.data, byteCount: view.byteCount)
      return packed
    }

    func vector(_ name: String, count: Int) throws(InferenceError) -> WeightVector {
      guard let info = file.tensor(named: name) else { throw .missingTensor(path: path, name: name) }
      guard info.elementCount == count, info.dimensions[0] == count else {
        throw .wrongShape(path: path, name: name, expected: [count], found: info.dimensions)
      }
      let data = file.data(for: info)
      switch info.type {
      case .f32:
        // Tensor data offsets are multiples of the alignment (>= 4 in every real file); fall back to a copy if not.
        if Int(bitPattern: data.baseAddress!) % MemoryLayout<Float>.alignment == 0 {
          return WeightVector(
            name: name, count: count, pointer: data.baseAddress!.assumingMemoryBound(to: Float.self), storage: nil)
        }
        let copy = (0..<count).map { data.loadUnaligned(fromByteOffset: $0 * 4, as: Float.self) }
        return WeightVector(name: name, count: count, storage: copy)
      case .f16, .bf16:
        return WeightVector(name: name, count: count, storage: info.type.dequantize(data.baseAddress!, count: count))
      default:
        throw .unsupportedTensorType(path: path, name: name, type: info.type.name)
      }
    }

    func optionalVector(_ name: String, count: Int) throws(InferenceError) -> WeightVector? {
      file.tensor(named: name) == nil ? nil : try vector(name, count: count)
    }

    let vocab = config.vocabularySize
    // The embeddings are only looked up row by row unless they double as the output head: regrouping them would
    // cost memory for no speed.
    tokenEmbedding = try matrix(
      "token_embd.weight", rows: vocab, cols: embd, repackable: file.tensor(named: "output.weight") == nil)
    var layers = [LayerWeights]()
    layers.reserveCapacity(config.blockCount)
    let q = config.queryDimension
    let kv = config.kvDimension
    let ffn = config.feedForwardLength
    for i in 0..<config.blockCount {
      let b = "blk.\(i)."
      layers.append(
        LayerWeights(
          attentionNorm: try vector(b + "attn_norm.weight", count: embd),
          wq: try matrix(b + "attn_q.weight", rows: q, cols: embd),
          wk: try matrix(b + "attn_k.weight", rows: kv, cols: embd),
          wv: try matrix(b + "attn_v.weight", rows: kv, cols: embd),
          bq: try optionalVector(b + "attn_q.bias", count: q),
          bk: try optionalVector(b + "attn_k.bias", count: kv),
          bv: try optionalVector(b + "attn_v.bias", count: kv),
          wo: try matrix(b + "attn_output.weight", rows: embd, cols: q),
          ffnNorm: try vector(b + "ffn_norm.weight", count: embd),
          wGate: try matrix(b + "ffn_gate.weight", rows: ffn, cols: embd),
          wUp: try matrix(b + "ffn_up.weight", rows: ffn, cols: embd),
          wDown: try matrix(b + "ffn_down.weight", rows: embd, cols: ffn)))
    }
    self.layers = layers
    outputNorm = try vector("output_norm.weight", count: embd)
    if file.tensor(named: "output.weight") != nil {
      output = try matrix("output.weight", rows: vocab, cols: embd)
      tiedOutput = false
    } else {
      output = tokenEmbedding
      tiedOutput = true
    }
    packedStorage = storage
    self.arena = arena?.used == 0 ? nil : arena
  }

  /// Bytes of weights read to compute one token (every matrix once, the embedding row aside): the figure the
  /// memory-bandwidth bound of decoding divides.
  public var bytesPerToken: Int {
    var total = output.byteCount
    for l in layers {
      total += l.wq.byteCount + l.wk.byteCount + l.wv.byteCount + l.wo.byteCount
      total += l.wGate.byteCount + l.wUp.byteCount + l.wDown.byteCount
    }
    return total
  }
}

/// Drops the pages of a read-only file mapping that lie wholly inside `[p, p + byteCount)` from the process's
/// resident set (they are read again from the file if touched).
private func releasePages(_ p: UnsafeRawPointer, byteCount: Int) {
  let page = Int(sysconf(Int32(_SC_PAGESIZE)))
  let start = (Int(bitPattern: p) + page - 1) / page * page
  let end = (Int(bitPattern: p) + byteCount) / page * page
  if end > start { _ = madvise(UnsafeMutableRawPointer(bitPattern: start), end - start, MADV_DONTNEED) }
}

/// An owned, immutable float buffer with a stable address.
final class FloatStorage: @unchecked Sendable {
  let pointer: UnsafeMutablePointer<Float>
  init(_ values: [Float]) {
    pointer = .allocate(capacity: max(1, values.count))
    pointer.initialize(from: values, count: values.count)
  }
  deinit { pointer.deallocate() }
}

extension WeightVector {
  fileprivate init(name: String, count: Int, storage values: [Float]) {
    let storage = FloatStorage(values)
    self.init(name: name, count: count, pointer: UnsafePointer(storage.pointer), storage: storage)
  }
}
