// Integer dot products of two weight rows with the 8-bit activations, two 32-value blocks per step (AVX2 + FMA).
//
// The one-block-per-step kernels of DotAVX2.swift spend most of their instructions per block on fixed costs: the
// nibble unpack of 16 bytes into a 256-bit vector, one fp16 scale conversion and broadcast per block, and a
// `vpmaddwd` + convert + FMA per block. Here the 16 packed bytes of two consecutive blocks share one 256-bit
// vector ([block b | block b+1]), so one `and` / shift-and pair unpacks 64 values; the low- and high-nibble
// products are added in int16 before a single `vpmaddwd` (no overflow: at most 2·2·31·127 + 2·2·16·127 < 32767
// in magnitude, Q5_0's offset included); and the fp16 scales of both blocks are converted together,
// multiplied by the activation scales in one `vmulps` and spread to the two 128-bit lanes with one `vpermps`. The
// activation vectors are regrouped to match once per block pair and shared by the two rows (against the one-block
// kernels: Benchmarks/kernels/RESULTS.md).
#if arch(x86_64)
  import _Builtin_intrinsics.intel
  import Quantization

  /// Kernels that decode two consecutive 32-value blocks per step ("pairs"), laid out as one 256-bit vector of
  /// low nibbles [block b values 0..<16 | block b+1 values 0..<16] and one of high nibbles (values 16..<32).
  enum AVX2PairDot {
    /// The activations of blocks b, b+1 regrouped to match: (lo, hi) = ([x_b 0..<16 | x_b+1 0..<16],
    /// [x_b 16..<32 | x_b+1 16..<32]).
    @inline(__always)
    static func activationPair(_ a: QuantizedActivations, _ b: Int) -> (__m256i, __m256i) {
      let x = UnsafeRawPointer(a.qs + 32 * b)
      return (_mm256_set_m128i(load128(x + 32), load128(x)), _mm256_set_m128i(load128(x + 48), load128(x + 16)))
    }

    /// Low and high nibbles of the 16 bytes at p0 and at p1: ([lo(p0) | lo(p1)], [hi(p0) | hi(p1)]).
    @inline(__always)
    static func nibblePair(_ p0: UnsafeRawPointer, _ p1: UnsafeRawPointer, _ mask: __m256i) -> (__m256i, __m256i) {
      let v = _mm256_set_m128i(load128(p1), load128(p0))
      return (_mm256_and_si256(v, mask), _mm256_and_si256(_mm256_srli_epi16(v, 4), mask))
    }

    /// The two fp16 values at p0 and the two at p1, as floats [p0[0], p0[1], p1[0], p1[1]].
    @inline(__always)
    static func halves4(_ p0: UnsafeRawPointer, _ p1: UnsafeRawPointer) -> __m128 {
      let v = _mm_setr_epi32(p0.loadUnaligned(as: Int32.self), p1.loadUnaligned(as: Int32.self), 0, 0)
      return _mm_cvtph_ps(v)
    }

    /// Two rows of Q4_1 at once (blocks of 20 bytes: fp16 d, fp16 m, 16 nibble bytes).
    @inline(__always)
    static func q4_1x2(
      _ w0: UnsafeRawPointer, _ w1: UnsafeRawPointer, _ a: QuantizedActivations, blocks: Int,
      spread spreadAhead: UnsafeMutablePointer<SpreadAhead>? = nil
    ) -> (Float, Float) {
      var acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps()
      var min0 = _mm_setzero_ps(), min1 = _mm_setzero_ps()
      let mask = _mm256_set1_epi8(0x0F)
      let ones = _mm256_set1_epi16(1)
      let spread = _mm256_setr_epi32(0, 0, 0, 0, 2, 2, 2, 2)
      var b = 0
      while b + 1 < blocks {
        let (xlo, xhi) = activationPair(a, b)
        // [dx_b, sx_b, dx_b+1, sx_b+1]
        let dsx = _mm_unpacklo_ps(
          _mm_castpd_ps(_mm_set_sd(UnsafeRawPointer(a.d + b).loadUnaligned(as: Double.self))),
          _mm_castpd_ps(_mm_set_sd(UnsafeRawPointer(a.s + b).loadUnaligned(as: Double.self))))
        let r0 = w0 + 20 * b, r1 = w1 + 20 * b
        let s0 = _mm_mul_ps(halves4(r0, r0 + 20), dsx)  // [d dx, m sx, d' dx', m' sx']
        let s1 = _mm_mul_ps(halves4(r1, r1 + 20), dsx)
        min0 = _mm_add_ps(min0, s0)
        min1 = _mm_add_ps(min1, s1)
        let (l0, h0) = nibblePair(r0 + 4, r0 + 24, mask)
        let (l1, h1) = nibblePair(r1 + 4, r1 + 24, mask)
        let p0 = _mm256_add_epi16(_mm256_maddubs_epi16(l0, xlo), _mm256_maddubs_epi16(h0, xhi))
        let p1 = _mm256_add_epi16(_mm256_maddubs_epi16(l1, xlo), _mm256_maddubs_epi16(h1, xhi))
        let f0 = _mm256_cvtepi32_ps(_mm256_madd_epi16(p0, ones))
        let f1 = _mm256_cvtepi32_ps(_mm256_madd_epi16(p1, ones))
        acc0 = _mm256_fmadd_ps(_mm256_permutevar8x32_ps(_mm256_castps128_ps256(s0), spread), f0, acc0)
        acc1 = _mm256_fmadd_ps(_mm256_permutevar8x32_ps(_mm256_castps128_ps256(s1), spread), f1, acc1)
        b += 2
        // 2 blocks of 20 bytes of each row done: 80 of the pair's bytes.
        spreadAhead?.pointee.advance(40 * b)
      }
      let m0: SIMD4<Float> = min0, m1: SIMD4<Float> = min1
      var r0 = hsum(acc0) + m0[1] + m0[3], r1 = hsum(acc1) + m1[1] + m1[3]
      if b < blocks {
        let (t0, t1) = AVX2Dot.q4_1x2(w0 + 20 * b, w1 + 20 * b, a.advanced(blocks: b), blocks: blocks - b)
        r0 += t0
        r1 += t1
      }
      return (r0, r1)
    }

    /// Two rows of Q5_0 at once (blocks of 22 bytes: fp16 d, 32 high bits, 16 nibble bytes). Values are taken
    /// unsigned (0...31) and the -16 offset is subtracted in the int16 pair sums through `16 · (x_2i + x_2i+1)`.
    @inline(__always)
    static func q5_0x2(_ w0: UnsafeRawPointer, _ w1: UnsafeRawPointer, _ a: QuantizedActivations, blocks: Int)
      -> (Float, Float)
    {
      var acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps()
      let mask = _mm256_set1_epi8(0x0F)
      let ones = _mm256_set1_epi16(1)
      let sixteen = _mm256_set1_epi8(16)
      let spread = _mm256_setr_epi32(0, 0, 0, 0, 2, 2, 2, 2)
      // Byte i of each 128-bit lane takes qh byte i/8 (low vector) or 2 + i/8 (high vector) ...
      let shufLo = _mm256_set_epi64x(0x0101_0101_0101_0101, 0, 0x0101_0101_0101_0101, 0)
      let shufHi = _mm256_set_epi64x(
        0x0303_0303_0303_0303, 0x0202_0202_0202_0202, 0x0303_0303_0303_0303,
        0x0202_0202_0202_0202)
      // ... and tests bit i % 8 of it.
      let bitSel = _mm256_set1_epi64x(Int64(bitPattern: 0x8040_2010_0804_0201))
      var b = 0
      while b + 1 < blocks {
        let (xlo, xhi) = activationPair(a, b)
        let off = _mm256_add_epi16(_mm256_maddubs_epi16(sixteen, xlo), _mm256_maddubs_epi16(sixteen, xhi))
        let dx = _mm_castpd_ps(_mm_set_sd(UnsafeRawPointer(a.d + b).loadUnaligned(as: Double.self)))
        let dxx = _mm_unpacklo_ps(dx, dx)  // [dx_b, dx_b, dx_b+1, dx_b+1]
        let r0 = w0 + 22 * b, r1 = w1 + 22 * b
        let s0 = _mm_mul_ps(halves4(r0, r0 + 22), dxx)  // lanes 0 and 2 (d · dx); 1 and 3 hold qh bits, unused
        let s1 = _mm_mul_ps(halves4(r1, r1 + 22), dxx)
        let (u0, v0) = q5Pair(r0, mask, shufLo, shufHi, bitSel, sixteen)
        let (u1, v1) = q5Pair(r1, mask, shufLo, shufHi, bitSel, sixteen)
        let p0 = _mm256_sub_epi16(_mm256_add_epi16(_mm256_maddubs_epi16(u0, xlo), _mm256_maddubs_epi16(v0, xhi)), off)
        let p1 = _mm256_sub_epi16(_mm256_add_epi16(_mm256_maddubs_epi16(u1, xlo), _mm256_maddubs_epi16(v1, xhi)), off)
        let f0 = _mm256_cvtepi32_ps(_mm256_madd_epi16(p0, ones))
        let f1 = _mm256_cvtepi32_ps(_mm256_madd_epi16(p1, ones))
        acc0 = _mm256_fmadd_ps(_mm256_permutevar8x32_ps(_mm256_castps128_ps256(s0), spread), f0, acc0)
        acc1 = _mm256_fmadd_ps(_mm256_permutevar8x32_ps(_mm256_castps128_ps256(s1), spread), f1, acc1)
        b += 2
      }
      var r0 = hsum(acc0), r1 = hsum(acc1)
      if b < blocks {
        let (t0, t1) = AVX2Dot.q5_0x2(w0 + 22 * b, w1 + 22 * b, a.advanced(blocks: b), blocks: blocks - b)
        r0 += t0
        r1 += t1
      }
      return (r0, r1)
    }

    /// The unsigned 5-bit values (0...31) of the Q5_0 blocks at `p` and `p + 22`, as (values 0..<16 of both,
    /// values 16..<32 of both).
    @inline(__always)
    static func q5Pair(
      _ p: UnsafeRawPointer, _ mask: __m256i, _ shufLo: __m256i, _ shufHi: __m256i, _ bitSel: __m256i,
      _ sixteen: __m256i
    ) -> (__m256i, __m256i) {
      let (lo, hi) = nibblePair(p + 6, p + 28, mask)
      // qh of the first block in the low 128-bit lane, of the second in the high lane.
      let q = _mm256_set_m128i(
        _mm_set1_epi32(p.loadUnaligned(fromByteOffset: 24, as: Int32.self)),
        _mm_set1_epi32(p.loadUnaligned(fromByteOffset: 2, as: Int32.self)))
      let bl = _mm256_cmpeq_epi8(_mm256_and_si256(_mm256_shuffle_epi8(q, shufLo), bitSel), bitSel)
      let bh = _mm256_cmpeq_epi8(_mm256_and_si256(_mm256_shuffle_epi8(q, shufHi), bitSel), bitSel)
      return (_mm256_or_si256(lo, _mm256_and_si256(bl, sixteen)), _mm256_or_si256(hi, _mm256_and_si256(bh, sixteen)))
    }
  }

  extension QuantizedActivations {
    /// The `.q8` activations from block `blocks` (of 32 values) on.
    @inline(__always)
    func advanced(blocks: Int) -> QuantizedActivations {
      QuantizedActivations(
        layout: layout, count: count - 32 * blocks, qs: qs + 32 * blocks, d: d + blocks, s: s + blocks, bsums: bsums)
    }
  }
#endif
