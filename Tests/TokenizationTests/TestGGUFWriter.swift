import Foundation

/// Writes small vocabulary-only GGUF v3 files (metadata, no tensors) for tests.
struct TestGGUFWriter {
  enum Value {
    case string(String)
    case strings([String])
    case int32s([Int32])
    case floats([Float])
    case uint32(UInt32)
    case int32(Int32)
    case bool(Bool)
  }

  var entries: [(String, Value)] = []

  mutating func set(_ key: String, _ value: Value) { entries.append((key, value)) }

  private static func append<T: FixedWidthInteger>(_ v: T, to data: inout [UInt8]) {
    withUnsafeBytes(of: v.littleEndian) { data.append(contentsOf: $0) }
  }

  private static func append(_ s: String, to data: inout [UInt8]) {
    append(UInt64(s.utf8.count), to: &data)
    data.append(contentsOf: s.utf8)
  }

  /// The file's bytes.
  func bytes() -> [UInt8] {
    var d = [UInt8]()
    d.append(contentsOf: Array("GGUF".utf8))
    Self.append(UInt32(3), to: &d)
    Self.append(UInt64(0), to: &d)  // tensors
    Self.append(UInt64(entries.count), to: &d)
    for (key, value) in entries {
      Self.append(key, to: &d)
      switch value {
      case .string(let s):
        Self.append(UInt32(8), to: &d)
        Self.append(s, to: &d)
      case .strings(let a):
        Self.append(UInt32(9), to: &d)
        Self.append(UInt32(8), to: &d)
        Self.append(UInt64(a.count), to: &d)
        for s in a { Self.append(s, to: &d) }
      case .int32s(let a):
        Self.append(UInt32(9), to: &d)
        Self.append(UInt32(5), to: &d)
        Self.append(UInt64(a.count), to: &d)
        for v in a { Self.append(v, to: &d) }
      case .floats(let a):
        Self.append(UInt32(9), to: &d)
        Self.append(UInt32(6), to: &d)
        Self.append(UInt64(a.count), to: &d)
        for v in a { Self.append(v.bitPattern, to: &d) }
      case .uint32(let v):
        Self.append(UInt32(4), to: &d)
        Self.append(v, to: &d)
      case .int32(let v):
        Self.append(UInt32(5), to: &d)
        Self.append(v, to: &d)
      case .bool(let b):
        Self.append(UInt32(7), to: &d)
        d.append(b ? 1 : 0)
      }
    }
    while d.count % 32 != 0 { d.append(0) }
    return d
  }

  /// Writes the file to a fresh temporary path and returns it.
  func write(name: String = "vocab") throws -> String {
    let path = NSTemporaryDirectory() + "tokenizer-test-\(name)-\(UUID().uuidString).gguf"
    try Data(bytes()).write(to: URL(fileURLWithPath: path))
    return path
  }
}
