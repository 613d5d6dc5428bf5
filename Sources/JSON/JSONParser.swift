import CJSONC

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

extension JSONValue {
  /// The largest `maxDepth` accepted; deeper limits would let the recursive conversion exhaust a thread's stack.
  public static let maxDepthLimit = 10_000

  /// Parses one JSON text (RFC 8259), strictly.
  ///
  /// json-c's `json_tokener` (strict mode) builds the tree; a validating pre-pass rejects what json-c would
  /// let through. Choices made here:
  /// - Invalid UTF-8 anywhere is rejected (`JSONError.invalidUTF8`) with the offset of the bad sequence.
  /// - A lone surrogate escape (`"\uD800"`, or a high surrogate not followed by a low one) becomes U+FFFD,
  ///   as json-c decodes it; a correct surrogate pair decodes to its code point.
  /// - `\u0000` is kept inside string values; in object keys it is rejected (`JSONError.nulInObjectKey`).
  /// - Integers (no fraction, no exponent) must fit in `Int64`, other numbers must be finite doubles;
  ///   otherwise `JSONError.numberOutOfRange`. `NaN` and `Infinity` are syntax errors.
  /// - A repeated object key keeps its last value. Keys are Swift strings, so two keys that differ only by
  ///   Unicode normalisation are the same key.
  /// - Surrounding whitespace is allowed; anything else after the value is `JSONError.trailingGarbage`.
  ///
  /// - Important: Thread-safe: each thread keeps its own json-c tokener for the default depth.
  /// - Parameters:
  ///   - bytes: the UTF-8 text.
  ///   - maxDepth: the most arrays and objects that may nest (`[[1]]` has depth 2); 1 ... `maxDepthLimit`.
  /// - Returns: the value.
  /// - Throws: `JSONError` saying what is wrong and at which byte offset.
  public static func parse(_ bytes: [UInt8], maxDepth: Int = 256) throws -> JSONValue {
    try bytes.withUnsafeBufferPointer { try parse(buffer: $0, maxDepth: maxDepth) }
  }

  /// Parses one JSON text from a string; see `parse(_:maxDepth:)` for the rules.
  /// - Throws: `JSONError`.
  public static func parse(_ text: String, maxDepth: Int = 256) throws -> JSONValue {
    if let result = try text.utf8.withContiguousStorageIfAvailable({ try parse(buffer: $0, maxDepth: maxDepth) }) {
      return result
    }
    return try parse(Array(text.utf8), maxDepth: maxDepth)
  }

  /// Parses one JSON text from memory the caller owns; see `parse(_:maxDepth:)` for the rules.
  /// - Throws: `JSONError`.
  public static func parse(buffer: UnsafeBufferPointer<UInt8>, maxDepth: Int = 256) throws -> JSONValue {
    precondition(maxDepth >= 1 && maxDepth <= maxDepthLimit, "maxDepth must be in 1...\(maxDepthLimit)")
    let count = buffer.count
    let limit = Int(Int32.max) - 1
    guard count <= limit else { throw JSONError.inputTooLarge(size: count, limit: limit) }
    guard let base = buffer.baseAddress, count > 0 else { throw JSONError.unexpectedEndOfInput(offset: 0) }
    try JSONScanner.validate(buffer, maxDepth: maxDepth)

    let tokener = try TokenerCache.tokener(depth: maxDepth)
    defer { TokenerCache.release(tokener, depth: maxDepth) }

    var object: OpaquePointer? = base.withMemoryRebound(to: CChar.self, capacity: count) {
      json_tokener_parse_ex(tokener, $0, Int32(count))
    }
    var status = json_tokener_get_error(tokener)
    var end = json_tokener_get_parse_end(tokener)
    if status == json_tokener_continue {
      // All input consumed, value not closed yet: a top-level number ends only at a terminator, so pass
      // json-c the terminating NUL its documentation asks for at end of input.
      object = json_tokener_parse_ex(tokener, "", 1)
      status = json_tokener_get_error(tokener)
      end = count
    }
    defer { if object != nil { json_object_put(object) } }
    guard status == json_tokener_success else {
      if status == json_tokener_continue || status == json_tokener_error_parse_eof {
        throw JSONError.unexpectedEndOfInput(offset: count)
      }
      if status == json_tokener_error_depth {
        throw JSONError.nestingTooDeep(limit: maxDepth, offset: end)
      }
      throw JSONError.syntax(reason: String(cString: json_tokener_error_desc(status)), offset: end)
    }
    var rest = end
    while rest < count, JSONScanner.isWhitespace(base[rest]) { rest += 1 }
    guard rest == count else { throw JSONError.trailingGarbage(offset: rest) }
    return try convert(object)
  }

