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
      let keys = members.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
      var first = true
      for key in keys {
        if !first { output.append(UInt8(ascii: ",")) }
        first = false
        writeString(key)
        output.append(UInt8(ascii: ":"))
        write(members[key]!)
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
    output.append(UInt8(ascii: "\""))
    var text = text
    text.withUTF8 { bytes in
      output.reserveCapacity(output.count + bytes.count + 2)
      var runStart = 0
      for index in 0..<bytes.count {
        let byte = bytes[index]
        guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
        if runStart < index { output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<index])) }
        runStart = index + 1
        output.append(UInt8(ascii: "\\"))
        switch byte {
        case UInt8(ascii: "\""): output.append(UInt8(ascii: "\""))
        case UInt8(ascii: "\\"): output.append(UInt8(ascii: "\\"))
        case 0x08: output.append(UInt8(ascii: "b"))
        case 0x0C: output.append(UInt8(ascii: "f"))
        case 0x0A: output.append(UInt8(ascii: "n"))
        case 0x0D: output.append(UInt8(ascii: "r"))
        case 0x09: output.append(UInt8(ascii: "t"))
        default:
          let high = byte >> 4
          let low = byte & 0xF
          output.append(UInt8(ascii: "u"))
          output.append(UInt8(ascii: "0"))
          output.append(UInt8(ascii: "0"))
          output.append(UInt8(ascii: "0") + high)
          output.append(low < 10 ? UInt8(ascii: "0") + low : UInt8(ascii: "a") + low - 10)
        }
      }
      if runStart < bytes.count {
        output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<bytes.count]))
      }
    }
    output.append(UInt8(ascii: "\""))
  }
}
