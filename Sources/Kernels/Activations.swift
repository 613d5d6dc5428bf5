import GGUF

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

  public let layout: Layout
  public let count: Int
  public let qs: UnsafeMutablePointer<Int8>  // (count)
  public let d: UnsafeMutablePointer<Float>  // (count / blockSize)
  public let s: UnsafeMutablePointer<Float>  // (count / 32): Q8_1 sums
  public let bsums: UnsafeMutablePointer<Int16>  // (count / 16)
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
  let rx = UnsafeRawPointer(x)
  for b in 0..<(count / block) {
    var amax = SIMD8<Float>()
    for k in stride(from: 0, to: block, by: 8) {
      let v = rx.loadUnaligned(fromByteOffset: 4 * (b * block + k), as: SIMD8<Float>.self)
      amax = pointwiseMax(amax, pointwiseMax(v, -v))
    }
    let m = amax.max()
    let d = m / 127
    let id: Float = d != 0 ? 1 / d : 0
    out.d[b] = d
    let vid = SIMD8<Float>(repeating: id)
    for k in stride(from: 0, to: block, by: 8) {
      let v = rx.loadUnaligned(fromByteOffset: 4 * (b * block + k), as: SIMD8<Float>.self) * vid
      let q = SIMD8<Int32>(v.rounded(.toNearestOrEven))
      let q8 = SIMD8<Int8>(truncatingIfNeeded: q)
      UnsafeMutableRawPointer(out.qs).storeBytes(of: q8, toByteOffset: b * block + k, as: SIMD8<Int8>.self)
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
