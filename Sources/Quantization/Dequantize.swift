/// Dequantisation of ggml blocks to Float: the reference definition of each block layout, written after the
/// `gguf` Python package (`gguf/quants.py`) and llama.cpp's `ggml-quants.c` (`dequantize_row_*`).
///
/// Each function reproduces the Python package's float operations in the same order, so the results are
/// bit-identical to `gguf.quants.dequantize` (no fused multiply-add: Swift does not contract `a * b + c`).
/// Layouts (all little-endian; `f16` is IEEE half; blocks of 32 elements unless noted):
/// ```
/// Q4_0  d:f16 qs[16]           x[j] = d*(lo(qs[j])-8), x[j+16] = d*(hi(qs[j])-8)
/// Q4_1  d:f16 m:f16 qs[16]     x[j] = d*lo(qs[j]) + m, x[j+16] = d*hi(qs[j]) + m
/// Q5_0  d:f16 qh:u32 qs[16]    q = nibble | bit(qh, j) << 4 (j in 0..<32), x = d*(q-16)
/// Q5_1  d:f16 m:f16 qh:u32 qs[16]   x = d*q + m
/// Q8_0  d:f16 qs:i8[32]        x = qs*d
/// Q4_K  (256) d:f16 dmin:f16 scales[12] qs[128]: 8 sub-blocks of 32 with 6-bit scale/min pairs;
///       sub-block 2i takes the low nibbles of qs[32i..<32i+32], 2i+1 the high ones; x = (d*sc)*q - (dmin*m)
/// Q5_K  (256) d dmin scales[12] qh[32] qs[128]: as Q4_K with bit i of qh[l] the fifth bit of sub-block i
/// Q6_K  (256) ql[128] qh[64] scales:i8[16] d:f16: 16 sub-blocks of 16; x = (d*scale)*(q-32)
/// Q2_K  (256) scales[16] qs[64] d dmin;  Q3_K (256) hmask[32] qs[64] scales[12] d
/// ```
#if canImport(Glibc)
  import Glibc
#endif

extension GGMLType {
  /// Whether `dequantize(_:count:into:)` supports this type.
  public var canDequantize: Bool {
    switch self {
    case .f32, .f16, .bf16, .q4_0, .q4_1, .q5_0, .q5_1, .q8_0, .q2_K, .q3_K, .q4_K, .q5_K, .q6_K: return true
    default: return false
    }
  }

