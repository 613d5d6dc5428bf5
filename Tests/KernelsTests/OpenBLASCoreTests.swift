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
