// SIMD dequantisation for prefill tiles: the same values as `GGMLType.dequantize` (bit for bit: the same float
// operations, multiply then add, never fused), unpacking blocks with the AVX2 code of the dot kernels.
import Quantization

#if arch(x86_64)
  import _Builtin_intrinsics.intel
#endif

extension QuantTraits {
  /// Dequantises `count` elements of `type` (a whole number of blocks) into `dst`, with SIMD where the CPU has it.
  /// Bit-identical to `GGMLType.dequantize`.
  public static func fastDequantize(
    _ type: GGMLType, _ src: UnsafeRawPointer, count: Int, into dst: UnsafeMutablePointer<Float>
  ) {
    #if arch(x86_64)
      if cpuHasAVX2FMA, let done = AVX2Dequantize.run(type, src, count: count, dst), done { return }
    #endif
    type.dequantize(src, count: count, into: dst)
  }
}

#if arch(x86_64)
  enum AVX2Dequantize {
    /// Dequantises when the type has a SIMD path; returns nil otherwise.
    @inline(__always)
    static func run(_ type: GGMLType, _ src: UnsafeRawPointer, count: Int, _ dst: UnsafeMutablePointer<Float>) -> Bool?
    {
      let blocks = count / type.blockSize
      switch type {
      case .q8_0:
        for b in 0..<blocks {
          let blk = src + 34 * b
          store32(load256(blk + 2), scale: halfAt(blk), dst + 32 * b)
        }
      case .q4_0:
        for b in 0..<blocks {
          let blk = src + 18 * b
          store32(_mm256_sub_epi8(bytesFromNibbles32(blk + 2), _mm256_set1_epi8(8)), scale: halfAt(blk), dst + 32 * b)
        }
      case .q4_1:
        for b in 0..<blocks {
          let blk = src + 20 * b
          store32(bytesFromNibbles32(blk + 4), scale: halfAt(blk), offset: halfAt(blk, 2), dst + 32 * b)
        }
      case .q5_0:
        for b in 0..<blocks {
          let blk = src + 22 * b
          store32(AVX2Dot.q5_0Bytes(blk), scale: halfAt(blk), dst + 32 * b)
        }
      case .q5_1:
        for b in 0..<blocks {
          let blk = src + 24 * b
          store32(AVX2Dot.q5_1Bytes(blk), scale: halfAt(blk), offset: halfAt(blk, 2), dst + 32 * b)
        }
      case .q4_K, .q5_K:
        let size = type == .q4_K ? 144 : 176
        let qsOffset = type == .q4_K ? 16 : 48
        let mask = _mm256_set1_epi8(0x0F)
        let one = _mm256_set1_epi8(1)
        for b in 0..<blocks {
          let blk = src + size * b
          let d = halfAt(blk)
          let dmin = halfAt(blk, 2)
          let (scales, mins) = AVX2Dot.unpackScalesMins(blk + 4)
          let hbits = type == .q5_K ? load256(blk + 16) : _mm256_setzero_si256()
          let y = dst + 256 * b
          for j in 0..<4 {
            let q4 = load256(blk + qsOffset + 32 * j)
            var lo = _mm256_and_si256(q4, mask)
            var hi = _mm256_and_si256(_mm256_srli_epi16(q4, 4), mask)
            if type == .q5_K {
              lo = _mm256_or_si256(
                lo, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hbits, Int32(2 * j)), one), 4))
              hi = _mm256_or_si256(
                hi, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hbits, Int32(2 * j + 1)), one), 4))
            }
            let sc0 = Float((scales >> UInt64(16 * j)) & 0xFF), sc1 = Float((scales >> UInt64(16 * j + 8)) & 0xFF)
            let m0 = Float((mins >> UInt64(16 * j)) & 0xFF), m1 = Float((mins >> UInt64(16 * j + 8)) & 0xFF)
            store32(lo, scale: d * sc0, offset: -(dmin * m0), y + 64 * j)
            store32(hi, scale: d * sc1, offset: -(dmin * m1), y + 64 * j + 32)
          }
        }
      case .q6_K:
        let m32 = _mm256_set1_epi8(32)
        for b in 0..<blocks {
          let blk = src + 210 * b
          let d = halfAt(blk, 208)
          let scales = (blk + 192).assumingMemoryBound(to: Int8.self)
          let y = dst + 256 * b
          for h in 0..<2 {
            let (q0, q1, q2, q3) = q6KHalf(blk, h)
            let s = 8 * h
            let yh = y + 128 * h
            store32(_mm256_sub_epi8(q0, m32), scale: d * Float(scales[s]), scaleHigh: d * Float(scales[s + 1]), yh)
            store32(
              _mm256_sub_epi8(q1, m32), scale: d * Float(scales[s + 2]), scaleHigh: d * Float(scales[s + 3]), yh + 32)
            store32(
              _mm256_sub_epi8(q2, m32), scale: d * Float(scales[s + 4]), scaleHigh: d * Float(scales[s + 5]), yh + 64)
            store32(
              _mm256_sub_epi8(q3, m32), scale: d * Float(scales[s + 6]), scaleHigh: d * Float(scales[s + 7]), yh + 96)
          }
        }
      case .f16:
        halfToFloat(src, dst, count: count)
      default:
        return nil
      }
      return true
    }

    /// 32 signed bytes → `q * scale` (or `q * scale + offset`, two separate roundings as the reference does).
    @inline(__always)
    static func store32(_ v: __m256i, scale: Float, offset: Float? = nil, _ y: UnsafeMutablePointer<Float>) {
      store32(v, scale: scale, scaleHigh: scale, offset: offset, y)
    }

    /// As `store32(_:scale:offset:_:)` with `scale` for bytes 0..<16 and `scaleHigh` for bytes 16..<32.
    @inline(__always)
    static func store32(
      _ v: __m256i, scale: Float, scaleHigh: Float, offset: Float? = nil, _ y: UnsafeMutablePointer<Float>
    ) {
      // vpmovsxbd + vcvtdq2ps per 8 bytes (the generic SIMD conversions were not inlined: perf showed them as
      // calls in prefill's dequantisation).
      let raw = UnsafeMutableRawPointer(y)
      let halves = unsafeBitCast(v, to: SIMD4<Int64>.self)
      let low = unsafeBitCast(halves.lowHalf, to: __m128i.self), high = unsafeBitCast(halves.highHalf, to: __m128i.self)
      @inline(__always) func floats(_ x: __m128i) -> SIMD8<Float> {
        unsafeBitCast(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(x)), to: SIMD8<Float>.self)
      }
      let s0 = SIMD8<Float>(repeating: scale), s1 = SIMD8<Float>(repeating: scaleHigh)
      let p0 = floats(low) * s0
      let p1 = floats(_mm_unpackhi_epi64(low, low)) * s0
      let p2 = floats(high) * s1
      let p3 = floats(_mm_unpackhi_epi64(high, high)) * s1
      if let offset {
        let o = SIMD8<Float>(repeating: offset)
        raw.storeBytes(of: p0 + o, toByteOffset: 0, as: SIMD8<Float>.self)
        raw.storeBytes(of: p1 + o, toByteOffset: 32, as: SIMD8<Float>.self)
        raw.storeBytes(of: p2 + o, toByteOffset: 64, as: SIMD8<Float>.self)
        raw.storeBytes(of: p3 + o, toByteOffset: 96, as: SIMD8<Float>.self)
      } else {
        raw.storeBytes(of: p0, toByteOffset: 0, as: SIMD8<Float>.self)
        raw.storeBytes(of: p1, toByteOffset: 32, as: SIMD8<Float>.self)
        raw.storeBytes(of: p2, toByteOffset: 64, as: SIMD8<Float>.self)
        raw.storeBytes(of: p3, toByteOffset: 96, as: SIMD8<Float>.self)
      }
    }
  }
#endif
