/// The type tag of a GGUF metadata value (`enum gguf_type` in `gguf.h`).
public enum GGUFValueType: UInt32, Sendable, CustomStringConvertible {
  case uint8 = 0
  case int8 = 1
  case uint16 = 2
  case int16 = 3
  case uint32 = 4
  case int32 = 5
  case float32 = 6
  case bool = 7
  case string = 8
  case array = 9
  case uint64 = 10
  case int64 = 11
  case float64 = 12

  /// The smallest number of bytes a value of this type takes in the file (used to reject absurd array counts
  /// before allocating).
  var minimumEncodedSize: Int {
    switch self {
    case .uint8, .int8, .bool: return 1
    case .uint16, .int16: return 2
    case .uint32, .int32, .float32: return 4
    case .uint64, .int64, .float64, .string: return 8  // a string is at least its 8-byte length
    case .array: return 12  // element type + count
    }
  }

  public var description: String {
    switch self {
    case .uint8: return "u8"
    case .int8: return "i8"
    case .uint16: return "u16"
    case .int16: return "i16"
    case .uint32: return "u32"
    case .int32: return "i32"
    case .float32: return "f32"
    case .bool: return "bool"
    case .string: return "string"
    case .array: return "array"
    case .uint64: return "u64"
    case .int64: return "i64"
    case .float64: return "f64"
    }
  }
}

/// One metadata value of a GGUF file: every scalar type of the format, strings, and arrays (possibly nested).
///
/// Strings are decoded as UTF-8 (invalid sequences become U+FFFD, which no tokenizer vocabulary we know uses).
public enum GGUFValue: Sendable, Equatable, CustomStringConvertible {
  case uint8(UInt8)
  case int8(Int8)
  case uint16(UInt16)
  case int16(Int16)
  case uint32(UInt32)
  case int32(Int32)
  case uint64(UInt64)
  case int64(Int64)
  case float32(Float)
  case float64(Double)
  case bool(Bool)
  case string(String)
  /// An array; `elementType` is kept so that an empty array still says what it holds.
  case array(elementType: GGUFValueType, [GGUFValue])

  /// The value's type tag.
  public var type: GGUFValueType {
    switch self {
    case .uint8: return .uint8
    case .int8: return .int8
    case .uint16: return .uint16
    case .int16: return .int16
    case .uint32: return .uint32
    case .int32: return .int32
    case .uint64: return .uint64
    case .int64: return .int64
    case .float32: return .float32
    case .float64: return .float64
    case .bool: return .bool
    case .string: return .string
    case .array: return .array
    }
  }

  /// The value as an `Int` when it is an integer of any width that fits (a `UInt64` above `Int.max` gives nil).
  public var intValue: Int? {
    switch self {
    case .uint8(let v): return Int(v)
    case .int8(let v): return Int(v)
    case .uint16(let v): return Int(v)
    case .int16(let v): return Int(v)
    case .uint32(let v): return Int(v)
    case .int32(let v): return Int(v)
    case .uint64(let v): return Int(exactly: v)
    case .int64(let v): return Int(v)
    default: return nil
    }
  }

  /// The value as a `Double` when it is a float (f32 or f64) or an integer.
  public var doubleValue: Double? {
    switch self {
    case .float32(let v): return Double(v)
    case .float64(let v): return v
    default: return intValue.map(Double.init)
    }
  }

  /// The value when it is a string.
  public var stringValue: String? {
    if case .string(let s) = self { return s }
    return nil
  }

  /// The value when it is a bool.
  public var boolValue: Bool? {
    if case .bool(let b) = self { return b }
    return nil
  }

  /// The elements when the value is an array.
  public var arrayValue: [GGUFValue]? {
    if case .array(_, let a) = self { return a }
    return nil
  }

  public var description: String {
    switch self {
    case .uint8(let v): return "\(v)"
    case .int8(let v): return "\(v)"
    case .uint16(let v): return "\(v)"
    case .int16(let v): return "\(v)"
    case .uint32(let v): return "\(v)"
    case .int32(let v): return "\(v)"
    case .uint64(let v): return "\(v)"
    case .int64(let v): return "\(v)"
    case .float32(let v): return "\(v)"
    case .float64(let v): return "\(v)"
    case .bool(let v): return "\(v)"
    case .string(let s): return "\"\(s)\""
    case .array(let t, let a):
      let head = a.prefix(8).map(\.description).joined(separator: ", ")
      return "[\(t) x \(a.count)] [\(head)\(a.count > 8 ? ", ..." : "")]"
    }
  }
}
