import GGUF
import KernelsTestSupport
import Quantization
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

  /// The look-ahead spread over the kernels' loops (`MatVecOptions.spreadPrefetch`, with and without the near one)
  /// gives exactly the products of one burst per row pair, on every layout it covers, with an odd row count and rows
  /// that end in a partial group.
  func testSpreadLookAheadGivesTheSameProducts() throws {
    let pool = ThreadPool(threads: 2)
    let ws = KernelWorkspace()
    // (type, columns, regrouped): 576 columns end in a partial group of 4 blocks.
    let cases: [(GGMLType, Int, Bool)] = [
      (.q4_1, 576, false), (.q8_0, 576, true), (.q5_0, 576, true), (.q4_1, 512, true), (.q4_K, 512, false),
      (.q5_K, 512, false), (.q6_K, 768, false),
    ]
    for (type, cols, regroup) in cases {
      let m = TestMatrix.random(type, rows: 37, cols: cols, seed: 91 &+ UInt64(type.rawValue))
      let packed = regroup ? BlockGroups.regrouped(m.matrix) : nil
      let w = packed?.0 ?? m.matrix
      let x = randomVector(cols, seed: 6)
      var expected = [Float](repeating: 0, count: 37)
      var burst = MatVecOptions()
      burst.spreadPrefetch = false
      matvec(w, x, &expected, pool: pool, workspace: ws, options: burst)
      for near in [0, 512] {
        for distance in [64, 2048, 1 << 20] {
          var options = MatVecOptions(lookAhead: .prefetch(bytes: distance))
          options.spreadPrefetch = true
          options.nearPrefetchBytes = near
          var got = [Float](repeating: .nan, count: 37)
          matvec(w, x, &got, pool: pool, workspace: ws, options: options)
          XCTAssertEqual(got, expected, "\(type) \(cols) regrouped \(regroup) near \(near) distance \(distance)")
        }
      }
      withExtendedLifetime(packed?.1) {}
    }
  }

  /// The prefetch into L1 goes to the CPU generations measured to gain from it (Zen 5), not to every AVX-512 CPU;
  /// the longer look-ahead to the AVX-512 ones.
  func testPrefetchDefaultsFollowTheCPU() throws {
    XCTAssertFalse(MatVecOptions.isZen5OrLater(vendor: "AuthenticAMD", family: 25))  // Zen 3, Zen 4
    XCTAssertTrue(MatVecOptions.isZen5OrLater(vendor: "AuthenticAMD", family: 26))  // Zen 5
    XCTAssertFalse(MatVecOptions.isZen5OrLater(vendor: "GenuineIntel", family: 6))
    XCTAssertEqual(MatVecOptions.defaultPrefetchHint, MatVecOptions.l1PrefetchPays ? .t0 : .t1)
    XCTAssertEqual(MatVecOptions.defaultLookAheadBytes, QuantTraits.cpuFlags.contains("avx512f") ? 8192 : 2048)
    #if os(Linux) && arch(x86_64)
      let cpu = QuantTraits.cpuVendorFamily
      XCTAssertTrue(["AuthenticAMD", "GenuineIntel"].contains(cpu.vendor), cpu.vendor)
      XCTAssertGreaterThan(cpu.family, 0)
      XCTAssertTrue(QuantTraits.cpuFlags.contains("sse2"), "flags parsed from /proc/cpuinfo")
      XCTAssertFalse(QuantTraits.cpuFlags.contains { $0.contains(":") || $0.contains("\n") })
    #endif
  }
}
