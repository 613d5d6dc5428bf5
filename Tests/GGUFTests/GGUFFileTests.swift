import Foundation
import XCTest

@testable import GGUF
@testable import Quantization

final class GGUFFileTests: XCTestCase {
  var temp: TempFiles!
  override func setUp() { temp = TempFiles() }
  override func tearDown() { temp = nil }

  /// Metadata of every type, including nested and empty arrays.
  static let allValues: [(String, GGUFValue)] = [
    ("u8", .uint8(200)), ("i8", .int8(-100)), ("u16", .uint16(60000)), ("i16", .int16(-30000)),
    ("u32", .uint32(4_000_000_000)), ("i32", .int32(-2_000_000_000)),
    ("u64", .uint64(18_000_000_000_000_000_000)), ("i64", .int64(-9_000_000_000_000_000_000)),
    ("f32", .float32(3.25)), ("f64", .float64(-1e300)), ("t", .bool(true)), ("f", .bool(false)),
    ("s", .string("héllo ✓ 🚀")), ("empty", .string("")),
    ("strings", .array(elementType: .string, [.string("a"), .string(""), .string("ü")])),
    ("ints", .array(elementType: .int32, [.int32(1), .int32(-2), .int32(3)])),
    ("floats", .array(elementType: .float32, [.float32(0.5), .float32(-1.5)])),
    ("none", .array(elementType: .uint64, [])),
    (
      "nested",
      .array(
        elementType: .array,
        [.array(elementType: .uint8, [.uint8(1), .uint8(2)]), .array(elementType: .string, [.string("x")])])
    ),
  ]

  func sampleTensors() -> [TestTensor] {
    let f32 = (0..<12).flatMap { i -> [UInt8] in withUnsafeBytes(of: Float(i).bitPattern.littleEndian) { Array($0) } }
    let q80 = [UInt8](repeating: 7, count: 34 * 2)  // two Q8_0 blocks
    return [
      TestTensor(name: "a.weight", dims: [4, 3], type: 0, data: f32),
      TestTensor(name: "b.weight", dims: [32, 2], type: 8, data: q80),
      TestTensor(name: "c.bias", dims: [2, 1, 1, 1], type: 1, data: [1, 2, 3, 4]),
    ]
  }

