import CodeCompletion
import CompletionServer
import JSON
import LSPTestSupport
import LSPTransport
import LSPTypes
import XCTest

final class LifecycleTests: XCTestCase {
  func testRequestBeforeInitializeIsServerNotInitialized() throws {
    let client = try TestClient(provider: BracketClosingProvider(), options: testOptions())
    let early = client.sendRequest(
      InlineCompletionRequest(
        textDocument: TextDocumentIdentifier(uri: "file:///a.py"), position: Position(line: 0, character: 0),
        context: InlineCompletionContext(triggerKind: .automatic)))
    XCTAssertEqual(try errorCode(early), -32002)
    let shutdownEarly = client.sendRequest(ShutdownRequest())
    XCTAssertEqual(try errorCode(shutdownEarly), -32002)
    // The server still initializes afterwards.
    XCTAssertNoThrow(try client.initialize())
    XCTAssertEqual(try client.shutdownAndExit(), 0)
  }

  func testInitializeAdvertisesCapabilities() throws {
    let client = try TestClient(provider: BracketClosingProvider(), options: testOptions())
    let raw = try client.sendRequest(
      InitializeRequest(capabilities: ClientCapabilities(raw: TestClient.defaultCapabilities))
    ).value()
    let capabilities = try XCTUnwrap(raw["capabilities"])
    XCTAssertEqual(capabilities["positionEncoding"], "utf-16")
    XCTAssertEqual(capabilities["textDocumentSync"]?["change"], 2)
    XCTAssertEqual(capabilities["textDocumentSync"]?["openClose"], true)
    XCTAssertNotNil(capabilities["inlineCompletionProvider"])
    XCTAssertEqual(capabilities["completionProvider"]?["resolveProvider"], false)
    XCTAssertEqual(capabilities["executeCommandProvider"]?["commands"], ["codegen-lsp.generateCode"])
    XCTAssertEqual(raw["serverInfo"]?["name"], "codegen-lsp")
  }

  func testPositionEncodingNegotiation() throws {
    let cases: [(offered: [JSONValue]?, expected: String)] = [
      (nil, "utf-16"), (["utf-16"], "utf-16"), (["utf-8", "utf-16"], "utf-8"), (["utf-32", "utf-16"], "utf-32"),
      (["utf-7", "utf-8"], "utf-8"),
    ]
    for (offered, expected) in cases {
      let client = try TestClient(provider: BracketClosingProvider(), options: testOptions())
      var capabilities: [String: JSONValue] = [:]
      if let offered { capabilities["general"] = ["positionEncodings": .array(offered)] }
      let result = try client.initialize(capabilities: .object(capabilities))
      XCTAssertEqual(result.capabilities.positionEncoding.rawValue, expected, "offered \(String(describing: offered))")
    }
  }

  func testSecondInitializeIsInvalidRequest() throws {
    let client = try TestClient(provider: BracketClosingProvider(), options: testOptions())
    try client.initialize()
    let again = client.sendRequest(InitializeRequest())
    XCTAssertEqual(try errorCode(again), -32600)
  }

  func testRequestsAfterShutdownAreInvalidRequestAndExitIsZero() throws {
    let client = try TestClient(provider: BracketClosingProvider(), options: testOptions())
    try client.initialize()
    client.open(uri: "file:///a.py", text: "f(")
    XCTAssertEqual(try client.sendRequest(ShutdownRequest()).value(), .null)
    let late = client.sendRequest(
      TextDocumentCompletionRequest(
        textDocument: TextDocumentIdentifier(uri: "file:///a.py"), position: Position(line: 0, character: 2)))
    XCTAssertEqual(try errorCode(late), -32600)
    client.notify(ExitNotification())
    XCTAssertEqual(try client.waitForExit(), 0)
  }

  func testExitWithoutShutdownIsOne() throws {
    let client = try TestClient(provider: BracketClosingProvider(), options: testOptions())
    try client.initialize()
    client.notify(ExitNotification())
    XCTAssertEqual(try client.waitForExit(), 1)
  }

  func testEndOfInputWithoutShutdownIsOne() throws {
    let client = try TestClient(provider: BracketClosingProvider(), options: testOptions())
    try client.initialize()
    client.pair.closeClientToServer()
    XCTAssertEqual(try client.waitForExit(), 1)
  }

  func testUnknownRequestAndNotification() throws {
    let client = try TestClient(provider: BracketClosingProvider(), options: testOptions())
    try client.initialize()
    client.notify(method: "custom/somethingNew", params: ["x": 1])
    client.notify(method: "$/unknownDollarNotification", params: nil)
    let unknown = client.sendRequest(method: "custom/doesNotExist", params: [:])
    let error = try XCTUnwrap(try unknown.error())
    XCTAssertEqual(error.code, -32601)
    XCTAssertTrue(error.message.contains("custom/doesNotExist"), error.message)
    // Still serving.
    client.open(uri: "file:///a.py", text: "x = [1, 2")
    let list = try client.inlineCompletion(uri: "file:///a.py", position: Position(line: 0, character: 9))
    XCTAssertEqual(list.items.map(\.insertText), ["]"])
  }

  func testNotificationsBeforeInitializeAreDropped() throws {
    let client = try TestClient(provider: BracketClosingProvider(), options: testOptions())
    client.open(uri: "file:///early.py", text: "f(")
    try client.initialize()
    let reply = client.sendRequest(
      InlineCompletionRequest(
        textDocument: TextDocumentIdentifier(uri: "file:///early.py"), position: Position(line: 0, character: 2),
        context: InlineCompletionContext(triggerKind: .invoked)))
    let error = try XCTUnwrap(try reply.error())
    XCTAssertEqual(error.code, -32602)
    XCTAssertTrue(error.message.contains("not open"), error.message)
  }
}
