import XCTest

@testable import SyntaxCheck

final class StopperTests: XCTestCase {
  // MARK: Single line

  func testSingleLineStopsAtEndOfLine() {
    let r = stream(Languages.python, "x = ‸\ny = 2\n", "compute(1)\nz = 3\n")
    XCTAssertEqual(r.mode, .singleLine)
    XCTAssertEqual(r.kept, "compute(1)")
    XCTAssertEqual(r.decision.rule, .endOfLine)
  }

  func testSingleLineMayStartWithOneLineBreak() {
    let r = stream(Languages.c, "int x = 1;‸\n", "\nint y = 2;\nint z;", mode: .singleLine)
    XCTAssertEqual(r.kept, "\nint y = 2;")
  }

  func testClosingTheSuffixBracketStops() {
    let r = stream(Languages.python, "print(‸)\n", "\"hello\", name)\n")
    XCTAssertEqual(r.kept, "\"hello\", name")
    XCTAssertEqual(r.decision.rule, .closesOuter)
    XCTAssertTrue(r.trace.last!.contains("cut at 13"), r.trace.joined(separator: "\n"))
  }

  func testOwnBracketsDoNotStop() {
    let r = stream(Languages.javascript, "foo(‸);\n", "bar(1, [2, 3]), baz)")
    XCTAssertEqual(r.kept, "bar(1, [2, 3]), baz")
  }

  func testClosingAnUnclosedBracketIsAllowedWhenTheSuffixDoesNotClose() {
    let r = stream(Languages.python, "print(‸\n\nx = 1\n", "\"hi\")\n")
    XCTAssertEqual(r.kept, "\"hi\")")
    XCTAssertEqual(r.final.text, "\"hi\")")
  }

  func testBracketsInStringsDoNotStop() {
    let r = stream(Languages.python, "f(‸)\n", "\")\", '(', x)")
    XCTAssertEqual(r.kept, "\")\", '(', x")
  }

  func testEndingTheCursorsStringStopsWhenSuffixEndsIt() {
    let r = stream(Languages.python, "print(\"hello ‸\")\n", "world\")")
    XCTAssertEqual(r.kept, "world")
    XCTAssertEqual(r.final.text, "world")
  }

  func testRestOfLineDuplicationStops() {
    let r = stream(Languages.c, "int x = ‸;\n", "compute(a, b);")
    XCTAssertEqual(r.kept, "compute(a, b)")
    XCTAssertEqual(r.decision.rule, .duplicatesSuffix)
    let own = stream(Languages.python, "total = ‸ + tax\n", "price * (1 + tax) + tax")
    XCTAssertEqual(own.kept, "price * (1 + tax) ")
    XCTAssertEqual(own.final.text, "price * (1 + tax)")
  }

  // MARK: Blocks

  /// HumanEval's prompts end below the docstring with the cursor at column 0: the completion is the body and ends
  /// at the first line at or left of the `def` (test code, prints), wherever the cursor sits on that blank line.
  func testBodyBelowADocstringEndsAtTheDefinitionsLevel() {
    let doc =
      "from typing import List\n\n\ndef f(x: float,\n      y: int) -> float:\n    \"\"\" Doc.\n    >>> f(1, 2)\n    3\n    \"\"\"\n"
    let body = "    return x + y\n"
    let tail = "\n# Test the function\nprint(f(1, 2))\n"
    for cursorIndent in ["", "    "] {
      let r = stream(
        Languages.python, doc + cursorIndent + "‸", String(body.dropFirst(cursorIndent.count)) + tail, mode: .block)
      XCTAssertEqual(
        r.kept.trimmingCharacters(in: .whitespacesAndNewlines), "return x + y", r.trace.joined(separator: "\n"))
      XCTAssertEqual(r.decision.rule, .endOfBlock)
    }
    let oneLine = stream(
      Languages.python, "class C:\n    '''Doc.'''\n‸", "    x = 1\n\ny = 2\n", mode: .block)
    XCTAssertEqual(oneLine.kept, "    x = 1\n")
    // A function with a body already: at column 0 the completion may write top-level code.
    let after = stream(
      Languages.python, "def f():\n    \"\"\"Doc.\"\"\"\n    return 1\n\n‸", "def g():\n    return 2\n", mode: .block)
    XCTAssertEqual(after.kept, "def g():\n    return 2\n")
  }

