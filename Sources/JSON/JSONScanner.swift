import Foundation

/// A single pass over JSON bytes that checks what json-c leaves unchecked, before json-c builds the tree.
///
/// json-c 0.16 in strict mode still accepts raw control characters in strings, `NaN`/`Infinity`, `1.`,
/// `-01`, and it silently clamps integers outside `Int64` and doubles that overflow to infinity. It also
/// copies bytes into strings without checking UTF-8. This scanner lexes just enough (strings, numbers and
/// brackets outside strings) to reject those cases with exact byte offsets, and enforces the nesting limit.
/// Everything else in the grammar (separators, literals, bracket matching) is left to json-c.
enum JSONScanner {
  /// Validates `bytes`, throwing the first problem found in input order.
  /// - Parameters:
  ///   - bytes: the whole JSON text.
  ///   - maxDepth: the largest number of nested arrays and objects allowed.
  static func validate(_ bytes: UnsafeBufferPointer<UInt8>, maxDepth: Int) throws {
    guard let base = bytes.baseAddress else { return }
    let count = bytes.count
    var i = 0
    var depth = 0
    while i < count {
      let byte = base[i]
      switch byte {
      case UInt8(ascii: "\""):
        i = try scanString(base, count, from: i)
      case UInt8(ascii: "["), UInt8(ascii: "{"):
        depth += 1
        if depth > maxDepth { throw JSONError.nestingTooDeep(limit: maxDepth, offset: i) }
        i += 1
      case UInt8(ascii: "]"), UInt8(ascii: "}"):
        if depth > 0 { depth -= 1 }
        i += 1
      case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
        i = try scanNumber(base, count, from: i)
      case UInt8(ascii: "N"), UInt8(ascii: "I"):
        throw JSONError.syntax(reason: "NaN and Infinity are not JSON values", offset: i)
      case 0x80...0xFF:
        if utf8SequenceLength(base, count, at: i) == nil { throw JSONError.invalidUTF8(offset: i) }
        throw JSONError.syntax(reason: "unexpected non-ASCII character outside a string", offset: i)
      default:
        i += 1
      }
    }
  }

