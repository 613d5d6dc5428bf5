import CodeCompletion
import CompletionServer
import JSON
import LSPTestSupport
import LSPTransport
import LSPTypes
import XCTest

final class CompletionEndpointTests: XCTestCase {
  func testInlineCompletionClosesBracketsAtTheCursor() throws {
    let provider = BracketClosingProvider()
    let client = try TestClient(provider: provider, options: testOptions())
    try client.initialize()
    let marked = MarkedText("def f(x):\n    return compute(x, [1, 2<|cursor|>\n\nprint(f(1))\n")
    client.open(uri: "file:///work/proj/main.py", text: marked.text)
    let list = try client.inlineCompletion(uri: "file:///work/proj/main.py", position: marked.position())
    XCTAssertEqual(list.items.count, 1)
    XCTAssertEqual(list.items.first?.insertText, "])")
    XCTAssertEqual(list.items.first?.range, LSPRange(at: marked.position()))

    let request = try XCTUnwrap(provider.log.completions.last)
    XCTAssertEqual(request.prefix, marked.prefix())
    XCTAssertEqual(request.suffix, marked.suffix())
    XCTAssertEqual(request.fileName, "/work/proj/main.py")
    XCTAssertEqual(request.documentID, "file:///work/proj/main.py")
    XCTAssertEqual(request.languageId, "python")
    XCTAssertEqual(request.trigger, .automatic)
  }

  func testInvokedInlineCompletionGivesRankedCandidates() throws {
    let provider = BracketClosingProvider()
    let client = try TestClient(provider: provider, options: testOptions())
    try client.initialize()
    client.open(uri: "file:///a.c", languageId: "c", text: "int main() { return f(1")
    let list = try client.inlineCompletion(
      uri: "file:///a.c", position: Position(line: 0, character: 24), trigger: .invoked)
    XCTAssertEqual(list.items.map(\.insertText), [")}", ")};", ")}\n"])
    XCTAssertEqual(provider.log.completions.last?.trigger, .invoked)
  }

  func testMenuCompletionReplacesTheWordSoFar() throws {
    let provider = BracketClosingProvider()
    let client = try TestClient(provider: provider, options: testOptions())
    try client.initialize()
    let marked = MarkedText("total_value = 3\nprint(total_value)\nresult = tot<|cursor|>")
    client.open(uri: "file:///w.py", text: marked.text)
    let list = try client.completion(uri: "file:///w.py", position: marked.position())
    XCTAssertTrue(list.isIncomplete)
    XCTAssertEqual(list.items.count, 3)
    let first = try XCTUnwrap(list.items.first)
    let cursor = marked.position()
    XCTAssertEqual(
      first.textEdit,
      TextEdit(
        range: LSPRange(start: Position(line: cursor.line, character: cursor.character - 3), end: cursor),
        newText: "total_value"))
    XCTAssertEqual(first.filterText, "total_value")
    XCTAssertEqual(first.label, "total_value")
    XCTAssertEqual(first.insertTextFormat, .plainText)
    XCTAssertEqual(first.insertTextMode, .asIs)
    XCTAssertEqual(first.preselect, true)
    XCTAssertEqual(list.items.map(\.sortText), ["0000", "0001", "0002"])
    XCTAssertEqual(list.items.map(\.textEdit?.newText), ["total_value", "total_value;", "total_value\n"])
  }

  func testMenuCompletionWithoutAsIsSupportRemovesTheLineIndentation() throws {
    let provider = ScriptedProvider(["_x = 1\n    return value_x\n"])
    let client = try TestClient(provider: provider, options: testOptions())
    try client.initialize(capabilities: [:])
    let marked = MarkedText("def f():\n    value<|cursor|>")
    client.open(uri: "file:///i.py", text: marked.text)
    let item = try XCTUnwrap(try client.completion(uri: "file:///i.py", position: marked.position()).items.first)
    XCTAssertNil(item.insertTextMode)
    XCTAssertEqual(item.textEdit?.newText, "value_x = 1\nreturn value_x\n")
    XCTAssertEqual(item.label, "value_x = 1 …")
    XCTAssertEqual(item.textEdit?.range.start, Position(line: 1, character: 4))
  }

