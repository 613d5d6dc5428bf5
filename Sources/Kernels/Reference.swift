import Quantization

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Naive reference versions of the kernels: straight loops in Double where it matters, no SIMD, no threads.
/// The tests compare the fast kernels against these (llm.c `check_tensor` style tolerance).
public enum Reference {
  /// `y[r] = Σ_c dequant(w)[r, c] * x[c]`, accumulated in Double; x (cols), y (rows).
  public static func matvec(_ w: WeightMatrix, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>) {
    var row = [Float](repeating: 0, count: w.cols)
    for r in 0..<w.rows {
      w.withFileLayoutRow(r) { w.type.dequantize($0, count: w.cols, into: &row) }
      var s: Double = 0
      for c in 0..<w.cols { s += Double(row[c]) * Double(x[c]) }
      y[r] = Float(s)
    }
  }

  /// `y[b, r] = Σ_c dequant(w)[r, c] * x[b, c]`; x (batch, cols), y (batch, rows).
  public static func matmul(
    _ w: WeightMatrix, _ x: UnsafePointer<Float>, batch: Int, _ y: UnsafeMutablePointer<Float>
  ) {
    for b in 0..<batch { matvec(w, x + b * w.cols, y + b * w.rows) }
  }

  /// RMS normalisation, in Double.
  public static func rmsNorm(_ x: [Float], weight: [Float], eps: Float) -> [Float] {
    var ss: Double = 0
    for v in x { ss += Double(v) * Double(v) }
    let inv = 1 / (ss / Double(x.count) + Double(eps)).squareRoot()
    return (0..<x.count).map { Float(Double(x[$0]) * inv * Double(weight[$0])) }
  }

  /// Rotary embedding, angles in Double; `x` is (heads, headDim).
  public static func rope(
    _ x: [Float], heads: Int, headDim: Int, position: Int, style: RopeStyle, freqBase: Float, freqScale: Float = 1,
    ropeDim: Int? = nil
  ) -> [Float] {
    let dims = ropeDim ?? headDim
    var out = x
    for h in 0..<heads {
      for i in 0..<(dims / 2) {
        let theta = Double(position) * Double(freqScale) * pow(Double(freqBase), -Double(2 * i) / Double(dims))
        let (a, b): (Int, Int) = style == .normal ? (2 * i, 2 * i + 1) : (i, i + dims / 2)
        let xa = Double(x[h * headDim + a]), xb = Double(x[h * headDim + b])
        out[h * headDim + a] = Float(xa * cos(theta) - xb * sin(theta))
        out[h * headDim + b] = Float(xa * sin(theta) + xb * cos(theta))
      }
    }
    return out
  }

  /// Softmax in Double.
  public static func softmax(_ x: [Float]) -> [Float] {
    let m = x.max() ?? 0
    let e = x.map { exp(Double($0 - m)) }
    let s = e.reduce(0, +)
    return e.map { Float($0 / s) }
  }

  /// SiLU in Double.
  public static func silu(_ x: [Float]) -> [Float] {
    x.map { v -> Float in
      let g = Double(v)
      return Float(g / (1 + exp(-g)))
    }
  }

  /// SwiGLU in Double.
  public static func swiglu(gate: [Float], up: [Float]) -> [Float] {
    var out = [Float](repeating: 0, count: gate.count)
    for i in 0..<gate.count {
      let g = Double(gate[i])
      let sig = 1 / (1 + exp(-g))
      out[i] = Float(g * sig * Double(up[i]))
    }
    return out
  }

  /// Dot product in Double.
  public static func dot(_ a: [Float], _ b: [Float]) -> Float {
    var s: Double = 0
    for i in 0..<a.count { s += Double(a[i]) * Double(b[i]) }
    return Float(s)
  }
}
