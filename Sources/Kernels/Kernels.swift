/// Kernels: the numeric kernels of the engine: matrix-vector products on packed quantised weights (decode),
/// batched matrix products (prefill), and the element-wise operations of a llama-family transformer.
///
/// ## API summary
/// ```
/// let pool = ThreadPool(threads: ThreadPool.defaultThreadCount)   // persistent workers; caller is thread 0
/// pool.parallelFor(n) { range in ... }                             // static split of 0..<n over the threads
/// pool.run { thread, threadCount in ... }                          // one call per thread
/// pool.runDynamic(chunks: k) { chunk, thread in ... }              // chunks handed out by an atomic counter
///
/// let w = WeightMatrix(rows:, cols:, type:, data:)   // view of packed rows: a 2-D GGUF tensor has rows = ne1, cols = ne0
/// let ws = KernelWorkspace()                                       // reusable scratch; one per generator/thread of use
///
/// matvec(w, x, y, pool: pool, workspace: ws)                 // y[r] = Σ_c w[r,c] x[c];  x (cols), y (rows)
/// matvec(w, x, y, pool:, workspace:, precision: .exact)      // float activations instead of 8-bit (slower)
/// matvecs([(w1, y1), (w2, y2)], x, pool:, workspace:)        // several matrices of the same x in one dispatch
/// matmul(w, x, batch: n, y, pool:, workspace:)               // x (n, cols) → y (n, rows); any n ≥ 1:
///                                                            //   n < 32: 8-bit multi-token kernels, else GEMM
/// sgemm(...)                                                 // thin row-major cblas_sgemm wrapper (attention)
///
/// // Inside one pool job (a decode step as one dispatch, MatVecShare.swift, PhaseRows.swift):
/// acts[t].prepare(x, count: cols, for: [w1, w2])              // ThreadActivations, one per thread
/// var rows = PhaseRows(.stealing, state: rowState, thread: t, threads: n)   // rowState.begin() before the job
/// rows.forEach(totalRows, multiple: 4) { r in matvecRange([(w1, y1), (w2, y2)], x, rows: r, activations: acts[t]) }
/// barrier.wait()                                             // SpinBarrier: every thread's rows are done
///
/// rmsNorm(x, weight: g, eps:, count:, out:)          // out = x / sqrt(mean(x²) + eps) * g   (out may be x)
/// rope(x, heads:, headDim:, position:, style: .normal/.neox, freqBase:, freqScale:, ropeDim:)  // in place
/// softmax(x, count:)                                  // in place, max-subtracted
/// silu(x, count:), swiglu(gate:, up:, out:, count:)   // out = silu(gate) * up
/// add(a, b, out:, count:), addInPlace(x, y, count:), scale(x, by:, count:)
/// dot(a, b, count:) -> Float, axpy(alpha, x, y, count:)     // y += alpha * x
/// Reference.*                                          // naive versions of all of the above, for tests
/// QuantTraits.table[type]                              // block size, bytes, activation layout, fast kernel?
/// QuantTraits.fastDequantize(type, src, count:, into:) // SIMD dequantisation, bit-identical to GGUF's reference
/// w.dequantizeRow(r, into:)                            // one row (e.g. an embedding lookup)
/// let (g, owner) = BlockGroups.repack(w)!              // Q5_0 / Q4_1 / Q8_0 rows regrouped for the decode kernels
///                                                      //   (same size; g.packing == .groupsOf4; keep `owner`)
/// ```
/// All pointers are `UnsafePointer<Float>` / `UnsafeMutablePointer<Float>`; shapes are row-major and written in
/// comments as `(rows, cols)`. Weight types with a fast quantised kernel: Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, Q5_K,
/// Q6_K; F32, F16 and BF16 use float dot products; Q2_K and Q3_K work through dequantisation.
///
/// Decode (`matvec`): the activations are quantised to 8-bit blocks once per call (Q8_0-like blocks of 32 with
/// their sums, or Q8_K blocks of 256 with 16-element group sums) and each weight row is an integer dot product on the
/// packed blocks (`vpmaddubsw`/`vpmaddwd`, AVX2), two rows at a time for the legacy types. Small batches (`matmul`,
/// 2 ≤ n < `MatmulTuning.minimumBatchForGEMM`): the same 8-bit arithmetic, each weight block decoded once for all
/// tokens (weights read once per call instead of once per token: use `matmul`, not a `matvec` per token). Prefill
/// (n ≥ 32): each pool thread dequantises its share of the rows into a reused float tile and calls `cblas_sgemm`
/// with OpenBLAS single-threaded (OpenBLAS's thread count is set to 1 once, on first use). Compute the output head
/// for the last position only during prefill: it is a third of the weights.
///
/// - Important: a `ThreadPool` runs one job at a time; call it from one thread at a time (the generator's). A
///   `KernelWorkspace` must not be shared by concurrent calls. Weight views must not outlive the memory they view (the mapped model file).
import Quantization

