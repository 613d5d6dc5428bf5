import COpenBLAS
import Dispatch
import Foundation
import GGUF

/// Matrix products of activations with packed weights, and the worker fan-out of the forward pass.
///
/// `apply` computes `Y = X W^T` for `X` of `rows` rows: one row goes through row-wise dot products (decode),
/// several rows dequantise tiles of W into a reused F32 buffer and call `cblas_sgemm` (batched prefill).
///
/// - Important: owned by one `ForwardPass`; not thread-safe itself, but fans each call out to `workers` threads.
final class LinearOps {
  /// Threads a call fans out to.
  let workers: Int
  /// Rows of W dequantised per tile in the batched path.
  private let tileRows = 256
  /// Per-worker F32 tile buffers, grown on demand.  // (workers) × (tileRows, cols)
  private var tiles: [UnsafeMutablePointer<Float>?]
  private var tileCapacity: [Int]

  init(threads: Int) {
    let cores = max(1, ProcessInfo.processInfo.activeProcessorCount)
    workers = threads > 0 ? threads : cores
    tiles = Array(repeating: nil, count: workers)
    tileCapacity = Array(repeating: 0, count: workers)
    // The engine runs its own workers; OpenBLAS calls inside them must not spawn more threads.
    openblas_set_num_threads(1)
  }

  deinit {
    for t in tiles { t?.deallocate() }
  }

  /// Runs `body(worker)` for worker in 0..<count on the pool and waits for all.
  func parallel(_ count: Int, _ body: (Int) -> Void) {
    if count <= 1 {
      body(0)
      return
    }
    DispatchQueue.concurrentPerform(iterations: count, execute: body)
  }

  /// `output (rows, w.rows) = input (rows, w.cols) · w^T`.
  func apply(_ w: WeightMatrix, input: UnsafePointer<Float>, rows n: Int, output: UnsafeMutablePointer<Float>) {
    if w.type == .f32 {
      let a = w.base.assumingMemoryBound(to: Float.self)
      parallel(workers) { worker in
        let (lo, hi) = Self.split(w.rows, worker, self.workers)
        guard hi > lo else { return }
        cblas_sgemm(
          CblasRowMajor, CblasNoTrans, CblasTrans, Int32(n), Int32(hi - lo), Int32(w.cols), 1,
          input, Int32(w.cols), a + lo * w.cols, Int32(w.cols), 0, output + lo, Int32(w.rows))
      }
      return
    }
    for worker in 0..<workers { ensureTile(worker, count: tileRows * w.cols) }
    let tiles = self.tiles
    let tileRows = self.tileRows
    parallel(workers) { worker in
      let (lo, hi) = Self.split(w.rows, worker, self.workers)
      let tile = tiles[worker]!
      var r = lo
      while r < hi {
        let m = min(tileRows, hi - r)
        for i in 0..<m { w.type.dequantize(w.row(r + i), count: w.cols, into: tile + i * w.cols) }
        if n == 1 {
          cblas_sgemv(CblasRowMajor, CblasNoTrans, Int32(m), Int32(w.cols), 1, tile, Int32(w.cols), input, 1, 0,
            output + r, 1)
        } else {
          cblas_sgemm(
            CblasRowMajor, CblasNoTrans, CblasTrans, Int32(n), Int32(m), Int32(w.cols), 1,
            input, Int32(w.cols), tile, Int32(w.cols), 0, output + r, Int32(w.rows))
        }
        r += m
      }
    }
  }

  /// Dequantises row `row` of `w` into `into` (w.cols floats).
  func dequantizeRow(_ w: WeightMatrix, row: Int, into: UnsafeMutablePointer<Float>) {
    w.type.dequantize(w.row(row), count: w.cols, into: into)
  }

  private func ensureTile(_ worker: Int, count: Int) {
    if tileCapacity[worker] >= count { return }
    tiles[worker]?.deallocate()
    tiles[worker] = .allocate(capacity: count)
    tileCapacity[worker] = count
  }

  /// Rows [lo, hi) of `total` for `worker` of `workers`, in multiples of 16 rows where possible.
  @inline(__always) static func split(_ total: Int, _ worker: Int, _ workers: Int) -> (Int, Int) {
    let per = ((total + workers - 1) / workers + 15) / 16 * 16
    let lo = min(total, worker * per)
    return (lo, min(total, lo + per))
  }
}

