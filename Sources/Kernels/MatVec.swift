import COpenBLAS
import CPrefetch
import Foundation
import Quantization

/// Matrix-vector product for decode: `y[r] = Σ_c w[r, c] · x[c]`, rows split over the pool's threads.
///
/// With `.fast` precision and a quantised weight type, `x` is first quantised to 8-bit blocks (Q8_0/Q8_1 or Q8_K,
/// as llama.cpp does) and each row is an integer dot product on the packed blocks (AVX2); float weight types use
/// float dot products. `.exact` dequantises each row and uses float activations.
/// - Parameters:
///   - w: the weights (rows, cols). x: (cols). y: (rows); must not overlap `x`.
public func matvec(
  _ w: WeightMatrix, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, pool: ThreadPool,
  workspace: KernelWorkspace, precision: MatVecPrecision = .fast, options: MatVecOptions = MatVecOptions()
) {
  matvecs([(w, y)], x, pool: pool, workspace: workspace, precision: precision, options: options)
}

/// Several matrix-vector products with the same input in one dispatch (e.g. q, k, v or gate, up): saves the pool
/// wake-ups and quantises `x` once per activation layout.
/// - Parameters:
///   - products: pairs of weights (rows_i, cols) and outputs (rows_i); all weights have `cols` columns.
///   - x: (cols).
///   - options: kernel choices; the defaults are the measured best (benchmarks pass others to compare).
public func matvecs(
  _ products: [(WeightMatrix, UnsafeMutablePointer<Float>)], _ x: UnsafePointer<Float>, pool: ThreadPool,
  workspace: KernelWorkspace, precision: MatVecPrecision = .fast, options: MatVecOptions = MatVecOptions()
) {
  guard let first = products.first else { return }
  let cols = first.0.cols
  // Quantise the activations once per layout needed.
  var q8: QuantizedActivations? = nil
  var q8K: QuantizedActivations? = nil
  for (w, _) in products { precondition(w.cols == cols, "matvecs: all matrices need the same column count") }
  let (wantQ8, wantQ8K, needsRowBuffer) = activationNeeds(products.lazy.map(\.0), precision: precision)
  if wantQ8 {
    let a = workspace.activations(count: cols, layout: .q8)
    quantizeActivations(x, count: cols, layout: .q8, into: a)
    q8 = a
  }
  if wantQ8K {
    // The second layout of one call gets its own buffers.
    let a = (wantQ8 ? workspace.secondary : workspace).activations(count: cols, layout: .q8K)
    quantizeActivations(x, count: cols, layout: .q8K, into: a)
    q8K = a
  }
  let rowBuffers = needsRowBuffer ? workspace.floatBuffers(threads: pool.threadCount, count: cols) : []
  let totalRows = products.reduce(0) { $0 + $1.0.rows }
  // Split the concatenated rows of all products into chunks (multiples of 4 rows, about `chunksPerThread` per
  // thread) handed out dynamically, so that a descheduled thread does not stall the others.
  let chunkRows = MatmulTuning.chunkRows(totalRows, threads: pool.threadCount, perThread: options.chunksPerThread)
  let chunks = (totalRows + chunkRows - 1) / chunkRows
  pool.runDynamic(chunks: chunks) { chunk, thread in
    var lower = chunk * chunkRows
    let upper = min(totalRows, lower + chunkRows)
    var base = 0
    for (w, y) in products {
      let end = base + w.rows
      if lower < end && lower < upper {
        let from = lower - base
        let to = min(upper, end) - base
        let buffer = rowBuffers.isEmpty ? nil : rowBuffers[thread]
        matvecRows(
          w, x, y, rows: from..<to, q8: q8, q8K: q8K, precision: precision, rowBuffer: buffer, options: options)
        lower = base + to
      }
      base = end
    }
  }
}

/// What the products of `matrices` need of their input at `precision`: 8-bit activations in the Q8_0/Q8_1 layout,
/// in the Q8_K layout, and a float row buffer (for weights that go through dequantisation).
func activationNeeds(
  _ matrices: some Sequence<WeightMatrix>, precision: MatVecPrecision
) -> (q8: Bool, q8K: Bool, rowBuffer: Bool) {
  var q8 = false, q8K = false, row = false
  for w in matrices {
    let traits = QuantTraits.table[w.type]!
    if precision == .exact {
      row = row || w.type != .f32
    } else {
      row = row || !traits.hasFastKernel
      q8 = q8 || traits.activationLayout == .q8
      q8K = q8K || traits.activationLayout == .q8K
    }
  }
  return (q8, q8K, row)
}

