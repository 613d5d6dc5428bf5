import XCTest

@testable import SyntaxCheck

/// The statement rules of the final check (`StatementRules`, `StreamingStopper.checkSyntax`, truncation in
/// `finalize`): what bracket and string balance cannot see.
final class StatementRuleTests: XCTestCase {
  func finalize(
    _ language: LanguageSpec, _ document: String, _ candidate: String, mode: CompletionMode = .block,
    truncated: Bool = false
  ) -> FinalizedCandidate {
    let (p, s) = cursor(document)
    return StreamingStopper(prefix: p, suffix: s, language: language, mode: mode)
      .finalize(candidate, truncated: truncated)
  }

  // MARK: Cuts at line ends

  func testCutFallsAtALineEndNotInsideTheLine() {
    // The old token-level cut returned `max` (a truncated expression); no line of it ends, so it is dropped.
    let r = finalize(Languages.swift, "let v = ‸\nprint(v)\n", "max(a, min(b,", mode: .singleLine)
    XCTAssertNil(r.text, r.trace.joined(separator: "\n"))
    // A finished first line is kept when only the second line breaks the brackets.
    let two = finalize(Languages.swift, "func f() {\n  ‸\n}\n", "let a = g(1)\n  let b = max(a, min(b,")
    XCTAssertEqual(two.text, "let a = g(1)", two.trace.joined(separator: "\n"))
  }

  func testALineCutByTimeIsShownUpToItsLastCompletePiece() {
    // Generation stopped inside the call: the part before the bracket is what was generated in time.
    let r = finalize(
      Languages.python, "import os\ndef f(a):\n    return ‸\n", "os.path.join(a, 'x", mode: .singleLine,
      truncated: true)
    XCTAssertEqual(r.text, "os.path.join", r.trace.joined(separator: "\n"))
    XCTAssertTrue(r.trace.contains { $0.hasPrefix("cut inside the unfinished line") }, r.trace.joined(separator: "\n"))
    // A finished candidate is never cut inside its line.
    let whole = finalize(
      Languages.python, "import os\ndef f(a):\n    return ‸\n", "os.path.join(a, 'x", mode: .singleLine)
    XCTAssertNil(whole.text, whole.trace.joined(separator: "\n"))
  }

  func testTextAfterTheCursorStillAllowsTokenCuts() {
    let r = finalize(Languages.python, "x = compute(‸)\n", "a, \"oops", mode: .singleLine)
    XCTAssertEqual(r.text, "a,")
  }

  // MARK: Dangling endings

  func testPythonLineEndingInAnOperatorIsUnfinished() {
    let document = "x = 1\n‸\nprint(x)\n"
    XCTAssertNil(finalize(Languages.python, document, "y = x +", mode: .singleLine).text)
    XCTAssertNil(finalize(Languages.python, document, "y = x.", mode: .singleLine).text)
    XCTAssertEqual(finalize(Languages.python, document, "y = x + 1", mode: .singleLine).text, "y = x + 1")
    // A float literal ends in `.`; `import *` ends in `*`: both finished.
    XCTAssertEqual(finalize(Languages.python, document, "y = 1.", mode: .singleLine).text, "y = 1.")
    XCTAssertEqual(finalize(Languages.python, document, "from os import *", mode: .singleLine).text, "from os import *")
  }

  func testOperatorRunsAreComparedWhole() {
    let document = "function f() {\n  let i = 0\n  ‸\n  return i\n}\n"
    XCTAssertEqual(finalize(Languages.javascript, document, "i++", mode: .singleLine).text, "i++")
    XCTAssertNil(finalize(Languages.javascript, document, "i = i +", mode: .singleLine).text)
  }

  func testKeywordThatNeedsMoreIsUnfinished() {
    let document = "switch k {\ncase .a:\n  f()\n‸\n  g()\n}\n"
    let r = finalize(Languages.swift, document, "case", mode: .singleLine)
    XCTAssertNil(r.text, r.trace.joined(separator: "\n"))
    XCTAssertTrue(r.trace.contains { $0.contains("`case`") }, r.trace.joined(separator: "\n"))
    let python = finalize(Languages.python, "x = 1\n‸\nprint(x)\n", "y = x and", mode: .singleLine)
    XCTAssertNil(python.text)
  }

  func testWordAfterADotIsAMemberNotAKeyword() {
    // `is` after a dot is a member name (valid Swift with backquotes elsewhere; here just a member access).
    let document = "func f() {\n  ‸\n  g()\n}\n"
    XCTAssertEqual(finalize(Languages.swift, document, "let a = b.is", mode: .singleLine).text, "let a = b.is")
    XCTAssertNil(finalize(Languages.swift, document, "let a = b is", mode: .singleLine).text)
  }

  func testMultiLineCandidateIsCutToItsLastFinishedStatement() {
    let r = finalize(Languages.python, "def f(x):\n    ‸\n", "y = x * 2\n    z = y +")
    XCTAssertEqual(r.text, "y = x * 2", r.trace.joined(separator: "\n"))
  }

  func testDanglingEndingsInsideBracketsAreLeftToTheSuffix() {
    // Inside an argument list a line break continues the expression.
    let r = finalize(Languages.python, "total = add(\n    1,\n    ‸\n    3)\n", "2 +", mode: .singleLine)
    XCTAssertEqual(r.text, "2 +")
  }

  // MARK: Header keywords

