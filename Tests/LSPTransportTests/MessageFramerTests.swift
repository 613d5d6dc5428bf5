import LSPTransport
import XCTest

final class MessageFramerTests: XCTestCase {
  private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

  private func framed(_ body: String) -> [UInt8] { MessageFramer.frame(bytes(body)) }

  /// Feeds `stream` in chunks of `size` bytes and collects every event.
  private func events(_ stream: [UInt8], chunk size: Int, limit: Int = 64 << 20) -> ([FramerEvent], MessageFramer) {
    var framer = MessageFramer(maxMessageSize: limit)
    var all: [FramerEvent] = []
    var start = 0
    while start < stream.count {
      let end = min(stream.count, start + size)
      all += framer.push(Array(stream[start..<end]))
      start = end
    }
    return (all, framer)
  }

  /// Checks that every chunking of `stream` gives `expected`.
  private func assertEvents(
    _ stream: [UInt8], _ expected: [FramerEvent], limit: Int = 64 << 20,
    file: StaticString = #filePath, line: UInt = #line
  ) {
    for size in [1, 2, 3, 7, 16, 64, stream.count + 1] {
      let (got, framer) = events(stream, chunk: size, limit: limit)
      XCTAssertEqual(got, expected, "chunk size \(size)", file: file, line: line)
      XCTAssertFalse(framer.hasPartialMessage, "chunk size \(size)", file: file, line: line)
    }
  }

  func testFrameAddsHeader() {
    XCTAssertEqual(String(decoding: framed("{}"), as: UTF8.self), "Content-Length: 2\r\n\r\n{}")
    let unicode = "{\"t\":\"中😀\"}"
    XCTAssertEqual(
      String(decoding: framed(unicode), as: UTF8.self), "Content-Length: \(unicode.utf8.count)\r\n\r\n\(unicode)")
  }