/// Rows `rows` of a matrix-vector product on the calling thread.
@inline(__always)
func matvecRows(
  _ w: WeightMatrix, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, rows: Range<Int>,
  q8: QuantizedActivations?, q8K: QuantizedActivations?, precision: MatVecPrecision,
  rowBuffer: UnsafeMutablePointer<Float>?, options: MatVecOptions
) {
  let cols = w.cols
  if w.type == .f32 {
    for r in rows { y[r] = dot(w.row(r).assumingMemoryBound(to: Float.self), x, count: cols) }
    return
  }
  let traits = QuantTraits.table[w.type]!
  if precision == .exact || !traits.hasFastKernel {
    let buffer = rowBuffer!
    for r in rows {
      w.withFileLayoutRow(r) { w.type.dequantize($0, count: cols, into: buffer) }
      y[r] = dot(buffer, x, count: cols)
    }
    return
  }
  #if arch(x86_64)
    let blocks = cols / w.type.blockSize
    var ahead = LookAhead(w, options.lookAhead, hint: options.prefetchHint, near: options.nearPrefetchBytes)
    defer { ahead.finish(y + rows.lowerBound) }
    if options.prefetchChunkHead { ahead.touchHead(row: rows.lowerBound) }
    switch w.type {
    #if !CODEGEN_LSP_AVX512VNNI
      case .q5_0 where w.packing == .groupsOf4 && options.spreadPrefetch && ahead.prefetch,
        .q4_1 where w.packing == .groupsOf4 && options.spreadPrefetch && ahead.prefetch:
        let q5 = w.type == .q5_0
        spreadRowPairs(w, rows, y, ahead, options) { r, s in
          AVX2Groups.dot2(w.row(r), w.row(r + 1), q8!, blocks: blocks, q5: q5, spread: s)
        } single: { r in
          AVX2Groups.dot(w.row(r), q8!, blocks: blocks, q5: q5)
        }
      case .q4_K where options.spreadPrefetch && ahead.prefetch, .q5_K where options.spreadPrefetch && ahead.prefetch,
        .q6_K where options.spreadPrefetch && ahead.prefetch:
        var spread = SpreadAhead(
          w, firstRow: rows.lowerBound, distance: ahead.distance, near: options.nearPrefetchBytes,
          hint: options.prefetchHint)
        for r in rows {
          spread.rows = w.row(r)
          y[r] = withUnsafeMutablePointer(to: &spread) { s in
            switch w.type {
            case .q4_K: AVX2Dot.q4_K(w.row(r), q8K!, blocks: blocks, spread: s)
            case .q5_K: AVX2Dot.q5_K(w.row(r), q8K!, blocks: blocks, spread: s)
            default: AVX2Dot.q6_K(w.row(r), q8K!, blocks: blocks, spread: s)
            }
          }
          spread.advance(w.rowBytes)
        }
      case .q8_0 where w.packing == .groupsOf4 && options.spreadPrefetch && ahead.prefetch:
        spreadRowPairs(w, rows, y, ahead, options) { r, s in
          q8_0Groups2(w.row(r), w.row(r + 1), q8!, blocks: blocks, spread: s)
        } single: { r in
          q8_0Groups2(w.row(r), w.row(r), q8!, blocks: blocks).0
        }
      case .q4_1 where w.packing == .ggml && options.spreadPrefetch && options.pairKernels && ahead.prefetch:
        spreadRowPairs(w, rows, y, ahead, options) { r, s in
          AVX2PairDot.q4_1x2(w.row(r), w.row(r + 1), q8!, blocks: blocks, spread: s)
        } single: { r in
          AVX2Dot.q4_1(w.row(r), q8!, blocks: blocks)
        }
    #endif
    case .q8_0 where w.packing == .groupsOf4:
      rowPairs(rows, y, &ahead) { r in
        q8_0Groups2(w.row(r), w.row(r + 1), q8!, blocks: blocks)
      } single: { r in
        q8_0Groups2(w.row(r), w.row(r), q8!, blocks: blocks).0
      }
    case .q8_0:
      rowPairs(rows, y, &ahead) { r in
        #if CODEGEN_LSP_AVX512VNNI
          AVX512Dot.q8_0x2(w.row(r), w.row(r + 1), q8!, blocks: blocks)
        #else
          AVX2Dot.q8_0x2(w.row(r), w.row(r + 1), q8!, blocks: blocks)
        #endif
      } single: { r in
        AVX2Dot.q8_0(w.row(r), q8!, blocks: blocks)
      }
    case .q4_0:
      rowPairs(rows, y, &ahead) { r in
        AVX2Dot.q4_0x2(w.row(r), w.row(r + 1), q8!, blocks: blocks)
      } single: { r in
        AVX2Dot.q4_0(w.row(r), q8!, blocks: blocks)
      }
    case .q4_1 where w.packing == .groupsOf4, .q5_0 where w.packing == .groupsOf4:
      let q5 = w.type == .q5_0
      rowPairs(rows, y, &ahead) { r in
        #if CODEGEN_LSP_AVX512VNNI
          AVX512Groups.dot2(w.row(r), w.row(r + 1), q8!, blocks: blocks, q5: q5)
        #else
          AVX2Groups.dot2(w.row(r), w.row(r + 1), q8!, blocks: blocks, q5: q5)
        #endif
      } single: { r in
        AVX2Groups.dot(w.row(r), q8!, blocks: blocks, q5: q5)
      }
    case .q4_1:
      rowPairs(rows, y, &ahead) { r in
        options.pairKernels
          ? AVX2PairDot.q4_1x2(w.row(r), w.row(r + 1), q8!, blocks: blocks)
          : AVX2Dot.q4_1x2(w.row(r), w.row(r + 1), q8!, blocks: blocks)
      } single: { r in
        AVX2Dot.q4_1(w.row(r), q8!, blocks: blocks)
      }
    case .q5_0:
      rowPairs(rows, y, &ahead) { r in
        options.pairKernels
          ? AVX2PairDot.q5_0x2(w.row(r), w.row(r + 1), q8!, blocks: blocks)
          : AVX2Dot.q5_0x2(w.row(r), w.row(r + 1), q8!, blocks: blocks)
      } single: { r in
        AVX2Dot.q5_0(w.row(r), q8!, blocks: blocks)
      }
    case .q5_1: for r in rows { ahead.touch(rows: r..<(r + 1)); y[r] = AVX2Dot.q5_1(w.row(r), q8!, blocks: blocks) }
    case .q4_K: for r in rows { ahead.touch(rows: r..<(r + 1)); y[r] = AVX2Dot.q4_K(w.row(r), q8K!, blocks: blocks) }
    case .q5_K: for r in rows { ahead.touch(rows: r..<(r + 1)); y[r] = AVX2Dot.q5_K(w.row(r), q8K!, blocks: blocks) }
    case .q6_K: for r in rows { ahead.touch(rows: r..<(r + 1)); y[r] = AVX2Dot.q6_K(w.row(r), q8K!, blocks: blocks) }
    case .f16: for r in rows { ahead.touch(rows: r..<(r + 1)); y[r] = AVX2Dot.f16(w.row(r), x, count: cols) }
    case .bf16: for r in rows { ahead.touch(rows: r..<(r + 1)); y[r] = AVX2Dot.bf16(w.row(r), x, count: cols) }
    default: preconditionFailure("matvec: no fast kernel for \(w.type)")
    }
  #else
    preconditionFailure("matvec: no fast kernel on this architecture")
  #endif
}

