/// A JSON value: the seven shapes of RFC 8259 with integers and floating-point numbers kept apart.
///
/// Numbers written without a fraction or exponent parse as `.int`; all others as `.double`. The two are
/// different values (`.int(1) != .double(1)`), but `intValue` and `doubleValue` convert between them where
/// that is exact. Objects are unordered; `serialized()` writes their keys sorted so output is deterministic.
public enum JSONValue: Sendable, Hashable {
  /// `null`.
  case null
  /// `true` or `false`.
  case bool(Bool)
  /// A number written without fraction or exponent.
  case int(Int64)
  /// Any other number; always finite when parsed.
  case double(Double)
  /// A string (any Unicode, U+0000 included).
  case string(String)
  /// An array.
  case array([JSONValue])
  /// An object; keys are unique.
  case object([String: JSONValue])
}

// MARK: - Literals

extension JSONValue: ExpressibleByNilLiteral {
  /// Creates `.null` from `nil`.
  public init(nilLiteral: ()) { self = .null }
}

extension JSONValue: ExpressibleByBooleanLiteral {
  /// Creates `.bool` from a Boolean literal.
  public init(booleanLiteral value: Bool) { self = .bool(value) }
}

extension JSONValue: ExpressibleByIntegerLiteral {
  /// Creates `.int` from an integer literal.
  public init(integerLiteral value: Int64) { self = .int(value) }
}

extension JSONValue: ExpressibleByFloatLiteral {
  /// Creates `.double` from a floating-point literal.
  public init(floatLiteral value: Double) { self = .double(value) }
}

extension JSONValue: ExpressibleByStringLiteral {
  /// Creates `.string` from a string literal.
  public init(stringLiteral value: String) { self = .string(value) }
}

extension JSONValue: ExpressibleByArrayLiteral {
  /// Creates `.array` from an array literal.
  public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
}

extension JSONValue: ExpressibleByDictionaryLiteral {
  /// Creates `.object` from a dictionary literal; a repeated key keeps its last value.
  public init(dictionaryLiteral elements: (String, JSONValue)...) {
    var object: [String: JSONValue] = [:]
    object.reserveCapacity(elements.count)
    for (key, value) in elements { object[key] = value }
    self = .object(object)
  }
}

// MARK: - Access

extension JSONValue {
  /// The member named `key`; nil if this is not an object or has no such member.
  public subscript(key: String) -> JSONValue? {
    if case .object(let object) = self { return object[key] }
    return nil
  }

  /// The element at `index`; nil if this is not an array or `index` is out of range.
  public subscript(index: Int) -> JSONValue? {
    if case .array(let array) = self, array.indices.contains(index) { return array[index] }
    return nil
  }

  /// The string, if this is `.string`.
  public var stringValue: String? {
    if case .string(let value) = self { return value }
    return nil
  }

  /// The integer, if this is `.int`, or a `.double` with an integral value that `Int64` holds exactly.
  public var intValue: Int64? {
    switch self {
    case .int(let value): return value
    case .double(let value): return Int64(exactly: value)
    default: return nil
    }
  }

  /// The number as a `Double`, if this is `.double` or `.int` (large integers round to the nearest double).
  public var doubleValue: Double? {
    switch self {
    case .double(let value): return value
    case .int(let value): return Double(value)
    default: return nil
    }
  }

  /// The Boolean, if this is `.bool`.
  public var boolValue: Bool? {
    if case .bool(let value) = self { return value }
    return nil
  }

  /// The elements, if this is `.array`.
  public var arrayValue: [JSONValue]? {
    if case .array(let value) = self { return value }
    return nil
  }

  /// The members, if this is `.object`.
  public var objectValue: [String: JSONValue]? {
    if case .object(let value) = self { return value }
    return nil
  }

  /// Whether this is `.null`.
  public var isNull: Bool {
    if case .null = self { return true }
    return false
  }
}

extension JSONValue: CustomStringConvertible {
  /// The compact serialisation, as `serialized()` writes it.
  public var description: String { serialized() }
}
