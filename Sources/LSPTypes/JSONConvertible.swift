import JSON

/// What is wrong with the JSON of an LSP message; the server answers it with InvalidParams (-32602).
///
/// Every case names the path of the bad field (`params.textDocument.uri`), so the message tells the client exactly
/// which part of its message was rejected.
public enum LSPTypesError: Error, Equatable, Sendable, CustomStringConvertible {
  /// A required field is absent (or `null` where `null` is not allowed).
  case missingField(path: String)
  /// A field has the wrong JSON type.
  case wrongType(path: String, expected: String, found: String)
  /// A field has the right type but a value outside what the protocol allows.
  case invalidValue(path: String, message: String)

  public var description: String {
    switch self {
    case .missingField(let path): return "missing required field '\(path)'"
    case .wrongType(let path, let expected, let found): return "field '\(path)' must be \(expected), found \(found)"
    case .invalidValue(let path, let message): return "field '\(path)': \(message)"
    }
  }
}

extension JSONValue {
  /// A short name of the JSON type, for error messages ("object", "string", …).
  public var typeName: String {
    switch self {
    case .null: return "null"
    case .bool: return "boolean"
    case .int: return "integer"
    case .double: return "number"
    case .string: return "string"
    case .array: return "array"
    case .object: return "object"
    }
  }

  /// Builds an object from key/value pairs, leaving out the pairs whose value is nil.
  public static func fields(_ pairs: [(String, JSONValue?)]) -> JSONValue {
    var object: [String: JSONValue] = [:]
    for (key, value) in pairs {
      if let value { object[key] = value }
    }
    return .object(object)
  }
}

/// A type that converts from and to a `JSONValue`.
public protocol JSONConvertible {
  /// Decodes from JSON.
  /// - Parameters:
  ///   - json: the value.
  ///   - path: where the value sits in the message (for error messages), e.g. `params.position`.
  /// - Throws: `LSPTypesError` naming the bad field.
  init(json: JSONValue, path: String) throws
  /// Encodes to JSON.
  var json: JSONValue { get }
}

extension JSONConvertible {
  /// Decodes a top-level value (the `params` of a message).
  public init(json: JSONValue) throws { try self.init(json: json, path: "params") }
}

/// Reads the fields of one JSON object with typed, path-aware accessors.
public struct JSONObjectReader {
  /// The object's members.
  public let members: [String: JSONValue]
  /// The path of the object in the message.
  public let path: String

  /// - Throws: `LSPTypesError.wrongType` when `json` is not an object.
  public init(_ json: JSONValue, path: String) throws {
    guard case .object(let members) = json else {
      throw LSPTypesError.wrongType(path: path, expected: "an object", found: json.typeName)
    }
    self.members = members
    self.path = path
  }

  /// The path of a member.
  public func path(of key: String) -> String { "\(path).\(key)" }

  /// Decodes a required member.
  public func decode<T: JSONConvertible>(_ key: String, as type: T.Type = T.self) throws -> T {
    guard let value = members[key], !value.isNull else { throw LSPTypesError.missingField(path: path(of: key)) }
    return try T(json: value, path: path(of: key))
  }

  /// Decodes an optional member; absent and `null` both give nil.
  public func decodeIfPresent<T: JSONConvertible>(_ key: String, as type: T.Type = T.self) throws -> T? {
    guard let value = members[key], !value.isNull else { return nil }
    return try T(json: value, path: path(of: key))
  }

  /// The raw member, nil when absent or null.
  public func raw(_ key: String) -> JSONValue? {
    guard let value = members[key], !value.isNull else { return nil }
    return value
  }
}

extension String: JSONConvertible {
  public init(json: JSONValue, path: String) throws {
    guard case .string(let value) = json else {
      throw LSPTypesError.wrongType(path: path, expected: "a string", found: json.typeName)
    }
    self = value
  }
  public var json: JSONValue { .string(self) }
}

extension Int: JSONConvertible {
  public init(json: JSONValue, path: String) throws {
    switch json {
    case .int(let value):
      guard let exact = Int(exactly: value) else {
        throw LSPTypesError.invalidValue(path: path, message: "integer \(value) is out of range")
      }
      self = exact
    case .double(let value) where value.rounded() == value && abs(value) < 9.0e15:
      self = Int(value)
    default:
      throw LSPTypesError.wrongType(path: path, expected: "an integer", found: json.typeName)
    }
  }
  public var json: JSONValue { .int(Int64(self)) }
}

extension Double: JSONConvertible {
  public init(json: JSONValue, path: String) throws {
    switch json {
    case .int(let value): self = Double(value)
    case .double(let value): self = value
    default: throw LSPTypesError.wrongType(path: path, expected: "a number", found: json.typeName)
    }
  }
  public var json: JSONValue { .double(self) }
}

extension Bool: JSONConvertible {
  public init(json: JSONValue, path: String) throws {
    guard case .bool(let value) = json else {
      throw LSPTypesError.wrongType(path: path, expected: "a boolean", found: json.typeName)
    }
    self = value
  }
  public var json: JSONValue { .bool(self) }
}

extension JSONValue: JSONConvertible {
  public init(json: JSONValue, path: String) throws { self = json }
  public var json: JSONValue { self }
}

extension Array: JSONConvertible where Element: JSONConvertible {
  public init(json: JSONValue, path: String) throws {
    guard case .array(let values) = json else {
      throw LSPTypesError.wrongType(path: path, expected: "an array", found: json.typeName)
    }
    self = try values.enumerated().map { try Element(json: $0.element, path: "\(path)[\($0.offset)]") }
  }
  public var json: JSONValue { .array(map(\.json)) }
}

extension Optional: JSONConvertible where Wrapped: JSONConvertible {
  public init(json: JSONValue, path: String) throws {
    self = json.isNull ? nil : try Wrapped(json: json, path: path)
  }
  public var json: JSONValue { self?.json ?? .null }
}

/// The `null` result of requests such as `shutdown`; decodes from anything.
public struct VoidResponse: JSONConvertible, Equatable, Sendable {
  public init() {}
  public init(json: JSONValue, path: String) throws {}
  public var json: JSONValue { .null }
}
