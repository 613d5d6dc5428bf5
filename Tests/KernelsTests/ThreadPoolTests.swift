import Synchronization
import XCTest

@testable import Kernels

final class ThreadPoolTests: XCTestCase {
  func testParallelForCoversEveryIndexOnce() {
    for threads in [1, 2, 3, 4, 7] {
      for spin in [0, ThreadPool.defaultSpinPolls] {
        let pool = ThreadPool(threads: threads, spinPolls: spin)
        XCTAssertEqual(pool.threadCount, threads)
        for n in [0, 1, 2, 3, 10, 101] {
          let counts = UnsafeMutablePointer<Int>.allocate(capacity: max(n, 1))
          counts.initialize(repeating: 0, count: max(n, 1))
          pool.parallelFor(n) { range in for i in range { counts[i] += 1 } }
          XCTAssertTrue((0..<n).allSatisfy { counts[$0] == 1 }, "threads \(threads) n \(n)")
          counts.deallocate()
        }
      }
    }
  }

  func testRunGivesEachThreadItsIndex() {
    let pool = ThreadPool(threads: 4)
    let seen = UnsafeMutablePointer<Int>.allocate(capacity: 4)
    seen.initialize(repeating: 0, count: 4)
    pool.run { thread, count in
      XCTAssertEqual(count, 4)
      seen[thread] += 1
    }
    XCTAssertEqual((0..<4).map { seen[$0] }, [1, 1, 1, 1])
    seen.deallocate()
  }

  /// Many back-to-back jobs, with parking workers (no spinning) and spinning ones, all complete with all work done.
  func testManyDispatches() {
    for spin in [0, 100, ThreadPool.defaultSpinPolls] {
      let pool = ThreadPool(threads: 3, spinPolls: spin)
      let total = Atomic<Int>(0)
      for _ in 0..<3000 {
        pool.parallelFor(6) { range in total.add(range.count, ordering: .relaxed) }
      }
      XCTAssertEqual(total.load(ordering: .relaxed), 18000)
    }
  }

  func testGranularityKeepsChunksAligned() {
    let pool = ThreadPool(threads: 3)
    let starts = Mutex<[Int]>([])
    pool.parallelFor(100, granularity: 16) { range in
      XCTAssertEqual(range.lowerBound % 16, 0)
      starts.withLock { $0.append(range.lowerBound) }
    }
    XCTAssertEqual(starts.withLock { $0.sorted() }.first, 0)
  }

  func testPoolsAreCreatedAndDestroyed() {
    for _ in 0..<20 {
      let pool = ThreadPool(threads: 3, spinPolls: 0)
      pool.parallelFor(3) { _ in }
    }
  }

  func testChunksPartition() {
    for n in 0..<40 {
      for count in 1..<6 {
        let chunks = (0..<count).map { ThreadPool.chunk(n, $0, count) }
        XCTAssertEqual(chunks.map(\.count).reduce(0, +), n)
        for i in 1..<count { XCTAssertEqual(chunks[i].lowerBound, chunks[i - 1].upperBound) }
        XCTAssertLessThanOrEqual(chunks.map(\.count).max()! - chunks.map(\.count).min()!, 1)
      }
    }
  }
}

final class DynamicScheduleTests: XCTestCase {
  func testRunDynamicRunsEveryChunkOnce() {
    for threads in [1, 2, 3] {
      let pool = ThreadPool(threads: threads, spinPolls: threads == 3 ? 0 : ThreadPool.defaultSpinPolls)
      for chunks in [0, 1, 2, 7, 64, 1000] {
        let counts = UnsafeMutablePointer<Int>.allocate(capacity: max(chunks, 1))
        counts.initialize(repeating: 0, count: max(chunks, 1))
        let threadSeen = Mutex<Set<Int>>([])
        pool.runDynamic(chunks: chunks) { c, t in
          counts[c] += 1
          threadSeen.withLock { _ = $0.insert(t) }
        }
        XCTAssertTrue((0..<chunks).allSatisfy { counts[$0] == 1 }, "threads \(threads) chunks \(chunks)")
        XCTAssertTrue(threadSeen.withLock { $0.allSatisfy { (0..<threads).contains($0) } })
        counts.deallocate()
      }
    }
  }

  func testChunkRows() {
    XCTAssertEqual(MatmulTuning.chunkRows(4864, threads: 2), 304)
    XCTAssertEqual(MatmulTuning.chunkRows(128, threads: 2), 8)
    XCTAssertEqual(MatmulTuning.chunkRows(1, threads: 2), 8)
    for rows in [1, 5, 100, 151936] { XCTAssertEqual(MatmulTuning.chunkRows(rows, threads: 3) % 4, 0) }
  }
}
