import XCTest

@testable import SyntaxCheck

/// The lexer on real snippets: brackets inside strings and comments must not count, raw and template strings
/// must end where the language says, and chunked input must read exactly like whole input.
final class LexerTests: XCTestCase {
  /// (language, snippet, expected open frames at the end, expected context is code)
  static let balanced: [(LanguageSpec, String)] = [
    (Languages.python, "x = \"(\" + ')' # ( [\ny = f\"{a['}']}\" + rb'\\d(' + '''\n)\n'''\nz = [1,\n 2]\n"),
    (Languages.python, "s = f\"{{(\" + f'{x!r:>{width}}'\n"),
    (Languages.rust, "fn f<'a>(x: &'a str) -> char { let s = r#\"a \"(\" b\"#; let c = '('; let d = '\\''; 'x' }\n"),
    (Languages.rust, "/* outer /* inner ( */ still comment ) */ let b = b\"{\"; let l: &'static str = \"\";\n"),
    (Languages.swift, "let a = #\"\\(x) ( \"#\nlet b = \"a \\(f(x, \")\")) b\"\nlet c = \"\"\"\n  ( \\(y)\n  \"\"\"\n"),
    (Languages.cpp, "auto s = R\"x( ) \" )x\"; int n = 1'000'000; char c = ')';\n"),
    (Languages.c, "#include <stdio.h>\n/* ( */ int main(void) { printf(\"%d)\\n\", 1); // }\n}\n"),
    (Languages.javascript, "const t = `a ${ b + `c ${d}` } e ( `; const r = /[(]\\//.test(s); const q = a / b / c;\n"),
    (Languages.typescript, "function f<T>(x: T): T { return /\\)/.exec(x) ? x : x; }\n"),
    (Languages.go, "s := `(\n{` + \")\" + string('}')\n"),
    (
      Languages.lua,
      "--[[ ( ]] local s = [==[ ) ]==] -- (\nfunction f() if x then return 1 end end\nrepeat x = x + 1 until x > 3\n"
    ),
    (
      Languages.shell,
      "case $x in\n  a) echo \"$(ls ')')\";;\n  *) echo $# ;;\nesac\nif [ -f a ]; then\n  cat <<EOF\n)\nEOF\nfi\n"
        + "for i in 1 2; do echo $i; done\n"
    ),
    (
      Languages.ruby,
      "def f(x)\n  y = 1 if x\n  s = <<~EOS\n    ( #{x}\n  EOS\n  while y do\n    y -= 1\n  end\n"
        + "  [1].each { |v| puts \"#{v})\" }\nend\n"
    ),
    (Languages.php, "#[Attr]\nfunction f($a) { # comment (\n  $s = <<<EOT\n  ) {\n  EOT;\n  return '(';\n}\n"),
    (Languages.csharp, "var s = @\"a\"\"(b\"; var t = $\"{x} {{ (\"; var u = \"\"\"\n ( \"\n \"\"\";\n"),
    (Languages.kotlin, "val s = \"\"\"${x} ( \"\"\" + \"${f(\")\")}\" /* /* ( */ */\n"),
    (Languages.java, "String s = \"\"\"\n  ( \\\"\"\" \n  \"\"\"; char c = '(';\n"),
    (Languages.json, "{\"a\": [1, \"]\", {\"b\": \"}\"}], // (\n \"c\": null}\n"),
    (Languages.objectiveC, "NSString *s = @\"(\"; [obj method:@\"]\"];\n"),
  ]

  func testBracketsInsideStringsAndCommentsDoNotCount() {
    for (spec, snippet) in Self.balanced {
      var lexer = Lexer(spec: spec)
      lexer.scan(snippet, final: true)
      XCTAssertEqual(lexer.state.stack, [], "\(spec.name): \(snippet)")
      XCTAssertEqual(lexer.state.context, .code, "\(spec.name): \(snippet)")
      XCTAssertEqual(lexer.state.errors, 0, "\(spec.name): \(snippet)")
    }
  }

