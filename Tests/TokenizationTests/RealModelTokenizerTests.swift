import Foundation
import XCTest

@testable import Tokenization

/// The real models' tokenizers against the Hugging Face tokenizer built from the same GGUF
/// (`Scripts/tokenizer_reference_ids.py` made the fixtures), on 300 source files of this machine.
///
/// Runs only with `CODEGEN_LSP_MODEL_TESTS=1`; models are found in `$CODEGEN_LSP_MODELS_DIR`
/// (default `~/.cache/codegen-lsp/models`).
final class RealModelTokenizerTests: XCTestCase {
  static var modelsDirectory: String {
    ProcessInfo.processInfo.environment["CODEGEN_LSP_MODELS_DIR"]
      ?? (NSHomeDirectory() as NSString).appendingPathComponent(".cache/codegen-lsp/models")
  }

  static func model(_ fileName: String) throws -> String {
    guard ProcessInfo.processInfo.environment["CODEGEN_LSP_MODEL_TESTS"] == "1" else {
      throw XCTSkip("set CODEGEN_LSP_MODEL_TESTS=1 to run the real-model tokenizer tests")
    }
    let path = (modelsDirectory as NSString).appendingPathComponent(fileName)
    guard FileManager.default.fileExists(atPath: path) else {
      throw XCTSkip("model \(path) not found (fetch it first)")
    }
    return path
  }

  /// Runs a program and returns its standard output, or nil when it fails.
  static func run(_ executable: String, _ arguments: [String]) -> [UInt8]? {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = FileHandle.nullDevice
    do { try process.run() } catch { return nil }
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return process.terminationStatus == 0 ? [UInt8](data) : nil
  }

  /// The fixture's JSON document.
  static func fixture(_ name: String) throws -> [String: Any] {
    guard let url = Bundle.module.url(forResource: "Fixtures/" + name, withExtension: nil) else {
      XCTFail("fixture \(name) is missing")
      return [:]
    }
    guard let json = run("/usr/bin/env", ["gzip", "-dc", url.path]) else {
      XCTFail("cannot gunzip \(url.path)")
      return [:]
    }
    return try JSONSerialization.jsonObject(with: Data(json)) as? [String: Any] ?? [:]
  }

  /// The bytes of one recorded source (a file, or a blob of a bare git repository), or nil when absent.
  static func sourceBytes(_ entry: [String: Any]) -> [UInt8]? {
    switch entry["kind"] as? String {
    case "file":
      guard let path = entry["path"] as? String, let data = FileManager.default.contents(atPath: path) else {
        return nil
      }
      return [UInt8](data)
    case "git":
      guard let repo = entry["repo"] as? String, let blob = entry["blob"] as? String,
        FileManager.default.fileExists(atPath: repo)
      else { return nil }
      return run("/usr/bin/env", ["git", "-c", "safe.directory=*", "--git-dir", repo, "cat-file", "blob", blob])
    default:
      return nil
    }
  }

  /// Where two id sequences first differ, or nil when they are equal.
  static func difference(_ ids: [Int32], _ expected: [Int32]) -> String? {
    guard ids != expected else { return nil }
    let at = (0..<min(ids.count, expected.count)).first { ids[$0] != expected[$0] } ?? min(ids.count, expected.count)
    return "first difference at token \(at): got \(Array(ids[at..<min(at + 5, ids.count)])) "
      + "expected \(Array(expected[at..<min(at + 5, expected.count)]))"
  }

