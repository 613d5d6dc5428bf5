import XCTest

@testable import SyntaxCheck

/// One real snippet per language family through the whole middleware (mode, streaming stop, final check,
/// post-filters), streamed in chunks of several sizes: the result must not depend on how tokens are cut.
final class LanguageFamilyTests: XCTestCase {
  struct Case {
    var language: LanguageSpec
    var document: String
    var candidate: String
    var expected: String?
    var mode: CompletionMode?
  }

  static let cases: [Case] = [
    Case(
      language: Languages.swift, document: "func count() -> Int {\n    ‸\n}\n",
      candidate: "let s = #\"}\"# + \"\\(items.map { \"}\" })\"\n    return s.count\n}\n",
      expected:
        "let s = #\"}\"# + \"\\(items.map { \"}\" })\"\n    return s.count"),
    Case(
      language: Languages.swift, document: "let text = \"\"\"\n    Hello ‸\n    \"\"\"\n",
      candidate: "world\n    from \\(name)\n    \"\"\"\nprint(text)", expected: "world\n    from \\(name)",
      mode: .block),
    Case(
      language: Languages.swift, document: "let text = \"\"\"\n    Hello ‸\n    \"\"\"\n",
      candidate: "world\n    from \\(name)\n    \"\"\"\nprint(text)", expected: "world"),  // auto: the rest of the line
    Case(
      language: Languages.objectiveC, document: "- (void)run {\n    ‸\n}\n",
      candidate: "NSLog(@\"%@}\", self.name);\n}\n\n- (void)stop {\n}", expected: "NSLog(@\"%@}\", self.name);"),
    Case(
      language: Languages.cpp, document: "auto json = R\"(‸)\";\n",
      candidate: "{\"a\": [1, 2]})\";\n", expected: "{\"a\": [1, 2]}"),
    Case(
      language: Languages.csharp, document: "class A {\n    void F() {\n        ‸\n    }\n}\n",
      candidate: "var path = @\"C:\\dir\\\"\"}\";\n        Console.WriteLine($\"{path} {{}}\");\n    }\n}\n",
      expected: "var path = @\"C:\\dir\\\"\"}\";\n        Console.WriteLine($\"{path} {{}}\");"),
    Case(
      language: Languages.java, document: "class A {\n    String q() {\n        return ‸\n    }\n}\n",
      candidate: "\"\"\"\n            SELECT } FROM t\n            \"\"\";\n    }\n",
      expected:
        "\"\"\"\n            SELECT } FROM t\n            \"\"\";", mode: .block),
    Case(
      language: Languages.kotlin, document: "fun greet(name: String) {\n    ‸\n}\n",
      candidate: "println(\"Hello, ${name.trim { it == '}' }}\")\n}\n",
      expected:
        "println(\"Hello, ${name.trim { it == '}' }}\")"),
    Case(
      language: Languages.php, document: "<?php\nfunction f($a) {\n    ‸\n}\n",
      candidate: "# note }\n    return strtoupper($a) . '}';\n}\n",
      expected: "# note }\n    return strtoupper($a) . '}';"),
    Case(
      language: Languages.json, document: "{\n  \"name\": \"x\",\n  ‸\n}\n",
      candidate: "\"tags\": [\"a]\", \"b\"]\n}\n", expected: "\"tags\": [\"a]\", \"b\"]"),
    Case(
      language: Languages.go, document: "func main() {\n\tfor i := 0; i < 3; i++ {\n\t\t‸\n\t}\n}\n",
      candidate: "fmt.Println(`}`, i)\n\t}\n}\n", expected: "fmt.Println(`}`, i)"),
    Case(
      language: Languages.c, document: "int add(int a, int b) {\n    return ‸;\n}\n",
      candidate: "a + b; // }\n", expected: "a + b"),
    Case(
      language: Languages.shell, document: "if [ -f \"$1\" ]; then\n  ‸\nfi\n",
      candidate: "cat <<EOF\nfi }\nEOF\nfi\necho done\n", expected: "cat <<EOF\nfi }\nEOF"),
    Case(
      language: Languages.lua, document: "local t = {\n  ‸\n}\n",
      candidate: "name = [[a}]], -- }\n  n = 1,\n}\n", expected: "name = [[a}]], -- }\n  n = 1,"),
    Case(
      language: Languages.ruby, document: "class Greeter\n  def hi(name)\n    ‸\n  end\nend\n",
      candidate: "puts <<~EOS\n      end }\n    EOS\n  end\nend\n", expected: "puts <<~EOS\n      end }\n    EOS"),
    Case(
      language: Languages.python, document: "items = [‸]\n",
      candidate: "x for x in range(3) if x != ']']\n", expected: "x for x in range(3) if x != ']'"),
    Case(
      language: Languages.python, document: "print(‸)\n", candidate: "\"héllo 😀 漢字\", x)\n",
      expected: "\"héllo 😀 漢字\", x"),
    Case(
      language: Languages.javascript, document: "const re = ‸;\n", candidate: "/[)}]+/g;\n", expected: "/[)}]+/g"),
  ]

  func testFamiliesAcrossChunkSizes() {
    for (index, c) in Self.cases.enumerated() {
      var results: [String?] = []
      for chunk in [1, 2, 5, 1000] {
        let r = stream(c.language, c.document, c.candidate, mode: c.mode, chunk: chunk)
        results.append(r.final.text)
        XCTAssertEqual(
          r.final.text, c.expected,
          "case \(index) \(c.language.name), chunk \(chunk):\n\(r.final.trace.joined(separator: "\n"))")
      }
      XCTAssertEqual(Set(results.map { $0 ?? "<nil>" }).count, 1, "case \(index) depends on chunking")
    }
  }

  func testTraceNamesTheRule() {
    let r = stream(Languages.python, "print(‸)\n", "a, b)\n")
    XCTAssertEqual(
      r.final.trace,
      [
        "cut at 4: closes `(` (line 1) that the completion did not open; the suffix needs it "
          + "(document score 1 against 0)"
      ])
  }
}