  func testReadsEveryMetadataTypeAndTensorInfo() throws {
    for version: UInt32 in [2, 3] {
      var b = GGUFBuilder()
      b.version = version
      b.metadata = Self.allValues
      b.tensors = sampleTensors()
      let bytes = b.build()
      let path = temp.write(bytes, name: "v\(version).gguf")
      let file = try GGUFFile(path: path)
      XCTAssertEqual(file.version, version)
      XCTAssertEqual(file.alignment, 32)
      XCTAssertEqual(file.metadataKeys, Self.allValues.map(\.0))
      for (k, v) in Self.allValues { XCTAssertEqual(file.metadata[k], v, k) }
      XCTAssertEqual(file.int("u8"), 200)
      XCTAssertEqual(file.int("i64"), -9_000_000_000_000_000_000)
      XCTAssertNil(file.int("u64"), "u64 above Int.max does not fit")
      XCTAssertEqual(file.float("f32"), 3.25)
      XCTAssertEqual(file.double("f64"), -1e300)
      XCTAssertEqual(file.float("u16"), 60000)
      XCTAssertEqual(file.bool("t"), true)
      XCTAssertEqual(file.bool("f"), false)
      XCTAssertEqual(file.string("s"), "héllo ✓ 🚀")
      XCTAssertNil(file.string("u8"))
      XCTAssertNil(file.string("absent"))
      XCTAssertEqual(file.stringArray("strings"), ["a", "", "ü"])
      XCTAssertEqual(file.intArray("ints"), [1, -2, 3])
      XCTAssertEqual(file.floatArray("floats"), [0.5, -1.5])
      XCTAssertEqual(file.floatArray("ints"), [1, -2, 3])
      XCTAssertNil(file.intArray("strings"))
      XCTAssertEqual(file.intArray("none"), [])
      XCTAssertEqual(try file.requireInt("i16"), -30000)
      XCTAssertEqual(try file.requireString("s"), "héllo ✓ 🚀")
      XCTAssertEqual(try file.requireFloat("f32"), 3.25)

      XCTAssertEqual(file.tensors.map(\.name), ["a.weight", "b.weight", "c.bias"])
      let a = try XCTUnwrap(file.tensor(named: "a.weight"))
      XCTAssertEqual(a.dimensions, [4, 3])
      XCTAssertEqual(a.type, .f32)
      XCTAssertEqual(a.elementCount, 12)
      XCTAssertEqual(a.byteCount, 48)
      XCTAssertEqual(a.cols, 4)
      XCTAssertEqual(a.rows, 3)
      XCTAssertEqual(a.offset, 0)
      XCTAssertEqual(file.dataOffset % 32, 0)
      let aData = file.data(for: a)
      XCTAssertEqual(aData.count, 48)
      XCTAssertEqual(aData.loadUnaligned(fromByteOffset: 5 * 4, as: Float.self), 5)
      let bInfo = try file.requireTensor(named: "b.weight")
      XCTAssertEqual(bInfo.type, .q8_0)
      XCTAssertEqual(bInfo.byteCount, 68)
      XCTAssertEqual(bInfo.rowBytes, 34)
      XCTAssertEqual(bInfo.offset, 64)
      XCTAssertEqual(Array(file.data(for: bInfo)), [UInt8](repeating: 7, count: 68))
      let c = try XCTUnwrap(file.tensor(named: "c.bias"))
      XCTAssertEqual(c.dimensions, [2, 1, 1, 1])
      XCTAssertEqual(c.type, .f16)
      XCTAssertEqual(Array(file.data(for: c)), [1, 2, 3, 4])
      // Views point into the mapping, not copies.
      XCTAssertEqual(file.data(for: a).baseAddress, file.bytes.baseAddress! + file.dataOffset)
    }
  }

  func testCustomAlignment() throws {
    var b = GGUFBuilder()
    b.alignment = 64
    b.metadata = [("general.alignment", .uint32(64)), ("x", .string("abc"))]
    b.tensors = sampleTensors()
    let file = try GGUFFile(path: temp.write(b.build()))
    XCTAssertEqual(file.alignment, 64)
    XCTAssertEqual(file.dataOffset % 64, 0)
    XCTAssertEqual(file.tensor(named: "b.weight")?.offset, 64)
    XCTAssertEqual(file.tensor(named: "c.bias")?.offset, 192)
    XCTAssertEqual(Array(file.data(for: file.tensor(named: "c.bias")!)), [1, 2, 3, 4])
  }

  func testEmptyFileWithoutTensors() throws {
    let file = try GGUFFile(path: temp.write(GGUFBuilder().build()))
    XCTAssertTrue(file.tensors.isEmpty)
    XCTAssertTrue(file.metadata.isEmpty)
  }

  func testBadMagic() {
    var b = GGUFBuilder()
    b.magic = 0x4C4C_4747  // "GGLL"
    assertGGUFError(temp.write(b.build())) { if case .badMagic = $0 { return true } else { return false } }
    assertGGUFError(temp.write(Array("hello world, this is text".utf8), name: "text.gguf")) {
      if case .badMagic = $0 { return true } else { return false }
    }
  }

  func testUnsupportedVersions() {
    for version: UInt32 in [0, 1, 4, 0x0300_0000] {
      var b = GGUFBuilder()
      b.version = version
      assertGGUFError(temp.write(b.build(), name: "v\(version).gguf")) {
        if case .unsupportedVersion(_, let v) = $0 { return v == version } else { return false }
      }
    }
  }

