import Foundation
import XCTest

@testable import Tokenization

/// Byte-level BPE, SentencePiece, special tokens and errors on small vocabularies built in the test.
final class TokenizerTests: XCTestCase {
  /// A byte-level vocabulary: the 256 byte tokens (ids 0…255 in byte order), then merges, then special tokens.
  static func byteLevelVocabulary(pre: String = "qwen2") -> Vocabulary {
    var tokens = (0..<256).map { String(Unicode.Scalar(ByteLevel.scalarForByte[$0])!) }
    var types = [TokenType](repeating: .normal, count: 256)
    let merges = ["l l", "e l", "h e", "he ll", "hell o", "Ġ w", "Ġw o", "Ġwo r", "Ġwor ld"]
    for merge in merges {
      tokens.append(merge.replacingOccurrences(of: " ", with: ""))
      types.append(.normal)
    }
    // "ld" is needed by the last merge.
    tokens.append("ld")
    types.append(.normal)
    for (text, type) in [
      ("<|endoftext|>", TokenType.control), ("<|fim_prefix|>", .control), ("<|fim_suffix|>", .control),
      ("<|fim_middle|>", .control), ("<|file_sep|>", .control), ("<tool>", .userDefined),
    ] {
      tokens.append(text)
      types.append(type)
    }
    return Vocabulary(
      algorithm: .byteLevelBPE, preTokenizerName: pre, tokens: tokens, types: types, merges: merges + ["l d"],
      eosID: Int32(tokens.firstIndex(of: "<|endoftext|>")!))
  }

  func id(_ tokenizer: Tokenizer, _ text: String) -> Int32 {
    tokenizer.tokenID(forText: text)!
  }

  func testByteLevelMergesByRank() throws {
    let t = try Tokenizer(vocabulary: Self.byteLevelVocabulary())
    XCTAssertEqual(t.encode("hello"), [id(t, "hello")])
    XCTAssertEqual(t.encode("hell"), [id(t, "hell")])
    // "l l" (rank 0) beats "e l" (rank 1): "ell" is e + ll, not el + l.
    XCTAssertEqual(t.encode("ell"), [id(t, "e"), id(t, "ll")])
    // Equal ranks merge leftmost first.
    XCTAssertEqual(t.encode("lll"), [id(t, "ll"), id(t, "l")])
    XCTAssertEqual(t.encode("hello world"), [id(t, "hello"), id(t, "Ġworld")])
    XCTAssertEqual(t.encode(""), [])
    // Bytes of a character with no merges are their byte tokens.
    XCTAssertEqual(t.encode("é"), [0xC3, 0xA9])
  }

  func testEncodingIsStableThroughTheWordCache() throws {
    let t = try Tokenizer(vocabulary: Self.byteLevelVocabulary())
    let text = String(repeating: "hello world hell ell lll é\n", count: 50)
    let first = t.encode(text)
    XCTAssertEqual(t.encode(text), first)
    XCTAssertEqual(t.decode(first), text)
    // Concurrent callers get the same ids.
    var results = [[Int32]](repeating: [], count: 8)
    let lock = NSLock()
    DispatchQueue.concurrentPerform(iterations: 8) { i in
      let ids = t.encode(text)
      lock.lock()
      results[i] = ids
      lock.unlock()
    }
    for ids in results { XCTAssertEqual(ids, first) }
  }

  func testControlTokensAreMatchedOnlyWithParseSpecial() throws {
    let t = try Tokenizer(vocabulary: Self.byteLevelVocabulary())
    let eot = id(t, "<|endoftext|>")
    XCTAssertEqual(t.encode("hello<|endoftext|>hello", parseSpecial: true), [id(t, "hello"), eot, id(t, "hello")])
    let plain = t.encode("hello<|endoftext|>hello")
    XCTAssertFalse(plain.contains(eot))
    XCTAssertEqual(t.decode(plain), "hello<|endoftext|>hello")
    // User-defined tokens are matched either way, and decode to their text.
    let tool = id(t, "<tool>")
    XCTAssertEqual(t.encode("<tool>hello"), [tool, id(t, "hello")])
    XCTAssertEqual(t.encode("<tool>hello", parseSpecial: true), [tool, id(t, "hello")])
    XCTAssertEqual(t.decode([tool]), "<tool>")
    // Control tokens contribute nothing to decoded text.
    XCTAssertEqual(t.tokenBytes(eot), [])
    XCTAssertEqual(t.decode([id(t, "hello"), eot]), "hello")
    XCTAssertEqual(t.tokenText(eot), "<|endoftext|>")
  }

