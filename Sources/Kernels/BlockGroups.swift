import Quantization

// Q5_0, Q4_1 and Q8_0 rows regrouped at load time for the decode kernels ("block groups"), same bytes per row.
//
// In the file, a Q5_0 block is 22 bytes: fp16 d, 32 fifth bits (one u32, bit e for element e), 16 nibble bytes
// (byte j: element j in the low nibble, element j + 16 in the high one). Decoding the fifth bits costs a broadcast,
// a shuffle, an and, a compare, an and and an or per 32 values, which makes Q5_0 compute-bound where the other
// types are bound by memory. Regrouped, each run of 4 blocks is 88 bytes:
//
//   [0, 8)    the 4 fp16 scales d0 d1 d2 d3 (one `vcvtph2ps`)
//   [8, 24)   the 128 fifth bits as a bit plane (below)
//   [24, 88)  the 4 blocks' nibble bytes as in the file, one after the other: [qs0 | qs1] and [qs2 | qs3] are
//             each one 256-bit load whose low nibbles are [elements 0..<16 of the first block | of the second]
//             and whose high nibbles are elements 16..<32 likewise: the order of `AVX2PairDot.activationPair`.
//
// Plane byte i (0..<16), bit j (0..<8): vector v = j % 4 (0: low nibbles of [qs0|qs1], 1: their high nibbles,
// 2 and 3: the same for [qs2|qs3]) and 128-bit half h = j / 4 (0: first block of the pair, 1: second), i.e. the
// fifth bit of element i + 16 (v % 2) of block 2 (v / 2) + h. Broadcast to both 128-bit halves and shifted right
// by 4 in the upper half (one `vpsrlvd`), byte i of either half holds the bits of its own 4 vectors in bits 0..3;
// bit v moves to bit 4 with one 16-bit shift left by 4 - v and an and with 0x10. Per 32 values that is 1.5
// instructions for the nibbles and 2 for the fifth bits, against about 7 for the file layout.
//
// A Q8_0 block is 34 bytes (fp16 d, 32 signed bytes); regrouped, each run of 4 is
// 136 bytes: [0, 8) the fp16 d0 d1 d2 d3, [8, 136) the 4 blocks' 32 bytes one after the other, so that one
// `vcvtph2ps` takes the 4 scales instead of one scalar conversion per block and row (and, with AVX-512, two
// 512-bit loads the 128 values).
//
// A Q4_1 block is 20 bytes (fp16 d, fp16 m, 16 nibble bytes); regrouped, each run of 4 is 80 bytes: [0, 16) the
// fp16 d0 d1 d2 d3 m0 m1 m2 m3 (one 256-bit `vcvtph2ps`), [16, 80) the nibble bytes as above. Both layouts share
// the arithmetic: unsigned values q (0...31 or 0...15) times the 8-bit activations, the scales d_w d_x spread to
// the 128-bit halves, and a per-block correction times the activation sums s_x (-16 d_w for Q5_0, m for Q4_1).
//
// Blocks past the last whole group (rows whose block count is not a multiple of 4) stay in the file layout at the
// end of the row. `WeightMatrix.packing` says which layout a matrix has; every kernel and `dequantizeRow` reads both.
#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// How the bytes of a `WeightMatrix` are arranged.
public enum WeightPacking: Sendable, Hashable {
  /// As in the GGUF file: the type's blocks one after the other.
  case ggml
  /// Q5_0, Q4_1 or Q8_0 rows regrouped in runs of 4 blocks for the decode kernels (BlockGroups.swift); same bytes per row.
  case groupsOf4
}

/// Owned, 64-byte aligned memory holding regrouped weights; keeps the bytes of the `WeightMatrix` made from it
/// alive.
public final class PackedWeightStorage: @unchecked Sendable {
  public let bytes: UnsafeMutableRawPointer
  public let count: Int
  init(count: Int) {
    self.count = count
    bytes = .allocate(byteCount: max(count, 1), alignment: 64)
  }
  deinit { bytes.deallocate() }
}

public enum BlockGroups {
  /// Types that have a regrouped layout (Q8_0: its 4 scales read with one conversion).
  public static let types: Set<GGMLType> = [.q5_0, .q4_1, .q8_0]

  /// Bytes of one group of 4 blocks of `type`.
  @inline(__always)
  static func groupBytes(_ type: GGMLType) -> Int { type == .q5_0 ? 88 : type == .q8_0 ? 136 : 80 }