#if arch(x86_64)
  /// The rows of `rows` two at a time: `dot2(r)` gives rows r and r + 1, `single(r)` an odd last row; the look-ahead
  /// is touched before each pair.
  @inline(__always)
  private func rowPairs(
    _ rows: Range<Int>, _ y: UnsafeMutablePointer<Float>, _ ahead: inout LookAhead, _ dot2: (Int) -> (Float, Float),
    single: (Int) -> Float
  ) {
    var r = rows.lowerBound
    while r + 1 < rows.upperBound {
      ahead.touch(rows: r..<(r + 2))
      (y[r], y[r + 1]) = dot2(r)
      r += 2
    }
    if r < rows.upperBound { y[r] = single(r) }
  }

  /// `rowPairs` with the look-ahead spread over the kernel's loop: `dot2(r, spread)` issues the prefetches itself.
  @inline(__always)
  private func spreadRowPairs(
    _ w: WeightMatrix, _ rows: Range<Int>, _ y: UnsafeMutablePointer<Float>, _ ahead: LookAhead,
    _ options: MatVecOptions, _ dot2: (Int, UnsafeMutablePointer<SpreadAhead>) -> (Float, Float),
    single: (Int) -> Float
  ) {
    var spread = SpreadAhead(
      w, firstRow: rows.lowerBound, distance: ahead.distance, near: options.nearPrefetchBytes,
      hint: options.prefetchHint)
    var r = rows.lowerBound
    while r + 1 < rows.upperBound {
      spread.rows = w.row(r)
      (y[r], y[r + 1]) = withUnsafeMutablePointer(to: &spread) { dot2(r, $0) }
      spread.advance(2 * w.rowBytes)
      r += 2
    }
    if r < rows.upperBound { y[r] = single(r) }
  }
