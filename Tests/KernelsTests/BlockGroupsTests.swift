import GGUF
import KernelsTestSupport
import Quantization
import XCTest

@testable import Kernels

/// The regrouped Q5_0 and Q4_1 layouts (BlockGroups.swift): lossless, and every kernel gives what it gives on the
/// file layout.
final class BlockGroupsTests: XCTestCase {
  static let types: [GGMLType] = [.q5_0, .q4_1, .q8_0]

  /// Column counts with whole groups (896: Qwen2.5-Coder-0.5B's rows), with a remainder of 1 to 3 blocks in the
  /// file layout, and with no whole group at all.
  static let columnCounts = [32, 96, 128, 160, 224, 896]

  func packed(_ m: TestMatrix) throws -> (WeightMatrix, PackedWeightStorage) {
    BlockGroups.regrouped(m.matrix)
  }

  func testRepackIsLosslessAndKeepsTheRowSize() throws {
    for type in Self.types {
      for cols in Self.columnCounts {
        let m = TestMatrix.random(type, rows: 5, cols: cols, seed: UInt64(cols))
        let (p, owner) = try packed(m)
        XCTAssertEqual(p.rowBytes, m.matrix.rowBytes)
        XCTAssertEqual(p.packing, .groupsOf4)
        let back = UnsafeMutableRawPointer.allocate(byteCount: p.rowBytes, alignment: 64)
        defer { back.deallocate() }
        for r in 0..<5 {
          p.fileLayoutRow(r, into: back)
          XCTAssertEqual(memcmp(back, m.matrix.row(r), p.rowBytes), 0, "\(type) cols \(cols) row \(r)")
          if cols >= 128 {
            // The regrouped bytes differ from the file's (else the test would prove nothing).
            XCTAssertNotEqual(memcmp(p.row(r), m.matrix.row(r), 88), 0)
          }
        }
        withExtendedLifetime(owner) {}
      }
    }
  }

  /// A hand-made group: the fifth bit of one element at a time lands where the layout comment says.
  func testPlaneBitPositions() {
    let src = UnsafeMutableRawPointer.allocate(byteCount: 88, alignment: 64)
    let dst = UnsafeMutableRawPointer.allocate(byteCount: 88, alignment: 64)
    defer { src.deallocate(); dst.deallocate() }
    for block in 0..<4 {
      for element in [0, 5, 15, 16, 21, 31] {
        src.initializeMemory(as: UInt8.self, repeating: 0, count: 88)
        src.storeBytes(of: UInt32(1) << UInt32(element), toByteOffset: 22 * block + 2, as: UInt32.self)
        BlockGroups.repackRow(src, type: .q5_0, blocks: 4, into: dst)
        // Expected: byte element % 16, bit (2 (block / 2) + element / 16) % 4 + 4 (block % 2).
        let v = 2 * (block / 2) + element / 16
        let expectedByte = element % 16, expectedBit = v + 4 * (block % 2)
        for i in 0..<16 {
          let byte = dst.load(fromByteOffset: 8 + i, as: UInt8.self)
          XCTAssertEqual(
            byte, i == expectedByte ? UInt8(1) << UInt8(expectedBit) : 0, "block \(block) element \(element)")
        }
      }
    }
  }

  /// Which matrices the engine regroups: Q5_0 always, Q4_1 in whole groups (with the AVX-512 kernels, always), Q8_0,
  /// nothing else.
  func testRepackPolicy() {
    XCTAssertNotNil(BlockGroups.repack(TestMatrix.random(.q5_0, rows: 2, cols: 576, seed: 1).matrix))
    XCTAssertNotNil(BlockGroups.repack(TestMatrix.random(.q4_1, rows: 2, cols: 1536, seed: 1).matrix))
    let partial = BlockGroups.repack(TestMatrix.random(.q4_1, rows: 2, cols: 576, seed: 1).matrix)
    XCTAssertEqual(partial != nil, BlockGroups.regroupsPartialQ4_1)
    let q8 = BlockGroups.repack(TestMatrix.random(.q8_0, rows: 2, cols: 576, seed: 1).matrix)
    XCTAssertEqual(q8 != nil, BlockGroups.types.contains(.q8_0))
    XCTAssertNotNil(q8, "Q8_0 is regrouped")
    XCTAssertNil(BlockGroups.repack(TestMatrix.random(.q6_K, rows: 2, cols: 256, seed: 1).matrix))
    let (p, owner) = BlockGroups.regrouped(TestMatrix.random(.q5_0, rows: 2, cols: 128, seed: 1).matrix)
    XCTAssertNil(BlockGroups.repack(p), "already regrouped")
    withExtendedLifetime(owner) {}
  }

  /// A hand-made Q4_1 group: scales first, minimums next, then the nibble bytes block after block.
  func testQ4_1GroupLayout() {
    let src = UnsafeMutableRawPointer.allocate(byteCount: 80, alignment: 64)
    let dst = UnsafeMutableRawPointer.allocate(byteCount: 80, alignment: 64)
    defer { src.deallocate(); dst.deallocate() }
    for i in 0..<80 { src.storeBytes(of: UInt8(i), toByteOffset: i, as: UInt8.self) }
    BlockGroups.repackRow(src, type: .q4_1, blocks: 4, into: dst)
    for k in 0..<4 {
      XCTAssertEqual(dst.load(fromByteOffset: 2 * k, as: UInt8.self), UInt8(20 * k), "d\(k)")
      XCTAssertEqual(dst.load(fromByteOffset: 8 + 2 * k, as: UInt8.self), UInt8(20 * k + 2), "m\(k)")
      for j in 0..<16 {
        XCTAssertEqual(dst.load(fromByteOffset: 16 + 16 * k + j, as: UInt8.self), UInt8(20 * k + 4 + j), "qs\(k)[\(j)]")
      }
    }
  }