  func testSpecialIDsAndEndOfGeneration() throws {
    let t = try Tokenizer(vocabulary: Self.byteLevelVocabulary())
    XCTAssertEqual(t.fimPrefixID, id(t, "<|fim_prefix|>"))
    XCTAssertEqual(t.fimSuffixID, id(t, "<|fim_suffix|>"))
    XCTAssertEqual(t.fimMiddleID, id(t, "<|fim_middle|>"))
    XCTAssertEqual(t.fimSeparatorID, id(t, "<|file_sep|>"))
    XCTAssertNil(t.fimPadID)
    XCTAssertNil(t.bosID)
    XCTAssertEqual(t.eosID, id(t, "<|endoftext|>"))
    XCTAssertTrue(t.isEndOfGeneration(id(t, "<|endoftext|>")))
    XCTAssertTrue(t.isEndOfGeneration(id(t, "<|file_sep|>")))
    XCTAssertFalse(t.isEndOfGeneration(id(t, "hello")))
    XCTAssertFalse(t.isEndOfGeneration(id(t, "<|fim_prefix|>")))
    XCTAssertTrue(t.isControl(id(t, "<|fim_middle|>")))
    XCTAssertFalse(t.isControl(id(t, "hello")))
    XCTAssertNil(t.tokenID(forText: "<|im_start|>"))
    XCTAssertEqual(t.tokenBytes(-1), [])
    XCTAssertEqual(t.tokenBytes(Int32(t.vocabularySize)), [])
    XCTAssertEqual(t.tokenText(99_999), "")
  }

  func testAddBOS() throws {
    var vocabulary = Self.byteLevelVocabulary()
    vocabulary.bosID = vocabulary.eosID
    let t = try Tokenizer(vocabulary: vocabulary)
    XCTAssertEqual(t.encode("hello", addBOS: true), [t.bosID!, id(t, "hello")])
    XCTAssertEqual(t.encode("", addBOS: true), [t.bosID!])
  }

  func testIgnoreMergesUsesAWholeWordToken() throws {
    var vocabulary = Self.byteLevelVocabulary(pre: "llama3")
    // A token "ello" that no merge produces: llama3 (ignore_merges) takes the word whole when it is a token.
    vocabulary.tokens.append("ello")
    vocabulary.types.append(.normal)
    let llama3 = try Tokenizer(vocabulary: vocabulary)
    XCTAssertEqual(llama3.encode("ello"), [llama3.tokenID(forText: "ello")!])
    vocabulary.preTokenizerName = "qwen2"
    let qwen = try Tokenizer(vocabulary: vocabulary)
    XCTAssertEqual(qwen.encode("ello"), [id(qwen, "e"), id(qwen, "ll"), id(qwen, "o")])
  }

  // MARK: SentencePiece

  /// `<unk> <s> </s>`, the 256 byte tokens, then pieces with scores.
  static func sentencePieceVocabulary(pieces: [(String, Float)]) -> Vocabulary {
    var tokens = ["<unk>", "<s>", "</s>"]
    var types: [TokenType] = [.unknown, .control, .control]
    var scores: [Float] = [0, 0, 0]
    for b in 0..<256 {
      let hex = String(b, radix: 16, uppercase: true)
      tokens.append("<0x" + (hex.count == 1 ? "0" + hex : hex) + ">")
      types.append(.byte)
      scores.append(0)
    }
    for (piece, score) in pieces {
      tokens.append(piece)
      types.append(.normal)
      scores.append(score)
    }
    return Vocabulary(
      algorithm: .sentencePiece, tokens: tokens, scores: scores, types: types, bosID: 1, eosID: 2, unknownID: 0)
  }

  func testSentencePieceMergesByScoreWithDummyPrefix() throws {
    let pieces: [(String, Float)] = [("▁", -1), ("a", -2), ("b", -3), ("▁a", -4), ("ab", -5)]
    let t = try Tokenizer(vocabulary: Self.sentencePieceVocabulary(pieces: pieces))
    // "▁a" scores higher than "ab": ▁ab becomes ▁a + b.
    XCTAssertEqual(t.encode("ab"), [id(t, "▁a"), id(t, "b")])
    XCTAssertEqual(t.decode(t.encode("ab")), " ab")
    let swapped = try Tokenizer(
      vocabulary: Self.sentencePieceVocabulary(pieces: [("▁", -1), ("a", -2), ("b", -3), ("▁a", -5), ("ab", -4)]))
    XCTAssertEqual(swapped.encode("ab"), [id(swapped, "▁"), id(swapped, "ab")])
    // Spaces become ▁; the dummy prefix is added once, at the start.
    XCTAssertEqual(t.encode("a a"), [id(t, "▁a"), id(t, "▁a")])
    XCTAssertEqual(t.encode("ab", addBOS: true), [1, id(t, "▁a"), id(t, "b")])
  }

