import CodeCompletion
import CompletionServer
import JSON
import LSPTestSupport
import LSPTransport
import LSPTypes
import XCTest

/// Cancellation, ContentModified and superseding, with a provider that blocks until its token is cancelled: every
/// step waits for an event (the provider started, a reply arrived), never for time.
final class CancellationTests: XCTestCase {
  var provider: BlockingProvider!
  var client: TestClient!

  override func setUpWithError() throws {
    provider = BlockingProvider()
    client = try TestClient(provider: provider, options: testOptions())
    try client.initialize()
    client.open(uri: "file:///a.py", text: "print(")
    client.open(uri: "file:///b.py", text: "len(")
  }

  override func tearDown() {
    provider.release()
    client.close()
  }

  func inline(_ uri: String) -> PendingReply {
    client.sendRequest(
      InlineCompletionRequest(
        textDocument: TextDocumentIdentifier(uri: uri), position: Position(line: 0, character: 4),
        context: InlineCompletionContext(triggerKind: .automatic)))
  }

  func cancel(_ reply: PendingReply) {
    let id: RequestID
    switch reply.id {
    case .int(let value): id = .int(value)
    case .string(let value): id = .string(value)
    }
    client.notify(CancelRequestNotification(id: id))
  }

  func testCancelRunningRequestAnswersRequestCancelled() throws {
    let running = inline("file:///a.py")
    waitFor(provider.started, "the provider to start")
    cancel(running)
    XCTAssertEqual(try errorCode(running), -32800)
    waitFor(provider.finished, "the provider to return")
    XCTAssertEqual(provider.reasons, [.cancelled])
  }

  func testCancelQueuedRequestAnswersAtOnceWhileTheWorkerIsBusy() throws {
    let running = inline("file:///a.py")
    waitFor(provider.started, "the provider to start")
    let queued = inline("file:///b.py")
    cancel(queued)
    // Answered while the first one still blocks the worker.
    XCTAssertEqual(try errorCode(queued), -32800)
    XCTAssertEqual(provider.log.completions.count, 1)
    provider.release()
    XCTAssertNil(try errorCode(running))
    XCTAssertEqual(try running.value()["items"]?[0]?["insertText"], "released()")
    // The cancelled one never reached the provider.
    XCTAssertEqual(provider.log.completions.map(\.documentID), ["file:///a.py"])
  }

  func testReadingNeverWaitsOnARunningCompletion() throws {
    let running = inline("file:///a.py")
    waitFor(provider.started, "the provider to start")
    // The reader keeps serving while the provider blocks.
    let unknown = client.sendRequest(method: "custom/ping", params: nil)
    XCTAssertEqual(try errorCode(unknown), -32601)
    client.open(uri: "file:///c.py", text: "x")
    client.notify(DidChangeConfigurationNotification(settings: ["codegen-lsp": ["nonsense": true]]))
    try client.waitFor(ShowMessageNotification.method)
    XCTAssertFalse(running.isAnsweredForTest)
    cancel(running)
    XCTAssertEqual(try errorCode(running), -32800)
  }

  func testDidChangeUnderARunningCompletionAnswersContentModified() throws {
    let running = inline("file:///a.py")
    waitFor(provider.started, "the provider to start")
    client.change(uri: "file:///a.py", version: 2, range: LSPRange(at: Position(line: 0, character: 6)), text: "x")
    XCTAssertEqual(try errorCode(running), -32801)
    waitFor(provider.finished, "the provider to return")
    XCTAssertEqual(provider.reasons, [.contentModified])
  }

  /// Neovim 0.7 can send a change a second time after flushing it before a request: no changes, the same version.
  /// The text is unchanged, so the completion goes on; a real change afterwards still cancels it.
  func testDidChangeThatLeavesTheTextDoesNotCancel() throws {
    client.change(uri: "file:///a.py", version: 2, range: LSPRange(at: Position(line: 0, character: 6)), text: "x")
    let running = inline("file:///a.py")
    waitFor(provider.started, "the provider to start")
    client.notify(
      DidChangeTextDocumentNotification(
        textDocument: VersionedTextDocumentIdentifier(uri: "file:///a.py", version: 2), contentChanges: []))
    client.change(uri: "file:///a.py", version: 2, range: LSPRange(at: Position(line: 0, character: 2)), text: "")
    client.change(uri: "file:///a.py", version: 2, range: nil, text: "print(x")
    XCTAssertEqual(try errorCode(client.sendRequest(method: "custom/barrier", params: nil)), -32601)
    XCTAssertFalse(running.isAnsweredForTest)
    client.change(uri: "file:///a.py", version: 3, range: nil, text: "print(y")
    XCTAssertEqual(try errorCode(running), -32801)
    waitFor(provider.finished, "the provider to return")
    XCTAssertEqual(provider.reasons, [.contentModified])
  }

