import GGUF
import KernelsTestSupport
import XCTest

@testable import Kernels

/// The pieces of the one-dispatch decode step: the spin barrier, row shares, and products computed by range from
/// inside a pool job.
final class MatVecShareTests: XCTestCase {
  /// After each `wait`, every thread sees what every other thread wrote before its own `wait`, round after round
  /// (more threads than cores included, so some waits have to yield).
  func testBarrierOrdersEveryRound() {
    for threads in [1, 2, 3] {
      let pool = ThreadPool(threads: threads)
      let barrier = SpinBarrier(parties: threads)
      let slots = UnsafeMutablePointer<Int>.allocate(capacity: threads * 8)
      slots.initialize(repeating: -1, count: threads * 8)
      let stale = UnsafeMutablePointer<Int>.allocate(capacity: threads * 8)
      stale.initialize(repeating: 0, count: threads * 8)
      defer {
        slots.deallocate()
        stale.deallocate()
      }
      let rounds = 2000
      pool.run { t, n in
        for round in 0..<rounds {
          slots[8 * t] = round
          barrier.wait()
          for other in 0..<n where slots[8 * other] != round { stale[8 * t] += 1 }
          barrier.wait()
        }
      }
      let total = (0..<threads).reduce(0) { $0 + stale[8 * $1] }
      XCTAssertEqual(total, 0, "\(threads) threads: values from an earlier round seen after the barrier")
      XCTAssertEqual((0..<threads).map { slots[8 * $0] }, Array(repeating: rounds - 1, count: threads))
    }
  }

  /// Shares cover 0..<n once, in order, each starting at a multiple of `multiple`.
  func testAlignedSharesCoverEveryIndex() {
    for n in [0, 1, 2, 7, 8, 9, 31, 576, 4864] {
      for count in [1, 2, 3, 5] {
        for multiple in [1, 2, 8] {
          let shares = (0..<count).map { alignedShare(n, $0, count, multiple: multiple) }
          XCTAssertEqual(shares.first!.lowerBound, 0)
          XCTAssertEqual(shares.last!.upperBound, n)
          for (a, b) in zip(shares, shares.dropFirst()) { XCTAssertEqual(a.upperBound, b.lowerBound) }
          for s in shares.dropLast() { XCTAssertEqual(s.lowerBound % multiple, 0, "n \(n) count \(count)") }
          if n >= 8 * count * multiple {
            let sizes = shares.map(\.count)
            XCTAssertLessThanOrEqual(sizes.max()! - sizes.min()!, 2 * multiple, "n \(n) count \(count)")
          }
        }
      }
    }
  }

  /// Over many jobs of several phases, every schedule hands out each row of each phase exactly once, in ranges that
  /// start at multiples of the phase's `multiple`; with `.stealing`, the rows of a slow thread's share are taken over
  /// by the others.
  func testPhaseRowsCoverEveryRowOnce() {
    let phases: [(total: Int, multiple: Int)] = [(0, 4), (1, 4), (7, 2), (100, 4), (1000, 8), (4864, 8), (49152, 4)]
    let counts = phases.map { p in UnsafeMutablePointer<Int32>.allocate(capacity: max(1, p.total)) }
    let doneBy = phases.map { p in UnsafeMutablePointer<Int8>.allocate(capacity: max(1, p.total)) }
    defer { for p in counts { p.deallocate() }; for p in doneBy { p.deallocate() } }
    for threads in [1, 2, 3] {
      let pool = ThreadPool(threads: threads)
      let state = PhaseRowState(threads: threads)
      let barrier = SpinBarrier(parties: threads)
      for schedule in [RowSchedule.stealing, .dynamicChunks, .staticShares] {
        var stolen = 0
        var misaligned = 0
        for job in 0..<40 {
          for (i, p) in phases.enumerated() { counts[i].initialize(repeating: 0, count: max(1, p.total)) }
          state.begin()
          pool.run { t, n in
            var rows = PhaseRows(schedule, state: state, thread: t, threads: n)
            for (i, p) in phases.enumerated() {
              rows.forEach(p.total, multiple: p.multiple) { r in
                if r.lowerBound % p.multiple != 0 { misaligned += 1 }
                // Thread 0 is slow in every other job, so that the others run out of rows first.
                if t == 0 && job % 2 == 0 { usleep(20) }
                for j in r {
                  counts[i][j] += 1
                  doneBy[i][j] = Int8(t)
                }
              }
              barrier.wait()
            }
          }
          for (i, p) in phases.enumerated() {
            let wrong = (0..<p.total).filter { counts[i][$0] != 1 }
            XCTAssertTrue(
              wrong.isEmpty,
              "\(schedule) \(threads) threads, job \(job), total \(p.total): rows \(wrong.prefix(5)) not done once")
            if threads > 1 {
              stolen += alignedShare(p.total, 0, threads, multiple: p.multiple).filter { doneBy[i][$0] != 0 }.count
            }
          }
        }
        XCTAssertEqual(misaligned, 0, "\(schedule) \(threads) threads")
        if schedule == .stealing && threads > 1 {
          XCTAssertGreaterThan(stolen, 0, "\(threads) threads: nobody took over rows of the slow thread")
        }
        if schedule == .staticShares { XCTAssertEqual(stolen, 0, "static shares never move rows") }
      }
    }
  }