  func testSentencePieceByteFallback() throws {
    let t = try Tokenizer(vocabulary: Self.sentencePieceVocabulary(pieces: [("▁", -1), ("a", -2)]))
    // "é" is no piece: its UTF-8 bytes C3 A9 become <0xC3> <0xA9> (ids 3 + byte).
    XCTAssertEqual(t.encode("é"), [id(t, "▁"), 3 + 0xC3, 3 + 0xA9])
    XCTAssertEqual(t.decode(t.encode("aé")), " aé")
    XCTAssertEqual(t.tokenBytes(3 + 0x41), [0x41])
    XCTAssertEqual(t.tokenBytes(0), [], "unknown contributes nothing")
    XCTAssertEqual(t.tokenBytes(1), [], "control contributes nothing")
  }

  func testSentencePieceControlTokensAndPrefixAfterThem() throws {
    let t = try Tokenizer(vocabulary: Self.sentencePieceVocabulary(pieces: [("▁", -1), ("a", -2), ("▁a", -3)]))
    // After a special token the next fragment gets the dummy prefix again (llama.cpp).
    XCTAssertEqual(t.encode("a</s>a", parseSpecial: true), [id(t, "▁a"), 2, id(t, "▁a")])
    XCTAssertFalse(t.encode("a</s>a").contains(2))
  }

  // MARK: Streaming

  func testStreamingDetokenizerHoldsBackIncompleteCharacters() throws {
    let t = try Tokenizer(vocabulary: Self.byteLevelVocabulary())
    let ids = t.encode("a😀é")  // 1 + 4 + 2 byte tokens
    XCTAssertEqual(ids.count, 7)
    var d = StreamingDetokenizer(tokenizer: t)
    var pieces = ids.map { d.append($0) }
    pieces.append(d.flush())
    XCTAssertEqual(pieces, ["a", "", "", "", "😀", "", "é", ""])
    XCTAssertFalse(d.hasPendingBytes)
    // A dangling lead byte comes out as U+FFFD on flush, and only then.
    XCTAssertEqual(d.append(0xE2), "")
    XCTAssertTrue(d.hasPendingBytes)
    XCTAssertEqual(d.flush(), "\u{FFFD}")
    // Control tokens add nothing.
    XCTAssertEqual(d.append(t.eosID!), "")
  }

  func testIncompleteSuffixLength() {
    XCTAssertEqual(StreamingDetokenizer.incompleteSuffixLength([]), 0)
    XCTAssertEqual(StreamingDetokenizer.incompleteSuffixLength([0x41]), 0)
    XCTAssertEqual(StreamingDetokenizer.incompleteSuffixLength([0x41, 0xF0, 0x9F]), 2)
    XCTAssertEqual(StreamingDetokenizer.incompleteSuffixLength([0xF0, 0x9F, 0x98]), 3)
    XCTAssertEqual(StreamingDetokenizer.incompleteSuffixLength([0xF0, 0x9F, 0x98, 0x80]), 0)
    XCTAssertEqual(StreamingDetokenizer.incompleteSuffixLength([0xC3]), 1)
    XCTAssertEqual(StreamingDetokenizer.incompleteSuffixLength([0x80, 0x80]), 0, "stray continuation bytes")
    XCTAssertEqual(StreamingDetokenizer.incompleteSuffixLength([0xE0, 0x80]), 0, "an overlong can never complete")
    XCTAssertEqual(StreamingDetokenizer.incompleteSuffixLength([0xFF]), 0)
  }

  // MARK: GGUF loading and errors

  func writer(model: String? = "gpt2", pre: String? = "qwen2") -> TestGGUFWriter {
    let vocabulary = Self.byteLevelVocabulary()
    var w = TestGGUFWriter()
    w.set("general.architecture", .string("qwen2"))
    if let model { w.set("tokenizer.ggml.model", .string(model)) }
    if let pre { w.set("tokenizer.ggml.pre", .string(pre)) }
    w.set("tokenizer.ggml.tokens", .strings(vocabulary.tokens))
    w.set("tokenizer.ggml.token_type", .int32s(vocabulary.types.map(\.rawValue)))
    w.set("tokenizer.ggml.merges", .strings(vocabulary.merges))
    w.set("tokenizer.ggml.eos_token_id", .uint32(UInt32(vocabulary.eosID!)))
    w.set("tokenizer.ggml.bos_token_id", .int32(-1))  // "none" in some files: ignored
    w.set("tokenizer.ggml.add_bos_token", .bool(false))
    return w
  }

