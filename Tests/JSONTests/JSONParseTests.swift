import Foundation
import JSON
import XCTest

final class JSONParseTests: XCTestCase {
  private func assertError(
    _ text: String, _ expected: JSONError, maxDepth: Int = 256, file: StaticString = #filePath, line: UInt = #line
  ) {
    XCTAssertThrowsError(try JSONValue.parse(text, maxDepth: maxDepth), file: file, line: line) { error in
      XCTAssertEqual(error as? JSONError, expected, "\(error)", file: file, line: line)
    }
  }

  private func assertBytesError(
    _ bytes: [UInt8], _ expected: JSONError, file: StaticString = #filePath, line: UInt = #line
  ) {
    XCTAssertThrowsError(try JSONValue.parse(bytes), file: file, line: line) { error in
      XCTAssertEqual(error as? JSONError, expected, "\(error)", file: file, line: line)
    }
  }

  func testScalars() throws {
    XCTAssertEqual(try JSONValue.parse("null"), .null)
    XCTAssertEqual(try JSONValue.parse("true"), .bool(true))
    XCTAssertEqual(try JSONValue.parse(" false\n"), .bool(false))
    XCTAssertEqual(try JSONValue.parse("0"), .int(0))
    XCTAssertEqual(try JSONValue.parse("-0"), .int(0))
    XCTAssertEqual(try JSONValue.parse("42"), .int(42))
    XCTAssertEqual(try JSONValue.parse("-17"), .int(-17))
    XCTAssertEqual(try JSONValue.parse("1.5"), .double(1.5))
    XCTAssertEqual(try JSONValue.parse("1E5"), .double(100_000))
    XCTAssertEqual(try JSONValue.parse("2.5e-3"), .double(0.0025))
    XCTAssertEqual(try JSONValue.parse("1e-400"), .double(0))
    XCTAssertEqual(try JSONValue.parse("\"hi\""), .string("hi"))
    XCTAssertEqual(try JSONValue.parse("[]"), .array([]))
    XCTAssertEqual(try JSONValue.parse("{}"), .object([:]))
  }

