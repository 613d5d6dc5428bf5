import Foundation
import GGUF
import XCTest

/// Little-endian byte writer used to build GGUF files (valid and broken) inside tests.
struct ByteWriter {
  var bytes: [UInt8] = []

  mutating func u8(_ v: UInt8) { bytes.append(v) }
  mutating func u16(_ v: UInt16) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
  mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
  mutating func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
  mutating func string(_ s: String) {
    u64(UInt64(s.utf8.count))
    bytes += Array(s.utf8)
  }
  mutating func pad(to alignment: Int) {
    while bytes.count % alignment != 0 { bytes.append(0) }
  }

  /// Writes a value's payload (without its type tag).
  mutating func value(_ v: GGUFValue) {
    switch v {
    case .uint8(let x): u8(x)
    case .int8(let x): u8(UInt8(bitPattern: x))
    case .uint16(let x): u16(x)
    case .int16(let x): u16(UInt16(bitPattern: x))
    case .uint32(let x): u32(x)
    case .int32(let x): u32(UInt32(bitPattern: x))
    case .uint64(let x): u64(x)
    case .int64(let x): u64(UInt64(bitPattern: x))
    case .float32(let x): u32(x.bitPattern)
    case .float64(let x): u64(x.bitPattern)
    case .bool(let x): u8(x ? 1 : 0)
    case .string(let s): string(s)
    case .array(let t, let a):
      u32(t.rawValue)
      u64(UInt64(a.count))
      for e in a { value(e) }
    }
  }

  mutating func kv(_ key: String, _ v: GGUFValue) {
    string(key)
    u32(v.type.rawValue)
    value(v)
  }
}

/// A tensor to put in a built file: the raw fields as they go into the tensor info, plus its data.
struct TestTensor {
  var name: String
  var dims: [UInt64]
  var type: UInt32
  var data: [UInt8]
  /// Overrides the offset that the builder would compute.
  var offset: UInt64? = nil
}

/// Builds a GGUF file: header, metadata, tensor infos, padding and data, with knobs to break each part.
struct GGUFBuilder {
  var magic: UInt32 = 0x4655_4747
  var version: UInt32 = 3
  var metadata: [(String, GGUFValue)] = []
  var tensors: [TestTensor] = []
  var alignment = 32
  var tensorCountOverride: UInt64? = nil
  var kvCountOverride: UInt64? = nil

  func build() -> [UInt8] {
    var w = ByteWriter()
    w.u32(magic)
    w.u32(version)
    w.u64(tensorCountOverride ?? UInt64(tensors.count))
    w.u64(kvCountOverride ?? UInt64(metadata.count))
    for (k, v) in metadata { w.kv(k, v) }
    var offsets = [UInt64]()
    var next: UInt64 = 0
    for t in tensors {
      let off = t.offset ?? next
      offsets.append(off)
      next = (off &+ UInt64(t.data.count) &+ UInt64(alignment) - 1) / UInt64(alignment) * UInt64(alignment)
    }
    for (t, off) in zip(tensors, offsets) {
      w.string(t.name)
      w.u32(UInt32(t.dims.count))
      for d in t.dims { w.u64(d) }
      w.u32(t.type)
      w.u64(off)
    }
    w.pad(to: alignment)
    let dataStart = w.bytes.count
    for (t, off) in zip(tensors, offsets) {
      guard off < 1 << 20 else { continue }  // an offset far past the end: leave the data out
      let at = dataStart + Int(off)
      if w.bytes.count < at { w.bytes += [UInt8](repeating: 0, count: at - w.bytes.count) }
      if w.bytes.count == at {
        w.bytes += t.data
      } else {
        w.bytes.replaceSubrange(at..<min(at + t.data.count, w.bytes.count), with: t.data)
      }
    }
    return w.bytes
  }
}

/// Temporary files for one test, removed at tear-down.
final class TempFiles {
  let directory: URL
  init() {
    directory = FileManager.default.temporaryDirectory.appendingPathComponent("gguf-tests-\(UUID().uuidString)")
    try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
  }
  deinit { try? FileManager.default.removeItem(at: directory) }

  func write(_ bytes: [UInt8], name: String = "test.gguf") -> String {
    let url = directory.appendingPathComponent(name)
    _ = FileManager.default.createFile(atPath: url.path, contents: Data(bytes))
    return url.path
  }
}

/// Asserts that opening `path` throws a GGUFError matched by `match`, and that its description names the file.
func assertGGUFError(
  _ path: String, file: StaticString = #filePath, line: UInt = #line, _ match: (GGUFError) -> Bool
) {
  do {
    _ = try GGUFFile(path: path)
    XCTFail("expected an error opening \(path)", file: file, line: line)
  } catch {
    XCTAssertTrue(match(error), "unexpected error: \(error)", file: file, line: line)
    XCTAssertTrue(
      error.description.contains(path), "description does not name the file: \(error)", file: file, line: line)
  }
}