  func testDidChangeOfAnotherDocumentDoesNotCancel() throws {
    let running = inline("file:///a.py")
    waitFor(provider.started, "the provider to start")
    client.change(uri: "file:///b.py", version: 2, range: LSPRange(at: Position(line: 0, character: 0)), text: "y")
    // A later request to a barrier shows the change was processed; the completion still runs.
    XCTAssertEqual(try errorCode(client.sendRequest(method: "custom/barrier", params: nil)), -32601)
    provider.release()
    XCTAssertNil(try errorCode(running))
  }

  func testNewerCompletionSupersedesTheOlder() throws {
    let older = inline("file:///a.py")
    waitFor(provider.started, "the first completion to start")
    let newer = inline("file:///a.py")
    let error = try XCTUnwrap(try older.error())
    XCTAssertEqual(error.code, -32800)
    XCTAssertTrue(error.message.contains("superseded"), error.message)
    waitFor(provider.started, "the second completion to start")
    XCTAssertEqual(provider.reasons, [.superseded])
    provider.release()
    XCTAssertEqual(try newer.value()["items"]?[0]?["insertText"], "released()")
  }

  /// The deadline starts when the worker begins a request, not when it arrives: time spent queued behind another
  /// request does not count.
  func testDeadlineStartsWhenTheWorkerBeginsTheRequest() throws {
    let scripted = ScriptedProvider(["x"])
    let blocking = BlockingProvider()
    defer { blocking.release() }
    let local = try TestClient(options: testOptions(deadlineMilliseconds: 50)) { spec in
      spec == "blocking" ? blocking as CompletionProvider : scripted
    }
    try local.initialize(initializationOptions: ["model": "blocking"])
    local.open(uri: "file:///q.py", text: "x")
    local.open(uri: "file:///r.py", text: "y")
    let first = local.sendRequest(
      InlineCompletionRequest(
        textDocument: TextDocumentIdentifier(uri: "file:///q.py"), position: Position(line: 0, character: 1),
        context: InlineCompletionContext(triggerKind: .automatic)))
    waitFor(blocking.started, "the first completion to start")
    // Switch the model: the switch and the next request queue behind the blocked one.
    local.notify(DidChangeConfigurationNotification(settings: ["model": nil]))
    let second = local.sendRequest(
      InlineCompletionRequest(
        textDocument: TextDocumentIdentifier(uri: "file:///r.py"), position: Position(line: 0, character: 1),
        context: InlineCompletionContext(triggerKind: .automatic)))
    // Sent before the release: its arrival is before this instant, but its deadline must come after it.
    let released = DispatchTime.now().uptimeNanoseconds
    blocking.release()
    XCTAssertNil(try errorCode(first))
    XCTAssertNil(try errorCode(second))
    let deadline = try XCTUnwrap(scripted.seenTokens.last?.deadlineNanoseconds)
    XCTAssertGreaterThanOrEqual(deadline, released + 50_000_000)
  }

  func testCancelOfAnUnknownIdIsIgnored() throws {
    client.notify(CancelRequestNotification(id: .int(987_654)))
    client.notify(CancelRequestNotification(id: .string("nope")))
    let unknown = client.sendRequest(method: "custom/ping", params: nil)
    XCTAssertEqual(try errorCode(unknown), -32601)
  }

  func testShutdownCancelsPendingRequests() throws {
    let running = inline("file:///a.py")
    waitFor(provider.started, "the provider to start")
    XCTAssertEqual(try client.sendRequest(ShutdownRequest()).value(), .null)
    XCTAssertEqual(try errorCode(running), -32800)
    waitFor(provider.finished, "the provider to return")
    XCTAssertEqual(provider.reasons, [.shutdown])
    client.notify(ExitNotification())
    XCTAssertEqual(try client.waitForExit(), 0)
  }
}

extension PendingReply {
  /// True when the reply already arrived (checked without waiting).
  var isAnsweredForTest: Bool { (try? wait(timeout: 0)) != nil }
}