  /// A regrouped copy of a Q5_0, Q4_1 or Q8_0 matrix in the file layout, and the storage that owns it. Returns nil for
  /// other types or packings, and, with the AVX2 kernels, for Q4_1 rows that are not whole groups, where the pair
  /// kernel of the file layout is as fast (Benchmarks/kernels/RESULTS.md). The AVX-512 kernels (DotAVX512.swift)
  /// are faster on every regrouped row.
  public static func repack(_ w: WeightMatrix, q8_0: Bool = true) -> (WeightMatrix, PackedWeightStorage)? {
    guard regroups(w, q8_0: q8_0) else { return nil }
    return regrouped(w)
  }

  /// Whether `repack` regroups `w`; with `q8_0` false, Q8_0 rows stay in the file layout (benchmarks compare the
  /// two).
  public static func regroups(_ w: WeightMatrix, q8_0: Bool = true) -> Bool {
    guard types.contains(w.type), w.packing == .ggml else { return false }
    if w.type == .q8_0 && !q8_0 { return false }
    if w.type == .q4_1 && (w.cols / 32) % 4 != 0 && !regroupsPartialQ4_1 { return false }
    return true
  }

  /// Whether `repack` regroups Q4_1 rows that end in a partial group (with the AVX-512 kernels).
  #if CODEGEN_LSP_AVX512VNNI
    public static let regroupsPartialQ4_1 = true
  #else
    public static let regroupsPartialQ4_1 = false
  #endif

  /// `repack` without the Q4_1 rule (tests check the partial groups of both types).
  static func regrouped(_ w: WeightMatrix) -> (WeightMatrix, PackedWeightStorage) {
    let storage = PackedWeightStorage(count: w.byteCount)
    return (regrouped(w, into: storage.bytes), storage)
  }

  /// The regrouped copy of `w` (a type of `types`, file layout) written to the `w.byteCount` bytes at `dst`, which
  /// the caller keeps alive as long as the matrix.
  public static func regrouped(_ w: WeightMatrix, into dst: UnsafeMutableRawPointer) -> WeightMatrix {
    for r in 0..<w.rows {
      repackRow(w.row(r), type: w.type, blocks: w.cols / 32, into: dst + r * w.rowBytes)
    }
    return WeightMatrix(rows: w.rows, cols: w.cols, type: w.type, data: dst, packing: .groupsOf4)
  }

  /// Regroups one row of `blocks` blocks from `src` (file layout) into `dst`.
  public static func repackRow(_ src: UnsafeRawPointer, type: GGMLType, blocks: Int, into dst: UnsafeMutableRawPointer)
  {
    let size = type.bytesPerBlock, groupSize = groupBytes(type)
    let groups = blocks / 4
    for g in 0..<groups {
      let s = src + 4 * size * g
      let d = dst + groupSize * g
      if type == .q8_0 {
        for k in 0..<4 {
          let blk = s + size * k
          d.storeBytes(of: blk.loadUnaligned(as: UInt16.self), toByteOffset: 2 * k, as: UInt16.self)
          (d + 8 + 32 * k).copyMemory(from: blk + 2, byteCount: 32)
        }
        continue
      }
      if type == .q4_1 {
        for k in 0..<4 {
          let blk = s + size * k
          d.storeBytes(of: blk.loadUnaligned(as: UInt16.self), toByteOffset: 2 * k, as: UInt16.self)
          d.storeBytes(
            of: blk.loadUnaligned(fromByteOffset: 2, as: UInt16.self), toByteOffset: 8 + 2 * k, as: UInt16.self)
          (d + 16 + 16 * k).copyMemory(from: blk + 4, byteCount: 16)
        }
        continue
      }
      for k in 0..<4 {
        let blk = s + size * k
        d.storeBytes(of: blk.loadUnaligned(as: UInt16.self), toByteOffset: 2 * k, as: UInt16.self)
        (d + 24 + 16 * k).copyMemory(from: blk + 6, byteCount: 16)
      }
      // Plane bit j of bytes 0..<16 is bit 0..<16 of one 16-bit half of one block's fifth bits: spread those 16
      // bits to one per byte (a table of 8 bits -> 8 bytes) and shift them to bit j.
      var lo: UInt64 = 0, hi: UInt64 = 0
      for j in 0..<8 {
        let (block, element) = planeSource(byte: 0, bit: j)
        let chunk = Int(
          (s.loadUnaligned(fromByteOffset: size * block + 2, as: UInt32.self) >> UInt32(element)) & 0xFFFF)
        lo |= spread[chunk & 0xFF] << UInt64(j)
        hi |= spread[chunk >> 8] << UInt64(j)
      }
      d.storeBytes(of: lo.littleEndian, toByteOffset: 8, as: UInt64.self)
      d.storeBytes(of: hi.littleEndian, toByteOffset: 16, as: UInt64.self)
    }
    let rest = blocks - 4 * groups
    if rest > 0 { (dst + groupSize * groups).copyMemory(from: src + 4 * size * groups, byteCount: size * rest) }
  }

