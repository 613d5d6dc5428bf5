import Quantization

/// GGUF: a read-only reader of GGUF v2/v3 model files over a private memory mapping.
///
/// ## API summary
/// ```
/// let file = try GGUFFile(path: "model.gguf")        // throws GGUFError; maps the file, parses the header
/// file.version, file.alignment, file.dataOffset       // UInt32, Int, Int (absolute offset of the data section)
/// file.metadata["general.architecture"]              // GGUFValue? (every GGUF type, nested arrays too)
/// file.metadataKeys                                   // [String] in file order
/// file.string("general.architecture")                 // String?     typed accessors return nil when absent or
/// file.int("qwen2.block_count")                       // Int?        of another type; int/float accept any
/// file.float("qwen2.rope.freq_base")                  // Float?      integer/float width
/// file.bool(_:), file.double(_:), file.stringArray(_:), file.floatArray(_:), file.intArray(_:)
/// try file.requireString(_:), requireInt(_:), requireFloat(_:)   // throw .missingKey / .typeMismatch
/// file.tensors                                        // [GGUFTensorInfo] in file order
/// file.tensor(named: "token_embd.weight")             // GGUFTensorInfo?
/// try file.requireTensor(named:)                      // throws .missingTensor
/// file.data(for: info)                                // UnsafeRawBufferPointer into the mapping (no copy)
/// ```
/// `GGUFTensorInfo` has `name`, `dimensions` (ne0 first: ne0 is the contiguous row length), `type: GGMLType`,
/// `offset` (relative to the data section, as stored), `fileOffset`, `elementCount`, `byteCount`, and `rows`/`cols`
/// for a 2-D weight (`cols` = ne0, `rows` = product of the other dimensions).
///
/// - Important: pointers from `data(for:)` are valid only while the `GGUFFile` object is alive; keep a strong
///   reference to it for as long as any weight view is used. The object is immutable after `init` and may be read
///   from any thread.
///
/// ## File layout (little-endian; after `ggml/include/gguf.h`)
/// ```
/// magic             4 bytes  "GGUF" (0x47 0x47 0x55 0x46; read as a little-endian u32: 0x46554747)
/// version           u32      2 or 3 (v3 only added big-endian files, which this reader rejects)
/// n_tensors         u64
/// n_kv              u64
/// kv[n_kv]:         key: string, type: u32 (gguf_type), value
///     string      = u64 length + that many bytes of UTF-8, no terminator
///     gguf_type   = UINT8 0, INT8 1, UINT16 2, INT16 3, UINT32 4, INT32 5, FLOAT32 6, BOOL 7 (one byte, 0 or 1),
///                   STRING 8, ARRAY 9, UINT64 10, INT64 11, FLOAT64 12
///     array value = element type: u32, count: u64, then `count` values of that type (arrays may nest)
/// tensor_info[n_tensors]:
///     name: string, n_dims: u32 (<= 4), ne: u64[n_dims] (ne[0] is the contiguous dimension),
///     type: u32 (ggml_type), offset: u64 (relative to the data section; a multiple of the alignment)
/// padding           zeros up to a multiple of ALIGNMENT = metadata `general.alignment` (u32, power of two) or 32
/// data              the tensor data; tensor i occupies [offset_i, offset_i + nbytes_i) of this section, where
///                   nbytes = ne[0] / block_size * type_size * ne[1] * ne[2] * ne[3]
/// ```
#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Where a tensor lives in a GGUF file and how it is laid out.
public struct GGUFTensorInfo: Sendable, Equatable {
  /// The tensor's name, e.g. `blk.0.attn_q.weight`.
  public let name: String
  /// Extents, ne0 first: `dimensions[0]` is the contiguous (innermost) dimension, the row length of a matrix.
  public let dimensions: [Int]
  /// The element type.
  public let type: GGMLType
  /// Offset of the data relative to the start of the data section (as stored in the file).
  public let offset: Int
  /// Absolute offset of the data in the file.
  public let fileOffset: Int
  /// Number of elements (product of `dimensions`).
  public let elementCount: Int
  /// Number of bytes of data.
  public let byteCount: Int