  func testWhitespaceOnlyCandidatesAreDropped() throws {
    let client = try TestClient(provider: ScriptedProvider(["  \n", "ok"]), options: testOptions())
    try client.initialize()
    client.open(uri: "file:///s.py", text: "x")
    let list = try client.inlineCompletion(uri: "file:///s.py", position: Position(line: 0, character: 1))
    XCTAssertEqual(list.items.map(\.insertText), ["ok"])
  }

  func testContextDocumentsAreSameLanguageMostRecentFirst() throws {
    let provider = BracketClosingProvider()
    let client = try TestClient(provider: provider, options: testOptions())
    try client.initialize()
    client.open(uri: "file:///b.py", text: "def helper_one(): pass")
    client.open(uri: "file:///c.py", text: "def helper_two(): pass")
    client.open(uri: "file:///d.js", languageId: "javascript", text: "function helper_js() {}")
    client.change(uri: "file:///b.py", version: 2, range: LSPRange(at: Position(line: 0, character: 0)), text: "# b\n")
    client.open(uri: "file:///a.py", text: "helper_")
    let list = try client.inlineCompletion(uri: "file:///a.py", position: Position(line: 0, character: 7))
    let request = try XCTUnwrap(provider.log.completions.last)
    XCTAssertEqual(request.contextDocuments.map(\.name), ["/b.py", "/c.py"])
    XCTAssertEqual(request.contextDocuments.first?.text, "# b\ndef helper_one(): pass")
    // The provider completed the identifier from the most recent context document.
    XCTAssertEqual(list.items.map(\.insertText), ["one"])
  }

  func testPositionsWithEmojiAndCJKInEveryEncoding() throws {
    for encoding in PositionEncodingKind.allCases {
      let provider = BracketClosingProvider()
      let client = try TestClient(provider: provider, options: testOptions())
      try client.initialize(capabilities: ["general": ["positionEncodings": [.string(encoding.rawValue)]]])
      let marked = MarkedText("s = \"😀漢字\"\r\nt = f(s, \"🎉\", g(<|cursor|>)\r\n# 終わり 👋\r\n")
      client.open(uri: "file:///e.py", text: marked.text)
      let cursor = marked.position(encoding: encoding)
      let list = try client.inlineCompletion(uri: "file:///e.py", position: cursor)
      let request = try XCTUnwrap(provider.log.completions.last)
      XCTAssertEqual(request.prefix, marked.prefix(), "\(encoding)")
      XCTAssertEqual(request.suffix, marked.suffix(), "\(encoding)")
      XCTAssertEqual(list.items.first?.insertText, "))", "\(encoding)")
      XCTAssertEqual(list.items.first?.range, LSPRange(at: cursor), "\(encoding)")
      // Edit through the same encoding: insert "x" right after the emoji argument's closing quote.
      let afterQuote = MarkedText("s = \"😀漢字\"\r\nt = f(s, \"🎉\"<|q|>, g()\r\n").position("q", encoding: encoding)
      client.change(uri: "file:///e.py", version: 2, range: LSPRange(at: afterQuote), text: "+x")
      _ = try client.inlineCompletion(uri: "file:///e.py", position: Position(line: 1, character: 0))
      XCTAssertEqual(
        provider.log.completions.last?.suffix, "t = f(s, \"🎉\"+x, g()\r\n# 終わり 👋\r\n", "\(encoding)")
    }
  }

  func testPositionOutsideTheDocumentIsClamped() throws {
    let provider = BracketClosingProvider()
    let client = try TestClient(provider: provider, options: testOptions())
    try client.initialize()
    client.open(uri: "file:///o.py", text: "a = (1,\nb")
    let past = try client.inlineCompletion(uri: "file:///o.py", position: Position(line: 40, character: 3))
    XCTAssertEqual(past.items.first?.range, LSPRange(at: Position(line: 1, character: 1)))
    XCTAssertEqual(provider.log.completions.last?.prefix, "a = (1,\nb")
    XCTAssertEqual(provider.log.completions.last?.suffix, "")
    let pastLineEnd = try client.inlineCompletion(uri: "file:///o.py", position: Position(line: 0, character: 99))
    XCTAssertEqual(pastLineEnd.items.first?.range, LSPRange(at: Position(line: 0, character: 7)))
    XCTAssertEqual(provider.log.completions.last?.prefix, "a = (1,")
  }