  /// Products computed by ranges of their concatenated rows, from the threads of one pool job with activations that
  /// each thread prepared for itself, equal `matvecs`, for fast-kernel types of both activation layouts, float weights,
  /// a type that goes through dequantisation, and `.exact`. Ranges that start at even rows of every matrix (as the
  /// decode step's do) give exactly the same floats; ranges that cut a row pair of the two-row kernels (odd starts)
  /// agree to rounding.
  func testRangesEqualMatVecs() {
    let cols = 512
    let mats = [
      TestMatrix.random(.q5_0, rows: 14, cols: cols, seed: 1), TestMatrix.random(.q6_K, rows: 8, cols: cols, seed: 2),
      TestMatrix.random(.f32, rows: 6, cols: cols, seed: 3), TestMatrix.random(.q4_K, rows: 22, cols: cols, seed: 4),
      TestMatrix.random(.q8_0, rows: 10, cols: cols, seed: 6), TestMatrix.random(.q3_K, rows: 6, cols: cols, seed: 7),
    ]
    let x = randomVector(cols, seed: 5)
    let totalRows = mats.reduce(0) { $0 + $1.matrix.rows }
    for precision in [MatVecPrecision.fast, .exact] {
      for threads in [1, 2, 3] {
        let pool = ThreadPool(threads: threads)
        var expected = mats.map { [Float](repeating: .nan, count: $0.matrix.rows) }
        expected.withUnsafeMutableBufferPointer { e in
          let pointers = (0..<mats.count).map { i in e[i].withUnsafeMutableBufferPointer { $0.baseAddress! } }
          matvecs(
            zip(mats.map(\.matrix), pointers).map { ($0, $1) }, x, pool: pool, workspace: KernelWorkspace(),
            precision: precision)
        }
        let acts = (0..<threads).map { _ in ThreadActivations() }
        for rangeRows in [6, 5] {
          var got = mats.map { [Float](repeating: .nan, count: $0.matrix.rows) }
          // Ranges handed out round-robin; 6 rows keep every start even in every matrix, 5 do not.
          let ranges = stride(from: 0, to: totalRows, by: rangeRows).map { $0..<min(totalRows, $0 + rangeRows) }
          got.withUnsafeMutableBufferPointer { g in
            let pointers = (0..<mats.count).map { i in g[i].withUnsafeMutableBufferPointer { $0.baseAddress! } }
            let products = zip(mats.map(\.matrix), pointers).map { ($0, $1) }
            x.withUnsafeBufferPointer { xp in
              pool.run { t, n in
                acts[t].prepare(xp.baseAddress!, count: cols, for: mats.map(\.matrix), precision: precision)
                for (i, r) in ranges.enumerated() where i % n == t {
                  matvecRange(products, xp.baseAddress!, rows: r, activations: acts[t])
                }
              }
            }
          }
          for (i, m) in mats.enumerated() {
            let label = "\(m.matrix.type) \(precision) \(threads) threads, ranges of \(rangeRows)"
            if rangeRows % 2 == 0 {
              XCTAssertEqual(got[i], expected[i], label)
            } else {
              assertClose(got[i], expected[i], scales: productScales(m.matrix, x), atol: 0, rtol: 1e-6, label)
            }
          }
        }
      }
    }
  }
}
