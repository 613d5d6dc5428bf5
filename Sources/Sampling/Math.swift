import Foundation

/// Numeric helpers of the sampler: log-softmax over a whole vocabulary and length-normalised ranking.
public enum SamplingMath {
  /// log(sum(exp(x))) over the entries, stable (max subtracted): one pass for the max, one vectorised pass for
  /// the sum with a polynomial exp. NaN entries count as 0. Returns -inf when no entry is finite or the buffer is
  /// empty.
  public static func logSumExp(_ x: UnsafeBufferPointer<Float>) -> Float {
    guard let base = x.baseAddress, !x.isEmpty else { return -.infinity }
    let n = x.count
    let raw = UnsafeRawPointer(base)
    var mv = SIMD8<Float>(repeating: -.infinity)
    var i = 0
    while i + 8 <= n {
      let v = raw.loadUnaligned(fromByteOffset: i &* 4, as: SIMD8<Float>.self)
      mv = mv.replacing(with: v, where: v .> mv)  // NaN compares false
      i += 8
    }
    var m = mv.max()
    while i < n {
      if x[i] > m { m = x[i] }
      i += 1
    }
    if m == -.infinity || m.isNaN { return -.infinity }
    if m == .infinity { return .infinity }
    var acc = SIMD8<Float>(repeating: 0)
    let ms = SIMD8<Float>(repeating: m)
    i = 0
    while i + 8 <= n {
      acc += fastExp(raw.loadUnaligned(fromByteOffset: i &* 4, as: SIMD8<Float>.self) - ms)
      i += 8
    }
    var sum = Double(acc.sum())
    while i < n {
      sum += Double(fastExp(SIMD8<Float>(repeating: x[i] - m))[0])
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

  /// exp for x <= 0, eight lanes at a time (NaN and values below -87 give about 1.6e-38, that is 0 in a sum):
  /// Cody-Waite range reduction to r in [-ln2/2, ln2/2], a degree-6 Taylor polynomial, and 2^n built from bits.
  /// Relative error below 3e-7. Only +, *, compares and bit casts, which Swift lowers to vector instructions.
  @inline(__always) static func fastExp(_ x: SIMD8<Float>) -> SIMD8<Float> {
    let xc = x.replacing(with: -87, where: .!(x .>= -87))
    // Round to nearest by adding 1.5 * 2^23: the integer lands in the low mantissa bits.
    let t = xc * 1.442_695_04 + 12_582_912
    let n = t - 12_582_912
    let ni = unsafeBitCast(t, to: SIMD8<Int32>.self) &- 0x4B40_0000
    let r = xc - n * 0.693_359_375 + n * 2.121_944_4e-4  // ln 2 split in two (Cephes)
    var p = SIMD8<Float>(repeating: 1.0 / 720)
    p = p * r + 1.0 / 120
    p = p * r + 1.0 / 24
    p = p * r + 1.0 / 6
    p = p * r + 0.5
    p = p * r + 1
    p = p * r + 1
    return p * unsafeBitCast((ni &+ 127) &<< 23, to: SIMD8<Float>.self)
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
    rank(scores: candidates.map { lengthNormalizedScore(sumLogprob: $0.sumLogprob, length: $0.length, alpha: alpha) })
  }

  /// Indices of `scores` ordered best first; ties keep the input order.
  public static func rank(scores: [Double]) -> [Int] {
    scores.indices.sorted { scores[$0] != scores[$1] ? scores[$0] > scores[$1] : $0 < $1 }
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

  /// The tokens whose decoded text contains a line feed: the end-of-line tokens of the length penalty (the end of
  /// a single-line completion).
  public static func endOfLineTokens(vocabularySize: Int, tokenText: (Int32) -> String) -> Set<Int32> {
    tokens(vocabularySize: vocabularySize, tokenText: tokenText) { text in
      text.utf8.contains(10)
    }
  }

  /// The tokens whose decoded text contains two line feeds (a blank line: the natural end of a block).
  public static func blankLineTokens(vocabularySize: Int, tokenText: (Int32) -> String) -> Set<Int32> {
    tokens(vocabularySize: vocabularySize, tokenText: tokenText) { text in
      text.utf8.lazy.filter { $0 == 10 }.count > 1
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