  func testUnavailableProviderAnswersEmptyAndSaysWhyOnce() throws {
    let provider = UnavailableProvider(reason: "no model found: put a GGUF file in ~/.cache/codegen-lsp/models")
    let client = try TestClient(provider: provider, options: testOptions())
    try client.initialize()
    client.open(uri: "file:///u.py", text: "f(")
    XCTAssertEqual(
      try client.inlineCompletion(uri: "file:///u.py", position: Position(line: 0, character: 2)).items, [])
    XCTAssertEqual(try client.completion(uri: "file:///u.py", position: Position(line: 0, character: 2)).items, [])
    XCTAssertEqual(
      try client.inlineCompletion(uri: "file:///u.py", position: Position(line: 0, character: 1)).items, [])
    let shown = client.received(ShowMessageNotification.method)
    XCTAssertEqual(shown.count, 1)
    XCTAssertEqual(shown.first?["message"]?.stringValue, provider.reason)
    XCTAssertEqual(shown.first?["type"], 1)
    // Generate-code says why too, as an error.
    let generate = client.sendRequest(
      ExecuteCommandRequest(
        command: "codegen-lsp.generateCode",
        arguments: [GenerateCodeArguments(uri: "file:///u.py", position: Position(line: 0, character: 0)).json]))
    let error = try XCTUnwrap(try generate.error())
    XCTAssertEqual(error.code, -32803)
    XCTAssertTrue(error.message.contains("no model found"), error.message)
  }

  func testDegradedProviderWarnsOnceAndServes() throws {
    let provider = BracketClosingProvider(
      status: .degraded(description: "tiny", warning: "this model has no FIM tokens: completions use the prefix only"))
    let client = try TestClient(provider: provider, options: testOptions())
    try client.initialize()
    client.open(uri: "file:///d.py", text: "g(")
    XCTAssertEqual(
      try client.inlineCompletion(uri: "file:///d.py", position: Position(line: 0, character: 2)).items.count, 1)
    XCTAssertEqual(
      try client.inlineCompletion(uri: "file:///d.py", position: Position(line: 0, character: 2)).items.count, 1)
    let shown = client.received(ShowMessageNotification.method)
    XCTAssertEqual(shown.count, 1)
    XCTAssertEqual(shown.first?["type"], 2)
  }

  func testDeadlineComesFromSettings() throws {
    let provider = ScriptedProvider(["x"])
    let client = try TestClient(provider: provider, options: testOptions(deadlineMilliseconds: 250))
    try client.initialize()
    client.open(uri: "file:///t.py", text: "")
    let before = DispatchTime.now().uptimeNanoseconds
    _ = try client.inlineCompletion(uri: "file:///t.py", position: Position(line: 0, character: 0))
    let after = DispatchTime.now().uptimeNanoseconds
    let deadline = try XCTUnwrap(provider.seenTokens.last?.deadlineNanoseconds)
    XCTAssertGreaterThanOrEqual(deadline, before + 250_000_000)
    XCTAssertLessThanOrEqual(deadline, after + 250_000_000)
  }

  func testTraceSendsLogTraceWithVerboseDetails() throws {
    let client = try TestClient(provider: BracketClosingProvider(), options: testOptions())
    try client.initialize(trace: .messages)
    client.open(uri: "file:///tr.py", text: "f(")
    _ = try client.inlineCompletion(uri: "file:///tr.py", position: Position(line: 0, character: 2))
    let first = try client.waitFor(LogTraceNotification.method)
    XCTAssertTrue(first[0]["message"]?.stringValue?.contains("1 candidate") ?? false, "\(first)")
    XCTAssertNil(first[0]["verbose"])
    client.notify(SetTraceNotification(value: .verbose))
    _ = try client.inlineCompletion(uri: "file:///tr.py", position: Position(line: 0, character: 2))
    let second = try client.waitFor(LogTraceNotification.method, count: 2)
    XCTAssertTrue(second[1]["verbose"]?.stringValue?.contains("closing brackets") ?? false, "\(second)")
    client.notify(SetTraceNotification(value: .off))
    _ = try client.inlineCompletion(uri: "file:///tr.py", position: Position(line: 0, character: 2))
    XCTAssertEqual(client.received(LogTraceNotification.method).count, 2)
  }
}
