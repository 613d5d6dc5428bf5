import XCTest

@testable import SyntaxCheck

final class ModeTests: XCTestCase {
  func mode(_ language: LanguageSpec, _ document: String) -> CompletionMode {
    let (p, s) = cursor(document)
    return completionMode(prefix: p, suffix: s, language: language)
  }

  func testTextAfterCursorIsSingleLine() {
    XCTAssertEqual(mode(Languages.python, "print(‸x)\n"), .singleLine)
    XCTAssertEqual(mode(Languages.swift, "let a = ‸ + 1\n"), .singleLine)
  }

  func testBlockOpenersAreBlock() {
    XCTAssertEqual(mode(Languages.python, "def f(x):‸\n"), .block)
    XCTAssertEqual(mode(Languages.python, "def f(x):\n    ‸\n"), .block)
    XCTAssertEqual(mode(Languages.python, "def f(x):  # comment\n    ‸\nprint(1)\n"), .block)
    XCTAssertEqual(mode(Languages.c, "int main(void) {\n    ‸\n}\n"), .block)
    XCTAssertEqual(mode(Languages.javascript, "function f() {‸}\n"), .block)
    XCTAssertEqual(mode(Languages.ruby, "def greet(name)\n  ‸\nend\n"), .block)
    XCTAssertEqual(mode(Languages.lua, "if x then‸\n"), .block)
    XCTAssertEqual(mode(Languages.shell, "for f in *.txt; do\n  ‸\ndone\n"), .block)
  }

  /// A blank line right after an opener whose body goes on below: a statement is inserted at the body's start.
  func testInsertingAtTheStartOfAnExistingBodyIsSingleLine() {
    XCTAssertEqual(mode(Languages.python, "while True:\n    ‸\n    if done:\n        break\n"), .singleLine)
    XCTAssertEqual(mode(Languages.python, "def f(x):\n    ‸\n\n    return x\n"), .block, "a blank line between")
    XCTAssertEqual(mode(Languages.python, "def f(x):\n    ‸\ndef g():\n    pass\n"), .block, "no body below")
    XCTAssertEqual(mode(Languages.c, "int main(void) {\n    ‸\n    return 0;\n}\n"), .block, "braces: unchanged")
  }

  func testMultiLineStringsAreBlockOnlyOnABlankLine() {
    let doc = "def f(x):\n    \"\"\"Summary.\n\n    "
    XCTAssertEqual(mode(Languages.python, doc + "‸\n    \"\"\"\n"), .block)
    XCTAssertEqual(mode(Languages.python, doc + "The argu‸\n    \"\"\"\n"), .singleLine)
    XCTAssertEqual(mode(Languages.python, "def f(x):\n    \"\"\"Summ‸\n"), .block)  // opened on this line
    XCTAssertEqual(mode(Languages.javascript, "const s = `line one\n‸\n`;\n"), .block)
    XCTAssertEqual(mode(Languages.javascript, "const s = `line one\nand tw‸\n`;\n"), .singleLine)
  }

  func testLinesBetweenStatementsAreSingleLine() {
    XCTAssertEqual(mode(Languages.python, "def f(x):\n    a = 1\n    ‸\n    return a\n"), .singleLine)
    XCTAssertEqual(mode(Languages.go, "x := 1‸\ny := 2\n"), .singleLine)
    XCTAssertEqual(mode(Languages.python, "x = [1,‸\n"), .singleLine)  // a bracket is not a block
  }

  func testEndOfBlockIsBlock() {
    XCTAssertEqual(mode(Languages.python, "def f(x):\n    a = 1\n    ‸\n\ndef g():\n    pass\n"), .block)
    XCTAssertEqual(mode(Languages.swift, "func f() {\n  let a = 1\n  ‸\n}\n"), .block)
    XCTAssertEqual(mode(Languages.python, "import os\n‸"), .block)
  }

  func testCommentsAndStrings() {
    XCTAssertEqual(mode(Languages.python, "x = 1  # the ‸\n"), .singleLine)
    XCTAssertEqual(mode(Languages.c, "/* a ‸\n"), .singleLine)
    XCTAssertEqual(mode(Languages.python, "def f():\n    \"\"\"Returns ‸\n"), .block)
    XCTAssertEqual(mode(Languages.javascript, "const html = `<div>‸"), .block)
    XCTAssertEqual(mode(Languages.python, "x = 'abc‸'\n"), .singleLine)
  }
}

final class ModeEdgeTests: XCTestCase {
  func mode(_ language: LanguageSpec, _ document: String) -> CompletionMode {
    let (p, s) = cursor(document)
    return completionMode(prefix: p, suffix: s, language: language)
  }

  func testKeywordHeaderVersusStatementInProgress() {
    XCTAssertEqual(mode(Languages.lua, "if not out then out = ‸\n"), .singleLine)
    XCTAssertEqual(mode(Languages.lua, "local f = function(a)‸\n"), .block)
    XCTAssertEqual(mode(Languages.ruby, "class Greeter‸\n"), .block)
    XCTAssertEqual(mode(Languages.ruby, "x = 1 if y‸\n"), .singleLine)
  }

  func testGapBetweenDefinitionsIsBlock() {
    let doc = "class A:\n    def f(self):\n        pass\n\n    ‸\n\n    def g(self):\n        pass\n"
    XCTAssertEqual(mode(Languages.python, doc), .block)
  }
}

final class ModeSettingTests: XCTestCase {
  func testSettingMapping() {
    XCTAssertEqual(CompletionMode(setting: "line"), .singleLine)
    XCTAssertEqual(CompletionMode(setting: "Block"), .block)
    XCTAssertNil(CompletionMode(setting: "auto"))
  }
}
