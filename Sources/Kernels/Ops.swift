import CPrefetch

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif
#if arch(x86_64)
  import _Builtin_intrinsics.intel
#endif

// Element-wise and reduction kernels of a llama-family block, SIMD on 8-float vectors (AVX2 with FMA where the
// target has them). Each has a naive twin in `Reference` that the tests compare against.

/// Dot product of two float vectors.
/// - Parameters: a, b: `count` floats each.
@inline(__always)
public func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
  var acc0 = SIMD8<Float>(), acc1 = SIMD8<Float>(), acc2 = SIMD8<Float>(), acc3 = SIMD8<Float>()
  let ra = UnsafeRawPointer(a), rb = UnsafeRawPointer(b)
  var i = 0
  while i + 32 <= count {
    acc0.addProduct(
      ra.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self),
      rb.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self))
    acc1.addProduct(
      ra.loadUnaligned(fromByteOffset: 4 * i + 32, as: SIMD8<Float>.self),
      rb.loadUnaligned(fromByteOffset: 4 * i + 32, as: SIMD8<Float>.self))
    acc2.addProduct(
      ra.loadUnaligned(fromByteOffset: 4 * i + 64, as: SIMD8<Float>.self),
      rb.loadUnaligned(fromByteOffset: 4 * i + 64, as: SIMD8<Float>.self))
    acc3.addProduct(
      ra.loadUnaligned(fromByteOffset: 4 * i + 96, as: SIMD8<Float>.self),
      rb.loadUnaligned(fromByteOffset: 4 * i + 96, as: SIMD8<Float>.self))
    i += 32
  }
  while i + 8 <= count {
    acc0.addProduct(
      ra.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self),
      rb.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self))
    i += 8
  }
  var sum = ((acc0 + acc1) + (acc2 + acc3)).sum()
  while i < count {
    sum += a[i] * b[i]
    i += 1
  }
  return sum
}

/// `y += alpha * x` over `count` floats (attention's weighted sum of values).
@inline(__always)
public func axpy(_ alpha: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
  let rx = UnsafeRawPointer(x), ry = UnsafeMutableRawPointer(y)
  let va = SIMD8<Float>(repeating: alpha)
  var i = 0
  while i + 8 <= count {
    var v = ry.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self)
    v.addProduct(va, rx.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self))
    ry.storeBytes(of: v, toByteOffset: 4 * i, as: SIMD8<Float>.self)
    i += 8
  }
  while i < count {
    y[i] += alpha * x[i]
    i += 1
  }
}

/// `out = a + b` element-wise (`out` may be `a` or `b`).
public func add(
  _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>, count: Int
) {
  for i in 0..<count { out[i] = a[i] + b[i] }
}

/// `x += y` element-wise (residual connections, biases).
public func addInPlace(_ x: UnsafeMutablePointer<Float>, _ y: UnsafePointer<Float>, count: Int) {
  for i in 0..<count { x[i] += y[i] }
}

/// `x *= factor` element-wise.
public func scale(_ x: UnsafeMutablePointer<Float>, by factor: Float, count: Int) {
  for i in 0..<count { x[i] *= factor }
}

/// RMS normalisation: `out[i] = x[i] / sqrt(mean(x²) + eps) * weight[i]` (Zhang & Sennrich 2019; llama's
/// `RMSNorm`). The mean is accumulated in Double.
/// - Parameters:
///   - x: `count` inputs. weight: `count` gains. out: `count` outputs; may be `x`.
public func rmsNorm(
  _ x: UnsafePointer<Float>, weight: UnsafePointer<Float>, eps: Float, count: Int, out: UnsafeMutablePointer<Float>
) {
  var acc = SIMD8<Float>()
  let rx = UnsafeRawPointer(x)
  var i = 0
  var tail: Double = 0
  // Sum of squares in float SIMD lanes, combined in double (8 lanes of at most count/8 terms each).
  while i + 8 <= count {
    let v = rx.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self)
    acc.addProduct(v, v)
    i += 8
  }
  while i < count {
    tail += Double(x[i]) * Double(x[i])
    i += 1
  }
  var sum = tail
  for l in 0..<8 { sum += Double(acc[l]) }
  let inv = Float(1.0 / (sum / Double(count) + Double(eps)).squareRoot())
  for j in 0..<count { out[j] = x[j] * inv * weight[j] }
}

/// The pairing of rotary dimensions.
public enum RopeStyle: Sendable {
  /// Adjacent pairs `(x[2i], x[2i+1])` (llama.cpp `LLAMA_ROPE_TYPE_NORM`, used for llama GGUF files whose q/k
  /// weights the converter permuted).
  case normal
  /// Halves `(x[i], x[i + d/2])` (GPT-NeoX; llama.cpp `LLAMA_ROPE_TYPE_NEOX`, used for qwen2).
  case neox
}

