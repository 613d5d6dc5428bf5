import XCTest

@testable import Tokenization

/// The hand-written splitters against the families' regexes; the expected words were produced with Python's
/// `regex` module applying the same regex sequence (Split with behaviour Isolated).
final class PreTokenizerTests: XCTestCase {
  let mixed = "Hello world  \n\n  foo's 12345 I'M (x)\t\tif\r\nA\u{A0}b"
  let code = "  x = 1234567;\n\tint y;  "
  let unicode = "é café 你好世界 안녕 😀!! ..."

  func words(_ pre: String, _ text: String) throws -> [String] {
    let pre = try XCTUnwrap(PreTokenizer.named(pre), "pre-tokenizer \(pre)")
    let words = pre.words(in: text)
    XCTAssertEqual(words.joined(), text, "the words must cover the text exactly")
    return words
  }

  func testGPT2() throws {
    XCTAssertEqual(
      try words("gpt-2", mixed),
      [
        "Hello", " world", "  \n\n ", " foo", "'s", " 12345", " I", "'", "M", " (", "x", ")", "\t", "\t", "if", "\r",
        "\n", "A", "\u{A0}", "b",
      ])
    XCTAssertEqual(try words("gpt-2", code), [" ", " x", " =", " 1234567", ";", "\n", "\t", "int", " y", ";", "  "])
    XCTAssertEqual(try words("gpt-2", unicode), ["é", " café", " 你好世界", " 안녕", " 😀!!", " ..."])
  }

  func testLlama3GroupsDigitsByThree() throws {
    XCTAssertEqual(
      try words("llama-bpe", mixed),
      [
        "Hello", " world", "  \n\n", " ", " foo", "'s", " ", "123", "45", " I", "'M", " (", "x", ")", "\t", "\tif",
        "\r\n", "A", "\u{A0}b",
      ])
    XCTAssertEqual(
      try words("llama3", code), [" ", " x", " =", " ", "123", "456", "7", ";\n", "\tint", " y", ";", "  "])
    XCTAssertEqual(try words("llama3", unicode), ["é", " café", " 你好世界", " 안녕", " 😀!!", " ..."])
    XCTAssertTrue(PreTokenizer.named("llama3")!.ignoreMerges)
  }

  func testQwen2SplitsDigitsOneByOne() throws {
    XCTAssertEqual(
      try words("qwen2", mixed),
      [
        "Hello", " world", "  \n\n", " ", " foo", "'s", " ", "1", "2", "3", "4", "5", " I", "'M", " (", "x", ")", "\t",
        "\tif", "\r\n", "A", "\u{A0}b",
      ])
    XCTAssertEqual(
      try words("deepseek-r1-qwen", code),
      [" ", " x", " =", " ", "1", "2", "3", "4", "5", "6", "7", ";\n", "\tint", " y", ";", "  "])
    XCTAssertFalse(PreTokenizer.named("qwen2")!.ignoreMerges)
  }

  func testStarcoder() throws {
    XCTAssertEqual(
      try words("starcoder", mixed),
      [
        "Hello", " world", "  \n\n ", " foo", "'s", " ", "1", "2", "3", "4", "5", " I", "'", "M", " (", "x", ")", "\t",
        "\t", "if", "\r", "\n", "A", "\u{A0}", "b",
      ])
    XCTAssertEqual(
      try words("refact", code),
      [" ", " x", " =", " ", "1", "2", "3", "4", "5", "6", "7", ";", "\n", "\t", "int", " y", ";", "  "])
  }

  func testDeepseekCoder() throws {
    XCTAssertEqual(
      try words("deepseek-coder", mixed),
      [
        "Hello", " world", "  ", "\n", "\n", " ", " foo", "'", "s", " ", "1", "2", "3", "4", "5", " I", "'", "M", " (",
        "x", ")", "\t", "\tif", "\r", "\n", "A", "\u{A0}b",
      ])
    XCTAssertEqual(
      try words("deepseek-coder", code),
      [" ", " x", " = ", "1", "2", "3", "4", "5", "6", "7", ";", "\n", "\tint", " y", ";", "  "])
    XCTAssertEqual(
      try words("deepseek-coder", unicode), ["é", " café", " ", "你好世界", " ", "안녕", " 😀", "!!", " ..."])
  }

  func testFalcon() throws {
    XCTAssertEqual(
      try words("falcon", mixed),
      [
        "Hello", " world", "  \n\n ", " foo", "'", "s", " ", "123", "45", " I", "'", "M", " ", "(", "x", ")", "\t",
        "\t", "if", "\r", "\n", "A", "\u{A0}", "b",
      ])
    XCTAssertEqual(
      try words("falcon", code), [" ", " x", " ", "=", " ", "123", "456", "7", ";", "\n", "\t", "int", " y", ";", "  "])
    XCTAssertEqual(try words("falcon", unicode), ["é", " café", " 你好世界", " 안녕", " 😀", "!!", " ", "..."])
  }

  func testWhitespaceAtTheEndStaysTogether() throws {
    XCTAssertEqual(try words("qwen2", "a   "), ["a", "   "])
    XCTAssertEqual(try words("gpt-2", "a   b"), ["a", "  ", " b"])
    XCTAssertEqual(try words("qwen2", "a \n \n  b"), ["a", " \n \n", " ", " b"])
    XCTAssertEqual(try words("qwen2", ""), [])
  }

  func testUnknownPreTokenizerIsNil() {
    XCTAssertNil(PreTokenizer.named("tekken-v99"))
    XCTAssertNotNil(PreTokenizer.named(nil), "a missing tokenizer.ggml.pre means llama.cpp's default list")
    XCTAssertTrue(PreTokenizer.supportedNames.contains("qwen2"))
  }
}