  func testChunkedInputReadsLikeWholeInput() {
    for (spec, snippet) in Self.balanced {
      var whole = Lexer(spec: spec)
      var wholeEvents: [LexEvent] = []
      whole.append(snippet)
      while let e = whole.next(final: true) { wholeEvents.append(e) }
      var chunked = Lexer(spec: spec)
      var chunkEvents: [LexEvent] = []
      for ch in snippet {
        chunked.append(String(ch))
        while let e = chunked.next(final: false) { chunkEvents.append(e) }
      }
      while let e = chunked.next(final: true) { chunkEvents.append(e) }
      XCTAssertEqual(chunkEvents, wholeEvents, spec.name)
      XCTAssertEqual(chunked.state, whole.state, spec.name)
    }
  }

  func testOpenConstructsAreReported() {
    var py = Lexer(spec: Languages.python)
    py.scan("def f(x):\n    s = \"\"\"doc (", final: true)
    guard case .string(let s) = py.state.context else { return XCTFail("not in a string") }
    XCTAssertEqual(s.opener, "\"\"\"")
    XCTAssertEqual(py.state.stack, [])

    var js = Lexer(spec: Languages.javascript)
    js.scan("const t = `a ${ f(", final: true)
    XCTAssertEqual(js.state.stack.map(\.openerText).last, "(")
    XCTAssertEqual(js.state.stack.count, 2)  // interpolation, (

    var rb = Lexer(spec: Languages.ruby)
    rb.scan("class A\n  def f\n    x.each do |y|\n", final: true)
    XCTAssertEqual(rb.state.stack.map(\.openerText), ["class", "def", "do"])

    var sh = Lexer(spec: Languages.shell)
    sh.scan("while true\ndo\n  if x; then\n", final: true)
    XCTAssertEqual(sh.state.stack.map(\.openerText), ["do", "if"])

    var lua = Lexer(spec: Languages.lua)
    lua.scan("for i = 1, 3 do\n  local t = { f = function() ", final: true)
    XCTAssertEqual(lua.state.stack.map(\.openerText), ["do", "{", "function"])
  }

  func testErrorsAreCounted() {
    var c = Lexer(spec: Languages.c)
    c.scan("int f() { return (1]; }\nint g() { return 1; }", final: true)
    XCTAssertEqual(c.state.errors, 2)  // the stray `]`, then `}` closing `{` over the unclosed `(`
    XCTAssertEqual(c.state.stack, [])  // recovered: g is read at depth 0
    var py = Lexer(spec: Languages.python)
    py.scan("x = 'abc\ny = 1\n", final: true)
    XCTAssertEqual(py.state.errors, 1)
    XCTAssertEqual(py.state.context, .code)
  }

  func testLanguageLookup() throws {
    let ids = [
      "python", "swift", "c", "cpp", "objective-c", "objective-cpp", "java", "kotlin", "csharp", "javascript",
      "javascriptreact", "typescript", "typescriptreact", "go", "rust", "ruby", "php", "lua", "shellscript", "sh",
      "bash", "json", "jsonc",
    ]
    for id in ids { XCTAssertNoThrow(try Languages.spec(languageId: id), id) }
    XCTAssertEqual(try Languages.spec(languageId: "typescriptreact").name, "typescript")
    XCTAssertEqual(try Languages.spec(languageId: "plaintext", fileName: "/x/y/main.RS").name, "rust")
    XCTAssertEqual(try Languages.spec(languageId: "unknown", fileName: "a.hpp").name, "cpp")
    XCTAssertThrowsError(try Languages.spec(languageId: "cobol", fileName: "a.cbl")) { error in
      XCTAssertEqual(error as? SyntaxCheckError, .unknownLanguage(languageId: "cobol", fileName: "a.cbl"))
      XCTAssertTrue("\(error)".contains("a.cbl"))
    }
    XCTAssertEqual(Languages.lookup(languageId: "cobol").name, "generic")
  }
}