  /// The row length: `dimensions[0]`.
  public var cols: Int { dimensions.first ?? 1 }
  /// The number of rows: the product of all dimensions but the first (1 for a vector).
  public var rows: Int { dimensions.dropFirst().reduce(1, *) }
  /// Bytes per row of `cols` elements.
  public var rowBytes: Int { cols / type.blockSize * type.bytesPerBlock }
}

/// A GGUF file mapped read-only into memory, with its metadata and tensor directory parsed.
///
/// - Important: immutable after `init`; safe to share between threads. The mapping lives as long as the object.
public final class GGUFFile: @unchecked Sendable {
  /// The path the file was opened from (used in every error message).
  public let path: String
  /// The GGUF version (2 or 3).
  public let version: UInt32
  /// The data alignment in bytes (`general.alignment`, default 32).
  public let alignment: Int
  /// Absolute file offset of the tensor data section.
  public let dataOffset: Int
  /// Size of the file in bytes.
  public let fileSize: Int
  /// All metadata key/value pairs.
  public let metadata: [String: GGUFValue]
  /// The metadata keys in the order they appear in the file.
  public let metadataKeys: [String]
  /// The tensor directory in file order.
  public let tensors: [GGUFTensorInfo]

  private let tensorIndex: [String: Int]
  private let base: UnsafeRawPointer

  /// The default alignment when `general.alignment` is absent.
  public static let defaultAlignment = 32
  /// The largest number of dimensions a tensor may have (`GGML_MAX_DIMS`).
  public static let maxDimensions = 4

