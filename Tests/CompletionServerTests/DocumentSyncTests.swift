import CodeCompletion
import CompletionServer
import JSON
import LSPTestSupport
import LSPTransport
import LSPTypes
import XCTest

final class DocumentSyncTests: XCTestCase {
  func testIncrementalAndFullChangesInOneNotification() throws {
    let provider = BracketClosingProvider()
    let client = try TestClient(provider: provider, options: testOptions())
    try client.initialize()
    client.open(uri: "file:///s.py", text: "alpha\nbeta\r\ngamma")
    client.notify(
      DidChangeTextDocumentNotification(
        textDocument: VersionedTextDocumentIdentifier(uri: "file:///s.py", version: 2),
        contentChanges: [
          TextDocumentContentChangeEvent(
            range: LSPRange(start: Position(line: 1, character: 0), end: Position(line: 1, character: 4)),
            text: "BETA"),
          TextDocumentContentChangeEvent(range: LSPRange(at: Position(line: 2, character: 5)), text: "(\n"),
        ]))
    _ = try client.inlineCompletion(uri: "file:///s.py", position: Position(line: 3, character: 0))
    XCTAssertEqual(provider.log.completions.last?.prefix, "alpha\nBETA\r\ngamma(\n")
    client.notify(
      DidChangeTextDocumentNotification(
        textDocument: VersionedTextDocumentIdentifier(uri: "file:///s.py", version: 3),
        contentChanges: [
          TextDocumentContentChangeEvent(text: "full\nreplace"),
          TextDocumentContentChangeEvent(range: LSPRange(at: Position(line: 1, character: 7)), text: "d"),
        ]))
    _ = try client.inlineCompletion(uri: "file:///s.py", position: Position(line: 9, character: 0))
    XCTAssertEqual(provider.log.completions.last?.prefix, "full\nreplaced")
  }

  func testReversedRangeIsReportedAndTheRestApplies() throws {
    let provider = BracketClosingProvider()
    let client = try TestClient(provider: provider, options: testOptions())
    try client.initialize()
    client.open(uri: "file:///r.py", text: "abc")
    client.notify(
      DidChangeTextDocumentNotification(
        textDocument: VersionedTextDocumentIdentifier(uri: "file:///r.py", version: 2),
        contentChanges: [
          TextDocumentContentChangeEvent(
            range: LSPRange(start: Position(line: 0, character: 2), end: Position(line: 0, character: 1)), text: "X"),
          TextDocumentContentChangeEvent(range: LSPRange(at: Position(line: 0, character: 3)), text: "["),
        ]))
    let errors = try client.waitFor(LogMessageNotification.method) { $0["type"] == 1 }
    XCTAssertTrue(errors.first?["message"]?.stringValue?.contains("ends before it starts") ?? false)
    let list = try client.inlineCompletion(uri: "file:///r.py", position: Position(line: 0, character: 4))
    XCTAssertEqual(list.items.map(\.insertText), ["]"])
  }

  func testCloseForgetsTheDocumentAndSaveIsAccepted() throws {
    let client = try TestClient(provider: BracketClosingProvider(), options: testOptions())
    try client.initialize()
    client.open(uri: "file:///c.py", text: "x(")
    client.notify(DidSaveTextDocumentNotification(textDocument: TextDocumentIdentifier(uri: "file:///c.py")))
    XCTAssertEqual(
      try client.inlineCompletion(uri: "file:///c.py", position: Position(line: 0, character: 2)).items.count, 1)
    client.notify(DidCloseTextDocumentNotification(textDocument: TextDocumentIdentifier(uri: "file:///c.py")))
    let reply = client.sendRequest(
      InlineCompletionRequest(
        textDocument: TextDocumentIdentifier(uri: "file:///c.py"), position: Position(line: 0, character: 2),
        context: InlineCompletionContext(triggerKind: .automatic)))
    XCTAssertEqual(try errorCode(reply), -32602)
  }

  func testFileNamesFromURIs() {
    XCTAssertEqual(
      LanguageServer.fileName(fromURI: "file:///home/me/My%20Project/a%2Bb.py"), "/home/me/My Project/a+b.py")
    XCTAssertEqual(LanguageServer.fileName(fromURI: "file:///C:/src/x.ts"), "/C:/src/x.ts")
    XCTAssertNotNil(LanguageServer.fileName(fromURI: "untitled:Untitled-1"))
  }

  func testMarkedText() {
    let marked = MarkedText("a<|one|>😀<|two|>b")
    XCTAssertEqual(marked.text, "a😀b")
    XCTAssertEqual(marked.position("two"), Position(line: 0, character: 3))
    XCTAssertEqual(marked.position("two", encoding: .utf8), Position(line: 0, character: 5))
    XCTAssertEqual(marked.range(from: "one", to: "two", encoding: .utf32).end.character, 2)
    XCTAssertEqual(MarkedText("x <| not a marker |> <|cursor|>y").text, "x <| not a marker |> y")
  }

  func testBracketClosingProviderLogic() {
    XCTAssertEqual(BracketClosingProvider.closingBrackets("f(a[1], {\"k\": \"(\""), "})")
    XCTAssertEqual(BracketClosingProvider.closingBrackets("done()"), "")
    XCTAssertEqual(BracketClosingProvider.completion(prefix: "counter = 1\ncou"), "nter")
    XCTAssertNil(BracketClosingProvider.completion(prefix: "x = 1\n"))
  }
}