  /// Scans the string that opens at `start` (a quote); returns the offset just past its closing quote.
  private static func scanString(_ base: UnsafePointer<UInt8>, _ count: Int, from start: Int) throws -> Int {
    var i = start + 1
    var hasNUL = false
    let raw = UnsafeRawPointer(base)
    while true {
      // Fast path: skip 8 bytes at a time while none is a quote, a backslash, a control byte or non-ASCII.
      while i + 8 <= count {
        let word = raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)
        if wordNeedsAttention(word) { break }
        i += 8
      }
      guard i < count else { throw JSONError.unexpectedEndOfInput(offset: count) }
      let byte = base[i]
      switch byte {
      case UInt8(ascii: "\""):
        if hasNUL, isFollowedByColon(base, count, after: i + 1) { throw JSONError.nulInObjectKey(offset: start) }
        return i + 1
      case UInt8(ascii: "\\"):
        guard i + 1 < count else { throw JSONError.unexpectedEndOfInput(offset: count) }
        switch base[i + 1] {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
          UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
          i += 2
        case UInt8(ascii: "u"):
          guard i + 6 <= count else { throw JSONError.unexpectedEndOfInput(offset: count) }
          var isZero = true
          for k in 2..<6 {
            let h = base[i + k]
            guard isHexDigit(h) else {
              throw JSONError.syntax(reason: "\\u must be followed by four hexadecimal digits", offset: i)
            }
            if h != UInt8(ascii: "0") { isZero = false }
          }
          if isZero { hasNUL = true }
          i += 6
        default:
          throw JSONError.syntax(reason: "invalid escape sequence in string", offset: i)
        }
      case 0x00..<0x20:
        throw JSONError.controlCharacterInString(byte: byte, offset: i)
      case 0x80...0xFF:
        guard let length = utf8SequenceLength(base, count, at: i) else { throw JSONError.invalidUTF8(offset: i) }
        i += length
      default:
        i += 1
      }
    }
  }

  /// Whether any byte of `word` is `"`, `\`, below 0x20 or at least 0x80 (exact; SWAR bit tricks).
  @inline(__always)
  private static func wordNeedsAttention(_ word: UInt64) -> Bool {
    let ones: UInt64 = 0x0101_0101_0101_0101
    let highs: UInt64 = 0x8080_8080_8080_8080
    let quote = word ^ (ones &* 0x22)
    let backslash = word ^ (ones &* 0x5C)
    let hasQuote = (quote &- ones) & ~quote
    let hasBackslash = (backslash &- ones) & ~backslash
    let hasControl = (word &- ones &* 0x20) & ~word
    return ((hasQuote | hasBackslash | hasControl) & highs) | (word & highs) != 0
  }

  /// Whether the next non-whitespace byte at or after `offset` is a colon (the string was an object key).
  private static func isFollowedByColon(_ base: UnsafePointer<UInt8>, _ count: Int, after offset: Int) -> Bool {
    var i = offset
    while i < count, isWhitespace(base[i]) { i += 1 }
    return i < count && base[i] == UInt8(ascii: ":")
  }

  /// Scans the number that starts at `start` (RFC 8259 grammar); returns the offset just past it.
  private static func scanNumber(_ base: UnsafePointer<UInt8>, _ count: Int, from start: Int) throws -> Int {
    var i = start
    if base[i] == UInt8(ascii: "-") { i += 1 }
    guard i < count, isDigit(base[i]) else {
      if i >= count { throw JSONError.unexpectedEndOfInput(offset: count) }
      throw JSONError.syntax(reason: "a minus sign must be followed by a digit", offset: i)
    }
    if base[i] == UInt8(ascii: "0") {
      i += 1
      if i < count, isDigit(base[i]) {
        throw JSONError.syntax(reason: "numbers must not have leading zeros", offset: start)
      }
    } else {
      while i < count, isDigit(base[i]) { i += 1 }
    }
    let integerEnd = i
    var isInteger = true
    var hasExponent = false
    if i < count, base[i] == UInt8(ascii: ".") {
      isInteger = false
      i += 1
      guard i < count, isDigit(base[i]) else {
        if i >= count { throw JSONError.unexpectedEndOfInput(offset: count) }
        throw JSONError.syntax(reason: "a decimal point must be followed by a digit", offset: i)
      }
      while i < count, isDigit(base[i]) { i += 1 }
    }
    if i < count, base[i] == UInt8(ascii: "e") || base[i] == UInt8(ascii: "E") {
      isInteger = false
      hasExponent = true
      i += 1
      if i < count, base[i] == UInt8(ascii: "+") || base[i] == UInt8(ascii: "-") { i += 1 }
      guard i < count, isDigit(base[i]) else {
        if i >= count { throw JSONError.unexpectedEndOfInput(offset: count) }
        throw JSONError.syntax(reason: "an exponent must have at least one digit", offset: i)
      }
      while i < count, isDigit(base[i]) { i += 1 }
    }
    if isInteger {
      // At most 18 digits always fit in Int64; longer ones are checked exactly.
      let digitsStart = base[start] == UInt8(ascii: "-") ? start + 1 : start
      if integerEnd - digitsStart > 18, !integerFitsInt64(base, from: start, to: integerEnd) {
        throw JSONError.numberOutOfRange(text: text(base, start, i), offset: start)
      }
    } else if hasExponent || i - start > 300 {
      let literal = text(base, start, i)
      guard let value = Double(literal), value.isFinite else {
        throw JSONError.numberOutOfRange(text: literal, offset: start)
      }
    }
    return i
  }

  /// Whether the decimal integer in `base[start..<end]` (optional minus, then digits) fits in `Int64`.
  private static func integerFitsInt64(_ base: UnsafePointer<UInt8>, from start: Int, to end: Int) -> Bool {
    var i = start
    let negative = base[i] == UInt8(ascii: "-")
    if negative { i += 1 }
    // Accumulate towards the negative side, which has one more value than the positive side.
    var value: Int64 = 0
    while i < end {
      let digit = Int64(base[i] &- UInt8(ascii: "0"))
      let (times10, o1) = value.multipliedReportingOverflow(by: 10)
      let (next, o2) = times10.subtractingReportingOverflow(digit)
      if o1 || o2 { return false }
      value = next
      i += 1
    }
    return negative || value != Int64.min
  }

  /// The length of the well-formed UTF-8 sequence at `i` (RFC 3629 table 3-7), or nil if it is ill-formed.
  @inline(__always)
  static func utf8SequenceLength(_ base: UnsafePointer<UInt8>, _ count: Int, at i: Int) -> Int? {
    let b0 = base[i]
    func continuation(_ k: Int, _ low: UInt8 = 0x80, _ high: UInt8 = 0xBF) -> Bool {
      i + k < count && base[i + k] >= low && base[i + k] <= high
    }
    switch b0 {
    case 0x00...0x7F: return 1
    case 0xC2...0xDF: return continuation(1) ? 2 : nil
    case 0xE0: return continuation(1, 0xA0) && continuation(2) ? 3 : nil
    case 0xE1...0xEC, 0xEE...0xEF: return continuation(1) && continuation(2) ? 3 : nil
    case 0xED: return continuation(1, 0x80, 0x9F) && continuation(2) ? 3 : nil
    case 0xF0: return continuation(1, 0x90) && continuation(2) && continuation(3) ? 4 : nil
    case 0xF1...0xF3: return continuation(1) && continuation(2) && continuation(3) ? 4 : nil
    case 0xF4: return continuation(1, 0x80, 0x8F) && continuation(2) && continuation(3) ? 4 : nil
    default: return nil
    }
  }

  @inline(__always) private static func isDigit(_ b: UInt8) -> Bool { b &- UInt8(ascii: "0") < 10 }

  @inline(__always) static func isWhitespace(_ b: UInt8) -> Bool {
    b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09
  }

  @inline(__always) private static func isHexDigit(_ b: UInt8) -> Bool {
    isDigit(b) || (b | 0x20) &- UInt8(ascii: "a") < 6
  }

  private static func text(_ base: UnsafePointer<UInt8>, _ start: Int, _ end: Int) -> String {
    String(decoding: UnsafeBufferPointer(start: base + start, count: end - start), as: UTF8.self)
  }
}