#endif

/// Batched matrix product for prefill: `y[b, r] = Σ_c w[r, c] · x[b, c]`.
///
/// Two paths: the 8-bit multi-token kernels (each weight block decoded once for all tokens, activations quantised as
/// in `matvec`), and dequantise + GEMM (each thread dequantises tiles of weight rows into its own reused float buffer
/// and multiplies them with the whole batch by `cblas_sgemm`, OpenBLAS single-threaded inside each call, our pool
/// supplying the parallelism). Quantised weights take the multi-token kernels below
/// `MatmulTuning.minimumBatchForGEMM` tokens; from there on the workspace's `MatmulPathTuner` picks the path it
/// measured faster on this machine for this matrix and batch size. Float weights use one `matvec` per token below
/// that size and GEMM above. `.exact` precision always takes the float GEMM path (for batch > 1).
/// - Parameters:
///   - w: (rows, cols). x: (batch, cols). y: (batch, rows); must not overlap `x`.
public func matmul(
  _ w: WeightMatrix, _ x: UnsafePointer<Float>, batch: Int, _ y: UnsafeMutablePointer<Float>, pool: ThreadPool,
  workspace: KernelWorkspace, precision: MatVecPrecision = .fast
) {
  if batch <= 0 { return }
  if batch == 1 {
    matvec(w, x, y, pool: pool, workspace: workspace, precision: precision)
    return
  }
  if precision == .exact {
    matmulGEMM(w, x, batch: batch, y, pool: pool, workspace: workspace)
    return
  }
  if batch < MatmulTuning.minimumBatchForGEMM
    && matmulMultiToken(w, x, batch: batch, y, pool: pool, workspace: workspace)
  {
    return
  }
  if batch >= MatmulTuning.minimumBatchForGEMM, multiTokenSupported(w) {
    let tuner = workspace.pathTuner
    let key = MatmulPathTuner.Key(w, batch: batch)
    let (path, timed) = tuner.path(for: key)
    let start = timed ? DispatchTime.now().uptimeNanoseconds : 0
    switch path {
    case .multiToken: _ = matmulMultiToken(w, x, batch: batch, y, pool: pool, workspace: workspace)
    case .gemm: matmulGEMM(w, x, batch: batch, y, pool: pool, workspace: workspace)
    }
    if timed { tuner.record(key, path, seconds: Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9) }
    return
  }
  if batch < MatmulTuning.minimumBatchForGEMM && !(w.type == .f32 || w.type == .f16 || w.type == .bf16) {
    for b in 0..<batch { matvec(w, x + b * w.cols, y + b * w.rows, pool: pool, workspace: workspace) }
    return
  }
  matmulGEMM(w, x, batch: batch, y, pool: pool, workspace: workspace)
}

/// True when `matmulMultiToken` has kernels for `w` on this architecture.
func multiTokenSupported(_ w: WeightMatrix) -> Bool {
  #if arch(x86_64)
    return QuantTraits.table[w.type]?.activationLayout != nil
  #else
    return false
  #endif
}

/// Chooses between `matmul`'s two paths for batches of `MatmulTuning.minimumBatchForGEMM` tokens and more by timing
/// both on this machine. Which is faster depends on the CPU and the weight type: on Zen 4 (AVX-512 VNNI) the
/// multi-token kernels prefill 33 tokens of Qwen2.5-Coder-0.5B 1.3x faster than GEMM, while in the one-thread kernel
/// benchmark GEMM wins for file-layout Q5_0 from 16 tokens on and loses for Q4_K and Q6_K up to 128
/// (`codegen-bench kernels small-batch-crossover`). For each weight type, layout, shape and batch size class (powers
/// of two), the first `trialsPerPath` calls of each path are timed, alternately, and the faster best time decides
/// the calls after them.
public final class MatmulPathTuner: @unchecked Sendable {
  public enum Path: Sendable, Equatable {
    case multiToken
    case gemm
  }

  /// A matrix and a batch size class.
  public struct Key: Hashable, Sendable {
    let type: GGMLType
    let packing: WeightPacking
    let rows: Int
    let cols: Int
    /// The largest power of two not above the batch.
    let sizeClass: Int