  /// A markdown fence after the code (chat-tuned models close their answers with one) is never kept.
  func testMarkdownFenceStops() {
    let r = stream(Languages.python, "def f():\n    ‸\n", "return 1\n    ```\n", mode: .block)
    XCTAssertEqual(r.decision.rule, .markdownFence)
    XCTAssertEqual(r.final.text?.trimmingCharacters(in: .whitespacesAndNewlines), "return 1")
    let first = stream(Languages.python, "x = 1\n‸", "```python\ny = 2\n", mode: .block)
    XCTAssertEqual(first.kept, "")
    // Inside a string it is text.
    let quoted = stream(Languages.python, "s = '''\n‸", "```\ncode\n```\n'''\n", mode: .block)
    XCTAssertNotEqual(quoted.decision.rule, .markdownFence)
  }

  func testPythonDedentEndsTheBody() {
    let doc = "def area(r):\n    ‸\n\ndef other():\n    pass\n"
    let r = stream(Languages.python, doc, "return 3.14159 * r * r\n\ndef perimeter(r):\n    return 2 * r\n")
    XCTAssertEqual(r.mode, .block)
    XCTAssertEqual(r.decision.rule, .endOfBlock)
    XCTAssertEqual(r.final.text, "return 3.14159 * r * r")
  }

  func testPythonBodyAfterHeaderKeepsLoopsAndStatements() {
    let doc = "def total(xs):‸\n"
    let candidate = "\n    s = 0\n    for x in xs:\n        s += x\n    return s\nprint(total([1]))\n"
    let r = stream(Languages.python, doc, candidate)
    XCTAssertEqual(r.final.text, "\n    s = 0\n    for x in xs:\n        s += x\n    return s")
  }

  func testPythonOwnBlockEndsUnlessContinued() {
    let doc = "import os\n\n‸"
    let candidate = "def main():\n    if os.name:\n        pass\n    else:\n        print(1)\n\nmain()\n"
    let r = stream(Languages.python, doc, candidate)
    XCTAssertEqual(r.final.text, "def main():\n    if os.name:\n        pass\n    else:\n        print(1)")
    let cont = stream(Languages.python, "x = 1\n‸", "if x:\n    a()\nelse:\n    b()\nc()\n")
    XCTAssertEqual(cont.final.text, "if x:\n    a()\nelse:\n    b()")
  }

  func testPythonMultilineStringDoesNotEndTheBlock() {
    let doc = "def f():\n    ‸\n"
    let r = stream(Languages.python, doc, "s = \"\"\"\nnot a dedent\n\"\"\"\n    return s\nx = 1\n")
    XCTAssertEqual(r.final.text, "s = \"\"\"\nnot a dedent\n\"\"\"\n    return s")
  }

  func testBraceOfTheEnclosingBlockStops() {
    let doc = "int main(void) {\n    ‸\n}\n"
    let r = stream(Languages.c, doc, "printf(\"}\");\n    return 0;\n}\nint other;")
    XCTAssertEqual(r.decision.rule, .closesOuter)
    XCTAssertEqual(r.final.text, "printf(\"}\");\n    return 0;")
  }

  func testOwnBraceBlockEndsAtItsLine() {
    let doc = "function f(xs) {\n  const a = 1;\n  ‸\n}\n"
    let r = stream(Languages.javascript, doc, "for (const x of xs) {\n    log(x);\n  }\n  return a;\n}\n", mode: .block)
    XCTAssertEqual(r.final.text, "for (const x of xs) {\n    log(x);\n  }")
    let chained = stream(
      Languages.javascript, doc, "if (a) {\n    b();\n  }\n  else {\n    c();\n  }\n  d();\n", mode: .block)
    XCTAssertEqual(chained.final.text, "if (a) {\n    b();\n  }\n  else {\n    c();\n  }")
  }

  func testRubyEndOfEnclosingDefStops() {
    let doc = "def greet(name)\n  ‸\nend\n"
    let r = stream(Languages.ruby, doc, "puts \"Hello, #{name}\" if name\nend\n\ndef other\nend\n")
    XCTAssertEqual(r.final.text, "puts \"Hello, #{name}\" if name")
  }

  func testShellDoneStops() {
    let doc = "for f in *.txt; do\n  ‸\ndone\n"
    let r = stream(Languages.shell, doc, "case $f in\n    a) echo a;;\n  esac\ndone\necho end\n")
    XCTAssertEqual(r.final.text, "case $f in\n    a) echo a;;\n  esac")
  }

  func testLuaEndStops() {
    let doc = "function f(t)\n  ‸\nend\n"
    let r = stream(Languages.lua, doc, "for i = 1, #t do print(t[i]) end\n  return #t\nend\n")
    XCTAssertEqual(r.final.text, "for i = 1, #t do print(t[i]) end\n  return #t")
  }

  func testSuffixLineDuplicationStops() {
    let doc = "def f(x):\n    y = x + 1\n    ‸\n    return y\n"
    let r = stream(Languages.python, doc, "y = y * 2\n    return y\n", mode: .block)
    XCTAssertEqual(r.decision.rule, .duplicatesSuffix)
    XCTAssertEqual(r.final.text, "y = y * 2")
  }