  /// A hand-made Q8_0 group: the 4 scales first, then the blocks' 32 bytes one after the other; and back.
  func testQ8_0GroupLayout() {
    let src = UnsafeMutableRawPointer.allocate(byteCount: 136, alignment: 64)
    let dst = UnsafeMutableRawPointer.allocate(byteCount: 136, alignment: 64)
    let back = UnsafeMutableRawPointer.allocate(byteCount: 136, alignment: 64)
    defer { src.deallocate(); dst.deallocate(); back.deallocate() }
    for i in 0..<136 { src.storeBytes(of: UInt8(i), toByteOffset: i, as: UInt8.self) }
    BlockGroups.repackRow(src, type: .q8_0, blocks: 4, into: dst)
    for k in 0..<4 {
      XCTAssertEqual(dst.load(fromByteOffset: 2 * k, as: UInt8.self), UInt8(34 * k), "d\(k)")
      XCTAssertEqual(dst.load(fromByteOffset: 2 * k + 1, as: UInt8.self), UInt8(34 * k + 1), "d\(k) high byte")
      for j in 0..<32 {
        XCTAssertEqual(dst.load(fromByteOffset: 8 + 32 * k + j, as: UInt8.self), UInt8(34 * k + 2 + j), "qs\(k)[\(j)]")
      }
    }
    BlockGroups.unpackRow(dst, type: .q8_0, blocks: 4, into: back)
    XCTAssertEqual(memcmp(back, src, 136), 0)
  }

  func testDequantizeRowEqualsTheFileLayout() throws {
    for type in Self.types {
      for cols in Self.columnCounts {
        let m = TestMatrix.random(type, rows: 3, cols: cols, seed: 11 &+ UInt64(cols))
        let (p, owner) = try packed(m)
        var a = [Float](repeating: 0, count: 3 * cols), b = a
        m.matrix.dequantizeRows(0, 3, into: &a)
        p.dequantizeRows(0, 3, into: &b)
        XCTAssertEqual(a, b, "\(type) cols \(cols)")
        withExtendedLifetime(owner) {}
      }
    }
  }

  /// matvec on the regrouped rows equals the float product of the dequantised weights with the 8-bit activations.
  func testMatVecMatchesReference() throws {
    let pool = ThreadPool(threads: 3)
    let ws = KernelWorkspace()
    for type in Self.types {
      for cols in Self.columnCounts {
        let rows = 37
        let m = TestMatrix.random(type, rows: rows, cols: cols, seed: 5 &+ UInt64(cols))
        let (p, owner) = try packed(m)
        let x = randomVector(cols, seed: 17 &+ UInt64(cols))
        var y = [Float](repeating: .nan, count: rows), yFile = y
        matvec(p, x, &y, pool: pool, workspace: ws)
        matvec(m.matrix, x, &yFile, pool: pool, workspace: ws)
        let other = KernelWorkspace()
        let xSeen: [Float] = withExtendedLifetime(other) {
          let a = other.activations(count: cols, layout: .q8)
          quantizeActivations(x, count: cols, layout: .q8, into: a)
          return (0..<cols).map { a.d[$0 / 32] * Float(a.qs[$0]) }
        }
        var expected = [Float](repeating: 0, count: rows)
        Reference.matvec(m.matrix, xSeen, &expected)
        let scales = productScales(m.matrix, xSeen)
        assertClose(y, expected, scales: scales, atol: 1e-6, rtol: 2e-6, "\(type) regrouped \(cols)")
        assertClose(y, yFile, scales: scales, atol: 1e-6, rtol: 2e-6, "\(type) regrouped vs file layout \(cols)")
        // .exact precision reads the regrouped rows through the file layout.
        var yExact = [Float](repeating: .nan, count: rows), expectedExact = yExact
        matvec(p, x, &yExact, pool: pool, workspace: ws, precision: .exact)
        Reference.matvec(m.matrix, x, &expectedExact)
        assertClose(
          yExact, expectedExact, scales: productScales(m.matrix, x), rtol: 2e-6, "\(type) regrouped exact \(cols)")
        withExtendedLifetime(owner) {}
      }
    }
  }

  /// Multi-token kernels (batches of 2 to 31, in passes of 4 tokens) and the GEMM path (32 and more).
  func testMatmulMatchesReference() throws {
    let pool = ThreadPool(threads: 2)
    let ws = KernelWorkspace()
    for type in Self.types {
      for cols in [96, 160, 896] {
        let rows = 21
        let m = TestMatrix.random(type, rows: rows, cols: cols, seed: 23 &+ UInt64(cols))
        let (p, owner) = try packed(m)
        for batch in [2, 3, 5, 7, 40] {
          let x = randomVector(batch * cols, seed: UInt64(batch))
          var y = [Float](repeating: .nan, count: batch * rows), yFile = y
          matmul(p, x, batch: batch, &y, pool: pool, workspace: ws)
          matmul(m.matrix, x, batch: batch, &yFile, pool: pool, workspace: ws)
          var scales = [Double]()
          for b in 0..<batch { scales += productScales(m.matrix, Array(x[(b * cols)..<((b + 1) * cols)])) }
          assertClose(y, yFile, scales: scales, atol: 1e-6, rtol: 2e-6, "\(type) cols \(cols) batch \(batch)")
          XCTAssertFalse(y.contains { $0.isNaN }, "cols \(cols) batch \(batch): every output written")
        }
        withExtendedLifetime(owner) {}
      }
    }
  }
}