  /// Maps the file at `path` and parses its header, metadata and tensor directory, checking every size against the
  /// file.
  ///
  /// - Parameter path: the GGUF file.
  /// - Throws: `GGUFError` naming the file and what is wrong with it; nothing is left mapped on error.
  public init(path: String) throws(GGUFError) {
    self.path = path
    // Non-blocking, so a named pipe or a device given as the model is refused instead of waiting for a writer.
    let fd = open(path, O_RDONLY | O_NONBLOCK)
    guard fd >= 0 else { throw .cannotOpen(path: path, reason: String(cString: strerror(errno))) }
    defer { close(fd) }
    var st = stat()
    guard fstat(fd, &st) == 0 else { throw .cannotOpen(path: path, reason: String(cString: strerror(errno))) }
    guard (st.st_mode & S_IFMT) == S_IFREG else { throw .cannotOpen(path: path, reason: "not a regular file") }
    let size = Int(st.st_size)
    guard size >= 4 else { throw .truncated(path: path, what: "the magic number") }
    guard let mapped = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), mapped != MAP_FAILED else {
      throw .cannotOpen(path: path, reason: "mmap failed: " + String(cString: strerror(errno)))
    }
    let base = UnsafeRawPointer(mapped)
    do {
      let header = try GGUFParser.parse(base: base, size: size, path: path)
      self.version = header.version
      self.alignment = header.alignment
      self.dataOffset = header.dataOffset
      self.metadata = header.metadata
      self.metadataKeys = header.metadataKeys
      self.tensors = header.tensors
      self.tensorIndex = header.tensorIndex
    } catch {
      munmap(mapped, size)
      throw error
    }
    self.base = base
    self.fileSize = size
  }

  deinit {
    munmap(UnsafeMutableRawPointer(mutating: base), fileSize)
  }

  // MARK: Tensors

  /// The tensor called `name`, or nil.
  public func tensor(named name: String) -> GGUFTensorInfo? {
    tensorIndex[name].map { tensors[$0] }
  }

  /// The tensor called `name`.
  /// - Throws: `GGUFError.missingTensor` naming the file and the tensor.
  public func requireTensor(named name: String) throws(GGUFError) -> GGUFTensorInfo {
    guard let info = tensor(named: name) else { throw .missingTensor(path: path, name: name) }
    return info
  }

  /// The bytes of a tensor: a view into the mapping, valid while this object is alive.
  /// - Parameter info: a tensor info of this file (from `tensors` or `tensor(named:)`).
  public func data(for info: GGUFTensorInfo) -> UnsafeRawBufferPointer {
    precondition(info.fileOffset >= 0 && info.fileOffset + info.byteCount <= fileSize, "tensor info of another file")
    return UnsafeRawBufferPointer(start: base + info.fileOffset, count: info.byteCount)
  }

  /// The whole mapped file (valid while this object is alive).
  public var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: fileSize) }

  // MARK: Typed metadata accessors

  /// The string at `key`, or nil when absent or not a string.
  public func string(_ key: String) -> String? { metadata[key]?.stringValue }
  /// The integer at `key` (any integer type), or nil when absent, not an integer, or out of `Int`'s range.
  public func int(_ key: String) -> Int? { metadata[key]?.intValue }
  /// The number at `key` as a Float (f32, f64 or any integer), or nil.
  public func float(_ key: String) -> Float? { metadata[key]?.doubleValue.map(Float.init) }
  /// The number at `key` as a Double (f32, f64 or any integer), or nil.
  public func double(_ key: String) -> Double? { metadata[key]?.doubleValue }
  /// The bool at `key`, or nil.
  public func bool(_ key: String) -> Bool? { metadata[key]?.boolValue }

  /// The array of strings at `key`, or nil when absent or not an array of strings.
  public func stringArray(_ key: String) -> [String]? {
    guard case .array(.string, let values)? = metadata[key] else { return nil }
    return values.map { $0.stringValue ?? "" }
  }

  /// The array of numbers at `key` as Floats (elements of any numeric type), or nil.
  public func floatArray(_ key: String) -> [Float]? {
    guard let values = metadata[key]?.arrayValue else { return nil }
    var out = [Float]()
    out.reserveCapacity(values.count)
    for v in values {
      guard let d = v.doubleValue else { return nil }
      out.append(Float(d))
    }
    return out
  }

  /// The array of integers at `key` (elements of any integer type), or nil.
  public func intArray(_ key: String) -> [Int]? {
    guard let values = metadata[key]?.arrayValue else { return nil }
    var out = [Int]()
    out.reserveCapacity(values.count)
    for v in values {
      guard let i = v.intValue else { return nil }
      out.append(i)
    }
    return out
  }

  /// The string at `key`.
  /// - Throws: `.missingKey` or `.typeMismatch`.
  public func requireString(_ key: String) throws(GGUFError) -> String {
    guard let v = metadata[key] else { throw .missingKey(path: path, key: key) }
    guard let s = v.stringValue else {
      throw .typeMismatch(path: path, key: key, expected: "string", found: v.type.description)
    }
    return s
  }

  /// The integer at `key` (any integer type).
  /// - Throws: `.missingKey` or `.typeMismatch`.
  public func requireInt(_ key: String) throws(GGUFError) -> Int {
    guard let v = metadata[key] else { throw .missingKey(path: path, key: key) }
    guard let i = v.intValue else {
      throw .typeMismatch(path: path, key: key, expected: "integer", found: v.type.description)
    }
    return i
  }

  /// The number at `key` as a Float.
  /// - Throws: `.missingKey` or `.typeMismatch`.
  public func requireFloat(_ key: String) throws(GGUFError) -> Float {
    guard let v = metadata[key] else { throw .missingKey(path: path, key: key) }
    guard let d = v.doubleValue else {
      throw .typeMismatch(path: path, key: key, expected: "number", found: v.type.description)
    }
    return Float(d)
  }
}

// MARK: - Parser

/// The parsed header of a GGUF file.
struct GGUFHeader {
  var version: UInt32
  var alignment: Int
  var dataOffset: Int
  var metadata: [String: GGUFValue]
  var metadataKeys: [String]
  var tensors: [GGUFTensorInfo]
  var tensorIndex: [String: Int]
}

/// A bounds-checked little-endian reader over the mapped bytes; every read names what it was reading so that a
/// truncated file says where it ends.
struct GGUFParser {
  let base: UnsafeRawPointer
  let size: Int
  let path: String
  var position = 0

  /// The deepest nesting of arrays accepted (the format allows nesting; no real file nests more than once).
  static let maxArrayDepth = 8