  /// Byte i of `spread[b]` is bit i of b.
  static let spread: [UInt64] = (0..<256).map { (b: Int) -> UInt64 in
    var v: UInt64 = 0
    for i in 0..<8 where (b >> i) & 1 != 0 { v |= UInt64(1) << UInt64(8 * i) }
    return v
  }

  /// Restores the file layout of one regrouped row (the inverse of `repackRow`).
  public static func unpackRow(_ src: UnsafeRawPointer, type: GGMLType, blocks: Int, into dst: UnsafeMutableRawPointer)
  {
    let size = type.bytesPerBlock, groupSize = groupBytes(type)
    let groups = blocks / 4
    for g in 0..<groups {
      let s = src + groupSize * g
      let d = dst + 4 * size * g
      if type == .q8_0 {
        for k in 0..<4 {
          let blk = d + size * k
          blk.storeBytes(of: s.loadUnaligned(fromByteOffset: 2 * k, as: UInt16.self), as: UInt16.self)
          (blk + 2).copyMemory(from: s + 8 + 32 * k, byteCount: 32)
        }
        continue
      }
      if type == .q4_1 {
        for k in 0..<4 {
          let blk = d + size * k
          blk.storeBytes(of: s.loadUnaligned(fromByteOffset: 2 * k, as: UInt16.self), as: UInt16.self)
          blk.storeBytes(
            of: s.loadUnaligned(fromByteOffset: 8 + 2 * k, as: UInt16.self), toByteOffset: 2, as: UInt16.self)
          (blk + 4).copyMemory(from: s + 16 + 16 * k, byteCount: 16)
        }
        continue
      }
      for k in 0..<4 {
        let blk = d + size * k
        blk.storeBytes(of: s.loadUnaligned(fromByteOffset: 2 * k, as: UInt16.self), as: UInt16.self)
        blk.storeBytes(of: UInt32(0), toByteOffset: 2, as: UInt32.self)
        (blk + 6).copyMemory(from: s + 24 + 16 * k, byteCount: 16)
      }
      for i in 0..<16 {
        let byte = s.load(fromByteOffset: 8 + i, as: UInt8.self)
        for j in 0..<8 where (byte >> UInt8(j)) & 1 != 0 {
          let (block, element) = planeSource(byte: i, bit: j)
          let qh = d + size * block + 2
          qh.storeBytes(of: qh.loadUnaligned(as: UInt32.self) | 1 << UInt32(element), as: UInt32.self)
        }
      }
    }
    let rest = blocks - 4 * groups
    if rest > 0 { (dst + 4 * size * groups).copyMemory(from: src + groupSize * groups, byteCount: size * rest) }
  }

  /// The block (0..<4 within the group) and element (0..<32) whose fifth bit plane byte `i`, bit `j` holds.
  @inline(__always)
  static func planeSource(byte i: Int, bit j: Int) -> (block: Int, element: Int) {
    let v = j % 4, h = j / 4
    return (2 * (v / 2) + h, i + 16 * (v % 2))
  }
}

extension WeightMatrix {
  /// Writes row `r` in the file layout of its type into `out` (`rowBytes` bytes): a copy, or the inverse of the
  /// regrouping.
  public func fileLayoutRow(_ r: Int, into out: UnsafeMutableRawPointer) {
    switch packing {
    case .ggml: out.copyMemory(from: row(r), byteCount: rowBytes)
    case .groupsOf4: BlockGroups.unpackRow(row(r), type: type, blocks: cols / 32, into: out)
    }
  }