    public init(_ w: WeightMatrix, batch: Int) {
      type = w.type
      packing = w.packing
      rows = w.rows
      cols = w.cols
      var size = 1
      while size * 2 <= batch { size *= 2 }
      sizeClass = size
    }
  }

  /// Timed calls of each path before the choice.
  public static let trialsPerPath = 2

  private struct Trials {
    var best: [Path: Double] = [:]
    var runs: [Path: Int] = [:]
  }

  private let lock = NSLock()
  private var trials: [Key: Trials] = [:]
  private var chosen: [Key: Path] = [:]

  public init() {}

  /// The path of the next call for `key`, and whether that call is a trial to time.
  public func path(for key: Key) -> (Path, timed: Bool) {
    lock.lock()
    defer { lock.unlock() }
    if let path = chosen[key] { return (path, false) }
    let runs = trials[key]?.runs ?? [:]
    let multi = runs[.multiToken] ?? 0
    let gemm = runs[.gemm] ?? 0
    return (multi <= gemm ? .multiToken : .gemm, true)
  }

  /// Records a timed call; after the last trial, the faster path is chosen for `key`.
  public func record(_ key: Key, _ path: Path, seconds: Double) {
    lock.lock()
    defer { lock.unlock() }
    var entry = trials[key] ?? Trials()
    entry.runs[path, default: 0] += 1
    entry.best[path] = min(entry.best[path] ?? .infinity, seconds)
    trials[key] = entry
    if (entry.runs[.multiToken] ?? 0) >= Self.trialsPerPath, (entry.runs[.gemm] ?? 0) >= Self.trialsPerPath {
      chosen[key] = (entry.best[.multiToken] ?? .infinity) <= (entry.best[.gemm] ?? .infinity) ? .multiToken : .gemm
      trials[key] = nil
    }
  }

  /// The choices made so far (for benchmarks and tests).
  public var choices: [Key: Path] {
    lock.lock()
    defer { lock.unlock() }
    return chosen
  }
}

/// The small-batch path of `matmul`: 8-bit activations and multi-token kernels. Returns false (doing nothing) when
/// the weight type or the CPU has no such kernel.
func matmulMultiToken(
  _ w: WeightMatrix, _ x: UnsafePointer<Float>, batch: Int, _ y: UnsafeMutablePointer<Float>, pool: ThreadPool,
  workspace: KernelWorkspace
) -> Bool {
  #if arch(x86_64)
    guard let layout = QuantTraits.table[w.type]?.activationLayout else { return false }
    // Quantise every token's activations (one after the other), then read each weight block once for all.
    let a = workspace.activations(count: batch * w.cols, layout: layout)
    quantizeActivations(x, count: batch * w.cols, layout: layout, into: a)
    let chunkRows = MatmulTuning.chunkRows(w.rows, threads: pool.threadCount)
    pool.runDynamic(chunks: (w.rows + chunkRows - 1) / chunkRows) { chunk, _ in
      let rows = (chunk * chunkRows)..<min(w.rows, (chunk + 1) * chunkRows)
      AVX2MultiToken.rows(w, a, tokens: batch, rows: rows, y, yStride: w.rows)
    }
    return true
  #else
    return false
  #endif
}

/// The large-batch path of `matmul`: dequantised tiles and single-threaded `cblas_sgemm` per pool thread.
func matmulGEMM(
  _ w: WeightMatrix, _ x: UnsafePointer<Float>, batch: Int, _ y: UnsafeMutablePointer<Float>, pool: ThreadPool,
  workspace: KernelWorkspace
) {
  OpenBLASThreads.ensureSingleThreaded()
  // Tiles of rows handed out dynamically (about 4 per thread, fewer when the tile budget is smaller): big enough
  // that each sgemm call is efficient (OpenBLAS packs x again for every call), small enough that a descheduled
  // thread does not stall the others for long.
  let perThread = (w.rows + 4 * pool.threadCount - 1) / (4 * pool.threadCount)
  let tile = max(1, min(MatmulTuning.tileRows(cols: w.cols), max(16, perThread)))
  let tiles = (w.rows + tile - 1) / tile
  let buffers = w.type == .f32 ? [] : workspace.floatBuffers(threads: pool.threadCount, count: tile * w.cols)
  pool.runDynamic(chunks: tiles) { index, thread in
    let r0 = index * tile
    let n = min(tile, w.rows - r0)
    let weights: UnsafePointer<Float>
    if w.type == .f32 {
      weights = w.row(r0).assumingMemoryBound(to: Float.self)
    } else {
      let buffer = buffers[thread]
      w.dequantizeRows(r0, n, into: buffer)
      weights = UnsafePointer(buffer)
    }
    // y[:, r0..<r0+n] (batch, n) = x (batch, cols) · weightsᵀ (cols, n)
    cblas_sgemm(
      CblasRowMajor, CblasNoTrans, CblasTrans, Int32(batch), Int32(n), Int32(w.cols), 1, x, Int32(w.cols),
      weights, Int32(w.cols), 0, y + r0, Int32(w.rows))
  }
}

