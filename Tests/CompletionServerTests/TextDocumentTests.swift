import CompletionServer
import LSPTypes
import XCTest

final class TextDocumentTests: XCTestCase {
  // "a😀b" : 😀 is 4 UTF-8 bytes, 2 UTF-16 units, 1 scalar. "漢字" : 3 bytes, 1 unit, 1 scalar each.
  let mixed = "a😀b\r\n漢字x\nlast"

  func testLinesAndCRLF() {
    let document = TextDocument(text: mixed)
    XCTAssertEqual(document.lineCount, 3)
    XCTAssertEqual(document.line(0), "a😀b")
    XCTAssertEqual(document.line(1), "漢字x")
    XCTAssertEqual(document.line(2), "last")
    XCTAssertEqual(document.text, mixed)
    XCTAssertEqual(document.utf8Count, mixed.utf8.count)
    XCTAssertEqual(document.utf16Count, mixed.utf16.count)
  }

  func testCROnlyAndTrailingNewline() {
    let document = TextDocument(text: "a\rb\r\n\nc\n")
    XCTAssertEqual(document.lineCount, 5)
    XCTAssertEqual((0..<5).map { document.line($0) }, ["a", "b", "", "c", ""])
  }

  func testOffsetsInAllEncodings() {
    let document = TextDocument(text: mixed)
    // After the emoji on line 0.
    XCTAssertEqual(document.offset(of: Position(line: 0, character: 5), encoding: .utf8), 5)
    XCTAssertEqual(document.offset(of: Position(line: 0, character: 3), encoding: .utf16), 5)
    XCTAssertEqual(document.offset(of: Position(line: 0, character: 2), encoding: .utf32), 5)
    // After 漢 on line 1 (line 1 starts at byte 8 = "a😀b\r\n").
    XCTAssertEqual(document.offset(of: Position(line: 1, character: 3), encoding: .utf8), 11)
    XCTAssertEqual(document.offset(of: Position(line: 1, character: 1), encoding: .utf16), 11)
    XCTAssertEqual(document.offset(of: Position(line: 1, character: 1), encoding: .utf32), 11)
    // Round trips.
    for encoding in PositionEncodingKind.allCases {
      for offset in [0, 1, 5, 6, 8, 11, 14, 15, 16, mixed.utf8.count] {
        let position = document.position(ofOffset: offset, encoding: encoding)
        XCTAssertEqual(document.offset(of: position, encoding: encoding), offset, "\(encoding) \(offset)")
      }
    }
    XCTAssertEqual(document.position(ofOffset: 5, encoding: .utf16), Position(line: 0, character: 3))
    XCTAssertEqual(document.position(ofOffset: 11, encoding: .utf8), Position(line: 1, character: 3))
    XCTAssertEqual(document.position(ofOffset: 16, encoding: .utf32), Position(line: 2, character: 0))
    XCTAssertEqual(document.position(ofOffset: 17, encoding: .utf32), Position(line: 2, character: 1))
  }

  func testPrefixAndSuffixAtPositions() {
    let document = TextDocument(text: mixed)
    let offset = document.offset(of: Position(line: 1, character: 2), encoding: .utf16)
    XCTAssertEqual(document.prefix(upToOffset: offset), "a😀b\r\n漢字")
    XCTAssertEqual(document.suffix(fromOffset: offset), "x\nlast")
  }

  func testClampingPastLineEndAndDocumentEnd() {
    let document = TextDocument(text: mixed)
    // Past the line's end: the end of the line (never into the CRLF).
    XCTAssertEqual(document.clamp(Position(line: 0, character: 99)), Position(line: 0, character: 4))
    XCTAssertEqual(document.offset(of: Position(line: 0, character: 99)), 6)
    // Past the last line: the end of the document.
    XCTAssertEqual(document.clamp(Position(line: 42, character: 0)), Position(line: 2, character: 4))
    XCTAssertEqual(document.offset(of: Position(line: 42, character: 7)), mixed.utf8.count)
    // Inside a surrogate pair / UTF-8 sequence: back to the character's start.
    XCTAssertEqual(document.clamp(Position(line: 0, character: 2), encoding: .utf16), Position(line: 0, character: 1))
    XCTAssertEqual(document.clamp(Position(line: 0, character: 3), encoding: .utf8), Position(line: 0, character: 1))
    XCTAssertEqual(document.position(ofOffset: 3, encoding: .utf8), Position(line: 0, character: 1))
    // Inside a CRLF: the end of the line.
    XCTAssertEqual(document.position(ofOffset: 7), Position(line: 0, character: 4))
  }