  static func parse(base: UnsafeRawPointer, size: Int, path: String) throws(GGUFError) -> GGUFHeader {
    var p = GGUFParser(base: base, size: size, path: path)
    let magic = try p.read(UInt32.self, "the magic number")
    guard magic == 0x4655_4747 else { throw .badMagic(path: path, found: magic) }
    let version = try p.read(UInt32.self, "the version")
    guard version == 2 || version == 3 else { throw .unsupportedVersion(path: path, version: version) }
    let tensorCount = try p.read(UInt64.self, "the tensor count")
    let kvCount = try p.read(UInt64.self, "the metadata count")
    // Each key/value takes at least 8 (key length) + 4 (type) + 1 bytes; each tensor info at least 8 + 4 + 4 + 8.
    guard kvCount <= UInt64(p.remaining / 13) else {
      throw .sizeOverflow(path: path, what: "\(kvCount) metadata entries cannot fit in \(size) bytes")
    }
    guard tensorCount <= UInt64(p.remaining / 24) else {
      throw .sizeOverflow(path: path, what: "\(tensorCount) tensors cannot fit in \(size) bytes")
    }

    var metadata = [String: GGUFValue](minimumCapacity: Int(kvCount))
    var keys = [String]()
    keys.reserveCapacity(Int(kvCount))
    for i in 0..<Int(kvCount) {
      let key = try p.readString("the key of metadata entry \(i)")
      let rawType = try p.read(UInt32.self, "the type of metadata '\(key)'")
      guard let type = GGUFValueType(rawValue: rawType) else {
        throw .unknownValueType(path: path, key: key, type: rawType)
      }
      let value = try p.readValue(type, key: key, depth: 0)
      guard metadata.updateValue(value, forKey: key) == nil else { throw .duplicateKey(path: path, key: key) }
      keys.append(key)
    }

    var alignment = GGUFFile.defaultAlignment
    if let v = metadata["general.alignment"] {
      guard case .uint32(let a) = v else {
        throw .invalidMetadata(path: path, key: "general.alignment", reason: "type \(v.type), expected u32")
      }
      guard a > 0, a & (a - 1) == 0 else {
        throw .invalidMetadata(path: path, key: "general.alignment", reason: "\(a) is not a power of two")
      }
      alignment = Int(a)
    }

    struct RawInfo {
      var name: String
      var dims: [Int]
      var type: GGMLType
      var offset: UInt64
      var elements: Int
      var bytes: Int
    }
    var raw = [RawInfo]()
    raw.reserveCapacity(Int(tensorCount))
    var index = [String: Int](minimumCapacity: Int(tensorCount))
    for i in 0..<Int(tensorCount) {
      let name = try p.readString("the name of tensor \(i)")
      let nDims = try p.read(UInt32.self, "the dimension count of tensor '\(name)'")
      guard nDims >= 1, nDims <= UInt32(GGUFFile.maxDimensions) else {
        throw .invalidTensorShape(
          path: path, name: name, reason: "\(nDims) dimensions (1...\(GGUFFile.maxDimensions) allowed)")
      }
      var dims = [Int]()
      var elements = 1
      for d in 0..<Int(nDims) {
        let ne = try p.read(UInt64.self, "dimension \(d) of tensor '\(name)'")
        guard ne >= 1, ne <= UInt64(Int.max) else {
          throw .invalidTensorShape(path: path, name: name, reason: "dimension \(d) is \(ne)")
        }
        let (product, overflow) = elements.multipliedReportingOverflow(by: Int(ne))
        guard !overflow else { throw .sizeOverflow(path: path, what: "element count of tensor '\(name)'") }
        elements = product
        dims.append(Int(ne))
      }
      let rawType = try p.read(UInt32.self, "the type of tensor '\(name)'")
      guard let type = GGMLType(rawValue: rawType) else {
        throw .unknownTensorType(path: path, tensor: name, type: rawType)
      }
      let offset = try p.read(UInt64.self, "the data offset of tensor '\(name)'")
      guard dims[0] % type.blockSize == 0 else {
        throw .invalidTensorShape(
          path: path, name: name,
          reason: "row length \(dims[0]) is not a multiple of \(type)'s block of \(type.blockSize)")
      }
      let (bytes, overflow) = (elements / type.blockSize).multipliedReportingOverflow(by: type.bytesPerBlock)
      guard !overflow else { throw .sizeOverflow(path: path, what: "byte size of tensor '\(name)'") }
      guard index.updateValue(i, forKey: name) == nil else { throw .duplicateTensor(path: path, name: name) }
      raw.append(RawInfo(name: name, dims: dims, type: type, offset: offset, elements: elements, bytes: bytes))
    }

    // The data section starts at the next multiple of the alignment (it may coincide with the end of a file that
    // holds no tensor data, such as a vocabulary-only file).
    let (padded, overflow) = p.position.addingReportingOverflow(alignment - 1)
    guard !overflow else { throw .sizeOverflow(path: path, what: "data section offset") }
    let dataOffset = padded / alignment * alignment
    var tensors = [GGUFTensorInfo]()
    tensors.reserveCapacity(raw.count)
    for r in raw {
      guard r.offset % UInt64(alignment) == 0 else {
        throw .misalignedTensor(path: path, name: r.name, offset: r.offset, alignment: alignment)
      }
      guard r.offset <= UInt64(size) else { throw .tensorOutOfBounds(path: path, name: r.name) }
      let start = dataOffset + Int(r.offset)
      guard start <= size, r.bytes <= size - start else { throw .tensorOutOfBounds(path: path, name: r.name) }
      tensors.append(
        GGUFTensorInfo(
          name: r.name, dimensions: r.dims, type: r.type, offset: Int(r.offset), fileOffset: start,
          elementCount: r.elements, byteCount: r.bytes))
    }
    return GGUFHeader(
      version: version, alignment: alignment, dataOffset: dataOffset, metadata: metadata, metadataKeys: keys,
      tensors: tensors, tensorIndex: index)
  }

