import XCTest

@testable import SyntaxCheck

final class RepeatedLineDetectorTests: XCTestCase {
  let consecutive = RepeatedLineDetector()
  let any = RepeatedLineDetector(policy: .anyEarlierLine)

  func testDetectsALineRepeatedRightAfterItself() {
    let text = "print(total)\ntotal = compute(a)\ntotal = compute(a)\n"
    let found = consecutive.repeatedLine(in: text)
    XCTAssertEqual(found?.lineIndex, 2)
    XCTAssertEqual(found?.earlierLineIndex, 1)
    XCTAssertEqual(found?.start, "print(total)\ntotal = compute(a)\n".utf8.count)
    XCTAssertEqual(found?.text, "total = compute(a)")
  }

  func testDetectsARepeatedBlockAtItsSecondCopy() {
    let text = "a = load(x)\nb = save(a)\na = load(x)\nb = save(a)\n"
    let found = consecutive.repeatedLine(in: text)
    XCTAssertEqual(found?.lineIndex, 2)
    XCTAssertEqual(found?.earlierLineIndex, 0)
    XCTAssertEqual(found?.start, "a = load(x)\nb = save(a)\n".utf8.count)
    XCTAssertNil(consecutive.repeatedLine(in: "a = load(x)\nb = save(a)\na = load(x)\n"))  // not yet a loop
  }

  func testSporadicRepeatsAreLegitimateUnlessAskedOtherwise() {
    let go = "if err != nil {\n\treturn err\n}\nx, err := g()\nif err != nil {\n"
    XCTAssertNil(consecutive.repeatedLine(in: go))
    XCTAssertEqual(any.repeatedLine(in: go)?.earlierLineIndex, 0)
  }

  func testIgnoresTrivialLinesAndUnfinishedLines() {
    XCTAssertNil(consecutive.repeatedLine(in: "}\n}\n"))
    XCTAssertNil(consecutive.repeatedLine(in: "x = value + 1\nx = value + 1"))  // still being written
    XCTAssertNotNil(consecutive.repeatedLine(in: "x = value + 1\nx = value + 1", final: true))
    XCTAssertNil(consecutive.repeatedLine(in: "x = value + 1\n    x = value + 1\n"))  // indentation differs
  }

  func testIgnoresTrailingWhitespaceAndCRLF() {
    XCTAssertNotNil(consecutive.repeatedLine(in: "let a = load()  \r\nlet a = load()\r\n"))
  }

  func testFirstRepetitionFindsTheEarliestSecondCopyOverTheWholeText() {
    // Lines 1-2 repeat as lines 3-4 (a block), and line 5 repeats line 4's text later: the block comes first.
    let text = "a = compute(1)\nb = compute(2)\na = compute(1)\nb = compute(2)\nb = compute(2)\nend"
    let found = consecutive.firstRepetition(in: text)
    XCTAssertEqual(found?.lineIndex, 2)
    XCTAssertEqual(found?.earlierLineIndex, 0)
    XCTAssertEqual(found?.start, "a = compute(1)\nb = compute(2)\n".utf8.count)
    XCTAssertNil(consecutive.firstRepetition(in: "x = 1\nx = 1\n}\n}\n"), "short lines may repeat")
    XCTAssertNil(consecutive.firstRepetition(in: "total = compute(a)\nprint(total)\ntotal = compute(a)"))
    XCTAssertEqual(RepeatedLineDetector.lines("a\r\nb\n").map(\.text), ["a", "b", ""])
  }
}
