// Quantised matrix products for small batches (2 to a few dozen tokens): each weight block is unpacked once and
// multiplied with the 8-bit activations of every token, so the weights are read and decoded once per call instead
// of once per token. Same arithmetic as the single-row kernels of DotAVX2.swift.
/// The token group size of the multi-token kernels (exposed for tests).
enum AVX2MultiTokenGroup {
  static let size = 16
}

#if arch(x86_64)
  import _Builtin_intrinsics.intel
  import Quantization

  enum AVX2MultiToken {
    /// The most tokens one pass keeps accumulators for; larger batches are processed in groups.
    static let maxGroup = AVX2MultiTokenGroup.size

    /// Rows `rows` of `y[t, r] = Σ_c w[r, c] x[t, c]` for `tokens` tokens whose activations are quantised (one
    /// after the other) in `a`; `y` is (tokens, yStride).
    static func rows(
      _ w: WeightMatrix, _ a: QuantizedActivations, tokens: Int, rows: Range<Int>, _ y: UnsafeMutablePointer<Float>,
      yStride: Int
    ) {
      var t0 = 0
      while t0 < tokens {
        let n = min(maxGroup, tokens - t0)
        switch w.type {
        case .q8_0 where w.packing == .groupsOf4: groupsQ8_0(w, a, t0, n, rows, y, yStride)
        case .q8_0: legacy(w, a, t0, n, rows, y, yStride, kind: .q8_0)
        case .q4_0: legacy(w, a, t0, n, rows, y, yStride, kind: .q4_0)
        case .q4_1 where w.packing == .groupsOf4: groups(w, a, t0, n, rows, y, yStride, q5: false)
        case .q4_1: legacy(w, a, t0, n, rows, y, yStride, kind: .q4_1)
        case .q5_0 where w.packing == .groupsOf4: groups(w, a, t0, n, rows, y, yStride, q5: true)
        case .q5_0: legacy(w, a, t0, n, rows, y, yStride, kind: .q5_0)
        case .q5_1: legacy(w, a, t0, n, rows, y, yStride, kind: .q5_1)
        case .q4_K: kQuant45(w, a, t0, n, rows, y, yStride, five: false)
        case .q5_K: kQuant45(w, a, t0, n, rows, y, yStride, five: true)
        case .q6_K: q6K(w, a, t0, n, rows, y, yStride)
        default: preconditionFailure("multi-token kernel: unsupported \(w.type)")
        }
        t0 += n
      }
    }

    enum Legacy { case q8_0, q4_0, q4_1, q5_0, q5_1 }

    /// Regrouped Q8_0: the two-row decode kernel for each token in turn (the same integers as `legacy`).
    static func groupsQ8_0(
      _ w: WeightMatrix, _ a: QuantizedActivations, _ t0: Int, _ n: Int, _ rows: Range<Int>,
      _ y: UnsafeMutablePointer<Float>, _ yStride: Int
    ) {
      let blocks = w.cols / 32
      for t in t0..<(t0 + n) {
        let x = a.advanced(blocks: t * blocks)
        var r = rows.lowerBound
        while r + 1 < rows.upperBound {
          (y[t * yStride + r], y[t * yStride + r + 1]) = q8_0Groups2(w.row(r), w.row(r + 1), x, blocks: blocks)
          r += 2
        }
        if r < rows.upperBound { y[t * yStride + r] = q8_0Groups2(w.row(r), w.row(r), x, blocks: blocks).0 }
      }
    }

    /// Regrouped Q5_0 or Q4_1 (BlockGroups.swift), 4 tokens per pass.
    @inline(__always)
    static func groups(
      _ w: WeightMatrix, _ a: QuantizedActivations, _ t0: Int, _ n: Int, _ rows: Range<Int>,
      _ y: UnsafeMutablePointer<Float>, _ yStride: Int, q5: Bool
    ) {
      inGroupsOf4(t0, n) { AVX2Groups.multiToken(w, a, $0, $1, rows, y, yStride, q5: q5) }
    }

    /// Calls `body(t, m)` for tokens t0..<t0+n in groups of m <= 4 (the multi-token kernels' accumulators stay in
    /// registers), m a literal at each call so that the inlined kernel's branches on it fold.
    @inline(__always)
    static func inGroupsOf4(_ t0: Int, _ n: Int, _ body: (_ t: Int, _ m: Int) -> Void) {
      var g = 0
      while g < n {
        let m = min(4, n - g)
        switch m {
        case 4: body(t0 + g, 4)
        case 3: body(t0 + g, 3)
        case 2: body(t0 + g, 2)
        default: body(t0 + g, 1)
        }
        g += m
      }
    }

    @inline(__always)
    static func legacy(
      _ w: WeightMatrix, _ a: QuantizedActivations, _ t0: Int, _ n: Int, _ rows: Range<Int>,
      _ y: UnsafeMutablePointer<Float>, _ yStride: Int, kind: Legacy
    ) {
      inGroupsOf4(t0, n) { legacyGroupOf4(w, a, $0, $1, rows, y, yStride, kind: kind) }
    }

    /// Up to 4 tokens (`n`, constant per call site so the branches fold) with register accumulators.
    @inline(__always)
    static func legacyGroupOf4(
      _ w: WeightMatrix, _ a: QuantizedActivations, _ t0: Int, _ n: Int, _ rows: Range<Int>,
      _ y: UnsafeMutablePointer<Float>, _ yStride: Int, kind: Legacy
    ) {
      let blocks = w.cols / 32
      let size = w.type.bytesPerBlock
      let base = t0 * blocks
      LookAhead.forEachRow(of: w, rows, finishing: y) { r, row in
        var acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps()
        var acc2 = _mm256_setzero_ps(), acc3 = _mm256_setzero_ps()
        var e0: Float = 0, e1: Float = 0, e2: Float = 0, e3: Float = 0
        for b in 0..<blocks {
          let blk = row + size * b
          let dw = halfAt(blk)
          var u: __m256i
          var factor: Float = 0  // multiplies s_x: -8 d_w, -16 d_w, or the minimum m
          switch kind {
          case .q8_0: u = load256(blk + 2)
          case .q4_0:
            u = bytesFromNibbles32(blk + 2)
            factor = -8 * dw
          case .q5_0:
            u = AVX2Dot.q5_0UnsignedBytes(blk)
            factor = -16 * dw
          case .q4_1:
            u = bytesFromNibbles32(blk + 4)
            factor = halfAt(blk, 2)
          case .q5_1:
            u = AVX2Dot.q5_1Bytes(blk)
            factor = halfAt(blk, 2)
          }
          let signs = u
          if kind == .q8_0 { u = _mm256_sign_epi8(u, u) }
          @inline(__always) func step(_ t: Int, _ acc: inout __m256, _ e: inout Float) {
            let tb = base + t * blocks + b
            var qx = load256(a.qs + 32 * tb)
            if kind == .q8_0 { qx = _mm256_sign_epi8(qx, signs) }
            acc = _mm256_fmadd_ps(_mm256_set1_ps(dw * a.d[tb]), mulSumUS8PairsFloat(u, qx), acc)
            if kind != .q8_0 { e += factor * a.s[tb] }
          }
          step(0, &acc0, &e0)
          if n > 1 { step(1, &acc1, &e1) }
          if n > 2 { step(2, &acc2, &e2) }
          if n > 3 { step(3, &acc3, &e3) }
        }
        y[t0 * yStride + r] = hsum(acc0) + e0
        if n > 1 { y[(t0 + 1) * yStride + r] = hsum(acc1) + e1 }
        if n > 2 { y[(t0 + 2) * yStride + r] = hsum(acc2) + e2 }
        if n > 3 { y[(t0 + 3) * yStride + r] = hsum(acc3) + e3 }
      }
    }

    @inline(__always)
    static func kQuant45(
      _ w: WeightMatrix, _ a: QuantizedActivations, _ t0: Int, _ n: Int, _ rows: Range<Int>,
      _ y: UnsafeMutablePointer<Float>, _ yStride: Int, five: Bool
    ) {
      let blocks = w.cols / 256
      let size = five ? 176 : 144
      let qsOffset = five ? 48 : 16
      let mask = _mm256_set1_epi8(0x0F)
      let one = _mm256_set1_epi8(1)
      withUnsafeTemporaryAllocation(of: __m256.self, capacity: 2 * maxGroup) { acc in
        withUnsafeTemporaryAllocation(of: __m256i.self, capacity: 16) { q in
          LookAhead.forEachRow(of: w, rows, finishing: y) { r, row in
            for t in 0..<(2 * n) { acc[t] = _mm256_setzero_ps() }
            for b in 0..<blocks {
              let blk = row + size * b
              let d = halfAt(blk)
              let dmin = halfAt(blk, 2)
              let (scales, mins) = AVX2Dot.unpackScalesMins(blk + 4)
              let hbits = five ? load256(blk + 16) : _mm256_setzero_si256()
              for j in 0..<4 {
                let q4 = load256(blk + qsOffset + 32 * j)
                var lo = _mm256_and_si256(q4, mask)
                var hi = _mm256_and_si256(_mm256_srli_epi16(q4, 4), mask)
                if five {
                  lo = _mm256_or_si256(
                    lo, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hbits, Int32(2 * j)), one), 4))
                  hi = _mm256_or_si256(
                    hi, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hbits, Int32(2 * j + 1)), one), 4))
                }
                q[2 * j] = lo
                q[2 * j + 1] = hi
              }
              for j in 0..<8 {
                q[8 + j] = _mm256_set1_epi16(Int16(truncatingIfNeeded: (scales >> UInt64(8 * j)) & 0xFF))
              }
              for t in 0..<n {
                let tb = (t0 + t) * blocks + b
                let qx = UnsafeRawPointer(a.qs + 256 * tb)
                var sumi = _mm256_setzero_si256()
                for j in 0..<8 {
                  let p = _mm256_madd_epi16(_mm256_maddubs_epi16(q[j], load256(qx + 32 * j)), q[8 + j])
                  sumi = _mm256_add_epi32(sumi, p)
                }
                let dx = a.d[tb]
                acc[2 * t] = _mm256_fmadd_ps(_mm256_set1_ps(d * dx), _mm256_cvtepi32_ps(sumi), acc[2 * t])
                acc[2 * t + 1] = _mm256_fmadd_ps(
                  _mm256_set1_ps(-dmin * dx), _mm256_cvtepi32_ps(minsTimesPairSums(mins, a.bsums + 16 * tb)),
                  acc[2 * t + 1])
              }
            }
            for t in 0..<n { y[(t0 + t) * yStride + r] = hsum(_mm256_add_ps(acc[2 * t], acc[2 * t + 1])) }
          }
        }
      }
    }

    @inline(__always)
    static func q6K(
      _ w: WeightMatrix, _ a: QuantizedActivations, _ t0: Int, _ n: Int, _ rows: Range<Int>,
      _ y: UnsafeMutablePointer<Float>, _ yStride: Int
    ) {
      let blocks = w.cols / 256
      let mask4 = _mm256_set1_epi8(0x0F)
      let mask2 = _mm256_set1_epi8(0x03)
      withUnsafeTemporaryAllocation(of: __m256.self, capacity: maxGroup) { acc in
        withUnsafeTemporaryAllocation(of: __m256i.self, capacity: 16) { q in
          LookAhead.forEachRow(of: w, rows, finishing: y) { r, row in
            for t in 0..<n { acc[t] = _mm256_setzero_ps() }
            for b in 0..<blocks {
              let blk = row + 210 * b
              let d = halfAt(blk, 208)
              let scales = (blk + 192).assumingMemoryBound(to: Int8.self)
              let scales16 = _mm256_cvtepi8_epi16(load128(scales))
              for h in 0..<2 {
                let ql = blk + 64 * h
                let qh = load256(blk + 128 + 32 * h)
                let l0 = load256(ql), l1 = load256(ql + 32)
                q[4 * h] = _mm256_or_si256(
                  _mm256_and_si256(l0, mask4), _mm256_slli_epi16(_mm256_and_si256(qh, mask2), 4))
                q[4 * h + 1] = _mm256_or_si256(
                  _mm256_and_si256(l1, mask4), _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2), mask2), 4))
                q[4 * h + 2] = _mm256_or_si256(
                  _mm256_and_si256(_mm256_srli_epi16(l0, 4), mask4),
                  _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 4), mask2), 4))
                q[4 * h + 3] = _mm256_or_si256(
                  _mm256_and_si256(_mm256_srli_epi16(l1, 4), mask4),
                  _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 6), mask2), 4))
                for g in 0..<4 { q[8 + 4 * h + g] = AVX2Dot.scalePair(scales, 8 * h + 2 * g) }
              }
              for t in 0..<n {
                let tb = (t0 + t) * blocks + b
                let qx = UnsafeRawPointer(a.qs + 256 * tb)
                var sumi = _mm256_setzero_si256()
                for g in 0..<8 {
                  sumi = _mm256_add_epi32(
                    sumi, _mm256_madd_epi16(_mm256_maddubs_epi16(q[g], load256(qx + 32 * g)), q[8 + g]))
                }
                let offset = _mm256_madd_epi16(scales16, load256(a.bsums + 16 * tb))
                let total = _mm256_sub_epi32(sumi, _mm256_slli_epi32(offset, 5))
                acc[t] = _mm256_fmadd_ps(_mm256_set1_ps(d * a.d[tb]), _mm256_cvtepi32_ps(total), acc[t])
              }
            }
            for t in 0..<n { y[(t0 + t) * yStride + r] = hsum(acc[t]) }
          }
        }
      }
    }
  }
#endif
