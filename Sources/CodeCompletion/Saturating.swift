import Foundation

/// Saturating arithmetic on the uptime clock (nanoseconds), for deadlines built from configured durations: a
/// configured value too large for the clock means "never", not a trap or a wrap-around to the past.
public enum SaturatingTime {
  /// `milliseconds` in nanoseconds, saturating at `UInt64.max`; negative is 0.
  public static func nanoseconds(milliseconds: Int) -> UInt64 {
    guard milliseconds > 0 else { return 0 }
    let (product, overflow) = UInt64(milliseconds).multipliedReportingOverflow(by: 1_000_000)
    return overflow ? UInt64.max : product
  }

  /// `seconds` in nanoseconds, saturating at `UInt64.max`; negative or NaN is 0.
  public static func nanoseconds(seconds: Double) -> UInt64 {
    guard seconds > 0 else { return 0 }
    let nanoseconds = seconds * 1e9
    return nanoseconds >= 18_446_744_073_709_549_568 ? UInt64.max : UInt64(nanoseconds)
  }

  /// The uptime `nanoseconds` after `start` (default: now), saturating at `UInt64.max`.
  public static func uptime(after nanoseconds: UInt64, from start: UInt64 = DispatchTime.now().uptimeNanoseconds)
    -> UInt64
  {
    let (sum, overflow) = start.addingReportingOverflow(nanoseconds)
    return overflow ? UInt64.max : sum
  }
}

extension Int {
  /// `self * factor`, saturating at `Int.max` / `Int.min` instead of trapping.
  public func multipliedSaturating(by factor: Int) -> Int {
    let (product, overflow) = multipliedReportingOverflow(by: factor)
    guard overflow else { return product }
    return (self < 0) == (factor < 0) ? Int.max : Int.min
  }

  /// `self + other`, saturating at `Int.max` / `Int.min` instead of trapping.
  public func addingSaturating(_ other: Int) -> Int {
    let (sum, overflow) = addingReportingOverflow(other)
    guard overflow else { return sum }
    return other > 0 ? Int.max : Int.min
  }
}
