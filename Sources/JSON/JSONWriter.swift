extension JSONValue {
  /// The compact JSON text of this value, deterministic: no whitespace, object keys sorted by their UTF-8 bytes.
  ///
  /// Strings escape `"`, `\` and every control character below U+0020 and are otherwise written as raw UTF-8.
  /// Doubles use the shortest form that reads back to the same value (`1.0`, `1e-07`); NaN and the
  /// infinities, which JSON cannot express, are written as `null`.
  public func serialized() -> String {
    String(decoding: serializedBytes(), as: UTF8.self)
  }

  /// The UTF-8 bytes of `serialized()`.
  public func serializedBytes() -> [UInt8] {
    var writer = JSONWriter()
    writer.write(self)
    return writer.output
  }
}

/// Appends compact JSON to a byte buffer.
struct JSONWriter {
  var output: [UInt8] = []

  init() { output.reserveCapacity(256) }

  mutating func write(_ value: JSONValue) {
    switch value {
    case .null:
      append("null")
    case .bool(let flag):
      append(flag ? "true" : "false")
    case .int(let number):
      writeInteger(number)
    case .double(let number):
      if number.isFinite {
        // Swift's description is the shortest representation that round-trips, and is valid JSON.
        append(number.description)
      } else {
        append("null")
      }
    case .string(let text):
      writeString(text)
    case .array(let elements):
      output.append(UInt8(ascii: "["))
      var first = true
      for element in elements {
        if !first { output.append(UInt8(ascii: ",")) }
        first = false
        write(element)
      }
      output.append(UInt8(ascii: "]"))
    case .object(let members):
      output.append(UInt8(ascii: "{"))
      var first = true
      for (key, member) in members.sorted(by: { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }) {
        if !first { output.append(UInt8(ascii: ",")) }
        first = false
        writeString(key)
        output.append(UInt8(ascii: ":"))
        write(member)
      }
      output.append(UInt8(ascii: "}"))
    }
  }

  private mutating func append(_ text: String) {
    output.append(contentsOf: text.utf8)
  }

  private mutating func writeInteger(_ value: Int64) {
    if value == 0 {
      output.append(UInt8(ascii: "0"))
      return
    }
    var magnitude = value.magnitude
    var scratch: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes, enough for a sign and 19 digits
    withUnsafeMutableBytes(of: &scratch) { digits in
      var index = digits.count
      while magnitude > 0 {
        index -= 1
        digits[index] = UInt8(ascii: "0") + UInt8(magnitude % 10)
        magnitude /= 10
      }
      if value < 0 {
        index -= 1
        digits[index] = UInt8(ascii: "-")
      }
      output.append(contentsOf: digits[index...])
    }
  }

  private mutating func writeString(_ text: String) {
    var text = text
    text.withUTF8 { bytes in
      // First pass: how many bytes the escapes add (each escaped byte becomes 2 or 6 bytes).
      var extra = 0
      for byte in bytes where byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
        extra += Self.escapeLength(byte) - 1
      }
      let start = output.count
      let total = bytes.count + extra + 2
      output.append(contentsOf: repeatElement(0, count: total))
      output.withUnsafeMutableBufferPointer { buffer in
        var out = start
        buffer[out] = UInt8(ascii: "\"")
        out += 1
        if extra == 0 {
          if bytes.count > 0 {
            _ = UnsafeMutableBufferPointer(rebasing: buffer[out..<(out + bytes.count)]).initialize(from: bytes)
          }
          out += bytes.count
        } else {
          for byte in bytes {
            guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else {
              buffer[out] = byte
              out += 1
              continue
            }
            buffer[out] = UInt8(ascii: "\\")
            switch byte {
            case UInt8(ascii: "\""): buffer[out + 1] = UInt8(ascii: "\"")
            case UInt8(ascii: "\\"): buffer[out + 1] = UInt8(ascii: "\\")
            case 0x08: buffer[out + 1] = UInt8(ascii: "b")
            case 0x0C: buffer[out + 1] = UInt8(ascii: "f")
            case 0x0A: buffer[out + 1] = UInt8(ascii: "n")
            case 0x0D: buffer[out + 1] = UInt8(ascii: "r")
            case 0x09: buffer[out + 1] = UInt8(ascii: "t")
            default:
              let low = byte & 0xF
              buffer[out + 1] = UInt8(ascii: "u")
              buffer[out + 2] = UInt8(ascii: "0")
              buffer[out + 3] = UInt8(ascii: "0")
              buffer[out + 4] = UInt8(ascii: "0") + (byte >> 4)
              buffer[out + 5] = low < 10 ? UInt8(ascii: "0") + low : UInt8(ascii: "a") + low - 10
            }
            out += Self.escapeLength(byte)
          }
        }
        buffer[out] = UInt8(ascii: "\"")
      }
    }
  }

  /// The length of the escape for a byte that needs one: `\n` style (2) or `\u00XX` (6).
  @inline(__always)
  private static func escapeLength(_ byte: UInt8) -> Int {
    switch byte {
    case UInt8(ascii: "\""), UInt8(ascii: "\\"), 0x08, 0x0C, 0x0A, 0x0D, 0x09: return 2
    default: return 6
    }
  }
}