  func checkModel(_ modelFile: String) throws {
    let tokenizer = try Tokenizer(ggufPath: try Self.model(modelFile))
    let document = try Self.fixture("hf-ids-" + modelFile.replacingOccurrences(of: ".gguf", with: "") + ".json.gz")
    let maxScalars = document["maxScalars"] as? Int ?? 0
    let files = document["files"] as? [[String: Any]] ?? []
    XCTAssertGreaterThanOrEqual(files.count, 200)
    var compared = 0
    var skipped: [String] = []
    var mismatches: [String] = []
    var tokens = 0
    var bytesEncoded = 0
    var seconds = 0.0
    for entry in files {
      let label = (entry["path"] as? String) ?? "\(entry["repo"] ?? "?"):\(entry["name"] ?? "?")"
      guard let data = Self.sourceBytes(entry), SHA256.hex(data) == entry["sha256"] as? String else {
        skipped.append(label)
        continue
      }
      let text = String(decoding: data, as: UTF8.self)
      let prefix = String(String.UnicodeScalarView(text.unicodeScalars.prefix(maxScalars)))
      let expected = (entry["ids"] as? [Int] ?? []).map { Int32($0) }
      let start = DispatchTime.now().uptimeNanoseconds
      // Hugging Face always matches added (special) tokens written in the text.
      let ids = tokenizer.encode(prefix, parseSpecial: true)
      seconds += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
      bytesEncoded += prefix.utf8.count
      tokens += ids.count
      compared += 1
      if let difference = Self.difference(ids, expected) { mismatches.append("\(label): \(difference)") }
      // Byte-level BPE is lossless.
      if tokenizer.decode(tokenizer.encode(prefix)) != prefix {
        mismatches.append("\(label): decode(encode(text)) != text")
      }
    }
    let texts = document["texts"] as? [[String: Any]] ?? []
    XCTAssertGreaterThanOrEqual(texts.count, 10)
    for (index, entry) in texts.enumerated() {
      let text = entry["text"] as? String ?? ""
      let expected = (entry["ids"] as? [Int] ?? []).map { Int32($0) }
      if let difference = Self.difference(tokenizer.encode(text, parseSpecial: true), expected) {
        mismatches.append("edge case \(index) \(text.prefix(40).debugDescription): \(difference)")
      }
    }
    print(
      "\(modelFile): compared \(compared) files (\(tokens) tokens, \(bytesEncoded) bytes, first encode of each "
        + "file \(String(format: "%.1f", seconds * 1000)) ms in all), skipped \(skipped.count)")
    XCTAssertEqual(mismatches, [], "\(mismatches.count) of \(compared) files differ from Hugging Face")
    XCTAssertGreaterThanOrEqual(
      compared, 200, "only \(compared) source files could be compared; missing or changed: \(skipped.prefix(20))")
  }

  func testQwen25CoderMatchesHuggingFaceOnSourceFiles() throws {
    try checkModel("qwen2.5-coder-0.5b.gguf")
  }

  func testSmolLM2MatchesHuggingFaceOnSourceFiles() throws {
    try checkModel("smollm2-135m.gguf")
  }

  func testQwen25CoderSpecialTokens() throws {
    let t = try Tokenizer(ggufPath: try Self.model("qwen2.5-coder-0.5b.gguf"))
    XCTAssertEqual(t.vocabularySize, 151_936)
    XCTAssertEqual(t.preTokenizer?.name, "qwen2")
    XCTAssertEqual(t.fimPrefixID, 151_659)
    XCTAssertEqual(t.fimMiddleID, 151_660)
    XCTAssertEqual(t.fimSuffixID, 151_661)
    XCTAssertEqual(t.fimPadID, 151_662)
    XCTAssertEqual(t.fimRepoID, 151_663)
    XCTAssertEqual(t.fimSeparatorID, 151_664)
    XCTAssertEqual(t.eosID, 151_645)
    XCTAssertEqual(t.tokenID(forText: "<|im_start|>"), 151_644)
    for id: Int32 in [151_643, 151_645, 151_662, 151_663, 151_664] { XCTAssertTrue(t.isEndOfGeneration(id), "\(id)") }
    XCTAssertFalse(t.isEndOfGeneration(151_659))
    XCTAssertFalse(t.addBOSByDefault)
    XCTAssertEqual(t.encode("<|fim_prefix|>a", parseSpecial: true), [151_659, 64])
    XCTAssertFalse(t.encode("<|fim_prefix|>a").contains(151_659))
    XCTAssertEqual(t.decode([151_659, 64, 151_660]), "a")
    XCTAssertEqual(
      try Tokenizer.tokenize(ggufPath: try Self.model("qwen2.5-coder-0.5b.gguf"), text: "x = 12"),
      [87, 284, 220, 16, 17])
  }

  func testSmolLM2SpecialTokens() throws {
    let t = try Tokenizer(ggufPath: try Self.model("smollm2-135m.gguf"))
    XCTAssertEqual(t.vocabularySize, 49_152)
    XCTAssertEqual(t.bosID, 1)
    XCTAssertEqual(t.eosID, 2)
    XCTAssertNil(t.fimPrefixID, "SmolLM2 has no FIM tokens")
    XCTAssertEqual(t.fimSeparatorID, 5)
    XCTAssertEqual(t.fimRepoID, 3)
    for id: Int32 in [0, 2, 5] { XCTAssertTrue(t.isEndOfGeneration(id), "\(id)") }
    XCTAssertEqual(t.encode("<|im_start|>user", parseSpecial: true).first, 1)
  }
}