  var remaining: Int { size - position }

  mutating func read<T: FixedWidthInteger>(_: T.Type, _ what: @autoclosure () -> String) throws(GGUFError) -> T {
    let n = MemoryLayout<T>.size
    guard remaining >= n else { throw .truncated(path: path, what: what()) }
    let v = base.loadUnaligned(fromByteOffset: position, as: T.self)
    position += n
    return T(littleEndian: v)
  }

  mutating func readString(_ what: @autoclosure () -> String) throws(GGUFError) -> String {
    let length = try read(UInt64.self, what())
    guard length <= UInt64(remaining) else {
      if length > UInt64(size) {
        throw .sizeOverflow(path: path, what: "string length \(length) in \(what()) exceeds the file size \(size)")
      }
      throw .truncated(path: path, what: what())
    }
    let s = String(decoding: UnsafeRawBufferPointer(start: base + position, count: Int(length)), as: UTF8.self)
    position += Int(length)
    return s
  }

  mutating func readValue(_ type: GGUFValueType, key: String, depth: Int) throws(GGUFError) -> GGUFValue {
    let what = "the value of metadata '\(key)'"
    switch type {
    case .uint8: return .uint8(try read(UInt8.self, what))
    case .int8: return .int8(try read(Int8.self, what))
    case .uint16: return .uint16(try read(UInt16.self, what))
    case .int16: return .int16(try read(Int16.self, what))
    case .uint32: return .uint32(try read(UInt32.self, what))
    case .int32: return .int32(try read(Int32.self, what))
    case .uint64: return .uint64(try read(UInt64.self, what))
    case .int64: return .int64(try read(Int64.self, what))
    case .float32: return .float32(Float(bitPattern: try read(UInt32.self, what)))
    case .float64: return .float64(Double(bitPattern: try read(UInt64.self, what)))
    case .bool:
      let b = try read(UInt8.self, what)
      guard b <= 1 else { throw .invalidMetadata(path: path, key: key, reason: "bool byte is \(b)") }
      return .bool(b == 1)
    case .string: return .string(try readString(what))
    case .array:
      guard depth < GGUFParser.maxArrayDepth else {
        throw .invalidMetadata(path: path, key: key, reason: "arrays nested deeper than \(GGUFParser.maxArrayDepth)")
      }
      let rawElement = try read(UInt32.self, "the element type of array '\(key)'")
      guard let element = GGUFValueType(rawValue: rawElement) else {
        throw .unknownValueType(path: path, key: key, type: rawElement)
      }
      let count = try read(UInt64.self, "the length of array '\(key)'")
      guard count <= UInt64(remaining / element.minimumEncodedSize) else {
        if count > UInt64(size) {
          throw .sizeOverflow(path: path, what: "array '\(key)' of \(count) elements exceeds the file size \(size)")
        }
        throw .truncated(path: path, what: "array '\(key)'")
      }
      var values = [GGUFValue]()
      values.reserveCapacity(Int(count))
      for _ in 0..<Int(count) {
        values.append(try readValue(element, key: key, depth: depth + 1))
      }
      return .array(elementType: element, values)
    }
  }
}