  func testTemplateLiteralWithNestedInterpolation() {
    let doc = "const msg = `Total: ${‸}`;\n"
    let r = stream(Languages.typescript, doc, "items.map(i => `${i.price}`).join(\", \")}`;")
    XCTAssertEqual(r.final.text, "items.map(i => `${i.price}`).join(\", \")")
  }

  func testRustRawStringAndLifetime() {
    let doc = "fn parse<'a>(s: &'a str) -> &'a str {\n    ‸\n}\n"
    let r = stream(Languages.rust, doc, "let re = r#\"}\"#;\n    s.trim_matches('}')\n}\n")
    XCTAssertEqual(r.final.text, "let re = r#\"}\"#;\n    s.trim_matches('}')")
  }

  func testGoRawString() {
    let doc = "func q() string {\n\treturn ‸\n}\n"
    let r = stream(Languages.go, doc, "`SELECT (a)\n}` + x\n}\n", mode: .block)
    XCTAssertEqual(r.final.text, "`SELECT (a)\n}` + x")
  }
}

final class StopperEdgeTests: XCTestCase {
  func testDuplicateOfNextLineAfterHeaderStops() {
    let r = stream(Languages.python, "def f():‸\n    return 1\n", "\n    return 1\n")
    XCTAssertEqual(r.decision.rule, .duplicatesSuffix)
    XCTAssertNil(r.final.text)
  }

  func testStopIsStickyAndFlushIsIdempotent() {
    let (p, s) = cursor("f(‸)\n")
    let stopper = StreamingStopper(prefix: p, suffix: s, language: Languages.python, mode: .singleLine)
    XCTAssertEqual(stopper.feed("a"), .continue)
    let first = stopper.feed(") + 1")
    XCTAssertTrue(first.isStop)
    XCTAssertEqual(stopper.feed("more"), first)
    XCTAssertEqual(stopper.flush(), first)
    XCTAssertEqual(stopper.finalize().text, "a")
  }

  func testWordSplitAcrossTheCursorIsOneWord() {
    // `en` + `d` is the keyword `end` closing the prefix's `def`.
    let r = stream(Languages.ruby, "def f\n  x = 1\nen‸\n", "d\n", mode: .block)
    XCTAssertEqual(r.final.text, "d")
  }
}

final class StopperRegressionTests: XCTestCase {
  func testFStringFormatSpecIsNotAComment() {
    var lexer = Lexer(spec: Languages.python)
    lexer.scan("s = f'<{id(self):#x} {x!r:>{width}}>'\nt = 1\n", final: true)
    XCTAssertEqual(lexer.state.stack, [])
    XCTAssertEqual(lexer.state.context, .code)
    XCTAssertEqual(lexer.state.errors, 0)
  }

  func testLineBreakInsideSingleLineInterpolationStaysOnItsLine() {
    var lexer = Lexer(spec: Languages.python)
    lexer.scan("name = f\"waitpid-{next(\nx = [1]\n", final: true)
    XCTAssertEqual(lexer.state.stack, [])
    XCTAssertEqual(lexer.state.errors, 1)
  }

  func testMultiLineSignatureOpensTheBody() {
    let swift = stream(
      Languages.swift, "func exit(\n    code: Int\n) -> Never {\n    ‸\n}\n",
      "guard code == 0 else {\n        fatal()\n    }\n    done()\n}\n")
    XCTAssertEqual(swift.final.text, "guard code == 0 else {\n        fatal()\n    }\n    done()")
    let py = stream(
      Languages.python, "class A:\n    def f(self, a,\n          b):\n        ‸\n",
      "self.a = a\n        self.b = b\nx = 1\n")
    XCTAssertEqual(py.final.text, "self.a = a\n        self.b = b")
  }

  func testCandidateReproducingTheRestOfTheLineIsCut() {
    // The closer the suffix needs comes after text that begins the suffix.
    let r = stream(Languages.python, "data = set(map(‸other))\n", "ref, other))\n")
    XCTAssertEqual(r.final.text, "ref, ")  // the space separates it from `other` in the suffix
    XCTAssertEqual(r.decision.rule, .duplicatesSuffix)
    // The line ends with the rest of the line, before a comment.
    let c = stream(Languages.c, "int add(int a, int b) {\n    return ‸;\n}\n", "a + b; // sum\n")
    XCTAssertEqual(c.final.text, "a + b")
    // A coincidental occurrence earlier in the line is not a duplicate.
    let s = stream(Languages.swift, "init(name: String) {\n    ‸name\n}\n", "self.name = name\n")
    XCTAssertEqual(s.final.text, "self.name = ")
  }
}