/// Rotary position embedding (Su et al. 2021, RoFormer) applied in place to `heads` vectors of `headDim` floats.
///
/// Pair `i` (0 ≤ i < ropeDim/2) rotates by `θ = position * freqScale * freqBase^(-2i/ropeDim)`; dimensions from
/// `ropeDim` to `headDim` are left alone. `freqScale` is 1 / the linear scaling factor (`rope.scaling.factor`).
/// - Parameters:
///   - x: `(heads, headDim)` floats, rotated in place.
///   - position: the token's position. ropeDim: rotated dimensions (nil: all of `headDim`; must be even).
public func rope(
  _ x: UnsafeMutablePointer<Float>, heads: Int, headDim: Int, position: Int, style: RopeStyle,
  freqBase: Float, freqScale: Float = 1, ropeDim: Int? = nil
) {
  let dims = ropeDim ?? headDim
  precondition(dims % 2 == 0 && dims <= headDim, "rope: rotated dimensions must be even and at most headDim")
  let half = dims / 2
  // cos/sin per pair, computed once for all heads (at most 256 pairs on the stack).
  withUnsafeTemporaryAllocation(of: Float.self, capacity: 2 * half) { table in
    let p = Double(position) * Double(freqScale)
    for i in 0..<half {
      let invFreq = pow(Double(freqBase), -Double(2 * i) / Double(dims))
      let theta = p * invFreq
      table[2 * i] = Float(cos(theta))
      table[2 * i + 1] = Float(sin(theta))
    }
    for h in 0..<heads {
      let v = x + h * headDim
      switch style {
      case .normal:
        for i in 0..<half {
          let c = table[2 * i], s = table[2 * i + 1]
          let a = v[2 * i], b = v[2 * i + 1]
          v[2 * i] = a * c - b * s
          v[2 * i + 1] = a * s + b * c
        }
      case .neox:
        for i in 0..<half {
          let c = table[2 * i], s = table[2 * i + 1]
          let a = v[i], b = v[i + half]
          v[i] = a * c - b * s
          v[i + half] = a * s + b * c
        }
      }
    }
  }
}

/// Softmax in place over `count` floats, subtracting the maximum first (vector exp, see VectorMath.swift).
public func softmax(_ x: UnsafeMutablePointer<Float>, count: Int) {
  guard count > 0 else { return }
  // The maximum, 8 lanes at a time (a scalar max is one long dependency chain; decode attention calls this on
  // every head's scores, as long as the context).
  var m = -Float.infinity
  var i = 0
  if count >= 8 {
    let raw = UnsafeRawPointer(x)
    var lanes = raw.loadUnaligned(as: SIMD8<Float>.self)
    i = 8
    while i + 8 <= count {
      let v = raw.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self)
      lanes.replace(with: v, where: v .> lanes)
      i += 8
    }
    m = lanes.max()
  }
  while i < count {
    m = max(m, x[i])
    i += 1
  }
  i = 0
  var sum: Float = 0
  #if arch(x86_64)
    if QuantTraits.cpuHasAVX2FMA {
      let vm = _mm256_set1_ps(m)
      var acc = _mm256_setzero_ps()
      while i + 8 <= count {
        let e = AVX2Math.exp(_mm256_sub_ps(AVX2Math.load(x, i), vm))
        AVX2Math.store(e, x, i)
        acc = _mm256_add_ps(acc, e)
        i += 8
      }
      sum = hsum(acc)
    }
  #endif
  while i < count {
    let e = expf(x[i] - m)
    x[i] = e
    sum += e
    i += 1
  }
  let inv = 1 / sum
  for j in 0..<count { x[j] *= inv }
}

/// SiLU in place: `x * sigmoid(x)` (Hendrycks & Gimpel; Elfwing et al.).
public func silu(_ x: UnsafeMutablePointer<Float>, count: Int) {
  var i = 0
  #if arch(x86_64)
    if QuantTraits.cpuHasAVX2FMA {
      while i + 8 <= count {
        AVX2Math.store(AVX2Math.silu(AVX2Math.load(x, i)), x, i)
        i += 8
      }
    }
  #endif
  while i < count {
    x[i] = siluScalar(x[i])
    i += 1
  }
}

/// x / (1 + e^-x).
@inline(__always)
func siluScalar(_ x: Float) -> Float { x / (1 + expf(-x)) }

/// SwiGLU (Shazeer 2020): `out = silu(gate) * up`; `out` may be `gate` or `up`.
public func swiglu(
  gate: UnsafePointer<Float>, up: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>, count: Int
) {
  var i = 0
  #if arch(x86_64)
    if QuantTraits.cpuHasAVX2FMA {
      while i + 8 <= count {
        AVX2Math.store(_mm256_mul_ps(AVX2Math.silu(AVX2Math.load(gate, i)), AVX2Math.load(up, i)), out, i)
        i += 8
      }
    }
  #endif
  while i < count {
    out[i] = siluScalar(gate[i]) * up[i]
    i += 1
  }
}

/// Starts the reads of the bytes in `p ..< p + bytes` (one `prefetcht0` per 64-byte line), for loops whose memory
/// streams are not weight rows (the KV cache in decode attention). Never faults.
@inlinable @inline(__always)
public func prefetchForRead(_ p: UnsafeRawPointer, bytes: Int) {
  var o = 0
  while o < bytes {
    cg_prefetch_read(p + o)
    o += 64
  }
}
