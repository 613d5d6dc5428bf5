import GGUF
import Kernels
import Quantization
import Sampling

// Test data for the kernels, shared by KernelsTests and the benchmarks (Benchmarks/Swift): seeded random vectors
// and matrices of every weight type, and views of a model file's matrices.

/// A deterministic generator, so that every test run sees the same data.
public typealias SeededRandom = SplitMix64

/// An owned buffer of packed weights with its matrix view.
public final class TestMatrix {
  public let bytes: UnsafeMutableRawPointer
  public let matrix: WeightMatrix
  public init(bytes: UnsafeMutableRawPointer, matrix: WeightMatrix) {
    self.bytes = bytes
    self.matrix = matrix
  }
  deinit { bytes.deallocate() }

  /// A matrix of random blocks of `type`: random quantised values with small random (valid, finite) scales.
  public static func random(_ type: GGMLType, rows: Int, cols: Int, seed: UInt64) -> TestMatrix {
    var rng = SeededRandom(seed: seed)
    let rowBytes = cols / type.blockSize * type.bytesPerBlock
    let total = rows * rowBytes
    let p = UnsafeMutableRawPointer.allocate(byteCount: total, alignment: 64)
    func half(_ range: ClosedRange<Float>) -> UInt16 { Float16(Float.random(in: range, using: &rng)).bitPattern }
    switch type {
    case .f32:
      for i in 0..<(rows * cols) {
        p.storeBytes(of: Float.random(in: -1...1, using: &rng), toByteOffset: 4 * i, as: Float.self)
      }
    case .f16:
      for i in 0..<(rows * cols) { p.storeBytes(of: half(-1...1), toByteOffset: 2 * i, as: UInt16.self) }
    case .bf16:
      for i in 0..<(rows * cols) {
        let f = Float.random(in: -1...1, using: &rng)
        p.storeBytes(of: UInt16(f.bitPattern >> 16), toByteOffset: 2 * i, as: UInt16.self)
      }
    default:
      for i in 0..<total { p.storeBytes(of: UInt8.random(in: 0...255, using: &rng), toByteOffset: i, as: UInt8.self) }
      let blocks = total / type.bytesPerBlock
      for b in 0..<blocks {
        let blk = p + b * type.bytesPerBlock
        switch type {
        case .q4_0, .q5_0, .q8_0:
          blk.storeBytes(of: half(0.001...0.05), as: UInt16.self)
        case .q4_1, .q5_1:
          blk.storeBytes(of: half(0.001...0.05), as: UInt16.self)
          blk.storeBytes(of: half(-0.5...0.5), toByteOffset: 2, as: UInt16.self)
        case .q4_K, .q5_K:
          blk.storeBytes(of: half(0.0001...0.005), as: UInt16.self)
          blk.storeBytes(of: half(0.0001...0.005), toByteOffset: 2, as: UInt16.self)
        case .q6_K:
          blk.storeBytes(of: half(0.0001...0.005), toByteOffset: 208, as: UInt16.self)
        case .q2_K:
          blk.storeBytes(of: half(0.0001...0.005), toByteOffset: 80, as: UInt16.self)
          blk.storeBytes(of: half(0.0001...0.005), toByteOffset: 82, as: UInt16.self)
        case .q3_K:
          blk.storeBytes(of: half(0.0001...0.005), toByteOffset: 108, as: UInt16.self)
        default:
          fatalError("test data for \(type) not written")
        }
      }
    }
    return TestMatrix(bytes: p, matrix: WeightMatrix(rows: rows, cols: cols, type: type, data: p))
  }
}

/// `n` floats drawn uniformly from `range`, the same for the same seed.
public func randomVector(_ n: Int, seed: UInt64, range: ClosedRange<Float> = -1...1) -> [Float] {
  var rng = SeededRandom(seed: seed)
  return (0..<n).map { _ in Float.random(in: range, using: &rng) }
}

extension WeightMatrix {
  /// A view of a 2-D tensor of a model file (the engine builds its views in Inference's ModelWeights).
  public init(_ info: GGUFTensorInfo, in file: GGUFFile) throws {
    guard QuantTraits.isSupported(info.type) else {
      throw KernelError.unsupportedType(tensor: info.name, type: info.type)
    }
    self.init(rows: info.rows, cols: info.cols, type: info.type, data: file.data(for: info).baseAddress!)
  }
}

/// Every weight matrix one decode step reads, once each: each layer's 2-D tensors and the output head (the token
/// embedding when the file ties the two). The embedding itself is left out when separate: decode only looks up
/// one of its rows.
public func decodeStepMatrices(_ gguf: GGUFFile) throws -> [WeightMatrix] {
  var mats = [WeightMatrix]()
  for info in gguf.tensors where info.dimensions.count == 2 && info.name != "token_embd.weight" {
    mats.append(try WeightMatrix(info, in: gguf))
  }
  if gguf.tensor(named: "output.weight") == nil, let e = gguf.tensor(named: "token_embd.weight") {
    mats.append(try WeightMatrix(e, in: gguf))  // tied output head
  }
  return mats
}