  func testMissingAndEmptyFile() {
    assertGGUFError(temp.directory.appendingPathComponent("nope.gguf").path) {
      if case .cannotOpen = $0 { return true } else { return false }
    }
    assertGGUFError(temp.write([], name: "empty.gguf")) {
      if case .truncated = $0 { return true } else { return false }
    }
    assertGGUFError(temp.directory.path) { if case .cannotOpen = $0 { return true } else { return false } }
  }

  /// A named pipe with no writer is refused at once instead of blocking the open.
  func testNamedPipeIsRefusedWithoutBlocking() throws {
    let path = temp.directory.appendingPathComponent("pipe.gguf").path
    XCTAssertEqual(mkfifo(path, 0o600), 0)
    assertGGUFError(path) {
      if case .cannotOpen(_, let reason) = $0 { return reason == "not a regular file" } else { return false }
    }
  }

  /// Every prefix of a valid file must fail cleanly, either as truncated or with a tensor past the end.
  func testTruncatedAtEveryByte() {
    var b = GGUFBuilder()
    b.metadata = Self.allValues
    b.tensors = sampleTensors()
    let bytes = b.build()
    var truncatedCount = 0
    var outOfBoundsCount = 0
    for cut in 0..<bytes.count {
      let path = temp.write(Array(bytes[0..<cut]), name: "cut.gguf")
      do {
        _ = try GGUFFile(path: path)
        XCTFail("a file cut at \(cut) of \(bytes.count) bytes opened")
      } catch {
        switch error {
        case .truncated: truncatedCount += 1
        case .tensorOutOfBounds: outOfBoundsCount += 1
        case .sizeOverflow: truncatedCount += 1  // a cut string length field can read as huge: still rejected
        default: XCTFail("cut at \(cut): unexpected \(error)")
        }
        XCTAssertTrue(error.description.contains(path))
      }
    }
    XCTAssertGreaterThan(truncatedCount, 100)
    XCTAssertGreaterThan(outOfBoundsCount, 0)
  }

  func testTruncationMessagesSayWhere() throws {
    var w = ByteWriter()
    w.u32(0x4655_4747); w.u32(3); w.u64(0); w.u64(1)
    w.kv("general.name", .string("model"))
    let bytes = w.bytes
    do {
      _ = try GGUFFile(path: temp.write(Array(bytes[0..<(bytes.count - 2)])))
      XCTFail("opened")
    } catch {
      XCTAssertTrue(error.description.contains("general.name"), error.description)
    }
  }

  func testOverflowingCounts() {
    for (kv, tc) in [(UInt64.max, UInt64(0)), (UInt64(1) << 40, 0), (0, UInt64.max), (0, UInt64(1) << 61)] {
      var b = GGUFBuilder()
      b.kvCountOverride = kv
      b.tensorCountOverride = tc
      assertGGUFError(temp.write(b.build())) { if case .sizeOverflow = $0 { return true } else { return false } }
    }
  }

  func testOverflowingStringAndArrayLengths() {
    // A key whose length is 2^63.
    var w = ByteWriter()
    w.u32(0x4655_4747); w.u32(3); w.u64(0); w.u64(1)
    w.u64(1 << 63)
    w.bytes += [UInt8](repeating: 65, count: 64)
    assertGGUFError(temp.write(w.bytes, name: "key.gguf")) {
      if case .sizeOverflow = $0 { return true } else { return false }
    }
    // A string value of length UInt64.max.
    w = ByteWriter()
    w.u32(0x4655_4747); w.u32(3); w.u64(0); w.u64(1)
    w.string("k"); w.u32(GGUFValueType.string.rawValue); w.u64(.max)
    assertGGUFError(temp.write(w.bytes, name: "str.gguf")) {
      if case .sizeOverflow = $0 { return true } else { return false }
    }
    // Arrays of absurd length, for elements of each size.
    for type in [GGUFValueType.uint8, .uint32, .uint64, .string, .array] {
      w = ByteWriter()
      w.u32(0x4655_4747); w.u32(3); w.u64(0); w.u64(1)
      w.string("arr"); w.u32(GGUFValueType.array.rawValue); w.u32(type.rawValue); w.u64(UInt64.max / 2)
      w.bytes += [UInt8](repeating: 0, count: 100)
      assertGGUFError(temp.write(w.bytes, name: "arr\(type).gguf")) {
        if case .sizeOverflow = $0 { return true } else { return false }
      }
    }
  }

