/// Turns a stream of generated tokens into text, never emitting half a UTF-8 character.
///
/// A byte-level token may end in the middle of a multi-byte character (an emoji is often two or three tokens);
/// `append` holds back such trailing bytes until the tokens that complete them arrive, so every returned string is
/// whole characters. Control tokens contribute nothing.
///
/// ```
/// var detokenizer = StreamingDetokenizer(tokenizer: tokenizer)
/// for id in generated { print(detokenizer.append(id), terminator: "") }
/// print(detokenizer.flush())
/// ```
public struct StreamingDetokenizer: Sendable {
  /// The tokenizer whose tokens are decoded.
  public let tokenizer: Tokenizer
  /// Bytes of an incomplete character at the end of the output so far.
  private var pending: [UInt8] = []

  public init(tokenizer: Tokenizer) {
    self.tokenizer = tokenizer
  }

  /// True while bytes of an incomplete character are held back.
  public var hasPendingBytes: Bool { !pending.isEmpty }

  /// Adds one token and returns the text that is now complete (possibly empty).
  public mutating func append(_ token: Int32) -> String {
    append(bytes: tokenizer.tokenBytes(token))
  }

  /// Adds raw output bytes and returns the text that is now complete (possibly empty).
  public mutating func append(bytes: [UInt8]) -> String {
    guard !bytes.isEmpty else { return "" }
    pending.append(contentsOf: bytes)
    let keep = Self.incompleteSuffixLength(pending)
    let ready = pending.count - keep
    guard ready > 0 else { return "" }
    let text = String(decoding: pending[..<ready], as: UTF8.self)
    pending.removeFirst(ready)
    return text
  }

  /// Returns whatever is held back (an incomplete character becomes U+FFFD) and starts over.
  public mutating func flush() -> String {
    defer { pending.removeAll() }
    return pending.isEmpty ? "" : String(decoding: pending, as: UTF8.self)
  }

  /// Forgets held-back bytes.
  public mutating func reset() { pending.removeAll() }

  /// How many bytes at the end of `bytes` are the valid beginning of a multi-byte character that is not complete
  /// yet (0 when the bytes end on a character boundary or with bytes that can never become valid).
  static func incompleteSuffixLength(_ bytes: [UInt8]) -> Int {
    let n = bytes.count
    // Find the lead byte of the last sequence: at most 3 continuation bytes (10xxxxxx) back.
    var start = n - 1
    var continuations = 0
    while start >= 0 && bytes[start] & 0xC0 == 0x80 && continuations < 3 {
      start -= 1
      continuations += 1
    }
    guard start >= 0 else { return 0 }
    let lead = bytes[start]
    let expected: Int
    switch lead {
    case 0xC2...0xDF: expected = 2
    case 0xE0...0xEF: expected = 3
    case 0xF0...0xF4: expected = 4
    default: return 0  // ASCII, or a byte that cannot start a sequence
    }
    let have = n - start
    guard have < expected else { return 0 }
    // The second byte of some leads is restricted (no overlongs, surrogates, or values past U+10FFFF).
    if have >= 2 {
      let second = bytes[start + 1]
      let valid: Bool
      switch lead {
      case 0xE0: valid = second >= 0xA0
      case 0xED: valid = second <= 0x9F
      case 0xF0: valid = second >= 0x90
      case 0xF4: valid = second <= 0x8F
      default: valid = true
      }
      if !valid { return 0 }
    }
    return have
  }
}
