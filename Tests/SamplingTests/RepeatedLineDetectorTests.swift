import XCTest

@testable import Sampling

final class RepeatedLineDetectorTests: XCTestCase {
  let detector = RepeatedLineDetector()

  func testDetectsARepeatedCompleteLine() {
    let text = "total = compute(a)\nprint(total)\ntotal = compute(a)\n"
    let found = detector.repeatedLine(in: text)
    XCTAssertEqual(found?.lineIndex, 2)
    XCTAssertEqual(found?.earlierLineIndex, 0)
    XCTAssertEqual(found?.start, "total = compute(a)\nprint(total)\n".utf8.count)
    XCTAssertEqual(found?.text, "total = compute(a)")
  }

  func testIgnoresTrivialLinesAndUnfinishedLines() {
    XCTAssertNil(detector.repeatedLine(in: "if a {\n}\nif b {\n}\n"))
    XCTAssertNil(detector.repeatedLine(in: "x = value + 1\nx = value + 1"))  // still being written
    XCTAssertNotNil(detector.repeatedLine(in: "x = value + 1\nx = value + 1", final: true))
    XCTAssertNil(detector.repeatedLine(in: "x = value + 1\n    x = value + 1\n"))  // indentation differs
  }

  func testIgnoresTrailingWhitespaceAndCRLF() {
    XCTAssertNotNil(detector.repeatedLine(in: "let a = load()  \r\nlet a = load()\r\n"))
  }
}