/// Row-major single-precision GEMM: `C (m, n) = alpha · op(A) · op(B) + beta · C` through OpenBLAS
/// (`op` transposes when asked). Leading dimensions default to the packed row lengths. Runs on the calling thread
/// (OpenBLAS single-threaded), so it may be called from inside a pool job, one call per thread.
public func sgemm(
  transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int, alpha: Float = 1,
  a: UnsafePointer<Float>, lda: Int? = nil, b: UnsafePointer<Float>, ldb: Int? = nil, beta: Float = 0,
  c: UnsafeMutablePointer<Float>, ldc: Int? = nil
) {
  OpenBLASThreads.ensureSingleThreaded()
  cblas_sgemm(
    CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans, Int32(m), Int32(n),
    Int32(k), alpha, a, Int32(lda ?? (transA ? m : k)), b, Int32(ldb ?? (transB ? k : n)), beta, c,
    Int32(ldc ?? n))
}

/// Kernel choices of `matvec`. The defaults are the measured best on this machine kind; benchmarks and tests pass
/// other values to compare them (Benchmarks/kernels/RESULTS.md).
public struct MatVecOptions: Sendable, Equatable {
  /// Which cache levels a look-ahead prefetch asks for (x86 `prefetcht0`, `prefetcht1`, `prefetcht2`, `prefetchnta`).
  public enum PrefetchHint: Sendable, Equatable { case t0, t1, t2, nta }

  /// How `matvec` starts the memory reads of the weight rows ahead of the rows being computed.
  public enum LookAheadMode: Sendable, Equatable {
    /// Nothing: the hardware prefetchers alone.
    case none
    /// One ordinary byte load per 64-byte line, `bytes` ahead (what the kernels did before `prefetch`).
    case load(bytes: Int)
    /// One prefetch instruction (`prefetchHint`) per 64-byte line, `bytes` ahead.
    case prefetch(bytes: Int)
  }

  /// Weights come from a file mapping in 4 KiB pages, and the hardware prefetchers stop at page boundaries:
  /// starting the misses of the lines a few KiB ahead of the kernels hides the memory latency.
  public var lookAhead: LookAheadMode
  /// The default distance of the look-ahead: enough bytes to cover the memory latency at the rate one core reads,
  /// so more on the machines whose cores read faster. A core's bandwidth is not known without measuring it (and a
  /// measurement at start-up drifts with the host's load), so AVX-512 stands in for it (`fastCores`): 8 KiB there,
  /// 2 KiB elsewhere. Chosen by decode A/B (Benchmarks/RESULTS.md, "Defaults chosen by A/B").
  public static let defaultLookAheadBytes: Int = fastCores ? 8192 : 2048
  /// The default prefetch instruction of the look-ahead: `prefetcht0` on AMD Zen 5 and later (`l1PrefetchPays`),
  /// `prefetcht1` elsewhere (decode A/B, Benchmarks/RESULTS.md).
  public static let defaultPrefetchHint: PrefetchHint = l1PrefetchPays ? .t0 : .t1
  /// Whether the CPU has AVX-512F, taken as the sign of cores that read memory fast enough for the longer
  /// look-ahead.
  static let fastCores = QuantTraits.cpuFlags.contains("avx512f")
  /// Whether the CPU is of a generation measured to gain from prefetching the look-ahead into L1: AMD family 0x1A
  /// (Zen 5) or later.
  static let l1PrefetchPays = isZen5OrLater(
    vendor: QuantTraits.cpuVendorFamily.vendor, family: QuantTraits.cpuVendorFamily.family)

