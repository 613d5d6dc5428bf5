import CodeCompletion
import CompletionServer
import JSON
import LSPTestSupport
import LSPTransport
import LSPTypes
import XCTest

/// Issue 2's "Bad input" list through the real connection: after each, the server still answers the next valid
/// request.
final class BadInputTests: XCTestCase {
  var provider: BracketClosingProvider!
  var client: TestClient!

  override func setUpWithError() throws {
    provider = BracketClosingProvider()
    client = try TestClient(options: testOptions(), maxMessageSize: 4096) { [provider] _ in provider! }
    try client.initialize()
    client.open(uri: "file:///ok.py", text: "call(")
  }

  override func tearDown() { client.close() }

  /// A valid request still gets its answer.
  func assertStillServing(file: StaticString = #filePath, line: UInt = #line) {
    do {
      let list = try client.inlineCompletion(uri: "file:///ok.py", position: Position(line: 0, character: 5))
      XCTAssertEqual(list.items.map(\.insertText), [")"], file: file, line: line)
    } catch {
      XCTFail("the server stopped serving: \(error)", file: file, line: line)
    }
  }

  func frame(_ body: String) -> String { "Content-Length: \(body.utf8.count)\r\n\r\n\(body)" }

  func testHeaderWithoutContentLength() throws {
    client.writeRaw("Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n{}")
    try client.waitForProtocolError(containing: "-32700")
    assertStillServing()
  }

  func testNonNumericAndNegativeLength() throws {
    client.writeRaw("Content-Length: twelve\r\n\r\n")
    client.writeRaw("Content-Length: -5\r\n\r\n")
    let errors = try (0..<2).map { _ in try client.waitForProtocolError(containing: "-32700") }
    XCTAssertEqual(errors.count, 2)
    assertStillServing()
  }

  func testLengthPastTheLimit() throws {
    let big = "{\"jsonrpc\":\"2.0\",\"method\":\"x\",\"params\":\"\(String(repeating: "a", count: 5000))\"}"
    client.writeRaw(frame(big))
    try client.waitForProtocolError(containing: "-32700")
    assertStillServing()
  }

  func testBodyThatIsNotJSON() throws {
    client.writeRaw(frame("{this is not json"))
    try client.waitForProtocolError(containing: "-32700")
    assertStillServing()
  }

  func testJSONThatIsNotAnObject() throws {
    client.writeRaw(frame("[1, 2, 3]"))
    try client.waitForProtocolError(containing: "-32600")
    assertStillServing()
  }

  func testMessageWithoutJSONRPCVersion() throws {
    client.writeRaw(frame(#"{"id": 4242, "method": "shutdown"}"#))
    // The InvalidRequest answer carries id 4242, which the test client never sent.
    try client.waitForProtocolError(containing: "4242")
    assertStillServing()
  }

  func testInvalidUTF8InABody() throws {
    var body = Array(#"{"jsonrpc":"2.0","method":"window/x","params":{"s":""#.utf8)
    body += [0xC3, 0x28, 0xFF]
    body += Array(#""}}"#.utf8)
    client.writeRaw(Array("Content-Length: \(body.count)\r\n\r\n".utf8) + body)
    try client.waitForProtocolError(containing: "-32700")
    assertStillServing()
  }

  func testUnknownRequestAndNotification() throws {
    client.notify(method: "unknown/notification", params: ["a": 1])
    let error = try XCTUnwrap(try client.sendRequest(method: "unknown/request", params: nil).error())
    XCTAssertEqual(error.code, -32601)
    assertStillServing()
  }

  func testParamsOfTheWrongType() throws {
    let wrongPosition = client.sendRequest(
      method: InlineCompletionRequest.method,
      params: ["textDocument": ["uri": "file:///ok.py"], "position": ["line": "zero", "character": 0]])
    let error = try XCTUnwrap(try wrongPosition.error())
    XCTAssertEqual(error.code, -32602)
    XCTAssertTrue(error.message.contains("params.position.line"), error.message)
    XCTAssertTrue(error.message.contains("integer"), error.message)
    let arrayParams = client.sendRequest(method: TextDocumentCompletionRequest.method, params: [1, 2])
    XCTAssertEqual(try errorCode(arrayParams), -32602)
    let negative = client.sendRequest(
      method: InlineCompletionRequest.method,
      params: ["textDocument": ["uri": "file:///ok.py"], "position": ["line": -1, "character": 0]])
    XCTAssertEqual(try errorCode(negative), -32602)
    // A malformed notification is dropped (and logged).
    client.notify(method: DidChangeTextDocumentNotification.method, params: ["textDocument": 3])
    assertStillServing()
  }

  func testPositionOutsideTheDocument() throws {
    let list = try client.inlineCompletion(uri: "file:///ok.py", position: Position(line: 1000, character: 1000))
    XCTAssertEqual(list.items.first?.range, LSPRange(at: Position(line: 0, character: 5)))
    assertStillServing()
  }

  func testChangeToADocumentNeverOpened() throws {
    client.change(uri: "file:///never.py", version: 2, range: LSPRange(at: Position(line: 0, character: 0)), text: "x")
    let warning = try client.waitFor(LogMessageNotification.method) {
      $0["message"]?.stringValue?.contains("never.py") ?? false
    }
    XCTAssertEqual(warning.first?["type"], 2)
    let reply = client.sendRequest(
      InlineCompletionRequest(
        textDocument: TextDocumentIdentifier(uri: "file:///never.py"), position: Position(line: 0, character: 0),
        context: InlineCompletionContext(triggerKind: .automatic)))
    XCTAssertEqual(try errorCode(reply), -32602)
    assertStillServing()
  }

  func testSecondDidOpenReplacesTheText() throws {
    client.open(uri: "file:///ok.py", text: "other[", version: 5)
    let list = try client.inlineCompletion(uri: "file:///ok.py", position: Position(line: 0, character: 6))
    XCTAssertEqual(list.items.map(\.insertText), ["]"])
    XCTAssertTrue(
      client.received(LogMessageNotification.method).contains {
        $0["message"]?.stringValue?.contains("already open") ?? false
      })
    client.open(uri: "file:///ok.py", text: "call(", version: 6)
    assertStillServing()
  }

  func testEndOfInputInsideAMessageExitsWithOne() throws {
    client.writeRaw("Content-Length: 100\r\n\r\n{\"jsonrpc\":")
    client.pair.closeClientToServer()
    XCTAssertEqual(try client.waitForExit(), 1)
  }
}
