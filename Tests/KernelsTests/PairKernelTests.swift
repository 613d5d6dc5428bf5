import GGUF
import KernelsTestSupport
import Quantization
import XCTest

@testable import Kernels

#if arch(x86_64)
  /// The two-blocks-per-step Q4_1 / Q5_0 kernels (DotPairsAVX2.swift) against a scalar reference on the same 8-bit
  /// activations, for even and odd block counts, random and extreme values (the int16 sums at their largest).
  final class PairKernelTests: XCTestCase {
    enum Fill { case random, allMax, allZero }

    /// Two rows of `blocks` packed blocks of `type` (Q4_1 or Q5_0) with fp16 scales in [-0.05, 0.05].
    func makeRows(_ type: GGMLType, blocks: Int, fill: Fill, seed: UInt64) -> [UInt8] {
      let size = type == .q4_1 ? 20 : 22
      var rng = SeededRandom(seed: seed)
      var bytes = [UInt8](repeating: 0, count: 2 * blocks * size)
      for i in bytes.indices {
        bytes[i] = fill == .random ? UInt8.random(in: 0...255, using: &rng) : fill == .allMax ? 0xFF : 0
      }
      for blk in 0..<(2 * blocks) {
        let halves = type == .q4_1 ? [0, 2] : [0]
        for h in halves {
          let bits = Float16(Float.random(in: -0.05...0.05, using: &rng)).bitPattern
          bytes[blk * size + h] = UInt8(bits & 0xFF)
          bytes[blk * size + h + 1] = UInt8(bits >> 8)
        }
      }
      return bytes
    }

    /// Σ_b Σ_i w_bi · d_b · q_bi in Double, the weights decoded by hand from the block layout.
    func reference(_ type: GGMLType, _ row: UnsafeRawPointer, _ a: QuantizedActivations, blocks: Int) -> Double {
      var total = 0.0
      for b in 0..<blocks {
        let size = type == .q4_1 ? 20 : 22
        let blk = row + size * b
        let d = Double(Float(Float16(bitPattern: blk.loadUnaligned(as: UInt16.self))))
        for i in 0..<32 {
          let packed = blk.load(fromByteOffset: (type == .q4_1 ? 4 : 6) + i % 16, as: UInt8.self)
          let nibble = Int(i < 16 ? packed & 0x0F : packed >> 4)
          let w: Double
          if type == .q4_1 {
            let m = Double(Float(Float16(bitPattern: blk.loadUnaligned(fromByteOffset: 2, as: UInt16.self))))
            w = d * Double(nibble) + m
          } else {
            let qh = blk.loadUnaligned(fromByteOffset: 2, as: UInt32.self)
            w = d * Double(nibble + Int((qh >> UInt32(i)) & 1) * 16 - 16)
          }
          total += w * Double(a.d[b]) * Double(a.qs[32 * b + i])
        }
      }
      return total
    }

    func check(_ type: GGMLType, blocks: Int, weights: Fill, activations: Fill, seed: UInt64) {
      let ws = KernelWorkspace()
      let cols = 32 * blocks
      let a = ws.activations(count: cols, layout: .q8)
      var x = randomVector(cols, seed: seed &+ 1, range: -3...3)
      if activations != .random {
        // Every block's maximum is ±127 after quantisation; allMax: all +127, allZero: all -127.
        for i in 0..<cols { x[i] = activations == .allMax ? 2 : -2 }
      }
      quantizeActivations(x, count: cols, layout: .q8, into: a)
      let rows = makeRows(type, blocks: blocks, fill: weights, seed: seed)
      let size = type == .q4_1 ? 20 : 22
      rows.withUnsafeBytes { raw in
        let r0 = raw.baseAddress!, r1 = raw.baseAddress! + blocks * size
        let (y0, y1) =
          type == .q4_1
          ? AVX2PairDot.q4_1x2(r0, r1, a, blocks: blocks) : AVX2PairDot.q5_0x2(r0, r1, a, blocks: blocks)
        for (y, row) in [(y0, r0), (y1, r1)] {
          let expected = reference(type, row, a, blocks: blocks)
          // Float summation order only: relative to the sum of |terms| (bounded by Σ |d| |w| |d_x q|).
          var scale = 0.0
          for b in 0..<blocks { scale += 32 * 31 * 0.05 * Double(a.d[b]) * 127 }
          XCTAssertEqual(
            Double(y), expected, accuracy: 1e-6 * scale + 1e-6,
            "\(type) blocks \(blocks) weights \(weights) activations \(activations)")
        }
      }
    }

    func testQ4_1PairsMatchReference() {
      for blocks in [1, 2, 3, 18, 28, 29] {
        check(.q4_1, blocks: blocks, weights: .random, activations: .random, seed: UInt64(blocks))
      }
    }

    func testQ5_0PairsMatchReference() {
      for blocks in [1, 2, 3, 18, 28, 29] {
        check(.q5_0, blocks: blocks, weights: .random, activations: .random, seed: UInt64(blocks) &+ 50)
      }
    }

    /// The largest int16 partial sums: every weight at its extreme and every activation at ±127.
    func testExtremeValuesDoNotOverflow() {
      for type: GGMLType in [.q4_1, .q5_0] {
        for weights: Fill in [.allMax, .allZero] {
          for activations: Fill in [.allMax, .allZero] {
            check(type, blocks: 4, weights: weights, activations: activations, seed: 9)
          }
        }
      }
    }
  }
#endif