  /// See `l1PrefetchPays`.
  static func isZen5OrLater(vendor: String, family: Int) -> Bool { vendor == "AuthenticAMD" && family >= 26 }
  /// Q4_1 and Q5_0 rows use the two-blocks-per-step kernels (DotPairsAVX2.swift); false selects the older
  /// one-block-per-step kernels (DotAVX2.swift), kept for A/B benchmarks.
  public var pairKernels: Bool
  /// Each chunk of rows first starts the reads of its own first `lookAhead` bytes: the look-ahead only covers the
  /// bytes after the rows being computed, so without this the head of every chunk is read on demand, one miss
  /// after the other. (Rows are handed out in chunks, so a matrix has about 8 heads per thread.)
  public var prefetchChunkHead: Bool
  /// The prefetch instruction of `.prefetch` look-ahead (default `defaultPrefetchHint`).
  public var prefetchHint: PrefetchHint = MatVecOptions.defaultPrefetchHint
  /// About how many chunks of rows each thread gets (fewer: fewer chunk heads; more: a shorter wait for the last
  /// chunk at the end of each product).
  public var chunksPerThread: Int
  /// Issue the look-ahead from inside the AVX2 kernels' loops (Q4_1 file layout; regrouped Q8_0, Q5_0 and Q4_1;
  /// Q4_K, Q5_K, Q6_K), a line or two per step, instead of a row pair's (or row's) lines at once before it
  /// (`SpreadAhead`). Default on CPUs without AVX-512 (measured on Milan), off on the others (not measured there).
  public var spreadPrefetch: Bool = MatVecOptions.defaultSpreadPrefetch
  public static let defaultSpreadPrefetch = !fastCores
  /// A second, short look-ahead into L1 (`prefetcht0`, this many bytes ahead) beside the main one into L2; 0 for
  /// none. On by default (512 B) on CPUs without AVX-512, off on the others (decode A/B, Benchmarks/RESULTS.md).
  public var nearPrefetchBytes: Int = MatVecOptions.defaultNearPrefetchBytes
  public static let defaultNearPrefetchBytes: Int = fastCores ? 0 : 512

  public init(
    lookAhead: LookAheadMode = .prefetch(bytes: MatVecOptions.defaultLookAheadBytes), pairKernels: Bool = true,
    prefetchChunkHead: Bool = true,
    chunksPerThread: Int = 8
  ) {
    self.chunksPerThread = max(1, chunksPerThread)
    self.lookAhead = lookAhead
    self.pairKernels = pairKernels
    self.prefetchChunkHead = prefetchChunkHead
  }
}

/// Early reads of the weight bytes ahead of the rows a `matvec` works on, one per 64-byte line, never past the
/// end of the matrix. In `.load` mode the loaded bytes are summed into `sink`, which `finish` uses in a branch that
/// is never taken in practice, so that the compiler keeps the loads; `.prefetch` needs no such trick.
struct LookAhead {
  let start: UnsafeRawPointer
  let end: UnsafeRawPointer
  let rowBytes: Int
  let distance: Int
  let prefetch: Bool
  let hint: MatVecOptions.PrefetchHint
  let near: Int
  var sink: UInt32 = 0

  @inline(__always)
  init(
    _ w: WeightMatrix, _ mode: MatVecOptions.LookAheadMode,
    hint: MatVecOptions.PrefetchHint = MatVecOptions().prefetchHint,
    near: Int = 0
  ) {
    self.hint = hint
    self.near = near
    start = w.data
    end = w.data + w.byteCount
    rowBytes = w.rowBytes
    switch mode {
    case .none: (distance, prefetch) = (0, false)
    case .load(let bytes): (distance, prefetch) = (bytes, false)
    case .prefetch(let bytes): (distance, prefetch) = (bytes, true)
    }
  }

  /// Visits `rows` of `w` in order, the default look-ahead running ahead of them; `y` is the output the
  /// look-ahead's last reads are finished against (the multi-token kernels' row loop).
  @inline(__always)
  static func forEachRow(
    of w: WeightMatrix, _ rows: Range<Int>, finishing y: UnsafeMutablePointer<Float>,
    _ body: (_ r: Int, _ row: UnsafeRawPointer) -> Void
  ) {
    var ahead = LookAhead(w, MatVecOptions().lookAhead)
    defer { ahead.finish(y) }
    for r in rows {
      ahead.touch(rows: r..<(r + 1))
      body(r, w.row(r))
    }
  }

  /// Starts the reads of the lines `distance` bytes after the bytes of `rows`.
  @inline(__always)
  mutating func touch(rows: Range<Int>) {
    if distance <= 0 { return }
    touch(from: start + rows.lowerBound * rowBytes + distance, to: start + rows.upperBound * rowBytes + distance)
    if near > 0 {
      var p = start + rows.lowerBound * rowBytes + near
      let stop = min(end, start + rows.upperBound * rowBytes + near)
      while p < stop { cg_prefetch_read(p); p += 64 }
    }
  }

