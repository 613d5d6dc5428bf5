import XCTest

@testable import SyntaxCheck

final class FinalizeTests: XCTestCase {
  func finalize(_ language: LanguageSpec, _ document: String, _ candidate: String, mode: CompletionMode = .block)
    -> FinalizedCandidate
  {
    let (p, s) = cursor(document)
    return StreamingStopper(prefix: p, suffix: s, language: language, mode: mode).finalize(candidate)
  }

  func testUnterminatedStringIsCutBack() {
    let r = finalize(Languages.python, "x = compute(‸)\n", "a, \"oops", mode: .singleLine)
    XCTAssertEqual(r.text, "a,")
    XCTAssertTrue(r.trace.contains { $0.hasPrefix("cut at") }, r.trace.joined(separator: "\n"))
  }

  func testUnclosedBracketIsCutBack() {
    // Cuts fall at line ends (a cut inside the line would leave `let v = max`): the finished first line stays.
    let r = finalize(Languages.swift, "let v = ‸\nprint(v)\n", "f(1)\nlet w = max(a, min(b,", mode: .block)
    XCTAssertEqual(r.text, "f(1)")
  }

  func testCandidateThatOnlyBreaksIsDropped() {
    let r = finalize(Languages.c, "int a = f(‸);\n", "\"", mode: .singleLine)
    XCTAssertNil(r.text)
  }

  func testBalancedCandidatePasses() {
    let r = finalize(Languages.kotlin, "fun f() {\n    ‸\n}\n", "val s = \"${g(1)}\"\n    println(s)")
    XCTAssertEqual(r.text, "val s = \"${g(1)}\"\n    println(s)")
    XCTAssertEqual(r.trace.filter { $0.hasPrefix("cut") || $0.hasPrefix("dropped") }, [])
  }

  func testOpeningABlockCommentIsCutBack() {
    let r = finalize(Languages.c, "int x = 1;‸\nint y = 2;\n", " /* set x", mode: .singleLine)
    XCTAssertEqual(r.text, nil)  // the comment would swallow the rest of the file; nothing before it is code
  }

  func testCandidateInsideStringMustStayInside() {
    let (p, s) = cursor("const s = 'abc‸';\n")
    let stopper = StreamingStopper(prefix: p, suffix: s, language: Languages.javascript, mode: .singleLine)
    // The stopper ends at the quote (the suffix ends the string)...
    XCTAssertEqual(stopper.finalize("def' + x + 'y").text, "def")
    // ...and the syntax check alone accepts a candidate that reopens a string the suffix closes,
    XCTAssertEqual(stopper.checkSyntax("def' + x + 'y").0, "def' + x + 'y")
    // but cuts one that leaves the suffix's quote opening a new, unterminated string.
    XCTAssertEqual(stopper.checkSyntax("def' + x").0, "def")
  }
}