  /// Dequantises `count` elements (a whole number of blocks) starting at `src` into `dst`.
  ///
  /// - Parameters:
  ///   - src: packed blocks of this type (any alignment).
  ///   - count: number of elements; a multiple of `blockSize`.
  ///   - dst: `count` floats.
  /// - Precondition: `canDequantize` and `count % blockSize == 0` (programmer errors; check the type when loading).
  public func dequantize(_ src: UnsafeRawPointer, count: Int, into dst: UnsafeMutablePointer<Float>) {
    precondition(canDequantize, "dequantize: \(self) is not supported")
    precondition(count % blockSize == 0, "dequantize: \(count) is not a multiple of \(self)'s block size")
    let blocks = count / blockSize
    switch self {
    case .f32:
      UnsafeMutableRawPointer(dst).copyMemory(from: src, byteCount: count * 4)
    case .f16:
      halfToFloat(src, dst, count: count)
    case .bf16:
      for i in 0..<count {
        dst[i] = Float(bitPattern: UInt32(src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)) << 16)
      }
    default:
      let block: (UnsafeRawPointer, UnsafeMutablePointer<Float>) -> Void
      switch self {
      case .q4_0: block = Self.dequantizeQ4_0
      case .q4_1: block = Self.dequantizeQ4_1
      case .q5_0: block = Self.dequantizeQ5_0
      case .q5_1: block = Self.dequantizeQ5_1
      case .q8_0: block = Self.dequantizeQ8_0
      case .q2_K: block = Self.dequantizeQ2_K
      case .q3_K: block = Self.dequantizeQ3_K
      case .q4_K: block = { Self.dequantizeQ4_KOrQ5_K($0, $1, fifthBits: false) }
      case .q5_K: block = { Self.dequantizeQ4_KOrQ5_K($0, $1, fifthBits: true) }
      case .q6_K: block = Self.dequantizeQ6_K
      default: preconditionFailure("unreachable: canDequantize checked")
      }
      for b in 0..<blocks { block(src + b * bytesPerBlock, dst + b * blockSize) }
    }
  }

  /// Dequantises `count` elements into a new array (convenience for tests and one-off rows).
  public func dequantize(_ src: UnsafeRawPointer, count: Int) -> [Float] {
    [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
      dequantize(src, count: count, into: buffer.baseAddress!)
      initialized = count
    }
  }

  /// Quant `j` (0..<32) of a Q4/Q5 block: element j < 16 is the low nibble of `qs[j]`, element j >= 16 the high
  /// nibble of `qs[j - 16]`; bit j of `qh` (Q5) is its fifth bit.
  @inline(__always)
  static func quant(_ qs: UnsafeRawPointer, _ qh: UInt32, _ j: Int) -> UInt8 {
    let byte = qs.load(fromByteOffset: j & 15, as: UInt8.self)
    return (j < 16 ? byte & 0x0F : byte >> 4) | UInt8(truncatingIfNeeded: (qh >> UInt32(j)) & 1) << 4
  }

  static func dequantizeQ4_0(_ b: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
    let d = halfAt(b, 0)
    for j in 0..<32 { y[j] = d * Float(Int8(quant(b + 2, 0, j)) - 8) }
  }

  static func dequantizeQ4_1(_ b: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
    let d = halfAt(b, 0)
    let m = halfAt(b, 2)
    for j in 0..<32 { y[j] = d * Float(quant(b + 4, 0, j)) + m }
  }

  static func dequantizeQ5_0(_ b: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
    let d = halfAt(b, 0)
    let qh = b.loadUnaligned(fromByteOffset: 2, as: UInt32.self)
    for j in 0..<32 { y[j] = d * Float(Int8(quant(b + 6, qh, j)) - 16) }
  }

  static func dequantizeQ5_1(_ b: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
    let d = halfAt(b, 0)
    let m = halfAt(b, 2)
    let qh = b.loadUnaligned(fromByteOffset: 4, as: UInt32.self)
    for j in 0..<32 { y[j] = d * Float(quant(b + 8, qh, j)) + m }
  }

  @inline(__always)
  static func dequantizeQ8_0(_ b: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
    let d = halfAt(b, 0)
    for j in 0..<32 { y[j] = Float(b.load(fromByteOffset: 2 + j, as: Int8.self)) * d }
  }

  /// The 6-bit scale and min of sub-block `j` (0..<8) of a Q4_K/Q5_K block (`get_scale_min_k4`).
  @inline(__always)
  static func scaleMinK4(_ j: Int, _ s: UnsafeRawPointer) -> (UInt8, UInt8) {
    if j < 4 {
      return (s.load(fromByteOffset: j, as: UInt8.self) & 63, s.load(fromByteOffset: j + 4, as: UInt8.self) & 63)
    }
    let a = s.load(fromByteOffset: j + 4, as: UInt8.self)
    let lo = s.load(fromByteOffset: j - 4, as: UInt8.self)
    let mi = s.load(fromByteOffset: j, as: UInt8.self)
    return ((a & 0x0F) | ((lo >> 6) << 4), (a >> 4) | ((mi >> 6) << 4))
  }

  /// Q4_K, or with `fifthBits` Q5_K: bit i of `qh[l]` is the fifth bit of element l of sub-block i.
  static func dequantizeQ4_KOrQ5_K(_ b: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>, fifthBits: Bool) {
    let d = halfAt(b, 0)
    let dmin = halfAt(b, 2)
    let scales = b + 4
    let qh = b + 16
    let qs = fifthBits ? b + 48 : b + 16
    for i in 0..<4 {
      let (sc0, m0) = scaleMinK4(2 * i, scales)
      let (sc1, m1) = scaleMinK4(2 * i + 1, scales)
      let d0 = d * Float(sc0), dm0 = dmin * Float(m0)
      let d1 = d * Float(sc1), dm1 = dmin * Float(m1)
      for l in 0..<32 {
        let q = qs.load(fromByteOffset: 32 * i + l, as: UInt8.self)
        let h = fifthBits ? qh.load(fromByteOffset: l, as: UInt8.self) : 0
        let q0 = (q & 0x0F) | (((h >> UInt8(2 * i)) & 1) << 4)
        let q1 = (q >> 4) | (((h >> UInt8(2 * i + 1)) & 1) << 4)
        y[64 * i + l] = d0 * Float(q0) - dm0
        y[64 * i + 32 + l] = d1 * Float(q1) - dm1
      }
    }
  }

  @inline(__always)
  static func dequantizeQ6_K(_ b: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
    let ql = b
    let qh = b + 128
    let scales = b + 192
    let d = halfAt(b, 208)
    for h in 0..<2 {
      for i in 0..<128 {
        let lowByte = ql.load(fromByteOffset: 64 * h + (i & 63), as: UInt8.self)
        let low = i < 64 ? lowByte & 0x0F : lowByte >> 4
        let high = (qh.load(fromByteOffset: 32 * h + (i & 31), as: UInt8.self) >> UInt8(2 * (i >> 5))) & 3
        let q = Int8(bitPattern: low | (high << 4)) - 32
        let e = 128 * h + i
        let sc = Float(scales.load(fromByteOffset: e >> 4, as: Int8.self))
        y[e] = (d * sc) * Float(q)
      }
    }
  }

  @inline(__always)
  static func dequantizeQ2_K(_ b: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
    let scales = b
    let qs = b + 16
    let d = halfAt(b, 80)
    let dmin = halfAt(b, 82)
    // Element e = 128*h + 32*s + l (h: half, s: shift 0..<4, l: 0..<32) takes bits 2s of qs[32h + l];
    // its scale byte is scales[e / 16].
    forEachElementOf2BitBlock { h, s, l, e in
      let sc = scales.load(fromByteOffset: e >> 4, as: UInt8.self)
      let dl = d * Float(sc & 0x0F)
      let ml = dmin * Float(sc >> 4)
      let q = (qs.load(fromByteOffset: 32 * h + l, as: UInt8.self) >> UInt8(2 * s)) & 3
      y[e] = dl * Float(q) - ml
    }
  }

  @inline(__always)
  static func dequantizeQ3_K(_ b: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
    let hmask = b
    let qs = b + 32
    let sc = b + 96
    let d = halfAt(b, 108)
    var scales = [Int8](repeating: 0, count: 16)
    for i in 0..<16 {
      let low = (sc.load(fromByteOffset: i & 7, as: UInt8.self) >> UInt8(4 * (i >> 3))) & 0x0F
      let high = (sc.load(fromByteOffset: 8 + (i & 3), as: UInt8.self) >> UInt8(2 * (i >> 2))) & 3
      scales[i] = Int8(bitPattern: low | (high << 4)) &- 32
    }
    // Element e = 128*h + 32*s + l: two bits from qs[32h + l] at shift 2s, the high bit from hmask[l] bit 4h + s
    // (set means no offset, clear means -4).
    forEachElementOf2BitBlock { h, s, l, e in
      let dl = d * Float(scales[e >> 4])
      let low = Int8((qs.load(fromByteOffset: 32 * h + l, as: UInt8.self) >> UInt8(2 * s)) & 3)
      let hbit = (hmask.load(fromByteOffset: l, as: UInt8.self) >> UInt8(4 * h + s)) & 1
      y[e] = dl * Float(low - (hbit == 0 ? 4 : 0))
    }
  }

  /// Visits the 256 elements of a Q2_K/Q3_K block as e = 128*h + 32*s + l (h: half, s: 2-bit shift 0..<4, l: 0..<32):
  /// element e takes bits 2s of `qs[32h + l]`.
  @inline(__always)
  static func forEachElementOf2BitBlock(_ body: (_ h: Int, _ s: Int, _ l: Int, _ e: Int) -> Void) {
    for h in 0..<2 {
      for s in 0..<4 {
        for l in 0..<32 { body(h, s, l, 128 * h + 32 * s + l) }
      }
    }
  }
}

