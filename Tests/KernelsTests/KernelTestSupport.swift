import GGUF
import KernelsTestSupport
import Quantization
import XCTest

@testable import Kernels

/// Per-row scale of a matrix-vector product: Σ_c |w[r,c] x[c]| (the natural size of its rounding error).
func productScales(_ w: WeightMatrix, _ x: [Float]) -> [Double] {
  var row = [Float](repeating: 0, count: w.cols)
  return (0..<w.rows).map { r in
    w.withFileLayoutRow(r) { w.type.dequantize($0, count: w.cols, into: &row) }
    var s: Double = 0
    for c in 0..<w.cols { s += abs(Double(row[c]) * Double(x[c])) }
    return s
  }
}

/// Asserts |actual - expected| ≤ atol + rtol·scale element-wise (llm.c `check_tensor` style), reporting the worst.
func assertClose(
  _ actual: [Float], _ expected: [Float], scales: [Double]? = nil, atol: Double = 1e-6, rtol: Double = 1e-5,
  _ label: String, file: StaticString = #filePath, line: UInt = #line
) {
  XCTAssertEqual(actual.count, expected.count, label, file: file, line: line)
  var worst = 0.0
  var worstIndex = -1
  for i in 0..<min(actual.count, expected.count) {
    let scale = scales?[i] ?? abs(Double(expected[i]))
    let err = abs(Double(actual[i]) - Double(expected[i]))
    let allowed = atol + rtol * scale
    if !(err <= allowed) && (worstIndex < 0 || err / allowed > worst) {
      worst = err / allowed
      worstIndex = i
    }
  }
  if worstIndex >= 0 {
    XCTFail(
      "\(label): element \(worstIndex) is \(actual[worstIndex]), expected \(expected[worstIndex]) "
        + "(\(worst)x the tolerance)", file: file, line: line)
  }
}
