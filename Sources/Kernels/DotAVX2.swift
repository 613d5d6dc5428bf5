// Integer dot products of one packed weight row with the quantised activations, on AVX2 + FMA.
//
// Written after the structure of llama.cpp's `ggml_vec_dot_*` AVX2 kernels (ggml-cpu/arch/x86/quants.c): 4- and
// 5-bit values are spread to bytes, multiplied with the int8 activations by `vpmaddubsw` (unsigned × signed byte
// pairs to int16; the sign trick moves a signed weight's sign onto the activation), summed to int32 by `vpmaddwd`,
// and scaled in float with FMA. Each returns Σ_c w[c] x[c] for one row of `blocks` blocks.
#if arch(x86_64)
  import _Builtin_intrinsics.intel
  import Quantization

  @inline(__always) func load256(_ p: UnsafeRawPointer) -> __m256i { p.loadUnaligned(as: __m256i.self) }
  @inline(__always) func load128(_ p: UnsafeRawPointer) -> __m128i { p.loadUnaligned(as: __m128i.self) }

  /// The 128 six-bit values (0…63) of half `h` of a Q6_K block at `blk`, as four vectors of 32 bytes:
  /// low 4 bits from `ql`, high 2 bits from `qh` (ggml's `block_q6_K` layout). Shared by the dot kernel and the
  /// SIMD dequantiser.
  @inline(__always) func q6KHalf(_ blk: UnsafeRawPointer, _ h: Int) -> (__m256i, __m256i, __m256i, __m256i) {
    let mask4 = _mm256_set1_epi8(0x0F)
    let mask2 = _mm256_set1_epi8(0x03)
    let ql = blk + 64 * h
    let qh = load256(blk + 128 + 32 * h)
    let l0 = load256(ql), l1 = load256(ql + 32)
    let q0 = _mm256_or_si256(_mm256_and_si256(l0, mask4), _mm256_slli_epi16(_mm256_and_si256(qh, mask2), 4))
    let q1 = _mm256_or_si256(
      _mm256_and_si256(l1, mask4), _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2), mask2), 4))
    let q2 = _mm256_or_si256(
      _mm256_and_si256(_mm256_srli_epi16(l0, 4), mask4),
      _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 4), mask2), 4))
    let q3 = _mm256_or_si256(
      _mm256_and_si256(_mm256_srli_epi16(l1, 4), mask4),
      _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 6), mask2), 4))
    return (q0, q1, q2, q3)
  }

  /// The sum of the 8 lanes.
  @inline(__always) func hsum(_ v: __m256) -> Float {
    let v8: SIMD8<Float> = v
    let v4 = v8.lowHalf + v8.highHalf
    let v2 = v4.lowHalf + v4.highHalf
    return v2[0] + v2[1]
  }

  /// Σ_j mins[j] · (bsums[2j] + bsums[2j+1]) for the 8 sub-blocks of a K-quant block, as 8 int32 lanes.
  @inline(__always) func minsTimesPairSums(_ mins: UInt64, _ bsums: UnsafePointer<Int16>) -> __m256i {
    let pairs = _mm256_madd_epi16(load256(bsums), _mm256_set1_epi16(1))
    let m = _mm256_cvtepu8_epi32(_mm_cvtsi64_si128(Int64(bitPattern: mins)))
    return _mm256_mullo_epi32(pairs, m)
  }

  /// 32 nibbles from 16 bytes: low nibbles in bytes 0..<16, high nibbles in bytes 16..<32.
  @inline(__always) func bytesFromNibbles32(_ p: UnsafeRawPointer) -> __m256i {
    let tmp = load128(p)
    let bytes = _mm256_set_m128i(_mm_srli_epi16(tmp, 4), tmp)
    return _mm256_and_si256(bytes, _mm256_set1_epi8(0x0F))
  }

  /// Byte i is 0xFF where bit i of `x` is set, 0 elsewhere.
  @inline(__always) func bytesFromBits32(_ x: UInt32) -> __m256i {
    let shuffle = _mm256_set_epi64x(0x0303_0303_0303_0303, 0x0202_0202_0202_0202, 0x0101_0101_0101_0101, 0)
    var bytes = _mm256_shuffle_epi8(_mm256_set1_epi32(Int32(bitPattern: x)), shuffle)
    bytes = _mm256_or_si256(bytes, _mm256_set1_epi64x(0x7FBF_DFEF_F7FB_FDFE))
    return _mm256_cmpeq_epi8(bytes, _mm256_set1_epi64x(-1))
  }

  /// 8 int32 sums of adjacent int16 pairs, as floats.
  @inline(__always) func sumI16PairsFloat(_ x: __m256i) -> __m256 {
    _mm256_cvtepi32_ps(_mm256_madd_epi16(_mm256_set1_epi16(1), x))
  }

  /// Σ of products of unsigned bytes `u` and signed bytes `s`, in 8 float lanes.
  @inline(__always) func mulSumUS8PairsFloat(_ u: __m256i, _ s: __m256i) -> __m256 {
    sumI16PairsFloat(_mm256_maddubs_epi16(u, s))
  }

  /// Σ of products of signed bytes, in 8 float lanes (|x| × sign(x)·y through `vpmaddubsw`).
  @inline(__always) func mulSumI8PairsFloat(_ x: __m256i, _ y: __m256i) -> __m256 {
    let ax = _mm256_sign_epi8(x, x)
    let sy = _mm256_sign_epi8(y, x)
    return mulSumUS8PairsFloat(ax, sy)
  }

  enum AVX2Dot {
    // MARK: Blocks of 32 with Q8 activations

    @inline(__always)
    static func q8_0(_ w: UnsafeRawPointer, _ a: QuantizedActivations, blocks: Int) -> Float {
      var acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps()
      var b = 0
      while b + 1 < blocks {
        let w0 = w + 34 * b, w1 = w0 + 34
        let d0 = _mm256_set1_ps(halfAt(w0) * a.d[b])
        let d1 = _mm256_set1_ps(halfAt(w1) * a.d[b + 1])
        let p0 = mulSumI8PairsFloat(load256(w0 + 2), load256(a.qs + 32 * b))
        let p1 = mulSumI8PairsFloat(load256(w1 + 2), load256(a.qs + 32 * b + 32))
        acc0 = _mm256_fmadd_ps(d0, p0, acc0)
        acc1 = _mm256_fmadd_ps(d1, p1, acc1)
        b += 2
      }
      if b < blocks {
        let w0 = w + 34 * b
        let d0 = _mm256_set1_ps(halfAt(w0) * a.d[b])
        acc0 = _mm256_fmadd_ps(d0, mulSumI8PairsFloat(load256(w0 + 2), load256(a.qs + 32 * b)), acc0)
      }
      return hsum(_mm256_add_ps(acc0, acc1))
    }

    @inline(__always)
    static func q4_0(_ w: UnsafeRawPointer, _ a: QuantizedActivations, blocks: Int) -> Float {
      var acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps()
      let off = _mm256_set1_epi8(8)
      var b = 0
      while b + 1 < blocks {
        let w0 = w + 18 * b, w1 = w0 + 18
        let d0 = _mm256_set1_ps(halfAt(w0) * a.d[b])
        let d1 = _mm256_set1_ps(halfAt(w1) * a.d[b + 1])
        let q0 = _mm256_sub_epi8(bytesFromNibbles32(w0 + 2), off)
        let q1 = _mm256_sub_epi8(bytesFromNibbles32(w1 + 2), off)
        acc0 = _mm256_fmadd_ps(d0, mulSumI8PairsFloat(q0, load256(a.qs + 32 * b)), acc0)
        acc1 = _mm256_fmadd_ps(d1, mulSumI8PairsFloat(q1, load256(a.qs + 32 * b + 32)), acc1)
        b += 2
      }
      if b < blocks {
        let w0 = w + 18 * b
        let d0 = _mm256_set1_ps(halfAt(w0) * a.d[b])
        let q0 = _mm256_sub_epi8(bytesFromNibbles32(w0 + 2), off)
        acc0 = _mm256_fmadd_ps(d0, mulSumI8PairsFloat(q0, load256(a.qs + 32 * b)), acc0)
      }
      return hsum(_mm256_add_ps(acc0, acc1))
    }

    @inline(__always)
    static func q4_1(_ w: UnsafeRawPointer, _ a: QuantizedActivations, blocks: Int) -> Float {
      var acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps()
      var mins: Float = 0
      var b = 0
      while b + 1 < blocks {
        let w0 = w + 20 * b, w1 = w0 + 20
        let d0 = _mm256_set1_ps(halfAt(w0) * a.d[b])
        let d1 = _mm256_set1_ps(halfAt(w1) * a.d[b + 1])
        mins += halfAt(w0, 2) * a.s[b] + halfAt(w1, 2) * a.s[b + 1]
        acc0 = _mm256_fmadd_ps(d0, mulSumUS8PairsFloat(bytesFromNibbles32(w0 + 4), load256(a.qs + 32 * b)), acc0)
        acc1 = _mm256_fmadd_ps(d1, mulSumUS8PairsFloat(bytesFromNibbles32(w1 + 4), load256(a.qs + 32 * b + 32)), acc1)
        b += 2
      }
      if b < blocks {
        let w0 = w + 20 * b
        mins += halfAt(w0, 2) * a.s[b]
        let d0 = _mm256_set1_ps(halfAt(w0) * a.d[b])
        acc0 = _mm256_fmadd_ps(d0, mulSumUS8PairsFloat(bytesFromNibbles32(w0 + 4), load256(a.qs + 32 * b)), acc0)
      }
      return hsum(_mm256_add_ps(acc0, acc1)) + mins
    }

    /// Q5_0 values q-16 as signed bytes: the nibble, with 0xF0 or-ed in where the fifth bit is clear.
    @inline(__always)
    static func q5_0Bytes(_ blk: UnsafeRawPointer) -> __m256i {
      let qh = blk.loadUnaligned(fromByteOffset: 2, as: UInt32.self)
      let lo = bytesFromNibbles32(blk + 6)
      let hi = _mm256_andnot_si256(bytesFromBits32(qh), _mm256_set1_epi8(-16))  // 0xF0 where the bit is 0
      return _mm256_or_si256(lo, hi)
    }

    @inline(__always)
    static func q5_0(_ w: UnsafeRawPointer, _ a: QuantizedActivations, blocks: Int) -> Float {
      var acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps()
      var b = 0
      while b + 1 < blocks {
        let w0 = w + 22 * b, w1 = w0 + 22
        let d0 = _mm256_set1_ps(halfAt(w0) * a.d[b])
        let d1 = _mm256_set1_ps(halfAt(w1) * a.d[b + 1])
        acc0 = _mm256_fmadd_ps(d0, mulSumI8PairsFloat(q5_0Bytes(w0), load256(a.qs + 32 * b)), acc0)
        acc1 = _mm256_fmadd_ps(d1, mulSumI8PairsFloat(q5_0Bytes(w1), load256(a.qs + 32 * b + 32)), acc1)
        b += 2
      }
      if b < blocks {
        let w0 = w + 22 * b
        let d0 = _mm256_set1_ps(halfAt(w0) * a.d[b])
        acc0 = _mm256_fmadd_ps(d0, mulSumI8PairsFloat(q5_0Bytes(w0), load256(a.qs + 32 * b)), acc0)
      }
      return hsum(_mm256_add_ps(acc0, acc1))
    }

    /// Q5_0 values q = 0...31 as unsigned bytes (the stored value is q - 16).
    @inline(__always)
    static func q5_0UnsignedBytes(_ blk: UnsafeRawPointer) -> __m256i {
      let qh = blk.loadUnaligned(fromByteOffset: 2, as: UInt32.self)
      let lo = bytesFromNibbles32(blk + 6)
      return _mm256_or_si256(lo, _mm256_and_si256(bytesFromBits32(qh), _mm256_set1_epi8(0x10)))
    }

    /// Two rows of Q5_0 at once, sharing the activation loads; values taken unsigned (0...31) and the -16 offset
    /// applied once per block through the activation block sums: Σ d_w d_x (q - 16) x = d_w (d_x Σ q x - 16 s_x).
    @inline(__always)
    static func q5_0x2(_ w0: UnsafeRawPointer, _ w1: UnsafeRawPointer, _ a: QuantizedActivations, blocks: Int)
      -> (Float, Float)
    {
      var acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps()
      var off0: Float = 0, off1: Float = 0
      for b in 0..<blocks {
        let b0 = w0 + 22 * b, b1 = w1 + 22 * b
        let qx = load256(a.qs + 32 * b)
        let dx = a.d[b], sx = a.s[b]
        let d0 = halfAt(b0), d1 = halfAt(b1)
        off0 += d0 * sx
        off1 += d1 * sx
        acc0 = _mm256_fmadd_ps(_mm256_set1_ps(d0 * dx), mulSumUS8PairsFloat(q5_0UnsignedBytes(b0), qx), acc0)
        acc1 = _mm256_fmadd_ps(_mm256_set1_ps(d1 * dx), mulSumUS8PairsFloat(q5_0UnsignedBytes(b1), qx), acc1)
      }
      return (hsum(acc0) - 16 * off0, hsum(acc1) - 16 * off1)
    }

    /// Two rows of Q8_0 at once, sharing the activation loads.
    @inline(__always)
    static func q8_0x2(_ w0: UnsafeRawPointer, _ w1: UnsafeRawPointer, _ a: QuantizedActivations, blocks: Int)
      -> (Float, Float)
    {
      var acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps()
      for b in 0..<blocks {
        let b0 = w0 + 34 * b, b1 = w1 + 34 * b
        let qx = load256(a.qs + 32 * b)
        let dx = a.d[b]
        acc0 = _mm256_fmadd_ps(_mm256_set1_ps(halfAt(b0) * dx), mulSumI8PairsFloat(load256(b0 + 2), qx), acc0)
        acc1 = _mm256_fmadd_ps(_mm256_set1_ps(halfAt(b1) * dx), mulSumI8PairsFloat(load256(b1 + 2), qx), acc1)
      }
      return (hsum(acc0), hsum(acc1))
    }

    /// Two rows of Q4_0 at once; nibbles taken unsigned and the -8 offset applied through the block sums.
    @inline(__always)
    static func q4_0x2(_ w0: UnsafeRawPointer, _ w1: UnsafeRawPointer, _ a: QuantizedActivations, blocks: Int)
      -> (Float, Float)
    {
      var acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps()
      var off0: Float = 0, off1: Float = 0
      for b in 0..<blocks {
        let b0 = w0 + 18 * b, b1 = w1 + 18 * b
        let qx = load256(a.qs + 32 * b)
        let dx = a.d[b], sx = a.s[b]
        let d0 = halfAt(b0), d1 = halfAt(b1)
        off0 += d0 * sx
        off1 += d1 * sx
        acc0 = _mm256_fmadd_ps(_mm256_set1_ps(d0 * dx), mulSumUS8PairsFloat(bytesFromNibbles32(b0 + 2), qx), acc0)
        acc1 = _mm256_fmadd_ps(_mm256_set1_ps(d1 * dx), mulSumUS8PairsFloat(bytesFromNibbles32(b1 + 2), qx), acc1)
      }
      return (hsum(acc0) - 8 * off0, hsum(acc1) - 8 * off1)
    }

    /// Two rows of Q4_1 at once, sharing the activation loads.
    @inline(__always)
    static func q4_1x2(_ w0: UnsafeRawPointer, _ w1: UnsafeRawPointer, _ a: QuantizedActivations, blocks: Int)
      -> (Float, Float)
    {
      var acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps()
      var min0: Float = 0, min1: Float = 0
      for b in 0..<blocks {
        let b0 = w0 + 20 * b, b1 = w1 + 20 * b
        let qx = load256(a.qs + 32 * b)
        let dx = a.d[b], sx = a.s[b]
        min0 += halfAt(b0, 2) * sx
        min1 += halfAt(b1, 2) * sx
        acc0 = _mm256_fmadd_ps(
          _mm256_set1_ps(halfAt(b0) * dx), mulSumUS8PairsFloat(bytesFromNibbles32(b0 + 4), qx), acc0)
        acc1 = _mm256_fmadd_ps(
          _mm256_set1_ps(halfAt(b1) * dx), mulSumUS8PairsFloat(bytesFromNibbles32(b1 + 4), qx), acc1)
      }
      return (hsum(acc0) + min0, hsum(acc1) + min1)
    }

    /// Q5_1 values 0...31 as unsigned bytes.
    @inline(__always)
    static func q5_1Bytes(_ blk: UnsafeRawPointer) -> __m256i {
      let qh = blk.loadUnaligned(fromByteOffset: 4, as: UInt32.self)
      let lo = bytesFromNibbles32(blk + 8)
      let hi = _mm256_and_si256(bytesFromBits32(qh), _mm256_set1_epi8(0x10))
      return _mm256_or_si256(lo, hi)
    }

    @inline(__always)
    static func q5_1(_ w: UnsafeRawPointer, _ a: QuantizedActivations, blocks: Int) -> Float {
      var acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps()
      var mins: Float = 0
      var b = 0
      while b + 1 < blocks {
        let w0 = w + 24 * b, w1 = w0 + 24
        let d0 = _mm256_set1_ps(halfAt(w0) * a.d[b])
        let d1 = _mm256_set1_ps(halfAt(w1) * a.d[b + 1])
        mins += halfAt(w0, 2) * a.s[b] + halfAt(w1, 2) * a.s[b + 1]
        acc0 = _mm256_fmadd_ps(d0, mulSumUS8PairsFloat(q5_1Bytes(w0), load256(a.qs + 32 * b)), acc0)
        acc1 = _mm256_fmadd_ps(d1, mulSumUS8PairsFloat(q5_1Bytes(w1), load256(a.qs + 32 * b + 32)), acc1)
        b += 2
      }
      if b < blocks {
        let w0 = w + 24 * b
        mins += halfAt(w0, 2) * a.s[b]
        let d0 = _mm256_set1_ps(halfAt(w0) * a.d[b])
        acc0 = _mm256_fmadd_ps(d0, mulSumUS8PairsFloat(q5_1Bytes(w0), load256(a.qs + 32 * b)), acc0)
      }
      return hsum(_mm256_add_ps(acc0, acc1)) + mins
    }

    // MARK: K-quants (blocks of 256) with Q8_K activations

    /// The eight 6-bit scales (bytes 0..<8) and mins (bytes 8..<16) of a Q4_K/Q5_K block, unpacked from 12 bytes.
    @inline(__always)
    static func unpackScalesMins(_ p: UnsafeRawPointer) -> (UInt64, UInt64) {
      let u0 = p.loadUnaligned(as: UInt32.self)
      let u1 = p.loadUnaligned(fromByteOffset: 4, as: UInt32.self)
      let u2 = p.loadUnaligned(fromByteOffset: 8, as: UInt32.self)
      let m6: UInt32 = 0x3F3F_3F3F, m4: UInt32 = 0x0F0F_0F0F, m2: UInt32 = 0x0303_0303
      let scalesLo = u0 & m6
      let scalesHi = (u2 & m4) | (((u0 >> 6) & m2) << 4)
      let minsLo = u1 & m6
      let minsHi = ((u2 >> 4) & m4) | (((u1 >> 6) & m2) << 4)
      return (UInt64(scalesLo) | UInt64(scalesHi) << 32, UInt64(minsLo) | UInt64(minsHi) << 32)
    }

    @inline(__always)
    static func q4_K(
      _ w: UnsafeRawPointer, _ a: QuantizedActivations, blocks: Int, spread: UnsafeMutablePointer<SpreadAhead>? = nil
    ) -> Float {
      q4_KOrQ5_K(w, a, blocks: blocks, spread: spread, q5: false)
    }

    @inline(__always)
    static func q5_K(
      _ w: UnsafeRawPointer, _ a: QuantizedActivations, blocks: Int, spread: UnsafeMutablePointer<SpreadAhead>? = nil
    ) -> Float {
      q4_KOrQ5_K(w, a, blocks: blocks, spread: spread, q5: true)
    }

    /// Q4_K, or with `q5` Q5_K (a literal at each call, so the fifth-bit steps fold away for Q4_K): per block the
    /// super-scale and 6-bit sub-block scales and mins; the mins' term goes through the activations' pair sums.
    @inline(__always)
    static func q4_KOrQ5_K(
      _ w: UnsafeRawPointer, _ a: QuantizedActivations, blocks: Int, spread: UnsafeMutablePointer<SpreadAhead>?,
      q5: Bool
    ) -> Float {
      var acc = _mm256_setzero_ps()
      var accMins = _mm256_setzero_ps()
      let mask = _mm256_set1_epi8(0x0F)
      let one = _mm256_set1_epi8(1)
      let size = q5 ? 176 : 144
      for b in 0..<blocks {
        let blk = w + size * b
        let dx = a.d[b]
        let d = halfAt(blk) * dx
        let dmin = halfAt(blk, 2) * dx
        let (scales, mins) = unpackScalesMins(blk + 4)
        accMins = _mm256_fmadd_ps(
          _mm256_set1_ps(-dmin), _mm256_cvtepi32_ps(minsTimesPairSums(mins, a.bsums + 16 * b)), accMins)
        let hbits = q5 ? load256(blk + 16) : _mm256_setzero_si256()
        let qs = blk + (q5 ? 48 : 16)
        let qx = UnsafeRawPointer(a.qs + 256 * b)
        var sumi = _mm256_setzero_si256()
        for j in 0..<4 {
          let sc0 = Int16(truncatingIfNeeded: (scales >> UInt64(16 * j)) & 0xFF)
          let sc1 = Int16(truncatingIfNeeded: (scales >> UInt64(16 * j + 8)) & 0xFF)
          let q4 = load256(qs + 32 * j)
          var lo = _mm256_and_si256(q4, mask)
          var hi = _mm256_and_si256(_mm256_srli_epi16(q4, 4), mask)
          if q5 {
            lo = _mm256_or_si256(
              lo, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hbits, Int32(2 * j)), one), 4))
            hi = _mm256_or_si256(
              hi, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hbits, Int32(2 * j + 1)), one), 4))
          }
          let plo = _mm256_madd_epi16(_mm256_maddubs_epi16(lo, load256(qx + 64 * j)), _mm256_set1_epi16(sc0))
          let phi = _mm256_madd_epi16(_mm256_maddubs_epi16(hi, load256(qx + 64 * j + 32)), _mm256_set1_epi16(sc1))
          sumi = _mm256_add_epi32(sumi, _mm256_add_epi32(plo, phi))
        }
        acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(sumi), acc)
        spread?.pointee.advance(size * (b + 1))
      }
      return hsum(_mm256_add_ps(acc, accMins))
    }

    @inline(__always)
    static func q6_K(
      _ w: UnsafeRawPointer, _ a: QuantizedActivations, blocks: Int, spread: UnsafeMutablePointer<SpreadAhead>? = nil
    ) -> Float {
      var acc = _mm256_setzero_ps()
      let pick0 = _mm256_set_epi64x(
        0x0302_0302_0302_0302, 0x0302_0302_0302_0302, 0x0100_0100_0100_0100, 0x0100_0100_0100_0100)
      let pick1 = _mm256_set_epi64x(
        0x0706_0706_0706_0706, 0x0706_0706_0706_0706, 0x0504_0504_0504_0504, 0x0504_0504_0504_0504)
      let pick2 = _mm256_set_epi64x(
        0x0B0A_0B0A_0B0A_0B0A, 0x0B0A_0B0A_0B0A_0B0A, 0x0908_0908_0908_0908, 0x0908_0908_0908_0908)
      let pick3 = _mm256_set_epi64x(
        0x0F0E_0F0E_0F0E_0F0E, 0x0F0E_0F0E_0F0E_0F0E, 0x0D0C_0D0C_0D0C_0D0C, 0x0D0C_0D0C_0D0C_0D0C)
      for b in 0..<blocks {
        let blk = w + 210 * b
        let d = halfAt(blk, 208) * a.d[b]
        let scales = (blk + 192).assumingMemoryBound(to: Int8.self)
        // The -32 offset of every value, through the group sums of the activations: Σ_g scale_g · bsum_g.
        let offset = _mm256_madd_epi16(_mm256_cvtepi8_epi16(load128(scales)), load256(a.bsums + 16 * b))
        let qx = UnsafeRawPointer(a.qs + 256 * b)
        var sumi = _mm256_setzero_si256()
        for h in 0..<2 {
          let (q0, q1, q2, q3) = q6KHalf(blk, h)
          // The 8 scales of this half as int16 in both 128-bit lanes; one shuffle per 32 values spreads scale 2j to
          // the low lane and 2j+1 to the high lane (pick0...pick3: int16 elements 2j and 2j+1).
          let sc = _mm256_broadcastsi128_si256(
            _mm_cvtepi8_epi16(_mm_loadl_epi64(UnsafeRawPointer(scales + 8 * h).assumingMemoryBound(to: __m128i.self))))
          let p0 = _mm256_madd_epi16(_mm256_maddubs_epi16(q0, load256(qx + 128 * h)), _mm256_shuffle_epi8(sc, pick0))
          let p1 = _mm256_madd_epi16(
            _mm256_maddubs_epi16(q1, load256(qx + 128 * h + 32)), _mm256_shuffle_epi8(sc, pick1))
          let p2 = _mm256_madd_epi16(
            _mm256_maddubs_epi16(q2, load256(qx + 128 * h + 64)), _mm256_shuffle_epi8(sc, pick2))
          let p3 = _mm256_madd_epi16(
            _mm256_maddubs_epi16(q3, load256(qx + 128 * h + 96)), _mm256_shuffle_epi8(sc, pick3))
          sumi = _mm256_add_epi32(sumi, _mm256_add_epi32(_mm256_add_epi32(p0, p1), _mm256_add_epi32(p2, p3)))
        }
        let total = _mm256_sub_epi32(sumi, _mm256_slli_epi32(offset, 5))
        acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(total), acc)
        spread?.pointee.advance(210 * (b + 1))
      }
      return hsum(acc)
    }

    /// int16 lanes 0..<8 = scales[i], lanes 8..<16 = scales[i+1] (two 16-element groups of one 32-byte vector).
    @inline(__always)
    static func scalePair(_ scales: UnsafePointer<Int8>, _ i: Int) -> __m256i {
      _mm256_set_m128i(_mm_set1_epi16(Int16(scales[i + 1])), _mm_set1_epi16(Int16(scales[i])))
    }

    // MARK: Float weights with float activations

    @inline(__always)
    static func f16(_ w: UnsafeRawPointer, _ x: UnsafePointer<Float>, count: Int) -> Float {
      var acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps()
      let rx = UnsafeRawPointer(x)
      var i = 0
      while i + 16 <= count {
        let w0 = _mm256_cvtph_ps(load128(w + 2 * i))
        let w1 = _mm256_cvtph_ps(load128(w + 2 * i + 16))
        acc0 = _mm256_fmadd_ps(w0, rx.loadUnaligned(fromByteOffset: 4 * i, as: __m256.self), acc0)
        acc1 = _mm256_fmadd_ps(w1, rx.loadUnaligned(fromByteOffset: 4 * i + 32, as: __m256.self), acc1)
        i += 16
      }
      var s = hsum(_mm256_add_ps(acc0, acc1))
      while i < count {
        s += halfAt(w, 2 * i) * x[i]
        i += 1
      }
      return s
    }

    @inline(__always)
    static func bf16(_ w: UnsafeRawPointer, _ x: UnsafePointer<Float>, count: Int) -> Float {
      var acc0 = _mm256_setzero_ps()
      let rx = UnsafeRawPointer(x)
      var i = 0
      while i + 8 <= count {
        let wi = _mm256_slli_epi32(_mm256_cvtepu16_epi32(load128(w + 2 * i)), 16)
        acc0 = _mm256_fmadd_ps(_mm256_castsi256_ps(wi), rx.loadUnaligned(fromByteOffset: 4 * i, as: __m256.self), acc0)
        i += 8
      }
      var s = hsum(acc0)
      while i < count {
        s += Float(bitPattern: UInt32(w.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)) << 16) * x[i]
        i += 1
      }
      return s
    }
  }
#endif