/// IEEE half (binary16) bits to Float; exact for every value, NaN payloads kept. The one half-precision
/// conversion of the engine: the reference dequantisers, the kernels and the KV cache use it.
@inlinable @inline(__always)
public func halfToFloat(_ bits: UInt16) -> Float {
  #if arch(x86_64) || arch(arm64)
    return Float(Float16(bitPattern: bits))
  #else
    let sign = UInt32(bits & 0x8000) << 16
    let exp = UInt32(bits >> 10) & 0x1F
    let mant = UInt32(bits) & 0x3FF
    if exp == 0 {
      return Float(bitPattern: sign) + (sign != 0 ? -1 : 1) * Float(mant) * 0x1p-24
    }
    if exp == 31 { return Float(bitPattern: sign | 0x7F80_0000 | (mant << 13)) }
    return Float(bitPattern: sign | ((exp + 112) << 23) | (mant << 13))
  #endif
}

/// The half-precision value at byte `offset` of `p` (any alignment), as Float.
@inlinable @inline(__always)
public func halfAt(_ p: UnsafeRawPointer, _ offset: Int = 0) -> Float {
  halfToFloat(p.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
}

/// Converts `count` half-precision values at `src` (any alignment) to Float, 8 at a time where the CPU converts
/// vectors (F16C `vcvtph2ps` on x86-64).
public func halfToFloat(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, count: Int) {
  var i = 0
  #if arch(x86_64) || arch(arm64)
    let rd = UnsafeMutableRawPointer(dst)
    while i + 8 <= count {
      let h = src.loadUnaligned(fromByteOffset: 2 * i, as: SIMD8<Float16>.self)
      rd.storeBytes(of: SIMD8<Float>(h), toByteOffset: 4 * i, as: SIMD8<Float>.self)
      i += 8
    }
  #endif
  while i < count {
    dst[i] = halfAt(src, 2 * i)
    i += 1
  }
}
