/// Why a JSON text could not be parsed. Every offset is a 0-based byte offset into the parsed UTF-8 input.
public enum JSONError: Error, Equatable, Sendable, CustomStringConvertible {
  /// The text breaks the JSON grammar at `offset`; `reason` says how.
  case syntax(reason: String, offset: Int)
  /// The input ends before the value is complete.
  case unexpectedEndOfInput(offset: Int)
  /// The bytes at `offset` are not well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates,
  /// nothing above U+10FFFF).
  case invalidUTF8(offset: Int)
  /// A string contains an unescaped control character (U+0000 to U+001F), which RFC 8259 forbids.
  case controlCharacterInString(byte: UInt8, offset: Int)
  /// Arrays and objects nest deeper than `limit`; the first one past the limit opens at `offset`.
  case nestingTooDeep(limit: Int, offset: Int)
  /// A complete value is followed by something other than whitespace.
  case trailingGarbage(offset: Int)
  /// A number does not fit: an integer outside `Int64`, or a number whose magnitude overflows `Double`.
  case numberOutOfRange(text: String, offset: Int)
  /// An object key contains U+0000 (written `\u0000`), which json-c cannot store in a key.
  case nulInObjectKey(offset: Int)
  /// The input is larger than json-c accepts in one call (`Int32.max` bytes).
  case inputTooLarge(size: Int, limit: Int)

  /// A message that says what is wrong and where.
  public var description: String {
    switch self {
    case .syntax(let reason, let offset):
      return "JSON syntax error at byte \(offset): \(reason)"
    case .unexpectedEndOfInput(let offset):
      return "JSON text ends unexpectedly at byte \(offset): the value is incomplete"
    case .invalidUTF8(let offset):
      return "JSON text is not valid UTF-8 at byte \(offset)"
    case .controlCharacterInString(let byte, let offset):
      let hex = String(byte, radix: 16, uppercase: true)
      return "JSON string contains the unescaped control character 0x\(hex.count == 1 ? "0" + hex : hex) at byte "
        + "\(offset); control characters must be written as \\u escapes"
    case .nestingTooDeep(let limit, let offset):
      return "JSON arrays and objects nest deeper than the limit of \(limit) at byte \(offset)"
    case .trailingGarbage(let offset):
      return "JSON text has unexpected data after the value, at byte \(offset)"
    case .numberOutOfRange(let text, let offset):
      let shown = text.count > 40 ? String(text.prefix(40)) + "…" : text
      return "JSON number \(shown) at byte \(offset) is out of range (integers must fit in 64 bits, "
        + "other numbers in a double)"
    case .nulInObjectKey(let offset):
      return "JSON object key at byte \(offset) contains U+0000, which is not supported in keys"
    case .inputTooLarge(let size, let limit):
      return "JSON text of \(size) bytes is larger than the limit of \(limit) bytes"
    }
  }
}
