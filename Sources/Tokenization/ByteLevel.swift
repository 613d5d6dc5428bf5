/// GPT-2's reversible mapping between bytes and printable Unicode scalars (`bytes_to_unicode` in OpenAI's
/// `encoder.py`): byte-level BPE vocabularies spell every token with these 256 scalars.
///
/// Printable Latin-1 bytes (`!`…`~`, `¡`…`¬`, `®`…`ÿ`) stand for themselves; the other 68 bytes map, in byte order,
/// to U+0100, U+0101, … (so the space 0x20 is `Ġ` U+0120 and the newline 0x0A is `Ċ` U+010A).
enum ByteLevel {
  /// The scalar that spells each byte.
  static let scalarForByte: [UInt32] = {
    var table = [UInt32](repeating: 0, count: 256)
    var next: UInt32 = 256
    for b in 0..<256 {
      let printable = (0x21...0x7E).contains(b) || (0xA1...0xAC).contains(b) || (0xAE...0xFF).contains(b)
      if printable {
        table[b] = UInt32(b)
      } else {
        table[b] = next
        next += 1
      }
    }
    return table
  }()

  /// The byte each spelling scalar stands for, indexed by scalar value (-1 for a scalar that spells no byte).
  static let byteForScalar: [Int16] = {
    var table = [Int16](repeating: -1, count: 324)
    for (b, scalar) in scalarForByte.enumerated() { table[Int(scalar)] = Int16(b) }
    return table
  }()

  /// The UTF-8 bytes of each byte's spelling (one or two bytes each).
  static let utf8ForByte: [[UInt8]] = scalarForByte.map { Array(String(Unicode.Scalar($0)!).utf8) }

  /// The bytes a byte-level token text stands for, or nil when a scalar of it is not in the alphabet.
  static func decode(_ text: String) -> [UInt8]? {
    var out = [UInt8]()
    out.reserveCapacity(text.utf8.count)
    for scalar in text.unicodeScalars {
      let v = Int(scalar.value)
      guard v < byteForScalar.count, byteForScalar[v] >= 0 else { return nil }
      out.append(UInt8(byteForScalar[v]))
    }
    return out
  }

  /// The byte-level spelling of `bytes` as UTF-8.
  static func encode<C: Collection>(_ bytes: C) -> [UInt8] where C.Element == UInt8 {
    var out = [UInt8]()
    out.reserveCapacity(bytes.count * 2)
    for b in bytes { out.append(contentsOf: utf8ForByte[Int(b)]) }
    return out
  }
}
