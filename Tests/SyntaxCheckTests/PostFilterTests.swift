import XCTest

@testable import SyntaxCheck

final class PostFilterTests: XCTestCase {
  func apply(_ language: LanguageSpec, _ document: String, _ candidate: String) -> (String?, [String]) {
    let (p, s) = cursor(document)
    return PostFilters.apply(candidate, context: CursorContext(prefix: p, suffix: s, language: language))
  }

  func testWhitespaceOnlyIsDropped() {
    XCTAssertNil(apply(Languages.python, "x = 1\n‸", "   \n\t\n").0)
  }

  func testRepeatedLinesAreCut() {
    let candidate = "total = add(a, b)\nprint(total)\ntotal = add(a, b)\nprint(total)\n"
    let (text, log) = apply(Languages.python, "‸", candidate)
    XCTAssertEqual(text, "total = add(a, b)\nprint(total)")
    XCTAssertEqual(log.count, 1)
  }

  func testRepeatedShortBlocksAreCut() {
    let (text, _) = apply(Languages.c, "‸", "a++;\nb++;\na++;\nb++;\n")
    XCTAssertEqual(text, "a++;\nb++;")
  }

  func testRepeatingTheLinesBelowIsDropped() {
    let (text, log) = apply(Languages.python, "def f():\n    ‸\n    return compute(1)\n", "return compute(1)")
    XCTAssertNil(text)
    XCTAssertEqual(log, ["dropped: repeats the lines below the cursor"])
  }

  func testFirstLineIndentationIsNotDoubled() {
    let doc = "def f(x):\n    ‸\n"
    let (text, _) = apply(Languages.python, doc, "    if x:\n        return 1")
    XCTAssertEqual(text, "if x:\n        return 1")
  }

  func testTabsBecomeTheDocumentsSpaces() {
    let doc = "class A:\n    def f(self):\n        pass\n    def g(self):‸\n"
    let (text, log) = apply(Languages.python, doc, "\n\tif self:\n\t\treturn 1")
    XCTAssertEqual(text, "\n    if self:\n        return 1")
    XCTAssertTrue(log.contains { $0.contains("tabs") })
  }

  func testSpacesBecomeTheDocumentsTabs() {
    let doc = "func f() {\n\tif a {\n\t\tb()\n\t}\n}\nfunc g() {‸\n"
    let (text, _) = apply(Languages.go, doc, "\n    x := 1\n    if x > 0 {\n        y()\n    }\n}")
    XCTAssertEqual(text, "\n\tx := 1\n\tif x > 0 {\n\t\ty()\n\t}\n}")
  }

  func testNarrowStepsAreRescaled() {
    let doc = "def a():\n    if x:\n        pass\n\ndef b():‸\n"
    let (text, _) = apply(Languages.python, doc, "\n  for i in r:\n    f(i)\n  return 2")
    XCTAssertEqual(text, "\n    for i in r:\n        f(i)\n    return 2")
  }

  func testTrailingWhitespaceTrimmed() {
    let (text, _) = apply(Languages.python, "x = ‸\n", "f(a)   \n   ")
    XCTAssertEqual(text, "f(a)")
    let (glued, _) = apply(Languages.python, "x = ‸+ 1\n", "y ")
    XCTAssertEqual(glued, "y ")  // the space separates the completion from the suffix
  }
}