  func testOverflowingTensorSize() {
    var b = GGUFBuilder()
    b.tensors = [TestTensor(name: "huge", dims: [1 << 32, 1 << 32, 1 << 4], type: 0, data: [])]
    assertGGUFError(temp.write(b.build())) { if case .sizeOverflow = $0 { return true } else { return false } }
    // Fits in Int elements but not in bytes.
    b.tensors = [TestTensor(name: "huge", dims: [1 << 31, 1 << 31], type: 0, data: [])]
    assertGGUFError(temp.write(b.build(), name: "b.gguf")) {
      if case .sizeOverflow = $0 { return true } else { return false }
    }
  }

  func testTensorPastEnd() {
    var b = GGUFBuilder()
    b.tensors = sampleTensors()
    b.tensors[1].data.removeLast(10)  // the file stops 10 bytes short of b.weight... and c.bias follows
    b.tensors.removeLast()
    assertGGUFError(temp.write(b.build())) {
      if case .tensorOutOfBounds(_, let name) = $0 { return name == "b.weight" } else { return false }
    }
    b = GGUFBuilder()
    b.tensors = sampleTensors()
    b.tensors[0].offset = 1 << 40
    assertGGUFError(temp.write(b.build(), name: "far.gguf")) {
      if case .tensorOutOfBounds(_, let name) = $0 { return name == "a.weight" } else { return false }
    }
    b.tensors[0].offset = UInt64.max - 31
    assertGGUFError(temp.write(b.build(), name: "max.gguf")) {
      if case .tensorOutOfBounds(_, let name) = $0 { return name == "a.weight" } else { return false }
    }
  }

  func testMisalignedTensor() {
    var b = GGUFBuilder()
    b.tensors = sampleTensors()
    b.tensors[2].offset = 130
    assertGGUFError(temp.write(b.build())) {
      if case .misalignedTensor(_, let name, let offset, let alignment) = $0 {
        return name == "c.bias" && offset == 130 && alignment == 32
      }
      return false
    }
  }

  func testUnknownTensorType() {
    for type: UInt32 in [4, 5, 31, 1000] {
      var b = GGUFBuilder()
      b.tensors = [TestTensor(name: "w", dims: [32], type: type, data: [UInt8](repeating: 0, count: 64))]
      assertGGUFError(temp.write(b.build(), name: "t\(type).gguf")) {
        if case .unknownTensorType(_, let name, let t) = $0 { return name == "w" && t == type } else { return false }
      }
    }
  }

  func testBadTensorShapes() {
    let cases: [TestTensor] = [
      TestTensor(name: "zero", dims: [0, 4], type: 0, data: []),
      TestTensor(name: "nodims", dims: [], type: 0, data: []),
      TestTensor(name: "fivedims", dims: [1, 1, 1, 1, 1], type: 0, data: [0, 0, 0, 0]),
      TestTensor(name: "partialblock", dims: [48, 1], type: 8, data: [UInt8](repeating: 0, count: 68)),
      TestTensor(name: "negative", dims: [UInt64.max, 1], type: 0, data: []),
    ]
    for t in cases {
      var b = GGUFBuilder()
      b.tensors = [t]
      assertGGUFError(temp.write(b.build(), name: "\(t.name).gguf")) {
        if case .invalidTensorShape(_, let name, _) = $0 { return name == t.name } else { return false }
      }
    }
  }

