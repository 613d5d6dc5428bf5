/// SplitMix64 (Steele, Lea, Flood 2014): expands one 64-bit seed into well-mixed words; seeds `Xoshiro256`.
public struct SplitMix64: RandomNumberGenerator, Sendable {
  private var state: UInt64

  public init(seed: UInt64) { state = seed }

  public mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}

/// xoshiro256** (Blackman and Vigna 2018): the sampler's generator. Deterministic for a seed on every platform
/// and every run, unlike `SystemRandomNumberGenerator`.
public struct Xoshiro256: RandomNumberGenerator, Sendable {
  private var s: (UInt64, UInt64, UInt64, UInt64)

  /// Seeds the four state words from SplitMix64, as the authors recommend (never all zero).
  public init(seed: UInt64) {
    var mix = SplitMix64(seed: seed)
    s = (mix.next(), mix.next(), mix.next(), mix.next())
  }

  @inline(__always) private static func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

  public mutating func next() -> UInt64 {
    let result = Xoshiro256.rotl(s.1 &* 5, 7) &* 9
    let t = s.1 << 17
    s.2 ^= s.0
    s.3 ^= s.1
    s.1 ^= s.2
    s.0 ^= s.3
    s.2 ^= t
    s.3 = Xoshiro256.rotl(s.3, 45)
    return result
  }

  /// A double uniform in [0, 1) from the top 53 bits.
  public mutating func nextUnit() -> Double { Double(next() >> 11) * 0x1.0p-53 }
}