  func testIncrementalEditsInEachEncoding() throws {
    for encoding in PositionEncodingKind.allCases {
      var document = TextDocument(text: mixed)
      let afterEmoji: Int = [.utf8: 5, .utf16: 3, .utf32: 2][encoding]!
      try document.replace(
        LSPRange(start: Position(line: 0, character: afterEmoji), end: Position(line: 1, character: 0)),
        with: "🎉\n", encoding: encoding)
      XCTAssertEqual(document.text, "a😀🎉\n漢字x\nlast", "\(encoding)")
      XCTAssertEqual(document.lineCount, 3)
      XCTAssertEqual(document.utf16Count, document.text.utf16.count)
    }
  }

  func testEditsThatJoinAndSplitLineEndings() throws {
    var document = TextDocument(text: "a\rb")
    // Inserting "\n" right after a lone "\r" makes one CRLF.
    try document.replace(LSPRange(at: Position(line: 1, character: 0)), with: "\n")
    XCTAssertEqual(document.text, "a\r\nb")
    XCTAssertEqual(document.lineCount, 2)
    XCTAssertEqual(document.line(1), "b")
    // Deleting a line between "x\r" and "\ny" joins them into one CRLF too.
    document = TextDocument(text: "x\rm\ny")
    try document.replace(
      LSPRange(start: Position(line: 1, character: 0), end: Position(line: 1, character: 1)), with: "")
    XCTAssertEqual(document.text, "x\r\ny")
    XCTAssertEqual(document.lineCount, 2)
    // Inserting "\r" before a "\n"-only line.
    document = TextDocument(text: "p\n\nq")
    try document.replace(LSPRange(at: Position(line: 0, character: 1)), with: "\r")
    XCTAssertEqual(document.text, "p\r\n\nq")
    XCTAssertEqual(document.lineCount, 3)
  }

  func testFullReplacementAndReversedRange() throws {
    var document = TextDocument(text: "old")
    try document.apply(change: TextDocumentContentChangeEvent(text: "new\ntext"))
    XCTAssertEqual(document.text, "new\ntext")
    XCTAssertThrowsError(
      try document.replace(
        LSPRange(start: Position(line: 1, character: 2), end: Position(line: 0, character: 1)), with: "x")
    ) { error in
      XCTAssertEqual(
        error as? TextDocumentError,
        .rangeEndBeforeStart(
          LSPRange(start: Position(line: 1, character: 2), end: Position(line: 0, character: 1))))
    }
    XCTAssertEqual(document.text, "new\ntext")
  }

  func testEditsPastTheEndAreClamped() throws {
    var document = TextDocument(text: "ab\ncd")
    try document.replace(
      LSPRange(start: Position(line: 0, character: 10), end: Position(line: 9, character: 0)), with: "!")
    XCTAssertEqual(document.text, "ab!")
  }