  func testSingleMessageAnyChunking() {
    assertEvents(framed(#"{"jsonrpc":"2.0"}"#), [.message(bytes(#"{"jsonrpc":"2.0"}"#))])
  }

  func testManyMessagesPerChunk() {
    let bodies = (0..<50).map { #"{"n":\#($0),"text":"中😀 \#(String(repeating: "x", count: $0))"}"# }
    let stream = bodies.flatMap { framed($0) }
    assertEvents(stream, bodies.map { .message(bytes($0)) })
  }

  func testHeaderVariants() {
    let stream =
      bytes("content-length: 2\r\n\r\n{}")
      + bytes("CONTENT-LENGTH:3\r\nContent-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n[1]")
      + bytes("Content-Type: x\r\nContent-Length:   4  \r\n\r\nnull")
      + bytes("\r\n\r\nContent-Length: 1\r\nX-Other: y\r\n\r\n1")
      + bytes("Content-Length: 0\r\n\r\n")
      + bytes("Content-Length: 2\n\n{}")
    assertEvents(
      stream,
      [
        .message(bytes("{}")), .message(bytes("[1]")), .message(bytes("null")), .message(bytes("1")),
        .message([]), .message(bytes("{}")),
      ])
  }

  func testMissingContentLengthRecovers() {
    let stream = bytes("Content-Type: application/json\r\n\r\n{\"lost\":1}") + framed(#"{"ok":1}"#)
    assertEvents(stream, [.error(.missingContentLength), .message(bytes(#"{"ok":1}"#))])
  }

  func testNonNumericLengthRecovers() {
    let stream = bytes("Content-Length: abc\r\n\r\n{\"lost\":1}") + framed(#"{"ok":2}"#)
    assertEvents(stream, [.error(.invalidContentLength(value: "abc")), .message(bytes(#"{"ok":2}"#))])
  }

  func testNegativeLengthRecovers() {
    let stream = bytes("Content-Length: -5\r\n\r\n{\"lost\":1}") + framed(#"{"ok":3}"#)
    assertEvents(stream, [.error(.invalidContentLength(value: "-5")), .message(bytes(#"{"ok":3}"#))])
  }

  func testOverflowingLengthRecovers() {
    let huge = "99999999999999999999999999"
    let stream = bytes("Content-Length: \(huge)\r\n\r\n{}") + framed(#"{"ok":4}"#)
    assertEvents(stream, [.error(.invalidContentLength(value: huge)), .message(bytes(#"{"ok":4}"#))])
  }

  func testEmptyLengthRecovers() {
    let stream = bytes("Content-Length:\r\n\r\n{}") + framed(#"{"ok":5}"#)
    assertEvents(stream, [.error(.invalidContentLength(value: "")), .message(bytes(#"{"ok":5}"#))])
  }

  func testConflictingLengthsRecover() {
    let stream = bytes("Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}x") + framed(#"{"ok":6}"#)
    assertEvents(stream, [.error(.conflictingContentLength(first: 2, second: 3)), .message(bytes(#"{"ok":6}"#))])
  }

  func testLengthPastLimitIsSkippedWithoutBuffering() {
    let big = String(repeating: "x", count: 1000)
    let stream = framed(big) + framed(#"{"ok":7}"#)
    assertEvents(
      stream, [.error(.messageTooLarge(length: 1000, limit: 100)), .message(bytes(#"{"ok":7}"#))], limit: 100)
    // Mid-skip, the framer knows it is inside a message.
    var framer = MessageFramer(maxMessageSize: 100)
    XCTAssertEqual(framer.push(Array(framed(big).prefix(500))), [.error(.messageTooLarge(length: 1000, limit: 100))])
    XCTAssertTrue(framer.hasPartialMessage)
  }

  func testMalformedHeaderLineRecovers() {
    // With a usable length the body is skipped by length.
    let stream = bytes("Content-Length: 2\r\nthis is not a header\r\n\r\n{}") + framed(#"{"ok":8}"#)
    assertEvents(stream, [.error(.malformedHeaderLine("this is not a header")), .message(bytes(#"{"ok":8}"#))])
    // Without one, the framer resynchronises on the next Content-Length.
    let garbage = bytes("garbage line\r\n\r\n{\"lost\":true}") + framed(#"{"ok":9}"#)
    assertEvents(garbage, [.error(.malformedHeaderLine("garbage line")), .message(bytes(#"{"ok":9}"#))])
  }

  func testHeaderTooLargeRecovers() {
    let stream = bytes(String(repeating: "X-Filler: 0123456789\r\n", count: 10)) + framed(#"{"ok":10}"#)
    var framer = MessageFramer(maxMessageSize: 1 << 20, maxHeaderSize: 64)
    var got: [FramerEvent] = []
    for byte in stream { got += framer.push([byte]) }
    XCTAssertEqual(got, [.error(.headerTooLarge(limit: 64)), .message(bytes(#"{"ok":10}"#))])
  }

  /// An overlong header line without a line break that runs into the next message in the same read: the next
  /// message is still delivered, chunked in any way.
  func testOverlongHeaderLineRunningIntoTheNextMessageKeepsThatMessage() {
    let stream = bytes(String(repeating: "x", count: 200)) + framed(#"{"ok":11}"#) + framed(#"{"ok":12}"#)
    for chunk in [stream.count, 1, 7, 100] {
      var framer = MessageFramer(maxMessageSize: 1 << 20, maxHeaderSize: 64)
      var got: [FramerEvent] = []
      var index = 0
      while index < stream.count {
        got += framer.push(Array(stream[index..<min(stream.count, index + chunk)]))
        index += chunk
      }
      XCTAssertEqual(
        got, [.error(.headerTooLarge(limit: 64)), .message(bytes(#"{"ok":11}"#)), .message(bytes(#"{"ok":12}"#))],
        "chunks of \(chunk)")
    }
  }

  /// Found by Tests/Fuzz/FuzzFramer: a header block that reaches the limit exactly before its closing "\r\n" was
  /// finished when the "\r\n" came in the same read, and found too large when the "\r" came alone (then
  /// resynchronised on a `Content-Length` inside it), so which messages came through depended on the chunking. The
  /// limit now applies at the same byte in both cases.
  func testHeaderBlockAtTheLimitGivesTheSameEventsInAnyChunking() {
    let line = "X: 1}Content-Length: 9" + String(repeating: " ", count: 7) + "\n"
    XCTAssertEqual(line.utf8.count, 30)
    let stream = bytes(line + "\r\n") + bytes(#"{"ok":13}"#) + framed(#"{"ok":14}"#)
    var expected: [FramerEvent]?
    for chunk in [stream.count, 1, 2, 5, 16, 31] {
      var framer = MessageFramer(maxMessageSize: 1 << 20, maxHeaderSize: 30)
      var got: [FramerEvent] = []
      var index = 0
      while index < stream.count {
        got += framer.push(Array(stream[index..<min(stream.count, index + chunk)]))
        index += chunk
      }
      if let expected { XCTAssertEqual(got, expected, "chunks of \(chunk)") } else { expected = got }
    }
    XCTAssertEqual(expected?.first, .error(.headerTooLarge(limit: 30)))
    XCTAssertEqual(expected?.last, .message(bytes(#"{"ok":14}"#)))
  }

  func testSeveralErrorsInARowThenValid() {
    let stream =
      bytes("Content-Type: a\r\n\r\nxx") + bytes("Content-Length: nope\r\n\r\nyy") + framed(#"{"a":1}"#)
      + bytes("Content-Length: -1\r\n\r\n") + framed(#"{"b":2}"#)
    assertEvents(
      stream,
      [
        .error(.missingContentLength), .error(.invalidContentLength(value: "nope")), .message(bytes(#"{"a":1}"#)),
        .error(.invalidContentLength(value: "-1")), .message(bytes(#"{"b":2}"#)),
      ])
  }

  func testPartialMessageAtEnd() {
    var framer = MessageFramer()
    XCTAssertFalse(framer.hasPartialMessage)
    XCTAssertEqual(framer.push(bytes("Content-Len")), [])
    XCTAssertTrue(framer.hasPartialMessage)
    XCTAssertEqual(framer.push(bytes("gth: 4\r\n\r\nnu")), [])
    XCTAssertTrue(framer.hasPartialMessage)
    XCTAssertEqual(framer.push(bytes("ll")), [.message(bytes("null"))])
    XCTAssertFalse(framer.hasPartialMessage)
    XCTAssertEqual(framer.push(bytes("\r\n")), [])
    XCTAssertFalse(framer.hasPartialMessage)
  }

  func testRawBufferOverload() {
    var framer = MessageFramer()
    let stream = framed("[1]") + framed("[2]")
    let got = stream.withUnsafeBytes { framer.push($0) }
    XCTAssertEqual(got, [.message(bytes("[1]")), .message(bytes("[2]"))])
  }

  func testErrorDescriptions() {
    XCTAssertTrue("\(FramingError.missingContentLength)".contains("Content-Length"))
    XCTAssertTrue("\(FramingError.invalidContentLength(value: "abc"))".contains("abc"))
    XCTAssertTrue("\(FramingError.messageTooLarge(length: 5, limit: 4))".contains("limit of 4"))
  }
}