  /// Starts the reads of the `distance` bytes from the start of row `row` (the bytes that `touch` for the first rows
  /// of a chunk does not cover), never past the end of the matrix.
  @inline(__always)
  mutating func touchHead(row: Int) {
    if distance <= 0 { return }
    let p = start + row * rowBytes
    touch(from: p, to: p + distance)
  }

  /// One early read per 64-byte line from `p` up to `stop` or the end of the matrix, whichever comes first.
  @inline(__always)
  private mutating func touch(from p: UnsafeRawPointer, to stop: UnsafeRawPointer) {
    var p = p
    let stop = min(end, stop)
    if prefetch {
      // One loop per hint: the compiler kept a switch inside one loop as an indirect jump per line.
      switch hint {
      case .t0: while p < stop { cg_prefetch_read(p); p += 64 }
      case .t1: while p < stop { cg_prefetch_read_t1(p); p += 64 }
      case .t2: while p < stop { cg_prefetch_read_t2(p); p += 64 }
      case .nta: while p < stop { cg_prefetch_read_nta(p); p += 64 }
      }
    } else {
      while p < stop {
        sink &+= UInt32(p.load(as: UInt8.self))
        p += 64
      }
    }
  }

  @inline(__always)
  func finish(_ y: UnsafeMutablePointer<Float>) {
    if sink == UInt32.max { y[0] += 0 }
  }
}

/// The look-ahead issued from inside a kernel's loop, a line or two per step, instead of in one burst of a row
/// pair's lines before the kernel runs (`MatVecOptions.spreadPrefetch`): a burst can fill the core's queue of
/// outstanding misses, and the kernel's own loads then wait behind it.
struct SpreadAhead {
  /// Start of the row pair being computed.
  var rows: UnsafeRawPointer
  /// Next line to prefetch `distance` ahead, and `near` ahead; both only move forward.
  private var far: UnsafeRawPointer
  private var close: UnsafeRawPointer
  private let end: UnsafeRawPointer
  private let distance: Int
  private let near: Int
  private let hint: MatVecOptions.PrefetchHint

  @inline(__always)
  init(_ w: WeightMatrix, firstRow: Int, distance: Int, near: Int, hint: MatVecOptions.PrefetchHint) {
    rows = w.row(firstRow)
    end = w.data + w.byteCount
    self.distance = distance
    self.near = near
    self.hint = hint
    // The chunk head (the first `distance` bytes) is prefetched separately.
    far = rows + distance
    close = rows + near
  }

  /// Prefetches the lines up to `progress` bytes (of the row pair, counted linearly from `rows`) plus the distances.
  @inline(__always)
  mutating func advance(_ progress: Int) {
    let target = min(end, rows + progress + distance)
    while far < target {
      if hint == .t0 { cg_prefetch_read(far) } else { cg_prefetch_read_t1(far) }
      far += 64
    }
    if near > 0 {
      let t = min(end, rows + progress + near)
      while close < t {
        cg_prefetch_read(close)
        close += 64
      }
    }
  }
}

/// Sizes used by `matmul`.
public enum MatmulTuning {
  /// Batches smaller than this use the quantised multi-token kernels instead of dequantise + GEMM.
  public static let minimumBatchForGEMM = 32
  /// Floats per thread in a dequantised tile (16 MB): every layer matrix of a 0.5B model fits in one tile per
  /// thread; output heads are walked in several.
  public static let tileElements = 4 << 20
  /// Rows per dequantised tile for rows of `cols` elements (at least 16).
  public static func tileRows(cols: Int) -> Int { max(16, tileElements / max(cols, 1)) }

  /// Rows per dynamically scheduled chunk of a matrix-vector product: about `perThread` chunks per thread, a multiple
  /// of 4, at least 8 rows.
  public static func chunkRows(_ rows: Int, threads: Int, perThread: Int = 8) -> Int {
    let target = (rows + perThread * threads - 1) / (perThread * threads)
    return max(8, (target + 3) / 4 * 4)
  }
}

/// OpenBLAS set up once, before the first BLAS call: its own threading off (the pool provides the parallelism, and
/// OpenBLAS threads would compete with it for the cores), and its kernels chosen for the CPU (`OpenBLASCore`).
enum OpenBLASThreads {
  static let once: Void = {
    OpenBLASCore.selectForCPU()
    openblas_set_num_threads(1)
  }()
  static func ensureSingleThreaded() { _ = once }
}

/// Sets OpenBLAS's own thread count (benchmarks compare its threading with the pool's).
func setOpenBLASThreads(_ n: Int) {
  OpenBLASThreads.ensureSingleThreaded()
  openblas_set_num_threads(Int32(n))
}
