import Foundation
import KernelsTestSupport
import XCTest

@testable import Kernels

final class OpsTests: XCTestCase {
  func testRMSNorm() {
    for n in [1, 7, 8, 64, 896, 1000] {
      let x = randomVector(n, seed: UInt64(n), range: -4...4)
      let g = randomVector(n, seed: 99, range: 0.5...1.5)
      var out = [Float](repeating: .nan, count: n)
      rmsNorm(x, weight: g, eps: 1e-6, count: n, out: &out)
      assertClose(out, Reference.rmsNorm(x, weight: g, eps: 1e-6), atol: 1e-6, rtol: 1e-5, "rmsnorm \(n)")
      // In place.
      var inPlace = x
      inPlace.withUnsafeMutableBufferPointer { p in
        rmsNorm(p.baseAddress!, weight: g, eps: 1e-6, count: n, out: p.baseAddress!)
      }
      XCTAssertEqual(inPlace, out)
    }
  }

  func testRope() {
    for style in [RopeStyle.normal, .neox] {
      for (headDim, ropeDim) in [(64, nil), (64, 32), (128, nil)] as [(Int, Int?)] {
        for (position, scale) in [(0, Float(1)), (1, 1), (37, 1), (4095, 1), (4095, 0.25)] {
          let heads = 3
          let x = randomVector(heads * headDim, seed: UInt64(position))
          var y = x
          rope(
            &y, heads: heads, headDim: headDim, position: position, style: style, freqBase: 1_000_000,
            freqScale: scale, ropeDim: ropeDim)
          let expected = Reference.rope(
            x, heads: heads, headDim: headDim, position: position, style: style, freqBase: 1_000_000,
            freqScale: scale, ropeDim: ropeDim)
          assertClose(
            y, expected, atol: 1e-5, rtol: 1e-5, "rope \(style) \(headDim)/\(ropeDim ?? headDim) @\(position)")
          if position == 0 { XCTAssertEqual(y, x, "position 0 is the identity") }
        }
      }
    }
  }

  /// The two pairings differ, and NeoX pairs i with i + d/2.
  func testRopePairings() {
    var x = [Float](repeating: 0, count: 8)
    x[0] = 1
    var normal = x, neox = x
    rope(&normal, heads: 1, headDim: 8, position: 1, style: .normal, freqBase: 10000)
    rope(&neox, heads: 1, headDim: 8, position: 1, style: .neox, freqBase: 10000)
    XCTAssertEqual(normal[1], sin(1), accuracy: 1e-6)
    XCTAssertEqual(normal[4], 0)
    XCTAssertEqual(neox[4], sin(1), accuracy: 1e-6)
    XCTAssertEqual(neox[1], 0)
  }

  func testSoftmax() {
    for n in [1, 5, 100, 4096] {
      var x = randomVector(n, seed: UInt64(n), range: -20...20)
      x[0] = 80  // large values must not overflow
      let expected = Reference.softmax(x)
      softmax(&x, count: n)
      assertClose(x, expected, atol: 1e-7, rtol: 1e-5, "softmax \(n)")
      XCTAssertEqual(Double(x.reduce(0, +)), 1, accuracy: 1e-5)
    }
  }

  func testSiluSwigluDotAxpyAdd() {
    let n = 1003
    let a = randomVector(n, seed: 1, range: -10...10)
    let b = randomVector(n, seed: 2, range: -2...2)
    var s = a
    silu(&s, count: n)
    assertClose(s, Reference.silu(a), atol: 1e-6, rtol: 1e-5, "silu")
    var out = [Float](repeating: .nan, count: n)
    swiglu(gate: a, up: b, out: &out, count: n)
    assertClose(out, Reference.swiglu(gate: a, up: b), atol: 1e-6, rtol: 1e-5, "swiglu")
    for m in [0, 1, 7, 8, 33, 1003] {
      let expected = Reference.dot(Array(a[0..<m]), Array(b[0..<m]))
      let scale = zip(a[0..<m], b[0..<m]).reduce(0.0) { $0 + abs(Double($1.0 * $1.1)) }
      XCTAssertEqual(Double(dot(a, b, count: m)), Double(expected), accuracy: 1e-6 * scale + 1e-6, "dot \(m)")
    }
    var y = b
    axpy(0.5, a, &y, count: n)
    assertClose(y, (0..<n).map { b[$0] + 0.5 * a[$0] }, atol: 1e-6, rtol: 1e-6, "axpy")
    var sum = [Float](repeating: 0, count: n)
    add(a, b, out: &sum, count: n)
    XCTAssertEqual(sum, (0..<n).map { a[$0] + b[$0] })
    var acc = a
    addInPlace(&acc, b, count: n)
    XCTAssertEqual(acc, sum)
    scale(&acc, by: 2, count: n)
    XCTAssertEqual(acc, sum.map { $0 * 2 })
  }

  /// The vector exp against Double exp over the range softmax and SiLU use, including the clamps.
  func testVectorExp() {
    var xs: [Float] = stride(from: -90, through: 89, by: 0.37).map { Float($0) }
    xs += [0, -0.0, 1e-8, -1e-8, 88.3, -87.3, -100, 100]
    var e = xs
    expInPlace(&e, count: e.count)
    for (x, v) in zip(xs, e) {
      let expected = Foundation.exp(Double(x))
      if x < -87.3 {
        XCTAssertLessThanOrEqual(Double(v), 1.2e-38, "exp(\(x))")
      } else if x > 88.37 {
        XCTAssertGreaterThan(v, 1e38, "exp(\(x))")
      } else {
        XCTAssertEqual(Double(v), expected, accuracy: expected * 4e-7, "exp(\(x))")
      }
    }
  }

  func testSgemmWrapper() {
    // (2, 3) · (3, 2)ᵀ-free case and a transposed B.
    let a: [Float] = [1, 2, 3, 4, 5, 6]
    let b: [Float] = [1, 0, 0, 1, 1, 1]
    var c = [Float](repeating: 0, count: 4)
    sgemm(m: 2, n: 2, k: 3, a: a, b: b, c: &c)
    XCTAssertEqual(c, [4, 5, 10, 11])
    let bt: [Float] = [1, 0, 1, 0, 1, 1]  // (2, 3), the transpose of b
    sgemm(transB: true, m: 2, n: 2, k: 3, a: a, b: bt, c: &c)
    XCTAssertEqual(c, [4, 5, 10, 11])
  }
}
