import GGUF
import XCTest

@testable import Kernels

#if canImport(Glibc)
  import Glibc
#endif

/// `matvec`'s look-ahead loads (after the rows, and at the head of each chunk) stay inside the matrix: a matrix
/// that ends exactly where an inaccessible page begins gives the same products as a copy in ordinary memory (a load
/// past its end would crash the test).
final class LookAheadTests: XCTestCase {
  func testLookAheadNeverReadsPastTheMatrix() throws {
    #if canImport(Glibc)
      let page = Int(sysconf(Int32(_SC_PAGESIZE)))
      let pool = ThreadPool(threads: 2)
      let ws = KernelWorkspace()
      for type: GGMLType in [.q8_0, .q4_1, .q5_0, .q4_K, .q6_K, .f16] {
        let cols = type.blockSize == 256 ? 512 : 96
        let rows = 37
        let m = TestMatrix.random(type, rows: rows, cols: cols, seed: 77 &+ UInt64(type.rawValue))
        let bytes = m.matrix.byteCount
        let dataPages = (bytes + page - 1) / page
        let mapped = mmap(nil, (dataPages + 1) * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
        guard let base = mapped, base != MAP_FAILED else { throw XCTSkip("mmap failed") }
        defer { munmap(base, (dataPages + 1) * page) }
        XCTAssertEqual(mprotect(base + dataPages * page, page, PROT_NONE), 0)
        let start = base + dataPages * page - bytes
        start.copyMemory(from: m.matrix.data, byteCount: bytes)
        let guarded = WeightMatrix(rows: rows, cols: cols, type: type, data: UnsafeRawPointer(start))
        let x = randomVector(cols, seed: 5)
        var expected = [Float](repeating: 0, count: rows)
        var got = [Float](repeating: .nan, count: rows)
        matvec(m.matrix, x, &expected, pool: pool, workspace: ws)
        for distance in [64, 2048, 1 << 20] {
          for mode: MatVecOptions.LookAheadMode in [.load(bytes: distance), .prefetch(bytes: distance)] {
            for head in [false, true] {
              got = [Float](repeating: .nan, count: rows)
              let options = MatVecOptions(lookAhead: mode, prefetchChunkHead: head)
              matvec(guarded, x, &got, pool: pool, workspace: ws, options: options)
              XCTAssertEqual(got, expected, "\(type) \(mode) chunk head \(head)")
            }
          }
        }
      }
    #else
      throw XCTSkip("needs mmap/mprotect")
    #endif
  }
}
