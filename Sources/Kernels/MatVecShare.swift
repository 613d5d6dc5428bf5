/// Matrix-vector products from inside a pool job: the building blocks of a decode step that runs as one dispatch per
/// token, its threads meeting at a `SpinBarrier` between dependent products instead of returning to the caller.
///
/// ```
/// let acts = (0..<pool.threadCount).map { _ in ThreadActivations() }  // one per thread
/// pool.run { t, n in
///   acts[t].prepare(x, count: cols, for: [wq, wk, wv], precision: .fast)  // each thread quantises x for itself
///   for rows in rowsOfThisThread {                                     // a static share or claimed chunks
///     matvecRange([(wq, q), (wk, k), (wv, v)], x, rows: rows, activations: acts[t])
///   }
///   barrier.wait()                                                     // q, k, v complete
///   ...
/// }
/// ```
/// Every row is computed by the same kernel on the same activations as in `matvecs`, so the results are the same
/// as long as the ranges start at even rows (the kernels take rows in pairs).

/// Activations of one thread in a fused decode step: the input quantised in the layouts its products need, and a
/// float row for weight types that go through dequantisation. Reused across calls; not shared between threads.
public final class ThreadActivations: @unchecked Sendable {
  private let q8Space = KernelWorkspace()
  private let q8KSpace = KernelWorkspace()
  private let rowSpace = KernelWorkspace()
  fileprivate var q8: QuantizedActivations? = nil
  fileprivate var q8K: QuantizedActivations? = nil
  fileprivate var rowBuffer: UnsafeMutablePointer<Float>? = nil
  fileprivate var precision: MatVecPrecision = .fast
  fileprivate var count = 0

  public init() {}

  /// Quantises `x` (count) in every activation layout that `matrices` need at `precision`.
  public func prepare(
    _ x: UnsafePointer<Float>, count: Int, for matrices: [WeightMatrix], precision: MatVecPrecision = .fast
  ) {
    for w in matrices {
      precondition(w.cols == count, "ThreadActivations: a matrix of \(w.cols) columns for \(count) activations")
    }
    let (wantQ8, wantQ8K, wantRow) = activationNeeds(matrices, precision: precision)
    self.precision = precision
    self.count = count
    q8 = nil
    q8K = nil
    if wantQ8 {
      let a = q8Space.activations(count: count, layout: .q8)
      quantizeActivations(x, count: count, layout: .q8, into: a)
      q8 = a
    }
    if wantQ8K {
      let a = q8KSpace.activations(count: count, layout: .q8K)
      quantizeActivations(x, count: count, layout: .q8K, into: a)
      q8K = a
    }
    rowBuffer = wantRow ? rowSpace.floatBuffers(threads: 1, count: count)[0] : nil
  }
}

/// Rows `rows` of the concatenated rows of the products `y_i = w_i · x` (all `w_i` with the same columns) on the
/// calling thread: row r of the concatenation is row `r - Σ_{j<i} w_j.rows` of the product i it falls in.
/// - Parameters:
///   - x: (cols), already prepared into `activations` by this thread.
///   - activations: this thread's, from `prepare(x, count: cols, for: matrices)`.
public func matvecRange(
  _ products: [(WeightMatrix, UnsafeMutablePointer<Float>)], _ x: UnsafePointer<Float>, rows: Range<Int>,
  activations: ThreadActivations, options: MatVecOptions = MatVecOptions()
) {
  var base = 0
  for (w, y) in products {
    let lower = max(rows.lowerBound, base)
    let upper = min(rows.upperBound, base + w.rows)
    if lower < upper {
      matvecRange(w, x, y, rows: (lower - base)..<(upper - base), activations: activations, options: options)
    }
    base += w.rows
  }
}

/// Rows `rows` of `y = w · x` on the calling thread, with activations that this thread prepared from `x`.
/// - Parameters:
///   - w: (rows, cols). x: (cols). y: (rows); only `y[rows]` is written.
public func matvecRange(
  _ w: WeightMatrix, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, rows: Range<Int>,
  activations: ThreadActivations, options: MatVecOptions = MatVecOptions()
) {
  if rows.isEmpty { return }
  precondition(w.cols == activations.count, "matvecRange: activations prepared for another input")
  precondition(rows.lowerBound >= 0 && rows.upperBound <= w.rows, "matvecRange: rows out of range")
  matvecRows(
    w, x, y, rows: rows, q8: activations.q8, q8K: activations.q8K, precision: activations.precision,
    rowBuffer: activations.rowBuffer, options: options)
}

/// The `index`-th of `count` contiguous shares of `0..<n` of nearly equal size that start at multiples of `multiple`
/// (the last share ends at `n`): element-wise SIMD code then splits its work at the same 8-lane boundaries as a
/// single call over all of `0..<n`.
@inline(__always)
public func alignedShare(_ n: Int, _ index: Int, _ count: Int, multiple: Int) -> Range<Int> {
  let units = ThreadPool.chunk(n / multiple, index, count)
  return (multiple * units.lowerBound)..<(index == count - 1 ? n : multiple * units.upperBound)
}
