import Foundation

/// Numeric helpers of the sampler: log-softmax over a whole vocabulary and length-normalised ranking.
public enum SamplingMath {
  /// log(sum(exp(x))) over the finite entries, stable (max subtracted), in one pass for the max and one
  /// vectorised pass for the sum. Returns -inf when no entry is finite or the buffer is empty.
  public static func logSumExp(_ x: UnsafeBufferPointer<Float>) -> Float {
    var m = -Float.infinity
    for v in x where v > m { m = v }
    if m == -.infinity || m.isNaN { return -.infinity }
    if m == .infinity { return .infinity }
    let n = x.count
    var acc = SIMD8<Float>(repeating: 0)
    var i = 0
    let mv = SIMD8<Float>(repeating: m)
    if let base = x.baseAddress {
      while i + 8 <= n {
        let v = UnsafeRawPointer(base + i).loadUnaligned(as: SIMD8<Float>.self)
        acc += fastExp(v - mv)
        i += 8
      }
    }
    var sum = Double(acc.sum())
    while i < n {
      let v = x[i]
      if !v.isNaN { sum += Foundation.exp(Double(v - m)) }
      i += 1
    }
    return m + Float(Foundation.log(sum))
  }

  /// The log-probability of entry `index` under softmax(x): `x[index] - logSumExp(x)`.
  public static func logSoftmax(_ x: UnsafeBufferPointer<Float>, at index: Int) -> Float {
    precondition(index >= 0 && index < x.count, "logSoftmax index out of range")
    return x[index] - logSumExp(x)
  }

  /// Array convenience for `logSoftmax(_:at:)`.
  public static func logSoftmax(_ x: [Float], at index: Int) -> Float {
    x.withUnsafeBufferPointer { logSoftmax($0, at: index) }
  }

  /// The full log-softmax vector (tests, small vocabularies).
  public static func logSoftmax(_ x: [Float]) -> [Float] {
    let lse = x.withUnsafeBufferPointer { logSumExp($0) }
    return x.map { $0 - lse }
  }

  /// exp for x <= 0 (NaN and values below -87 give 0): Cody-Waite range reduction to r in [-ln2/2, ln2/2] and
  /// a degree-6 polynomial, relative error below 2e-7.
  @inline(__always) static func fastExp(_ x: SIMD8<Float>) -> SIMD8<Float> {
    // NaN and very small inputs are clamped to -88 (whose exp underflows to 0 through the mask below).
    var xc = x.replacing(with: -88, where: .!(x .>= -87.5))
    xc = xc.replacing(with: 0, where: xc .> 0)
    let n = (xc * 1.442_695_04).rounded(.toNearestOrEven)
    let r = xc - n * 0.693_359_375 + n * 2.121_944_4e-4  // ln 2 split in two (Cephes)
    var p = SIMD8<Float>(repeating: 1.0 / 720)
    p = p * r + 1.0 / 120
    p = p * r + 1.0 / 24
    p = p * r + 1.0 / 6
    p = p * r + 0.5
    p = p * r + 1
    p = p * r + 1
    let ni = SIMD8<Int32>(n, rounding: .towardZero)
    let scale = unsafeBitCast((ni &+ 127) &<< 23, to: SIMD8<Float>.self)
    return (p * scale).replacing(with: 0, where: xc .< -87)
  }

  /// Beam-search style score: `sumLogprob / length^alpha` (transformers `BeamHypotheses`, `length_penalty`).
  /// alpha 0 ranks by raw sum (favours short), 1 by mean log-probability. Length 0 gives -inf.
  public static func lengthNormalizedScore(sumLogprob: Double, length: Int, alpha: Double) -> Double {
    guard length > 0 else { return -.infinity }
    return sumLogprob / pow(Double(length), alpha)
  }

  /// Indices of `candidates` (sum of log-probabilities, token count) ordered best first by
  /// `lengthNormalizedScore`; ties keep the input order.
  public static func rank(_ candidates: [(sumLogprob: Double, length: Int)], alpha: Double) -> [Int] {
    let scores = candidates.map { lengthNormalizedScore(sumLogprob: $0.sumLogprob, length: $0.length, alpha: alpha) }
    return scores.indices.sorted { scores[$0] != scores[$1] ? scores[$0] > scores[$1] : $0 < $1 }
  }
}

/// Builds token-id sets from a vocabulary's decoded texts.
public enum TokenSets {
  /// The tokens whose decoded text is non-empty and made only of whitespace and `exemptCharacters`: the
  /// indentation, brackets and punctuation that code legitimately repeats, exempt from repetition penalties.
  ///
  /// - Parameters:
  ///   - vocabularySize: token ids 0..<vocabularySize are examined.
  ///   - exemptCharacters: the characters besides whitespace (`CompletionSettings.penaltyExemptCharacters`).
  ///   - tokenText: the decoded text of a token (byte-level BPE already mapped back to text; "" for special).
  public static func exemptTokens(
    vocabularySize: Int, exemptCharacters: String, tokenText: (Int32) -> String
  ) -> Set<Int32> {
    let allowed = Set(exemptCharacters.unicodeScalars)
    return tokens(vocabularySize: vocabularySize, tokenText: tokenText) { text in
      !text.isEmpty && text.unicodeScalars.allSatisfy { allowed.contains($0) || $0.properties.isWhitespace }
    }
  }

  /// The tokens whose decoded text contains a line break: the end-of-line tokens of the length penalty.
  public static func endOfLineTokens(vocabularySize: Int, tokenText: (Int32) -> String) -> Set<Int32> {
    tokens(vocabularySize: vocabularySize, tokenText: tokenText) { text in
      text.unicodeScalars.contains { $0 == "\n" || $0 == "\r" }
    }
  }

  /// The tokens whose decoded text satisfies `predicate`.
  public static func tokens(
    vocabularySize: Int, tokenText: (Int32) -> String, where predicate: (String) -> Bool
  ) -> Set<Int32> {
    var result = Set<Int32>()
    for id in 0..<max(0, vocabularySize) {
      let token = Int32(truncatingIfNeeded: id)
      if predicate(tokenText(token)) { result.insert(token) }
    }
    return result
  }
}