  /// Builds a `JSONValue` from a json-c object (nil is JSON null in json-c).
  private static func convert(_ object: OpaquePointer?) throws -> JSONValue {
    guard let object else { return .null }
    switch json_object_get_type(object) {
    case json_type_null:
      return .null
    case json_type_boolean:
      return .bool(json_object_get_boolean(object) != 0)
    case json_type_int:
      return .int(json_object_get_int64(object))
    case json_type_double:
      let value = json_object_get_double(object)
      guard value.isFinite else {
        // The scanner rejects these first; kept so an overflow can never pass silently.
        throw JSONError.numberOutOfRange(text: String(cString: json_object_get_string(object)), offset: 0)
      }
      return .double(value)
    case json_type_string:
      let length = Int(json_object_get_string_len(object))
      guard let pointer = json_object_get_string(object), length > 0 else { return .string("") }
      return .string(
        pointer.withMemoryRebound(to: UInt8.self, capacity: length) {
          String(decoding: UnsafeBufferPointer(start: $0, count: length), as: UTF8.self)
        })
    case json_type_array:
      let length = json_object_array_length(object)
      var array: [JSONValue] = []
      array.reserveCapacity(length)
      for index in 0..<length {
        array.append(try convert(json_object_array_get_idx(object, index)))
      }
      return .array(array)
    case json_type_object:
      var dictionary: [String: JSONValue] = [:]
      guard let table = json_object_get_object(object) else { return .object(dictionary) }
      dictionary.reserveCapacity(Int(table.pointee.count))
      var entry = lh_table_head(table)
      while let current = entry {
        if let key = lh_entry_k(current) {
          let name = String(cString: key.assumingMemoryBound(to: CChar.self))
          let value = lh_entry_v(current).map { OpaquePointer($0) }
          dictionary[name] = try convert(value)
        }
        entry = lh_entry_next(current)
      }
      return .object(dictionary)
    default:
      return .null
    }
  }
}

/// One json-c tokener per thread for the default depth, reset before each parse (creating one allocates its
/// whole stack); other depths get a fresh tokener each time.
private enum TokenerCache {
  static let defaultDepth = 256

  private static let key: pthread_key_t = {
    var key = pthread_key_t()
    let status = pthread_key_create(&key) { pointer in
      if let pointer = pointer { json_tokener_free(pointer.assumingMemoryBound(to: json_tokener.self)) }
    }
    precondition(status == 0, "pthread_key_create failed")
    return key
  }()

  /// A reset tokener in strict mode for `depth` nesting levels.
  static func tokener(depth: Int) throws -> UnsafeMutablePointer<json_tokener> {
    if depth == defaultDepth, let cached = pthread_getspecific(key) {
      let tokener = cached.assumingMemoryBound(to: json_tokener.self)
      json_tokener_reset(tokener)
      return tokener
    }
    // json-c counts the top-level value as one level of its stack; give it room so the scanner's limit,
    // which has the better message, is the one that applies.
    guard let tokener = json_tokener_new_ex(Int32(depth + 2)) else {
      throw JSONError.syntax(reason: "json-c could not allocate a tokener", offset: 0)
    }
    json_tokener_set_flags(tokener, JSON_TOKENER_STRICT | JSON_TOKENER_ALLOW_TRAILING_CHARS)
    return tokener
  }

  /// Keeps the default-depth tokener for this thread's next parse; frees any other.
  static func release(_ tokener: UnsafeMutablePointer<json_tokener>, depth: Int) {
    if depth == defaultDepth {
      if pthread_getspecific(key) == nil, pthread_setspecific(key, UnsafeRawPointer(tokener)) == 0 { return }
      if let cached = pthread_getspecific(key), cached == UnsafeMutableRawPointer(tokener) { return }
    }
    json_tokener_free(tokener)
  }
}
