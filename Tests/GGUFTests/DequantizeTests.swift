import Foundation
import XCTest

@testable import GGUF
@testable import Quantization

/// Dequantisation checked against the `gguf` Python package on real tensors (fixture made by
/// Scripts/make_gguf_fixtures.py).
final class DequantizeTests: XCTestCase {
  static func fixture() throws -> GGUFFile {
    let url = try XCTUnwrap(Bundle.module.url(forResource: "dequant", withExtension: "gguf", subdirectory: "Fixtures"))
    return try GGUFFile(path: url.path)
  }

  /// Every case must match bit for bit: the Swift code performs the same float operations in the same order as the
  /// Python package (f16 to f32 is exact; products and sums are single IEEE operations, never fused).
  func testMatchesPythonPackageBitForBit() throws {
    let file = try Self.fixture()
    var typesSeen = Set<GGMLType>()
    var cases = 0
    for info in file.tensors where !info.name.hasSuffix(".expected") {
      let expectedInfo = try file.requireTensor(named: info.name + ".expected")
      XCTAssertEqual(expectedInfo.type, .f32)
      XCTAssertEqual(expectedInfo.dimensions, info.dimensions, info.name)
      XCTAssertTrue(info.type.canDequantize, "\(info.type)")
      let expected = file.data(for: expectedInfo).bindMemory(to: Float.self)
      let source = file.data(for: info)
      // Row by row, as the engine uses it.
      var mismatches = 0
      for r in 0..<info.rows {
        let row = info.type.dequantize(source.baseAddress! + r * info.rowBytes, count: info.cols)
        for c in 0..<info.cols where row[c].bitPattern != expected[r * info.cols + c].bitPattern {
          if mismatches < 5 {
            XCTFail("\(info.name) row \(r) col \(c): \(row[c]) != \(expected[r * info.cols + c])")
          }
          mismatches += 1
        }
      }
      XCTAssertEqual(mismatches, 0, info.name)
      typesSeen.insert(info.type)
      cases += 1
    }
    XCTAssertGreaterThanOrEqual(cases, 20)
    let required: Set<GGMLType> = [.f32, .f16, .bf16, .q8_0, .q4_0, .q4_1, .q5_0, .q5_1, .q4_K, .q5_K, .q6_K]
    XCTAssertTrue(typesSeen.isSuperset(of: required), "missing \(required.subtracting(typesSeen))")
  }

  func testRealTypesComeFromTheModels() throws {
    let file = try Self.fixture()
    let real = file.tensors.filter { $0.name.hasPrefix("real.") && !$0.name.hasSuffix(".expected") }
    XCTAssertEqual(Set(real.map(\.type)), [.q4_K, .q6_K, .q5_0, .q8_0, .q4_1, .f32])
  }

  func testHalfToFloat() {
    XCTAssertEqual(halfToFloat(0x3C00), 1)
    XCTAssertEqual(halfToFloat(0xC000), -2)
    XCTAssertEqual(halfToFloat(0x0001), 0x1p-24)  // smallest subnormal
    XCTAssertEqual(halfToFloat(0x7BFF), 65504)
    XCTAssertEqual(halfToFloat(0x7C00), .infinity)
    XCTAssertTrue(halfToFloat(0x7E00).isNaN)
    XCTAssertEqual(halfToFloat(0x8000).sign, .minus)
  }

  func testUnsupportedTypesSayNo() {
    XCTAssertFalse(GGMLType.iq2_XXS.canDequantize)
    XCTAssertFalse(GGMLType.q8_K.canDequantize)
    XCTAssertTrue(GGMLType.q5_K.canDequantize)
  }
}
