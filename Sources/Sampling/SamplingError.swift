/// Errors of the sampling module: bad settings or a distribution nothing can be drawn from.
public enum SamplingError: Error, Equatable, Sendable, CustomStringConvertible {
  /// A setting is outside its valid range; names the setting, the value and the range.
  case invalidSetting(name: String, value: String, expected: String)
  /// `sample` was given no logits.
  case emptyLogits
  /// Every candidate was banned or is not finite (NaN or -inf everywhere): nothing can be chosen.
  case noViableToken(candidates: Int)

  public var description: String {
    switch self {
    case .invalidSetting(let name, let value, let expected):
      return "sampler setting \(name) = \(value) is invalid: expected \(expected)"
    case .emptyLogits:
      return "sampler was given an empty logits vector"
    case .noViableToken(let count):
      return "no token can be sampled: all \(count) candidates are banned or not finite"
    }
  }
}
