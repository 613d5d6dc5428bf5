import Foundation
import GGUF
import XCTest

@testable import Tokenization

/// The published tokenizer vectors of the GGUF ecosystem (`../shared/vocab`, from llama.cpp's `models/` folder):
/// every vocabulary-only GGUF there with its `.inp` strings and `.out` expected ids.
final class VocabularyVectorTests: XCTestCase {
  /// `$CODEGEN_LSP_VOCAB_DIR`, else `../shared/vocab` next to the repository.
  static var vocabDirectory: URL {
    if let dir = ProcessInfo.processInfo.environment["CODEGEN_LSP_VOCAB_DIR"] { return URL(fileURLWithPath: dir) }
    return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("shared/vocab")
  }

  /// Tokenizers already built, by path (building one is slow in debug builds; the tests share them).
  nonisolated(unsafe) static var loaded: [String: Tokenizer] = [:]
  static let loadedLock = NSLock()

  static func tokenizer(_ path: String) throws -> Tokenizer {
    loadedLock.lock()
    defer { loadedLock.unlock() }
    if let t = loaded[path] { return t }
    let t = try Tokenizer(ggufPath: path)
    loaded[path] = t
    return t
  }

  struct Case {
    var text: String
    var expected: [Int32]
  }

  /// The test strings and expected ids of one vocabulary.
  static func cases(for gguf: URL) throws -> [Case] {
    let input = try String(contentsOf: URL(fileURLWithPath: gguf.path + ".inp"), encoding: .utf8)
    let output = try String(contentsOf: URL(fileURLWithPath: gguf.path + ".out"), encoding: .utf8)
    var texts = input.components(separatedBy: "\n__ggml_vocab_test__\n")
    if texts.last == "" { texts.removeLast() }
    var lines = output.components(separatedBy: "\n")
    if lines.last == "" { lines.removeLast() }
    XCTAssertEqual(texts.count, lines.count, "\(gguf.lastPathComponent): inputs and outputs differ in count")
    return zip(texts, lines).map { text, line in
      Case(text: text, expected: line.split(separator: " ").map { Int32($0)! })
    }
  }

  static func vocabularyFiles() throws -> [URL] {
    let dir = vocabDirectory
    guard FileManager.default.fileExists(atPath: dir.path) else {
      throw XCTSkip("no tokenizer vectors at \(dir.path) (set CODEGEN_LSP_VOCAB_DIR)")
    }
    return try FileManager.default.contentsOfDirectory(at: dir, includingPropertiesForKeys: nil)
      .filter { $0.pathExtension == "gguf" }.sorted { $0.lastPathComponent < $1.lastPathComponent }
  }

  func testEveryVectorOfEveryVocabulary() throws {
    let files = try Self.vocabularyFiles()
    XCTAssertGreaterThanOrEqual(files.count, 7, "expected the 7 vocabularies of ../shared/vocab")
    var total = 0
    for file in files {
      let tokenizer = try Self.tokenizer(file.path)
      for (index, c) in try Self.cases(for: file).enumerated() {
        let ids = tokenizer.encode(c.text)
        XCTAssertEqual(
          ids, c.expected, "\(file.lastPathComponent) case \(index) \(c.text.debugDescription)")
        total += 1
      }
    }
    XCTAssertGreaterThan(total, 100)
  }

  /// `codegen-lsp model tokenize` works on the vocabulary-only files: the same ids as the vectors, BOS on request.
  func testTokenizeCommandOnVocabularyOnlyFiles() throws {
    for file in try Self.vocabularyFiles() {
      let tokenizer = try Self.tokenizer(file.path)
      guard let c = try Self.cases(for: file).first(where: { $0.text == "Hello world" }) else {
        XCTFail("\(file.lastPathComponent) has no 'Hello world' vector")
        continue
      }
      XCTAssertEqual(try Tokenizer.tokenize(ggufPath: file.path, text: c.text), c.expected, file.lastPathComponent)
      if let bos = tokenizer.bosID {
        XCTAssertEqual(tokenizer.encode(c.text, addBOS: true), [bos] + c.expected)
      }
      XCTAssertFalse(tokenizer.summaryLines.isEmpty)
    }
  }

  /// The FIM and end-of-generation tokens of the code vocabularies are found by their text.
  func testFIMTokensFoundByText() throws {
    let dir = try Self.vocabularyFiles().first!.deletingLastPathComponent()
    let starcoder = try Self.tokenizer(dir.appendingPathComponent("ggml-vocab-starcoder.gguf").path)
    XCTAssertEqual(starcoder.fimPrefixID, 1)
    XCTAssertEqual(starcoder.fimMiddleID, 2)
    XCTAssertEqual(starcoder.fimSuffixID, 3)
    XCTAssertEqual(starcoder.fimPadID, 4)
    XCTAssertEqual(starcoder.fimRepoID, 5)
    XCTAssertEqual(starcoder.fimSeparatorID, 6)
    XCTAssertTrue(starcoder.isEndOfGeneration(0))
    XCTAssertTrue(starcoder.isEndOfGeneration(6))
    let deepseek = try Self.tokenizer(dir.appendingPathComponent("ggml-vocab-deepseek-coder.gguf").path)
    XCTAssertEqual(deepseek.fimPrefixID, deepseek.tokenID(forText: "<｜fim▁begin｜>"))
    XCTAssertEqual(deepseek.fimSuffixID, deepseek.tokenID(forText: "<｜fim▁hole｜>"))
    XCTAssertEqual(deepseek.fimMiddleID, deepseek.tokenID(forText: "<｜fim▁end｜>"))
    XCTAssertNotNil(deepseek.fimPrefixID)
    // Stored as user-defined, promoted to control as llama.cpp does: never in decoded text.
    XCTAssertTrue(deepseek.isControl(deepseek.fimPrefixID!))
    XCTAssertEqual(deepseek.tokenBytes(deepseek.fimPrefixID!), [])
    XCTAssertTrue(deepseek.isEndOfGeneration(deepseek.tokenID(forText: "<|EOT|>")!))
    XCTAssertTrue(deepseek.isEndOfGeneration(deepseek.eosID!))
    let gpt2 = try Self.tokenizer(dir.appendingPathComponent("ggml-vocab-gpt-2.gguf").path)
    XCTAssertNil(gpt2.fimPrefixID)
    XCTAssertTrue(gpt2.isEndOfGeneration(50_256))
  }

  /// Byte-level BPE is lossless: decoding the ids gives the text back; SentencePiece gives it back after its
  /// leading dummy space.
  func testDecodeRoundTripsEveryVector() throws {
    for file in try Self.vocabularyFiles() {
      let tokenizer = try Self.tokenizer(file.path)
      for c in try Self.cases(for: file) {
        let decoded = tokenizer.decode(c.expected)
        switch tokenizer.algorithm {
        case .byteLevelBPE:
          XCTAssertEqual(decoded, c.text, "\(file.lastPathComponent) \(c.text.debugDescription)")
        case .sentencePiece:
          XCTAssertEqual(
            decoded, c.text.isEmpty ? "" : " " + c.text, "\(file.lastPathComponent) \(c.text.debugDescription)")
        }
      }
    }
  }
}