/// Errors of the Kernels module (bad input that reaches the kernels, such as an unsupported weight type).
public enum KernelError: Error, Equatable, CustomStringConvertible {
  /// A tensor of a type the kernels cannot multiply.
  case unsupportedType(tensor: String, type: GGMLType)
  /// A tensor that is not a matrix (or vector) of the expected shape.
  case badShape(tensor: String, dimensions: [Int], reason: String)

  public var description: String {
    switch self {
    case .unsupportedType(let tensor, let type):
      return "tensor '\(tensor)' has type \(type), which the kernels do not support"
    case .badShape(let tensor, let dimensions, let reason):
      return "tensor '\(tensor)' has shape \(dimensions): \(reason)"
    }
  }
}

/// A row-major matrix of packed weights: `rows` output features, each row `cols` elements in blocks of `type`.
///
/// A GGUF tensor with dimensions `[ne0, ne1]` is a matrix of `rows = ne1` and `cols = ne0` (ne0 is contiguous).
public struct WeightMatrix: @unchecked Sendable {
  /// Number of rows (output features).
  public let rows: Int
  /// Number of columns (input features); a multiple of the type's block size.
  public let cols: Int
  /// Element type of the packed rows.
  public let type: GGMLType
  /// The first byte of row 0; rows follow each other without padding.
  public let data: UnsafeRawPointer
  /// Bytes per row.
  public let rowBytes: Int
  /// How the blocks of each row are arranged: as in the file, or regrouped at load (`BlockGroups.repack`).
  public let packing: WeightPacking

  /// A view of packed rows.
  /// - Precondition: `cols` is a multiple of the type's block size and the type is supported; a regrouped packing
  ///   matches the type.
  public init(rows: Int, cols: Int, type: GGMLType, data: UnsafeRawPointer, packing: WeightPacking = .ggml) {
    precondition(QuantTraits.isSupported(type), "WeightMatrix: unsupported type \(type)")
    precondition(cols % type.blockSize == 0, "WeightMatrix: \(cols) columns is not a whole number of \(type) blocks")
    precondition(
      packing == .ggml || BlockGroups.types.contains(type), "WeightMatrix: \(packing) needs Q5_0, Q4_1 or Q8_0 rows")
    self.packing = packing
    self.rows = rows
    self.cols = cols
    self.type = type
    self.data = data
    self.rowBytes = cols / type.blockSize * type.bytesPerBlock
  }

  /// The packed bytes of row `r`.
  @inline(__always)
  public func row(_ r: Int) -> UnsafeRawPointer { data + r * rowBytes }

  /// Dequantises row `r` into `out` (`cols` floats).
  public func dequantizeRow(_ r: Int, into out: UnsafeMutablePointer<Float>) {
    if packing == .groupsOf4 { return dequantizeGroupsRow(r, into: out) }
    QuantTraits.fastDequantize(type, row(r), count: cols, into: out)
  }

  /// Dequantises rows `r0..<r0+n` into `out` (`n * cols` floats).
  public func dequantizeRows(_ r0: Int, _ n: Int, into out: UnsafeMutablePointer<Float>) {
    if packing == .ggml {
      QuantTraits.fastDequantize(type, row(r0), count: n * cols, into: out)
    } else {
      for i in 0..<n { dequantizeRow(r0 + i, into: out + i * cols) }
    }
  }

  /// Bytes of the whole matrix.
  public var byteCount: Int { rows * rowBytes }
}

/// How `matvec` treats the activation vector.
public enum MatVecPrecision: Sendable {
  /// Quantise the activations to 8-bit blocks (Q8_0/Q8_1 or Q8_K, as llama.cpp does) and use integer dot products:
  /// the fast path for quantised weights. Float weights (F32, F16, BF16) always use float activations.
  case fast
  /// Keep float activations: dequantise each weight row and take a float dot product (slower, for checks).
  case exact
}