  /// Random edits over many blocks against a plain `String` model of the same edits.
  func testRandomEditsMatchAReferenceModel() throws {
    var generator = SplitMix(seed: 7)
    let alphabet: [String] = ["a", "b", "\n", "\r\n", "\r", "😀", "漢", " ", "é", "\n\n"]
    func randomText(_ length: Int) -> String {
      (0..<length).map { _ in alphabet[Int(generator.next() % UInt64(alphabet.count))] }.joined()
    }
    var reference = Array(randomText(4000).utf8)
    var document = TextDocument(text: String(decoding: reference, as: UTF8.self))
    for step in 0..<600 {
      let encoding = PositionEncodingKind.allCases[step % 3]
      let a = Int(generator.next() % UInt64(reference.count + 1))
      let b = min(reference.count, a + Int(generator.next() % 400))
      let start = document.position(ofOffset: a, encoding: encoding)
      let end = document.position(ofOffset: b, encoding: encoding)
      // Positions snap to character starts; use the offsets they really denote.
      let startOffset = document.offset(of: start, encoding: encoding)
      let endOffset = document.offset(of: end, encoding: encoding)
      let insert = step % 5 == 0 ? randomText(700) : randomText(Int(generator.next() % 6))
      try document.replace(LSPRange(start: start, end: end), with: insert, encoding: encoding)
      reference.replaceSubrange(startOffset..<endOffset, with: Array(insert.utf8))
      if step % 50 == 0 || step == 599 {
        let expected = String(decoding: reference, as: UTF8.self)
        XCTAssertEqual(document.text, expected, "step \(step)")
        XCTAssertEqual(document.lineCount, TextDocument(text: expected).lineCount, "step \(step)")
        XCTAssertEqual(document.utf16Count, expected.utf16.count, "step \(step)")
      }
    }
  }

  /// Many edits inside one long line (the in-place path): an ASCII line and one with astral and CJK characters, in
  /// all three encodings, against a reference (a hostile `didChange` carried 10,000 such edits of a 2 MB line).
  func testManyEditsInsideOneLongLineMatchAReferenceModel() throws {
    var generator = SplitMix(seed: 11)
    for alphabet in [["a", "b", " ", "("], ["a", "😀", "漢", "é", " "]] {
      func randomText(_ length: Int) -> String {
        (0..<length).map { _ in alphabet[Int(generator.next() % UInt64(alphabet.count))] }.joined()
      }
      var reference = Array(("head\n" + randomText(20_000) + "\r\ntail").utf8)
      var document = TextDocument(text: String(decoding: reference, as: UTF8.self))
      for step in 0..<2000 {
        let encoding = PositionEncodingKind.allCases[step % 3]
        let lineLength = document.lineLength(1, encoding: encoding)
        let a = Int(generator.next() % UInt64(lineLength + 1))
        let b = min(lineLength, a + Int(generator.next() % 8))
        let start = document.clamp(Position(line: 1, character: a), encoding: encoding)
        let end = document.clamp(Position(line: 1, character: b), encoding: encoding)
        let startOffset = document.offset(of: start, encoding: encoding)
        let endOffset = document.offset(of: end, encoding: encoding)
        let insert = randomText(Int(generator.next() % 4))
        try document.replace(LSPRange(start: start, end: end), with: insert, encoding: encoding)
        reference.replaceSubrange(startOffset..<max(startOffset, endOffset), with: Array(insert.utf8))
        if step % 250 == 0 || step == 1999 {
          let expected = String(decoding: reference, as: UTF8.self)
          XCTAssertEqual(document.text, expected, "step \(step)")
          XCTAssertEqual(document.lineCount, 3)
          XCTAssertEqual(document.utf8Count, reference.count)
          XCTAssertEqual(document.utf16Count, expected.utf16.count, "step \(step)")
          XCTAssertEqual(document.lineLength(1, encoding: .utf32), Array(document.line(1).unicodeScalars).count)
        }
      }
    }
  }

  func testLargeDocumentPositions() {
    let lines = (0..<3000).map { "line \($0) 😀" }
    let document = TextDocument(text: lines.joined(separator: "\n"))
    XCTAssertEqual(document.lineCount, 3000)
    XCTAssertEqual(document.line(2999), "line 2999 😀")
    let position = Position(line: 1500, character: 5)
    let offset = document.offset(of: position)
    XCTAssertEqual(document.position(ofOffset: offset), position)
    XCTAssertEqual(document.text(inOffsets: offset, offset + 4), "1500")
  }
}

/// A small seeded generator (SplitMix64) so random tests are reproducible.
struct SplitMix: RandomNumberGenerator {
  var state: UInt64
  init(seed: UInt64) { state = seed }
  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}