  /// Dequantises one regrouped row (`cols` values) into `out`.
  func dequantizeGroupsRow(_ r: Int, into out: UnsafeMutablePointer<Float>) {
    #if arch(x86_64)
      if QuantTraits.cpuHasAVX2FMA && type != .q8_0 {
        if type == .q5_0 {
          AVX2Groups.dequantizeRow(row(r), blocks: cols / 32, out, q5: true)
        } else {
          AVX2Groups.dequantizeRow(row(r), blocks: cols / 32, out, q5: false)
        }
        return
      }
    #endif
    withFileLayoutRow(r) { QuantTraits.fastDequantize(type, $0, count: cols, into: out) }
  }

  /// Calls `body` with row `r` in the file layout of its type: the row itself, or a temporary unpacked copy.
  @inline(__always)
  func withFileLayoutRow<T>(_ r: Int, _ body: (UnsafeRawPointer) -> T) -> T {
    if packing == .ggml { return body(row(r)) }
    return withUnsafeTemporaryAllocation(byteCount: rowBytes, alignment: 64) { buffer in
      fileLayoutRow(r, into: buffer.baseAddress!)
      return body(UnsafeRawPointer(buffer.baseAddress!))
    }
  }
}

#if arch(x86_64)
  import _Builtin_intrinsics.intel

  /// The AVX2 kernels of the regrouped layouts. `q5` (a constant at every call site, so the branches fold) picks
  /// Q5_0 (true) or Q4_1 (false).
  enum AVX2Groups {
    /// Constants of the unpacking, made once per call.
    struct Constants {
      let mask = _mm256_set1_epi8(0x0F)
      let bit4 = _mm256_set1_epi8(0x10)
      let ones = _mm256_set1_epi16(1)
      let halfShift = _mm256_setr_epi32(0, 0, 0, 0, 4, 4, 4, 4)
      let spread01 = _mm256_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1)
      let spread23 = _mm256_setr_epi32(2, 2, 2, 2, 3, 3, 3, 3)
      @inline(__always) init() {}
    }

    /// One unpacked group: the unsigned values as the four vectors of the layout comment (u0, v0: blocks 0 and 1;
    /// u1, v1: blocks 2 and 3), the 4 scales d, and the 4 factors of the activation sums (d for Q5_0, whose -16
    /// is applied at the end; m for Q4_1).
    struct Group {
      var u0: __m256i, v0: __m256i, u1: __m256i, v1: __m256i
      var d: __m128, k: __m128
    }

    @inline(__always)
    static func unpack(_ p: UnsafeRawPointer, _ c: Constants, q5: Bool) -> Group {
      if !q5 {
        let d = _mm_cvtph_ps(_mm_loadl_epi64(p.assumingMemoryBound(to: __m128i.self)))
        let m = _mm_cvtph_ps(_mm_loadl_epi64((p + 8).assumingMemoryBound(to: __m128i.self)))
        let n01 = load256(p + 16), n23 = load256(p + 48)
        return Group(
          u0: _mm256_and_si256(n01, c.mask), v0: _mm256_and_si256(_mm256_srli_epi16(n01, 4), c.mask),
          u1: _mm256_and_si256(n23, c.mask), v1: _mm256_and_si256(_mm256_srli_epi16(n23, 4), c.mask),
          d: d, k: m)
      }
      let dw = _mm_cvtph_ps(_mm_loadl_epi64(p.assumingMemoryBound(to: __m128i.self)))
      let plane = _mm256_srlv_epi32(_mm256_broadcastsi128_si256(load128(p + 8)), c.halfShift)
      let n01 = load256(p + 24), n23 = load256(p + 56)
      let u0 = _mm256_or_si256(_mm256_and_si256(n01, c.mask), _mm256_and_si256(_mm256_slli_epi16(plane, 4), c.bit4))
      let v0 = _mm256_or_si256(
        _mm256_and_si256(_mm256_srli_epi16(n01, 4), c.mask), _mm256_and_si256(_mm256_slli_epi16(plane, 3), c.bit4))
      let u1 = _mm256_or_si256(_mm256_and_si256(n23, c.mask), _mm256_and_si256(_mm256_slli_epi16(plane, 2), c.bit4))
      let v1 = _mm256_or_si256(
        _mm256_and_si256(_mm256_srli_epi16(n23, 4), c.mask), _mm256_and_si256(_mm256_slli_epi16(plane, 1), c.bit4))
      return Group(u0: u0, v0: v0, u1: u1, v1: v1, d: dw, k: dw)
    }

    /// The activations of one group (blocks b..<b+4) in the order of the unpacked vectors.
    struct GroupActivations {
      let lo01: __m256i, hi01: __m256i, lo23: __m256i, hi23: __m256i
      let dx: __m128, sx: __m128
      @inline(__always) init(_ a: QuantizedActivations, _ b: Int) {
        (lo01, hi01) = AVX2PairDot.activationPair(a, b)
        (lo23, hi23) = AVX2PairDot.activationPair(a, b + 2)
        dx = _mm_loadu_ps(a.d + b)
        sx = _mm_loadu_ps(a.s + b)
      }
    }

    /// Adds one group's products to `acc` (d_w d_x Σ q x per block) and `corr` (k s_x per block).
    @inline(__always)
    static func accumulate(
      _ u: Group, _ x: GroupActivations, _ c: Constants, _ acc: inout __m256, _ corr: inout __m128
    ) {
      corr = _mm_fmadd_ps(u.k, x.sx, corr)
      let sc = _mm256_castps128_ps256(_mm_mul_ps(u.d, x.dx))
      let p01 = _mm256_add_epi16(_mm256_maddubs_epi16(u.u0, x.lo01), _mm256_maddubs_epi16(u.v0, x.hi01))
      let p23 = _mm256_add_epi16(_mm256_maddubs_epi16(u.u1, x.lo23), _mm256_maddubs_epi16(u.v1, x.hi23))
      let f01 = _mm256_cvtepi32_ps(_mm256_madd_epi16(p01, c.ones))
      let f23 = _mm256_cvtepi32_ps(_mm256_madd_epi16(p23, c.ones))
      acc = _mm256_fmadd_ps(_mm256_permutevar8x32_ps(sc, c.spread01), f01, acc)
      acc = _mm256_fmadd_ps(_mm256_permutevar8x32_ps(sc, c.spread23), f23, acc)
    }

    /// The dot product from the accumulators: Σ acc + (−16 or 1) · Σ corr.
    @inline(__always)
    static func total(_ acc: __m256, _ corr: __m128, q5: Bool) -> Float {
      let s: SIMD4<Float> = corr
      return hsum(acc) + (q5 ? -16 : 1) * ((s[0] + s[1]) + (s[2] + s[3]))
    }

    /// The file-layout kernels for the blocks after the last whole group.
    @inline(__always)
    static func tail(_ w: UnsafeRawPointer, _ a: QuantizedActivations, blocks: Int, q5: Bool) -> Float {
      q5 ? AVX2Dot.q5_0(w, a, blocks: blocks) : AVX2Dot.q4_1(w, a, blocks: blocks)
    }

    /// Dequantises one regrouped row of `blocks` blocks into `out`; the same floats as the file layout gives.
    static func dequantizeRow(_ p: UnsafeRawPointer, blocks: Int, _ out: UnsafeMutablePointer<Float>, q5: Bool) {
      let c = Constants()
      let sixteen = _mm256_set1_epi8(16)
      let groups = blocks / 4
      let size = q5 ? 88 : 80
      @inline(__always) func block(_ lo: __m256i, _ hi: __m256i, second: Bool) -> __m256i {
        let l = unsafeBitCast(lo, to: SIMD32<Int8>.self), h = unsafeBitCast(hi, to: SIMD32<Int8>.self)
        let v =
          second ? SIMD32(lowHalf: l.highHalf, highHalf: h.highHalf) : SIMD32(lowHalf: l.lowHalf, highHalf: h.lowHalf)
        let bytes = unsafeBitCast(v, to: __m256i.self)
        return q5 ? _mm256_sub_epi8(bytes, sixteen) : bytes
      }
      for g in 0..<groups {
        let u = unpack(p + size * g, c, q5: q5)
        let d: SIMD4<Float> = u.d, m: SIMD4<Float> = u.k
        let o = out + 128 * g
        AVX2Dequantize.store32(block(u.u0, u.v0, second: false), scale: d[0], offset: q5 ? nil : m[0], o)
        AVX2Dequantize.store32(block(u.u0, u.v0, second: true), scale: d[1], offset: q5 ? nil : m[1], o + 32)
        AVX2Dequantize.store32(block(u.u1, u.v1, second: false), scale: d[2], offset: q5 ? nil : m[2], o + 64)
        AVX2Dequantize.store32(block(u.u1, u.v1, second: true), scale: d[3], offset: q5 ? nil : m[3], o + 96)
      }
      if 4 * groups < blocks {
        QuantTraits.fastDequantize(
          q5 ? .q5_0 : .q4_1, p + size * groups, count: 32 * (blocks - 4 * groups), into: out + 128 * groups)
      }
    }

    /// One regrouped row with the `.q8` activations.
    @inline(__always)
    static func dot(_ w: UnsafeRawPointer, _ a: QuantizedActivations, blocks: Int, q5: Bool) -> Float {
      let c = Constants()
      let size = q5 ? 88 : 80
      var acc = _mm256_setzero_ps(), corr = _mm_setzero_ps()
      let groups = blocks / 4
      for g in 0..<groups {
        accumulate(unpack(w + size * g, c, q5: q5), GroupActivations(a, 4 * g), c, &acc, &corr)
      }
      var r = total(acc, corr, q5: q5)
      if 4 * groups < blocks {
        r += tail(w + size * groups, a.advanced(blocks: 4 * groups), blocks: blocks - 4 * groups, q5: q5)
      }
      return r
    }

    /// Two regrouped rows at once, sharing the activations.
    @inline(__always)
    static func dot2(
      _ w0: UnsafeRawPointer, _ w1: UnsafeRawPointer, _ a: QuantizedActivations, blocks: Int, q5: Bool,
      spread: UnsafeMutablePointer<SpreadAhead>? = nil
    ) -> (Float, Float) {
      let c = Constants()
      let size = q5 ? 88 : 80
      var acc0 = _mm256_setzero_ps(), corr0 = _mm_setzero_ps()
      var acc1 = _mm256_setzero_ps(), corr1 = _mm_setzero_ps()
      let groups = blocks / 4
      for g in 0..<groups {
        let x = GroupActivations(a, 4 * g)
        accumulate(unpack(w0 + size * g, c, q5: q5), x, c, &acc0, &corr0)
        accumulate(unpack(w1 + size * g, c, q5: q5), x, c, &acc1, &corr1)
        spread?.pointee.advance(2 * size * (g + 1))
      }
      let (t0, t1) = tail2(w0, w1, a, blocks: blocks, q5: q5)
      return (total(acc0, corr0, q5: q5) + t0, total(acc1, corr1, q5: q5) + t1)
    }

    /// Two rows' products over the blocks after the last whole group (file layout, pair kernels); (0, 0) when the
    /// rows are whole groups.
    @inline(__always)
    static func tail2(_ w0: UnsafeRawPointer, _ w1: UnsafeRawPointer, _ a: QuantizedActivations, blocks: Int, q5: Bool)
      -> (Float, Float)
    {
      let groups = blocks / 4
      guard 4 * groups < blocks else { return (0, 0) }
      let off = (q5 ? 88 : 80) * groups, rest = a.advanced(blocks: 4 * groups), n = blocks - 4 * groups
      return q5
        ? AVX2PairDot.q5_0x2(w0 + off, w1 + off, rest, blocks: n)
        : AVX2PairDot.q4_1x2(w0 + off, w1 + off, rest, blocks: n)
    }

    /// Rows `rows` for `n` (1...4) tokens from token `t0` of the activations `a` (quantised one token after the
    /// other); `y` is (tokens, yStride). Each group is unpacked once for all `n` tokens.
    @inline(__always)
    static func multiToken(
      _ w: WeightMatrix, _ a: QuantizedActivations, _ t0: Int, _ n: Int, _ rows: Range<Int>,
      _ y: UnsafeMutablePointer<Float>, _ yStride: Int, q5: Bool
    ) {
      let c = Constants()
      let size = q5 ? 88 : 80
      let blocks = w.cols / 32
      let groups = blocks / 4
      LookAhead.forEachRow(of: w, rows, finishing: y) { r, row in
        var acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps()
        var acc2 = _mm256_setzero_ps(), acc3 = _mm256_setzero_ps()
        var k0 = _mm_setzero_ps(), k1 = _mm_setzero_ps(), k2 = _mm_setzero_ps(), k3 = _mm_setzero_ps()
        for g in 0..<groups {
          let u = unpack(row + size * g, c, q5: q5)
          accumulate(u, GroupActivations(a, t0 * blocks + 4 * g), c, &acc0, &k0)
          if n > 1 { accumulate(u, GroupActivations(a, (t0 + 1) * blocks + 4 * g), c, &acc1, &k1) }
          if n > 2 { accumulate(u, GroupActivations(a, (t0 + 2) * blocks + 4 * g), c, &acc2, &k2) }
          if n > 3 { accumulate(u, GroupActivations(a, (t0 + 3) * blocks + 4 * g), c, &acc3, &k3) }
        }
        @inline(__always) func store(_ t: Int, _ acc: __m256, _ k: __m128) {
          var v = total(acc, k, q5: q5)
          if 4 * groups < blocks {
            v += tail(
              row + size * groups, a.advanced(blocks: (t0 + t) * blocks + 4 * groups), blocks: blocks - 4 * groups,
              q5: q5)
          }
          y[(t0 + t) * yStride + r] = v
        }
        store(0, acc0, k0)
        if n > 1 { store(1, acc1, k1) }
        if n > 2 { store(2, acc2, k2) }
        if n > 3 { store(3, acc3, k3) }
      }
    }
  }
  extension AVX2Groups {
    /// Two regrouped Q8_0 rows at once (AVX2): per group of 4 blocks, one `vcvtph2ps` for the 4 scales of each row
    /// and one `vpermps` per block to broadcast them, instead of a scalar conversion per block and row; the
    /// products as in `AVX2Dot.q8_0x2`. The blocks after the last whole group go through that kernel.
    @inline(__always)
    static func q8_0x2(
      _ w0: UnsafeRawPointer, _ w1: UnsafeRawPointer, _ a: QuantizedActivations, blocks: Int,
      spread: UnsafeMutablePointer<SpreadAhead>? = nil
    ) -> (Float, Float) {
      var acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps()
      let l0 = _mm256_set1_epi32(0), l1 = _mm256_set1_epi32(1), l2 = _mm256_set1_epi32(2), l3 = _mm256_set1_epi32(3)
      let groups = blocks / 4
      for g in 0..<groups {
        let dx = _mm_loadu_ps(a.d + 4 * g)
        let p0 = w0 + 136 * g, p1 = w1 + 136 * g
        let d0 = _mm256_castps128_ps256(
          _mm_mul_ps(_mm_cvtph_ps(_mm_loadl_epi64(p0.assumingMemoryBound(to: __m128i.self))), dx))
        let d1 = _mm256_castps128_ps256(
          _mm_mul_ps(_mm_cvtph_ps(_mm_loadl_epi64(p1.assumingMemoryBound(to: __m128i.self))), dx))
        @inline(__always) func block(_ k: Int, _ lane: __m256i) {
          let qx = load256(a.qs + 32 * (4 * g + k))
          acc0 = _mm256_fmadd_ps(
            _mm256_permutevar8x32_ps(d0, lane), mulSumI8PairsFloat(load256(p0 + 8 + 32 * k), qx), acc0)
          acc1 = _mm256_fmadd_ps(
            _mm256_permutevar8x32_ps(d1, lane), mulSumI8PairsFloat(load256(p1 + 8 + 32 * k), qx), acc1)
        }
        block(0, l0)
        block(1, l1)
        block(2, l2)
        block(3, l3)
        // A group of 136 bytes of each row done.
        spread?.pointee.advance(272 * (g + 1))
      }
      var t0: Float = 0, t1: Float = 0
      if 4 * groups < blocks {
        (t0, t1) = AVX2Dot.q8_0x2(
          w0 + 136 * groups, w1 + 136 * groups, a.advanced(blocks: 4 * groups), blocks: blocks - 4 * groups)
      }
      return (hsum(acc0) + t0, hsum(acc1) + t1)
    }
  }
  /// Two regrouped Q8_0 rows with the build's kernel (AVX-512 VNNI or AVX2).
  @inline(__always)
  func q8_0Groups2(
    _ w0: UnsafeRawPointer, _ w1: UnsafeRawPointer, _ a: QuantizedActivations, blocks: Int,
    spread: UnsafeMutablePointer<SpreadAhead>? = nil
  ) -> (Float, Float) {
    #if CODEGEN_LSP_AVX512VNNI
      AVX512Groups.q8_0x2(w0, w1, a, blocks: blocks)
    #else
      AVX2Groups.q8_0x2(w0, w1, a, blocks: blocks, spread: spread)
    #endif
  }
#endif
