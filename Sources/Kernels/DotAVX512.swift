// The regrouped Q4_1 and Q5_0 kernels (BlockGroups.swift) with 512-bit vectors and VNNI, for CPUs that have
// AVX-512 F/BW/DQ/VL and VNNI (the package defines CODEGEN_LSP_AVX512VNNI for them; Package.swift).
//
// One group of 4 blocks is one 512-bit vector per nibble half: the 64 nibble bytes of a group are [qs0 | qs1 | qs2 |
// qs3], so their low nibbles are elements 0..<16 of the 4 blocks, one block per 128-bit lane, and their high nibbles
// elements 16..<32. `vpdpbusd` multiplies the unsigned values by the 8-bit activations and adds each 4 products
// into a 32-bit lane, which replaces the AVX2 kernels' `vpmaddubsw` + `vpaddw` + `vpmaddwd` and gives the same
// integers (4 adjacent products per 32-bit lane in both). Q5_0's fifth bits: the 16-byte bit plane is broadcast to
// the 4 lanes, and one `vptestmb` per vector finds, in each lane, the bit of that lane's block (plane bit j holds
// vector j % 4 of the AVX2 order, block half j / 4; see BlockGroups.swift), so a masked byte add puts the 16 in.
// The scales of the 4 blocks are converted and multiplied once and spread to their lanes with one `vpermps`.
//
// Per group and row: 1 load, 3 instructions of unpacking (Q5_0: 5 more), 2 `vpdpbusd`, 1 convert, 4 of scales and
// 1 FMA, against about twice as many 256-bit instructions in AVX2Groups. Results differ from the AVX2 kernels only
// in the order of the float additions.
#if arch(x86_64) && CODEGEN_LSP_AVX512VNNI
  import _Builtin_intrinsics.intel
  import Quantization

  enum AVX512Groups {
    struct Constants {
      let mask = _mm512_set1_epi8(0x0F)
      let sixteen = _mm512_set1_epi8(16)
      /// `vpermps` index: the scale of block k (0..<4) to every float of 128-bit lane k.
      let spread = unsafeBitCast(SIMD16<Int32>(0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3), to: __m512i.self)
      /// `vpermt2q` indices: of two vectors [b lo | b hi | b+1 lo | b+1 hi] and [b+2 lo | ... | b+3 hi] (the
      /// activations of 4 blocks as stored), the 4 low halves and the 4 high halves.
      let pickLo = unsafeBitCast(SIMD8<Int64>(0, 1, 4, 5, 8, 9, 12, 13), to: __m512i.self)
      let pickHi = unsafeBitCast(SIMD8<Int64>(2, 3, 6, 7, 10, 11, 14, 15), to: __m512i.self)
      /// Q5_0: in lane k, the plane bit of block k's low-nibble vector (bits 0, 4, 2, 6) and high-nibble vector
      /// (1, 5, 3, 7), in every byte.
      let planeLo = Constants.laneBits(0, 4, 2, 6)
      let planeHi = Constants.laneBits(1, 5, 3, 7)

      @inline(__always) init() {}

      @inline(__always)
      static func laneBits(_ b0: UInt32, _ b1: UInt32, _ b2: UInt32, _ b3: UInt32) -> __m512i {
        var v = SIMD16<UInt32>()
        for (lane, bit) in [b0, b1, b2, b3].enumerated() {
          for i in 0..<4 { v[4 * lane + i] = 0x0101_0101 &* (1 << bit) }
        }
        return unsafeBitCast(v, to: __m512i.self)
      }
    }

    /// The activations of blocks b..<b+4: values 0..<16 of each block (one per 128-bit lane), values 16..<32, and
    /// the 4 scales and sums.
    struct Activations {
      let lo: __m512i, hi: __m512i
      let dx: __m128, sx: __m128
      @inline(__always) init(_ a: QuantizedActivations, _ b: Int, _ c: Constants) {
        let p = UnsafeRawPointer(a.qs + 32 * b)
        let first = p.loadUnaligned(as: __m512i.self), second = (p + 64).loadUnaligned(as: __m512i.self)
        lo = _mm512_permutex2var_epi64(first, c.pickLo, second)
        hi = _mm512_permutex2var_epi64(first, c.pickHi, second)
        dx = _mm_loadu_ps(a.d + b)
        sx = _mm_loadu_ps(a.s + b)
      }
    }

    /// Adds one group's products (d_w d_x Σ q x per block) to `acc` and its corrections (m s_x for Q4_1, d_w s_x
    /// for Q5_0, whose -16 is applied at the end) to `corr`.
    @inline(__always)
    static func accumulate(
      _ p: UnsafeRawPointer, _ x: Activations, _ c: Constants, q5: Bool, _ acc: inout __m512, _ corr: inout __m128
    ) {
      let d = _mm_cvtph_ps(_mm_loadl_epi64(p.assumingMemoryBound(to: __m128i.self)))
      let nibbles = (p + (q5 ? 24 : 16)).loadUnaligned(as: __m512i.self)
      var lo = _mm512_and_si512(nibbles, c.mask)
      var hi = _mm512_and_si512(_mm512_srli_epi16(nibbles, 4), c.mask)
      if q5 {
        let plane = _mm512_broadcast_i32x4(load128(p + 8))
        lo = _mm512_mask_add_epi8(lo, _mm512_test_epi8_mask(plane, c.planeLo), lo, c.sixteen)
        hi = _mm512_mask_add_epi8(hi, _mm512_test_epi8_mask(plane, c.planeHi), hi, c.sixteen)
        corr = _mm_fmadd_ps(d, x.sx, corr)
      } else {
        let m = _mm_cvtph_ps(_mm_loadl_epi64((p + 8).assumingMemoryBound(to: __m128i.self)))
        corr = _mm_fmadd_ps(m, x.sx, corr)
      }
      let sums = _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(_mm512_setzero_si512(), lo, x.lo), hi, x.hi)
      let scales = _mm512_permutexvar_ps(c.spread, _mm512_castps128_ps512(_mm_mul_ps(d, x.dx)))
      acc = _mm512_fmadd_ps(scales, _mm512_cvtepi32_ps(sums), acc)
    }

    @inline(__always)
    static func total(_ acc: __m512, _ corr: __m128, q5: Bool) -> Float {
      let s: SIMD4<Float> = corr
      return _mm512_reduce_add_ps(acc) + (q5 ? -16 : 1) * ((s[0] + s[1]) + (s[2] + s[3]))
    }

    /// Two regrouped rows at once, sharing the activations; the blocks after the last whole group (file layout)
    /// go through the AVX2 pair kernels.
    @inline(__always)
    static func dot2(_ w0: UnsafeRawPointer, _ w1: UnsafeRawPointer, _ a: QuantizedActivations, blocks: Int, q5: Bool)
      -> (Float, Float)
    {
      let c = Constants()
      let size = q5 ? 88 : 80
      var acc0 = _mm512_setzero_ps(), corr0 = _mm_setzero_ps()
      var acc1 = _mm512_setzero_ps(), corr1 = _mm_setzero_ps()
      let groups = blocks / 4
      for g in 0..<groups {
        let x = Activations(a, 4 * g, c)
        accumulate(w0 + size * g, x, c, q5: q5, &acc0, &corr0)
        accumulate(w1 + size * g, x, c, q5: q5, &acc1, &corr1)
      }
      let (t0, t1) = AVX2Groups.tail2(w0, w1, a, blocks: blocks, q5: q5)
      return (total(acc0, corr0, q5: q5) + t0, total(acc1, corr1, q5: q5) + t1)
    }
  }

  extension AVX512Groups {
    /// Two regrouped Q8_0 rows (BlockGroups.swift) at once. Per group of 4 blocks: two 512-bit loads per row (two
    /// blocks each, one per 256-bit half), the weights taken as w + 128 (one xor) for `vpdpbusd` with the
    /// accumulator starting at -128 Σ x (shared by the two rows), and the 4 scales d_w d_x converted and multiplied
    /// once and spread to their halves with `vpermps`. The same integers as the file-layout kernels; the blocks
    /// after the last whole group go through `AVX512Dot.q8_0x2`.
    @inline(__always)
    static func q8_0x2(_ w0: UnsafeRawPointer, _ w1: UnsafeRawPointer, _ a: QuantizedActivations, blocks: Int)
      -> (Float, Float)
    {
      let flip = _mm512_set1_epi8(-128)
      let zero = _mm512_setzero_si512()
      let spread01 = unsafeBitCast(SIMD16<Int32>(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1), to: __m512i.self)
      let spread23 = unsafeBitCast(SIMD16<Int32>(2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3), to: __m512i.self)
      var acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps()
      let groups = blocks / 4
      for g in 0..<groups {
        let x = UnsafeRawPointer(a.qs + 128 * g)
        let xa = x.loadUnaligned(as: __m512i.self), xb = (x + 64).loadUnaligned(as: __m512i.self)
        let startA = _mm512_sub_epi32(zero, _mm512_dpbusd_epi32(zero, flip, xa))
        let startB = _mm512_sub_epi32(zero, _mm512_dpbusd_epi32(zero, flip, xb))
        let dx = _mm_loadu_ps(a.d + 4 * g)
        @inline(__always) func row(_ p: UnsafeRawPointer, _ acc: inout __m512) {
          let d = _mm_mul_ps(_mm_cvtph_ps(_mm_loadl_epi64(p.assumingMemoryBound(to: __m128i.self))), dx)
          let d512 = _mm512_castps128_ps512(d)
          let wa = _mm512_xor_si512((p + 8).loadUnaligned(as: __m512i.self), flip)
          let wb = _mm512_xor_si512((p + 72).loadUnaligned(as: __m512i.self), flip)
          acc = _mm512_fmadd_ps(
            _mm512_permutexvar_ps(spread01, d512), _mm512_cvtepi32_ps(_mm512_dpbusd_epi32(startA, wa, xa)), acc)
          acc = _mm512_fmadd_ps(
            _mm512_permutexvar_ps(spread23, d512), _mm512_cvtepi32_ps(_mm512_dpbusd_epi32(startB, wb, xb)), acc)
        }
        row(w0 + 136 * g, &acc0)
        row(w1 + 136 * g, &acc1)
      }
      var t0: Float = 0, t1: Float = 0
      if 4 * groups < blocks {
        (t0, t1) = AVX512Dot.q8_0x2(
          w0 + 136 * groups, w1 + 136 * groups, a.advanced(blocks: 4 * groups), blocks: blocks - 4 * groups)
      }
      return (_mm512_reduce_add_ps(acc0) + t0, _mm512_reduce_add_ps(acc1) + t1)
    }
  }

  /// File-layout kernels with 256-bit VNNI (`vpdpbusd` on ymm, AVX-512 VL).
  enum AVX512Dot {
    /// Two rows of Q8_0 at once. `vpdpbusd` multiplies unsigned by signed bytes, so the weights are taken as
    /// w + 128 (one xor) and the accumulator starts at -128 Σ x for each 4 activations (once per block for both
    /// rows): the same exact integers as the AVX2 kernel's sign trick, in 2 instructions per block and row
    /// instead of 4.
    @inline(__always)
    static func q8_0x2(_ w0: UnsafeRawPointer, _ w1: UnsafeRawPointer, _ a: QuantizedActivations, blocks: Int)
      -> (Float, Float)
    {
      var acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps()
      let flip = _mm256_set1_epi8(-128)
      let zero = _mm256_setzero_si256()
      for b in 0..<blocks {
        let b0 = w0 + 34 * b, b1 = w1 + 34 * b
        let qx = load256(a.qs + 32 * b)
        let start = _mm256_sub_epi32(zero, _mm256_mask_dpbusd_epi32(zero, 0xFF, flip, qx))
        let dx = a.d[b]
        let s0 = _mm256_mask_dpbusd_epi32(start, 0xFF, _mm256_xor_si256(load256(b0 + 2), flip), qx)
        let s1 = _mm256_mask_dpbusd_epi32(start, 0xFF, _mm256_xor_si256(load256(b1 + 2), flip), qx)
        acc0 = _mm256_fmadd_ps(_mm256_set1_ps(halfAt(b0) * dx), _mm256_cvtepi32_ps(s0), acc0)
        acc1 = _mm256_fmadd_ps(_mm256_set1_ps(halfAt(b1) * dx), _mm256_cvtepi32_ps(s1), acc1)
      }
      return (hsum(acc0), hsum(acc1))
    }
  }
#endif
