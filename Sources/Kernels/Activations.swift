import Quantization

#if arch(x86_64)
  import _Builtin_intrinsics.intel
#endif

/// The activation vector quantised to 8-bit blocks for integer dot products (llama.cpp's `vec_dot_type`).
///
/// Two layouts share one buffer set, filled according to the weight type:
/// - `.q8` (blocks of 32, for Q4_0/Q4_1/Q5_0/Q5_1/Q8_0 weights): `qs[32 b + j]`, scale `d[b]`, and
///   `s[b] = d[b] * Σ_j qs[32 b + j]` (the Q8_1 sum that the weight minimum of Q4_1/Q5_1 multiplies).
/// - `.q8K` (blocks of 256, for Q4_K/Q5_K/Q6_K weights): `qs`, scale `d[b]`, and `bsums[16 b + g]`, the sums of
///   the 16-element groups.
/// Scales are Float (llama.cpp stores f16 for Q8_0/Q8_1; Float is more precise and as fast here).
public struct QuantizedActivations {
  /// The block layout the buffers hold.
  public enum Layout: Sendable { case q8, q8K }

  /// Which block layout the buffers hold.
  public let layout: Layout
  /// Number of activations quantised.
  public let count: Int
  /// The 8-bit values. (count)
  public let qs: UnsafeMutablePointer<Int8>
  /// One scale per block. (count / blockSize)
  public let d: UnsafeMutablePointer<Float>
  /// `.q8` only: `d · Σ qs` per block of 32. (count / 32)
  public let s: UnsafeMutablePointer<Float>
  /// `.q8K` only: sums of each 16 values. (count / 16)
  public let bsums: UnsafeMutablePointer<Int16>
}

extension QuantizedActivations.Layout {
  /// The activation layout the integer kernel of `type` wants, or nil for float kernels.
  public init?(for type: GGMLType) {
    switch type {
    case .q4_0, .q4_1, .q5_0, .q5_1, .q8_0: self = .q8
    case .q4_K, .q5_K, .q6_K: self = .q8K
    default: return nil
    }
  }
}

/// Quantises `count` floats (a multiple of 32, or of 256 for `.q8K`) into `out`'s buffers: per block,
/// `d = max|x| / 127` and `q = round(x / d)` (ties to even).
func quantizeActivations(
  _ x: UnsafePointer<Float>, count: Int, layout: QuantizedActivations.Layout, into out: QuantizedActivations
) {
  let block = layout == .q8 ? 32 : 256
  precondition(count % block == 0, "activations: \(count) is not a multiple of \(block)")
  #if arch(x86_64)
    if QuantTraits.cpuHasAVX2FMA {
      AVX2Activations.quantize(x, count: count, block: block, layout: layout, into: out)
      return
    }
  #endif
  quantizeActivationsScalar(x, count: count, layout: layout, into: out)
}

/// The portable version of `quantizeActivations` (same results).
func quantizeActivationsScalar(
  _ x: UnsafePointer<Float>, count: Int, layout: QuantizedActivations.Layout, into out: QuantizedActivations
) {
  let block = layout == .q8 ? 32 : 256
  for b in 0..<(count / block) {
    var amax: Float = 0
    for i in 0..<block { amax = max(amax, abs(x[b * block + i])) }
    let d = amax / 127
    let id: Float = d != 0 ? 1 / d : 0
    out.d[b] = d
    for i in 0..<block {
      out.qs[b * block + i] = Int8((x[b * block + i] * id).rounded(.toNearestOrEven))
    }
    if layout == .q8 {
      var sum: Int32 = 0
      for j in 0..<32 { sum += Int32(out.qs[b * 32 + j]) }
      out.s[b] = d * Float(sum)
    } else {
      for g in 0..<16 {
        var sum: Int16 = 0
        for j in 0..<16 { sum += Int16(out.qs[b * 256 + g * 16 + j]) }
        out.bsums[b * 16 + g] = sum
      }
    }
  }
}

