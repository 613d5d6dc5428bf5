import XCTest

@testable import Kernels

final class OpenBLASCoreTests: XCTestCase {
  let avx512: Set<String> = ["avx2", "fma", "avx512f", "avx512bw", "avx512dq", "avx512vl", "avx512cd"]

  func testSwitchesOnlyFromTheAVX2TablesOnAnAVX512CPU() {
    XCTAssertEqual(OpenBLASCore.better(than: "Haswell", flags: avx512), "SkylakeX")
    XCTAssertEqual(OpenBLASCore.better(than: "Zen", flags: avx512), "SkylakeX")
    XCTAssertNil(OpenBLASCore.better(than: "SkylakeX", flags: avx512))
    XCTAssertNil(OpenBLASCore.better(than: "Cooperlake", flags: avx512))
    XCTAssertNil(OpenBLASCore.better(than: "Haswell", flags: ["avx2", "fma"]))
    XCTAssertNil(OpenBLASCore.better(than: "Zen", flags: avx512.subtracting(["avx512vl"])))
  }

  /// A table older than the CPU (OpenBLAS 0.3.21 runs Intel Emerald Rapids with "Prescott") is replaced by the
  /// best one the CPU runs; a table older than AVX2 stays on a CPU without AVX2 and FMA.
  func testSwitchesFromAnOlderFallbackTable() {
    XCTAssertEqual(OpenBLASCore.better(than: "Prescott", flags: avx512), "SkylakeX")
    XCTAssertEqual(OpenBLASCore.better(than: "Sandybridge", flags: avx512), "SkylakeX")
    XCTAssertEqual(OpenBLASCore.better(than: "Prescott", flags: ["avx2", "fma"]), "Haswell")
    XCTAssertEqual(OpenBLASCore.better(than: "Nehalem", flags: ["avx2", "fma", "avx512f"]), "Haswell")
    XCTAssertNil(OpenBLASCore.better(than: "Prescott", flags: ["avx", "avx2"]))
    XCTAssertNil(OpenBLASCore.better(than: "Sandybridge", flags: ["avx"]))
    XCTAssertNil(OpenBLASCore.better(than: "SapphireRapids", flags: avx512))
  }

  /// After the first BLAS call OpenBLAS runs the table `better(than:flags:)` names for this CPU, and still
  /// computes a correct product.
  func testFirstGEMMLeavesTheTableForThisCPU() {
    let m = 37, n = 29, k = 53
    let a = (0..<(m * k)).map { Float(sin(Double($0))) }
    let b = (0..<(k * n)).map { Float(cos(Double($0) * 0.7)) }
    var c = [Float](repeating: 0, count: m * n)
    sgemm(m: m, n: n, k: k, a: a, b: b, c: &c)
    for i in 0..<m {
      for j in 0..<n {
        var s: Double = 0
        for p in 0..<k { s += Double(a[i * k + p]) * Double(b[p * n + j]) }
        XCTAssertEqual(Double(c[i * n + j]), s, accuracy: 1e-4)
      }
    }
    if let (from, to) = OpenBLASCore.switched {
      XCTAssertEqual(OpenBLASCore.better(than: from, flags: QuantTraits.cpuFlags), to)
      XCTAssertEqual(OpenBLASCore.current, to)
    } else {
      XCTAssertNil(OpenBLASCore.better(than: OpenBLASCore.current, flags: QuantTraits.cpuFlags), OpenBLASCore.current)
    }
  }
}
