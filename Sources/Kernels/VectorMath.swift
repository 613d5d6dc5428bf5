// Vectorised exp for softmax and SiLU: Cephes' `expf` scheme (Moshier): x = n ln2 + r with |r| ≤ ln2/2, a
// degree-6 polynomial for e^r, and 2^n put into the exponent bits. Relative error about 2e-7 (a couple of ulp);
// inputs below -87.3 flush to 0, above 88.37 saturate near Float.greatestFiniteMagnitude.
#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

#if arch(x86_64)
  import _Builtin_intrinsics.intel

  enum AVX2Math {
    /// SiLU of 8 floats: x / (1 + e^-x).
    @inline(__always)
    static func silu(_ x: __m256) -> __m256 {
      _mm256_div_ps(x, _mm256_add_ps(_mm256_set1_ps(1), exp(_mm256_sub_ps(_mm256_setzero_ps(), x))))
    }

    /// e^x for 8 floats.
    @inline(__always)
    static func exp(_ xIn: __m256) -> __m256 {
      let x = _mm256_max_ps(_mm256_min_ps(xIn, _mm256_set1_ps(88.37626)), _mm256_set1_ps(-87.33654))
      // n = round(x / ln 2) (cvtps rounds to nearest even).
      let ni = _mm256_cvtps_epi32(_mm256_mul_ps(x, _mm256_set1_ps(1.442695040888963)))
      let n = _mm256_cvtepi32_ps(ni)
      // r = x - n ln2, with ln2 split in two for precision.
      var r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375), x)
      r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4), r)
      var p = _mm256_set1_ps(1.9875691500e-4)
      p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3))
      p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3))
      p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2))
      p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1))
      p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1))
      let r2 = _mm256_mul_ps(r, r)
      p = _mm256_fmadd_ps(p, r2, _mm256_add_ps(r, _mm256_set1_ps(1)))
      // 2^n through the exponent field.
      let pow2n = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(ni, _mm256_set1_epi32(127)), 23))
      return _mm256_mul_ps(p, pow2n)
    }

    @inline(__always) static func load(_ p: UnsafePointer<Float>, _ i: Int) -> __m256 {
      UnsafeRawPointer(p + i).loadUnaligned(as: __m256.self)
    }

    @inline(__always) static func store(_ v: __m256, _ p: UnsafeMutablePointer<Float>, _ i: Int) {
      UnsafeMutableRawPointer(p + i).storeBytes(of: v, as: __m256.self)
    }
  }
#endif

/// e^x for each of `count` floats, in place (the vector exp of this module; scalar `expf` for the tail).
public func expInPlace(_ x: UnsafeMutablePointer<Float>, count: Int) {
  var i = 0
  #if arch(x86_64)
    if QuantTraits.cpuHasAVX2FMA {
      while i + 8 <= count {
        AVX2Math.store(AVX2Math.exp(AVX2Math.load(x, i)), x, i)
        i += 8
      }
    }
  #endif
  while i < count {
    x[i] = expf(x[i])
    i += 1
  }
}

/// The totals of 8 vectors at once: element j of the result is the sum of the elements of `v[j]`. Pairwise sums,
/// three levels deep (what `vhaddps` does), instead of 8 separate horizontal sums.
@inlinable @inline(__always)
public func totals8(
  _ v0: SIMD8<Float>, _ v1: SIMD8<Float>, _ v2: SIMD8<Float>, _ v3: SIMD8<Float>, _ v4: SIMD8<Float>,
  _ v5: SIMD8<Float>, _ v6: SIMD8<Float>, _ v7: SIMD8<Float>
) -> SIMD8<Float> {
  @inline(__always) func pairs(_ a: SIMD8<Float>, _ b: SIMD8<Float>) -> SIMD8<Float> {
    SIMD8(lowHalf: a.evenHalf + a.oddHalf, highHalf: b.evenHalf + b.oddHalf)
  }
  return pairs(pairs(pairs(v0, v1), pairs(v2, v3)), pairs(pairs(v4, v5), pairs(v6, v7)))
}