  func testDuplicatesAndBadMetadata() {
    var b = GGUFBuilder()
    b.metadata = [("k", .uint8(1)), ("k", .uint8(2))]
    assertGGUFError(temp.write(b.build(), name: "dupkey.gguf")) {
      if case .duplicateKey(_, "k") = $0 { return true } else { return false }
    }
    b = GGUFBuilder()
    b.tensors = sampleTensors()
    b.tensors[1].name = "a.weight"
    assertGGUFError(temp.write(b.build(), name: "duptensor.gguf")) {
      if case .duplicateTensor(_, "a.weight") = $0 { return true } else { return false }
    }
    for bad: GGUFValue in [.uint32(0), .uint32(48), .uint64(32), .string("32")] {
      b = GGUFBuilder()
      b.metadata = [("general.alignment", bad)]
      assertGGUFError(temp.write(b.build(), name: "align.gguf")) {
        if case .invalidMetadata(_, "general.alignment", _) = $0 { return true } else { return false }
      }
    }
    var w = ByteWriter()
    w.u32(0x4655_4747); w.u32(3); w.u64(0); w.u64(1)
    w.string("weird"); w.u32(13); w.u64(0)
    assertGGUFError(temp.write(w.bytes, name: "type.gguf")) {
      if case .unknownValueType(_, "weird", 13) = $0 { return true } else { return false }
    }
    w = ByteWriter()
    w.u32(0x4655_4747); w.u32(3); w.u64(0); w.u64(1)
    w.string("arr"); w.u32(9); w.u32(77); w.u64(1); w.u64(0)
    assertGGUFError(temp.write(w.bytes, name: "elemtype.gguf")) {
      if case .unknownValueType(_, "arr", 77) = $0 { return true } else { return false }
    }
    w = ByteWriter()
    w.u32(0x4655_4747); w.u32(3); w.u64(0); w.u64(1)
    w.string("b"); w.u32(7); w.u8(2)
    assertGGUFError(temp.write(w.bytes, name: "bool.gguf")) {
      if case .invalidMetadata(_, "b", _) = $0 { return true } else { return false }
    }
    // Arrays nested beyond the limit are refused rather than recursing without bound.
    w = ByteWriter()
    w.u32(0x4655_4747); w.u32(3); w.u64(0); w.u64(1)
    w.string("deep"); w.u32(9)
    for _ in 0..<100 { w.u32(9); w.u64(1) }
    w.u32(0); w.u64(0)
    assertGGUFError(temp.write(w.bytes, name: "deep.gguf")) {
      if case .invalidMetadata(_, "deep", _) = $0 { return true } else { return false }
    }
  }

  func testRequireErrors() throws {
    var b = GGUFBuilder()
    b.metadata = [("s", .string("x")), ("i", .int32(3))]
    let path = temp.write(b.build())
    let file = try GGUFFile(path: path)
    XCTAssertThrowsError(try file.requireTensor(named: "output.weight")) {
      XCTAssertEqual($0 as? GGUFError, .missingTensor(path: path, name: "output.weight"))
      XCTAssertTrue("\($0)".contains("output.weight") && "\($0)".contains(path))
    }
    XCTAssertThrowsError(try file.requireInt("nope")) {
      XCTAssertEqual($0 as? GGUFError, .missingKey(path: path, key: "nope"))
    }
    XCTAssertThrowsError(try file.requireInt("s")) {
      XCTAssertEqual($0 as? GGUFError, .typeMismatch(path: path, key: "s", expected: "integer", found: "string"))
    }
    XCTAssertThrowsError(try file.requireString("i")) {
      XCTAssertEqual($0 as? GGUFError, .typeMismatch(path: path, key: "i", expected: "string", found: "i32"))
    }
  }