  func testHeaderWithoutItsBlockOpenerIsUnfinished() {
    let swift = finalize(Languages.swift, "func f() {\n  ‸\n}\n", "switch (self)")
    XCTAssertNil(swift.text, swift.trace.joined(separator: "\n"))
    let python = finalize(Languages.python, "def f(a):\n    ‸\n", "if not a or not b", truncated: true)
    XCTAssertNil(python.text, python.trace.joined(separator: "\n"))
    // One-line forms carry their opener.
    XCTAssertEqual(
      finalize(Languages.swift, "func f() {\n  ‸\n}\n", "guard let x else { return }").text,
      "guard let x else { return }")
    XCTAssertEqual(finalize(Languages.python, "def f(a):\n    ‸\n", "if a: return 1").text, "if a: return 1")
  }

  func testOpenerBeforeTheCursorCounts() {
    let r = finalize(Languages.python, "def f(x):\n    if x: ‸\n    return 0\n", "return 1", mode: .singleLine)
    XCTAssertEqual(r.text, "return 1", r.trace.joined(separator: "\n"))
  }

  func testLineStartingWithACloserIsNotAHeader() {
    let document = "func f() {\n  var n = 0\n  repeat {\n    n += 1\n  ‸\n}\n"
    XCTAssertEqual(finalize(Languages.swift, document, "} while n < 3", mode: .singleLine).text, "} while n < 3")
  }

  // MARK: Indentation

  func testBlockOpenedOnTheLastLineNeedsABody() {
    let document = "def f(self):\n    x = 1\n    ‸\n    return x\n"
    let r = finalize(Languages.python, document, "while True:", mode: .singleLine)
    XCTAssertNil(r.text, r.trace.joined(separator: "\n"))
    XCTAssertTrue(r.trace.contains { $0.contains("needs a body") }, r.trace.joined(separator: "\n"))
    // With its body below the cursor, the header is finished.
    let withBody = finalize(Languages.python, "def f(a):\n    ‸\n        return a\n", "if a:", mode: .singleLine)
    XCTAssertEqual(withBody.text, "if a:", withBody.trace.joined(separator: "\n"))
  }

  func testUnexpectedIndentationIsCutBack() {
    let r = finalize(Languages.python, "def f():\n    x = 1\n    ‸\n    return x\n", "y = 2\n        z = 3")
    XCTAssertEqual(r.text, "y = 2", r.trace.joined(separator: "\n"))
  }

  func testDedentMustMatchAnEnclosingLevel() {
    let document = "class A:\n    def f(self):\n        x = 1\n        ‸\n"
    let r = finalize(Languages.python, document, "y = 2\n      z = 3")
    XCTAssertEqual(r.text, "y = 2", r.trace.joined(separator: "\n"))
    // A dedent to the class body is fine (the check alone: in block mode the stop rules end the block there).
    let (p, s) = cursor(document)
    let stopper = StreamingStopper(prefix: p, suffix: s, language: Languages.python, mode: .block)
    let ok = "y = 2\n\n    def g(self):\n        pass"
    XCTAssertEqual(stopper.checkSyntax(ok).0, ok)
    let bad = stopper.checkSyntax("y = 2\n\n     def g(self):\n        pass").0
    XCTAssertEqual(bad?.trimmingCharacters(in: .whitespacesAndNewlines), "y = 2")
  }

  func testRestatedIndentationOfTheFirstLineIsRemoved() {
    let document =
      "class T:\n    def a(self):\n        self.x = 1\n\n    ‸\n        \"\"\"Doc.\"\"\"\n        return 2\n"
    let r = finalize(Languages.python, document, "    def b(self):")
    XCTAssertEqual(r.text, "def b(self):", r.trace.joined(separator: "\n"))
    // Indentation that the block needs is left alone.
    let body = finalize(Languages.python, "def f(a):\n    ‸\n", "    return a", mode: .block)
    XCTAssertNotNil(body.text)
  }

  // MARK: Separators

  func testElementBetweenCommaSeparatedElementsNeedsItsComma() {
    let document = "d = {\n    'a': 1,\n    ‸\n    'c': 3,\n}\n"
    XCTAssertNil(finalize(Languages.python, document, "'b': 2", mode: .singleLine).text)
    XCTAssertEqual(finalize(Languages.python, document, "'b': 2,", mode: .singleLine).text, "'b': 2,")
    // Before the closer, the last element needs none.
    let last = finalize(Languages.python, "d = {\n    'a': 1,\n    ‸\n}\n", "'b': 2", mode: .singleLine)
    XCTAssertEqual(last.text, "'b': 2")
  }

  // MARK: Truncation

  func testTruncatedCandidateLosesItsUnfinishedLastLine() {
    let r = finalize(Languages.python, "def f():\n    ‸\n", "a = 1\n    b = compute", truncated: true)
    XCTAssertEqual(r.text, "a = 1", r.trace.joined(separator: "\n"))
    XCTAssertTrue(r.trace.contains { $0.contains("generation stopped before the line was finished") })
    // Not truncated: the same text is kept whole.
    XCTAssertEqual(
      finalize(Languages.python, "def f():\n    ‸\n", "a = 1\n    b = compute").text, "a = 1\n    b = compute")
    // A lone first line is kept when it passes the check.
    XCTAssertEqual(
      finalize(Languages.python, "x = 1\n‸\nprint(x)\n", "y = compute", mode: .singleLine, truncated: true).text,
      "y = compute")
  }
}