  func testNestedStructure() throws {
    let value = try JSONValue.parse(
      #"{"jsonrpc":"2.0","id":7,"method":"x","params":{"list":[1,2.5,"s",null,true,{"k":[]}]}}"#)
    XCTAssertEqual(value["jsonrpc"], "2.0")
    XCTAssertEqual(value["id"]?.intValue, 7)
    XCTAssertEqual(value["params"]?["list"]?[1], .double(2.5))
    XCTAssertEqual(value["params"]?["list"]?[3], .null)
    XCTAssertEqual(value["params"]?["list"]?[5]?["k"], .array([]))
    XCTAssertNil(value["params"]?["list"]?[6])
    XCTAssertNil(value["missing"])
    XCTAssertNil(value[0])
    let expected: JSONValue = [
      "jsonrpc": "2.0", "id": 7, "method": "x",
      "params": ["list": [1, 2.5, "s", nil, true, ["k": []]]],
    ]
    XCTAssertEqual(value, expected)
  }

  func testDuplicateKeyKeepsLast() throws {
    XCTAssertEqual(try JSONValue.parse(#"{"a":1,"a":2}"#), ["a": 2])
  }

  func testUnicodeEscapes() throws {
    XCTAssertEqual(try JSONValue.parse(#""\u0041\u00e9\u4e2d""#), .string("Aé中"))
    XCTAssertEqual(try JSONValue.parse(#""\ud83d\ude00""#), .string("😀"))
    XCTAssertEqual(try JSONValue.parse(#""\uD83D\uDE00""#), .string("😀"))
    XCTAssertEqual(try JSONValue.parse(#""\"\\\/\b\f\n\r\t""#), .string("\"\\/\u{8}\u{C}\n\r\t"))
  }

  func testLoneSurrogatesBecomeReplacementCharacter() throws {
    XCTAssertEqual(try JSONValue.parse(#""\ud800""#), .string("\u{FFFD}"))
    XCTAssertEqual(try JSONValue.parse(#""\udc00""#), .string("\u{FFFD}"))
    XCTAssertEqual(try JSONValue.parse(#""\ud800x""#), .string("\u{FFFD}x"))
    XCTAssertEqual(try JSONValue.parse(#""\ud800\u0041""#), .string("\u{FFFD}A"))
  }

  func testRawUnicode() throws {
    let text = "emoji 😀👩‍💻 CJK 中文字 accents é ü"
    XCTAssertEqual(try JSONValue.parse("\"\(text)\""), .string(text))
    XCTAssertEqual(try JSONValue.parse(Array("[\"\(text)\"]".utf8)), [.string(text)])
  }

  func testEmbeddedNUL() throws {
    let value = try JSONValue.parse(#"{"k":"a\u0000b"}"#)
    XCTAssertEqual(value["k"]?.stringValue, "a\u{0}b")
    XCTAssertEqual(value["k"]?.stringValue?.utf8.count, 3)
    assertError(#"{"a\u0000b":1}"#, .nulInObjectKey(offset: 1))
  }

  func testControlCharactersRejected() {
    assertError("\"a\tb\"", .controlCharacterInString(byte: 0x09, offset: 2))
    assertError("[\"a\nb\"]", .controlCharacterInString(byte: 0x0A, offset: 3))
    assertBytesError([0x22, 0x61, 0x00, 0x22], .controlCharacterInString(byte: 0, offset: 2))
  }

  func testInvalidUTF8Rejected() {
    // Lone continuation byte, truncated sequence, overlong encoding, encoded surrogate, above U+10FFFF.
    assertBytesError([0x22, 0x61, 0x80, 0x22], .invalidUTF8(offset: 2))
    assertBytesError([0x22, 0xE4, 0xB8, 0x22], .invalidUTF8(offset: 1))
    assertBytesError([0x22, 0xC0, 0xAF, 0x22], .invalidUTF8(offset: 1))
    assertBytesError([0x22, 0xED, 0xA0, 0x80, 0x22], .invalidUTF8(offset: 1))
    assertBytesError([0x22, 0xF4, 0x90, 0x80, 0x80, 0x22], .invalidUTF8(offset: 1))
    assertBytesError([0x22, 0xFF, 0x22], .invalidUTF8(offset: 1))
    // Long ASCII run before the bad byte, so the 8-byte fast path has to stop on it.
    let long = [0x22] + Array(repeating: UInt8(ascii: "x"), count: 37) + [0xC3, 0x28, 0x22]
    assertBytesError(long, .invalidUTF8(offset: 38))
    // Outside strings.
    assertBytesError([0x5B, 0xFE, 0x5D], .invalidUTF8(offset: 1))
  }

  func testNestingLimit() throws {
    let deep = { (n: Int) in String(repeating: "[", count: n) + String(repeating: "]", count: n) }
    XCTAssertNoThrow(try JSONValue.parse(deep(256)))
    assertError(deep(257), .nestingTooDeep(limit: 256, offset: 256))
    XCTAssertNoThrow(try JSONValue.parse(deep(3), maxDepth: 3))
    assertError(deep(4), .nestingTooDeep(limit: 3, offset: 3), maxDepth: 3)
    assertError(#"{"a":{"b":[1]}}"#, .nestingTooDeep(limit: 2, offset: 10), maxDepth: 2)
    XCTAssertEqual(try JSONValue.parse("[1]", maxDepth: 1), [1])
    // Brackets inside strings do not count.
    XCTAssertEqual(try JSONValue.parse(#"["[[[[", "{{{{"]"#, maxDepth: 1), ["[[[[", "{{{{"])
  }

  func testInt64Bounds() throws {
    XCTAssertEqual(try JSONValue.parse("9223372036854775807"), .int(Int64.max))
    XCTAssertEqual(try JSONValue.parse("-9223372036854775808"), .int(Int64.min))
    XCTAssertEqual(try JSONValue.parse("[999999999999999999]"), [.int(999_999_999_999_999_999)])
    assertError("9223372036854775808", .numberOutOfRange(text: "9223372036854775808", offset: 0))
    assertError("[-9223372036854775809]", .numberOutOfRange(text: "-9223372036854775809", offset: 1))
    assertError("[18446744073709551616]", .numberOutOfRange(text: "18446744073709551616", offset: 1))
    assertError("1e400", .numberOutOfRange(text: "1e400", offset: 0))
    assertError("[-1.5E+309]", .numberOutOfRange(text: "-1.5E+309", offset: 1))
  }

  func testDoubles() throws {
    for value in [0.1, -0.0, 1e-7, 123456.789, Double.leastNonzeroMagnitude, Double.greatestFiniteMagnitude, 1.0 / 3] {
      let text = JSONValue.double(value).serialized()
      let back = try JSONValue.parse(text)
      XCTAssertEqual(back.doubleValue?.bitPattern, value.bitPattern, text)
    }
    XCTAssertEqual(try JSONValue.parse("1.0"), .double(1))
    XCTAssertEqual(try JSONValue.parse("1.0").intValue, 1)
    XCTAssertNil(try JSONValue.parse("1.5").intValue)
    XCTAssertEqual(try JSONValue.parse("3").doubleValue, 3)
  }

  func testSyntaxErrors() {
    let bad = [
      "", "   ", "[", "{", "[1,]", #"{"a":1,}"#, "'a'", "[1 2]", #"{"a" 1}"#, "/*c*/1", "tru", "TRUE",
      "NaN", "Infinity", "-Infinity", "01", "-01", "1.", ".5", "1e", "+1", "-", "[0x10]", #""\x""#,
      #""\u12""#, #""abc"#, "\u{FEFF}[1]", "{1:2}", "]",
    ]
    for text in bad {
      XCTAssertThrowsError(try JSONValue.parse(text), "accepted \(text.debugDescription)") { error in
        XCTAssertNotNil(error as? JSONError)
        XCTAssertFalse("\(error)".isEmpty)
      }
    }
  }

  func testErrorPositions() {
    assertError("[1 2]", .syntax(reason: "array value separator ',' expected", offset: 3))
    assertError("01", .syntax(reason: "numbers must not have leading zeros", offset: 0))
    assertError("[NaN]", .syntax(reason: "NaN and Infinity are not JSON values", offset: 1))
    assertError("[1,", .unexpectedEndOfInput(offset: 3))
    assertError(#""abc"#, .unexpectedEndOfInput(offset: 4))
  }

  func testTrailingGarbage() {
    assertError("[1] x", .trailingGarbage(offset: 4))
    assertError("{} {}", .trailingGarbage(offset: 3))
    assertError("1 2", .trailingGarbage(offset: 2))
    assertBytesError(Array("{}".utf8) + [0, 0x78], .trailingGarbage(offset: 2))
  }

  func testErrorMessagesNameTheProblem() {
    XCTAssertTrue("\(JSONError.invalidUTF8(offset: 12))".contains("UTF-8"))
    XCTAssertTrue("\(JSONError.invalidUTF8(offset: 12))".contains("12"))
    XCTAssertTrue("\(JSONError.nestingTooDeep(limit: 256, offset: 3))".contains("256"))
    XCTAssertTrue("\(JSONError.numberOutOfRange(text: "1e400", offset: 0))".contains("1e400"))
    XCTAssertTrue("\(JSONError.controlCharacterInString(byte: 9, offset: 1))".contains("0x09"))
  }

  func testLargeString() throws {
    let body = String(repeating: "line of code 中 😀\n", count: 100_000)
    let value: JSONValue = ["text": .string(body)]
    let parsed = try JSONValue.parse(value.serializedBytes())
    XCTAssertEqual(parsed["text"]?.stringValue, body)
  }

  func testNoStateCarriesOverBetweenParses() throws {
    // The tokener is reused per thread: an incomplete or failed parse must not affect the next one.
    XCTAssertThrowsError(try JSONValue.parse(#"[1, {"a": "#))
    XCTAssertEqual(try JSONValue.parse("[2]"), [2])
    XCTAssertThrowsError(try JSONValue.parse("[1 2]"))
    XCTAssertEqual(try JSONValue.parse(#"{"b":3}"#), ["b": 3])
    XCTAssertEqual(try JSONValue.parse("[[5]]", maxDepth: 5), [[5]])
    XCTAssertEqual(try JSONValue.parse("12"), 12)
  }

  func testConcurrentParsing() {
    let texts = (0..<8).map { #"{"thread":\#($0),"items":[\#((0..<100).map(String.init).joined(separator: ","))]}"# }
    let failures = NSLock()
    var failed = 0
    DispatchQueue.concurrentPerform(iterations: 8) { thread in
      for _ in 0..<500 {
        let value = try? JSONValue.parse(texts[thread])
        if value?["thread"]?.intValue != Int64(thread) || value?["items"]?[99] != 99 {
          failures.withLock { failed += 1 }
        }
        _ = try? JSONValue.parse("[1,")
      }
    }
    XCTAssertEqual(failed, 0)
  }
}