  func testTypeTableMatchesGGML() {
    XCTAssertEqual(GGMLType.q4_K.bytesPerBlock, 144)
    XCTAssertEqual(GGMLType.q5_K.bytesPerBlock, 176)
    XCTAssertEqual(GGMLType.q6_K.bytesPerBlock, 210)
    XCTAssertEqual(GGMLType.q8_0.bytesPerBlock, 34)
    XCTAssertEqual(GGMLType.q5_1.bytesPerBlock, 24)
    XCTAssertEqual(GGMLType.bf16.rawValue, 30)
    XCTAssertEqual(GGMLType.q4_K.rowBytes(896), nil, "896 is not a multiple of 256")
    XCTAssertEqual(GGMLType.q4_K.rowBytes(1024), 576)
  }

  // MARK: Real models

  func testRealModelHeaders() throws {
    let dir = try modelsDirectoryOrSkip()
    let qwen = try GGUFFile(path: dir + "/qwen2.5-coder-0.5b.gguf")
    XCTAssertEqual(qwen.version, 3)
    XCTAssertEqual(qwen.string("general.architecture"), "qwen2")
    XCTAssertEqual(qwen.int("qwen2.block_count"), 24)
    XCTAssertEqual(qwen.int("qwen2.embedding_length"), 896)
    XCTAssertEqual(qwen.stringArray("tokenizer.ggml.tokens")?.count, 151936)
    XCTAssertEqual(qwen.tensor(named: "token_embd.weight")?.dimensions, [896, 151936])
    XCTAssertEqual(qwen.tensors.count, 291)
    XCTAssertEqual(qwen.dataOffset + qwen.tensors.map { $0.offset + $0.byteCount }.max()!, qwen.fileSize)
    let types = Set(qwen.tensors.map(\.type))
    XCTAssertTrue(types.isSuperset(of: [.f32, .q5_0, .q8_0, .q4_K, .q6_K]), "\(types)")

    let smol = try GGUFFile(path: dir + "/smollm2-135m.gguf")
    XCTAssertEqual(smol.string("general.architecture"), "llama")
    XCTAssertEqual(smol.int("llama.embedding_length"), 576)
    XCTAssertTrue(smol.tensors.contains { $0.type == .q4_1 })
  }
}

/// The directory of the real models, or a skip unless CODEGEN_LSP_MODEL_TESTS=1.
func modelsDirectoryOrSkip() throws -> String {
  let env = ProcessInfo.processInfo.environment
  guard env["CODEGEN_LSP_MODEL_TESTS"] == "1" else {
    throw XCTSkip("set CODEGEN_LSP_MODEL_TESTS=1 to run tests on the real models")
  }
  let dir = env["CODEGEN_LSP_MODELS_DIR"] ?? (NSHomeDirectory() + "/.cache/codegen-lsp/models")
  return dir
}

/// The vocabulary-only GGUF files of ../shared/vocab (tokenizer test vectors) all open.
final class SharedVocabFileTests: XCTestCase {
  func testSharedVocabFilesOpen() throws {
    let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().resolvingSymlinksInPath()
      .appendingPathComponent("../../../shared/vocab").standardized
    guard let names = try? FileManager.default.contentsOfDirectory(atPath: dir.path) else {
      throw XCTSkip("no shared vocab directory at \(dir.path)")
    }
    let files = names.filter { $0.hasSuffix(".gguf") }.sorted()
    if files.isEmpty { throw XCTSkip("no vocab files") }
    for name in files {
      let file = try GGUFFile(path: dir.appendingPathComponent(name).path)
      let tokens = try XCTUnwrap(file.stringArray("tokenizer.ggml.tokens"), name)
      XCTAssertGreaterThan(tokens.count, 1000, name)
      XCTAssertNotNil(file.string("tokenizer.ggml.model"), name)
      if let types = file.intArray("tokenizer.ggml.token_type") { XCTAssertEqual(types.count, tokens.count, name) }
    }
  }
}