#if arch(x86_64)
  enum AVX2Activations {
    @inline(__always)
    static func quantize(
      _ x: UnsafePointer<Float>, count: Int, block: Int, layout: QuantizedActivations.Layout,
      into out: QuantizedActivations
    ) {
      let signBit = _mm256_set1_ps(-0.0)
      let raw = UnsafeRawPointer(x)
      let order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7)
      for b in 0..<(count / block) {
        let base = b * block
        var amax = _mm256_setzero_ps()
        for k in stride(from: 0, to: block, by: 8) {
          let v = raw.loadUnaligned(fromByteOffset: 4 * (base + k), as: __m256.self)
          amax = _mm256_max_ps(amax, _mm256_andnot_ps(signBit, v))
        }
        // Horizontal max in registers (the generic `pointwiseMax` of SIMD4 is an out-of-line call).
        let m: SIMD8<Float> = amax
        let m4 = _mm_max_ps(m.lowHalf, m.highHalf)
        let m2 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4))
        let m1 = _mm_max_ss(m2, _mm_movehdup_ps(m2))
        let d = _mm_cvtss_f32(m1) / 127
        let id: Float = d != 0 ? 1 / d : 0
        out.d[b] = d
        let vid = _mm256_set1_ps(id)
        var blockSum = _mm256_setzero_si256()
        for k in stride(from: 0, to: block, by: 32) {
          let p = base + k
          // cvtps rounds to nearest even (the default MXCSR mode).
          let i0 = _mm256_cvtps_epi32(_mm256_mul_ps(raw.loadUnaligned(fromByteOffset: 4 * p, as: __m256.self), vid))
          let i1 = _mm256_cvtps_epi32(
            _mm256_mul_ps(raw.loadUnaligned(fromByteOffset: 4 * p + 32, as: __m256.self), vid))
          let i2 = _mm256_cvtps_epi32(
            _mm256_mul_ps(raw.loadUnaligned(fromByteOffset: 4 * p + 64, as: __m256.self), vid))
          let i3 = _mm256_cvtps_epi32(
            _mm256_mul_ps(raw.loadUnaligned(fromByteOffset: 4 * p + 96, as: __m256.self), vid))
          if layout == .q8K {
            // Group sums of 16: (i0 + i1) and (i2 + i3).
            let g0: SIMD8<Int32> = unsafeBitCast(_mm256_add_epi32(i0, i1), to: SIMD8<Int32>.self)
            let g1: SIMD8<Int32> = unsafeBitCast(_mm256_add_epi32(i2, i3), to: SIMD8<Int32>.self)
            out.bsums[p / 16] = Int16(truncatingIfNeeded: g0.wrappedSum())
            out.bsums[p / 16 + 1] = Int16(truncatingIfNeeded: g1.wrappedSum())
          } else {
            blockSum = _mm256_add_epi32(blockSum, _mm256_add_epi32(_mm256_add_epi32(i0, i1), _mm256_add_epi32(i2, i3)))
          }
          // Pack to bytes (values are within ±127, so saturation never bites) and undo the lane interleaving.
          let w01 = _mm256_packs_epi32(i0, i1)
          let w23 = _mm256_packs_epi32(i2, i3)
          let bytes = _mm256_permutevar8x32_epi32(_mm256_packs_epi16(w01, w23), order)
          UnsafeMutableRawPointer(out.qs + p).storeBytes(of: bytes, as: __m256i.self)
        }
        if layout == .q8 {
          let s: SIMD8<Int32> = unsafeBitCast(blockSum, to: SIMD8<Int32>.self)
          out.s[b] = d * Float(s.wrappedSum())
        }
      }
    }
  }
#endif

/// Reusable scratch for the kernels: the quantised activation vector and per-thread float buffers; grows on demand.
///
/// - Important: not thread-safe: one workspace per caller of the kernels (a generator owns one).
public final class KernelWorkspace: @unchecked Sendable {
  private var capacity = 0
  private var qs: UnsafeMutablePointer<Int8>? = nil
  private var d: UnsafeMutablePointer<Float>? = nil
  private var s: UnsafeMutablePointer<Float>? = nil
  private var bsums: UnsafeMutablePointer<Int16>? = nil
  private var floatBuffers: [UnsafeMutablePointer<Float>] = []
  private var floatCapacity = 0

  /// The measured choice between the two paths of `matmul` (shared by every call with this workspace).
  public let pathTuner = MatmulPathTuner()

  /// An empty workspace; buffers are allocated on first use.
  public init() {}

  /// A second workspace for the rare call that needs two activation layouts at once.
  lazy var secondary = KernelWorkspace()

  deinit {
    qs?.deallocate()
    d?.deallocate()
    s?.deallocate()
    bsums?.deallocate()
    for b in floatBuffers { b.deallocate() }
  }

  /// Activation buffers for at least `count` elements.
  func activations(count: Int, layout: QuantizedActivations.Layout) -> QuantizedActivations {
    if count > capacity {
      qs?.deallocate()
      d?.deallocate()
      s?.deallocate()
      bsums?.deallocate()
      let c = max(count, 256)
      qs = .allocate(capacity: c + 64)
      d = .allocate(capacity: c / 32 + 1)
      s = .allocate(capacity: c / 32 + 1)
      bsums = .allocate(capacity: c / 16 + 1)
      capacity = c
    }
    return QuantizedActivations(layout: layout, count: count, qs: qs!, d: d!, s: s!, bsums: bsums!)
  }

  /// `threads` float buffers of at least `count` floats each (one per pool thread), 64-byte aligned.
  func floatBuffers(threads: Int, count: Int) -> [UnsafeMutablePointer<Float>] {
    if count > floatCapacity || threads > floatBuffers.count {
      for b in floatBuffers { b.deallocate() }
      let c = max(count, floatCapacity)
      floatBuffers = (0..<threads).map { _ in
        UnsafeMutableRawPointer.allocate(byteCount: 4 * c, alignment: 64).bindMemory(to: Float.self, capacity: c)
      }
      floatCapacity = c
    }
    return floatBuffers
  }
}