  func testLoadsAVocabularyOnlyGGUF() throws {
    let path = try writer().write()
    defer { try? FileManager.default.removeItem(atPath: path) }
    let t = try Tokenizer(ggufPath: path)
    XCTAssertEqual(t.vocabulary.source, path)
    XCTAssertNil(t.bosID)
    XCTAssertFalse(t.addBOSByDefault)
    XCTAssertEqual(t.encode("hello world"), [id(t, "hello"), id(t, "Ġworld")])
    XCTAssertEqual(try Tokenizer.tokenize(ggufPath: path, text: "hello"), [id(t, "hello")])
  }

  func expectError(
    _ path: String, _ check: (TokenizerError) -> Bool, file: StaticString = #filePath, line: UInt = #line
  ) {
    do {
      _ = try Tokenizer(ggufPath: path)
      XCTFail("expected an error", file: file, line: line)
    } catch {
      XCTAssertTrue(check(error), "unexpected error \(error)", file: file, line: line)
      XCTAssertTrue(error.description.contains(path), "the message names the file: \(error)", file: file, line: line)
    }
  }

  func testErrorsNameTheFileAndTheProblem() throws {
    var paths: [String] = []
    defer { for p in paths { try? FileManager.default.removeItem(atPath: p) } }

    let bert = try writer(model: "bert").write()
    paths.append(bert)
    expectError(bert) { if case .unsupportedModel(_, "bert") = $0 { return true } else { return false } }

    let noModel = try writer(model: nil).write()
    paths.append(noModel)
    expectError(noModel) {
      if case .missingMetadata(_, "tokenizer.ggml.model") = $0 { return true } else { return false }
    }

    let tekken = try writer(pre: "tekken").write()
    paths.append(tekken)
    expectError(tekken) { if case .unsupportedPreTokenizer(_, "tekken") = $0 { return true } else { return false } }

    var badTypes = writer()
    badTypes.entries.removeAll { $0.0 == "tokenizer.ggml.token_type" }
    badTypes.set("tokenizer.ggml.token_type", .int32s([1, 1, 1]))
    let badTypesPath = try badTypes.write()
    paths.append(badTypesPath)
    expectError(badTypesPath) { if case .inconsistentVocabulary = $0 { return true } else { return false } }

    var noMerges = writer()
    noMerges.entries.removeAll { $0.0 == "tokenizer.ggml.merges" }
    let noMergesPath = try noMerges.write()
    paths.append(noMergesPath)
    expectError(noMergesPath) {
      if case .missingMetadata(_, "tokenizer.ggml.merges") = $0 { return true } else { return false }
    }

    let missing = NSTemporaryDirectory() + "no-such-model-\(UUID().uuidString).gguf"
    expectError(missing) { if case .unreadableFile = $0 { return true } else { return false } }

    var notGGUF = TestGGUFWriter().bytes()
    notGGUF[0] = 0x58
    let notGGUFPath = NSTemporaryDirectory() + "not-gguf-\(UUID().uuidString).gguf"
    try Data(notGGUF).write(to: URL(fileURLWithPath: notGGUFPath))
    paths.append(notGGUFPath)
    expectError(notGGUFPath) { if case .unreadableFile = $0 { return true } else { return false } }
  }

  func testInMemoryVocabularyValidation() {
    var v = Self.byteLevelVocabulary()
    v.eosID = Int32(v.tokens.count)
    XCTAssertThrowsError(try Tokenizer(vocabulary: v)) { error in
      guard case .inconsistentVocabulary(_, let reason) = error as? TokenizerError else {
        return XCTFail("\(error)")
      }
      XCTAssertTrue(reason.contains("eos"))
    }
    var spm = Self.sentencePieceVocabulary(pieces: [("a", 0)])
    spm.scores.removeLast()
    XCTAssertThrowsError(try Tokenizer(vocabulary: spm))
    XCTAssertThrowsError(try Tokenizer(vocabulary: Vocabulary(algorithm: .byteLevelBPE, tokens: [])))
  }
}
