import CodeCompletion
import CompletionServer
import JSON
import LSPTestSupport
import LSPTransport
import LSPTypes
import XCTest

final class GenerateCodeTests: XCTestCase {
  func generate(_ client: TestClient, _ arguments: GenerateCodeArguments, token: ProgressToken? = nil) -> PendingReply {
    client.sendRequest(
      ExecuteCommandRequest(command: "codegen-lsp.generateCode", arguments: [arguments.json], workDoneToken: token))
  }

  func testGenerateAtAPositionWithProgressAndApplyEdit() throws {
    let provider = BracketClosingProvider()
    let client = try TestClient(provider: provider, options: testOptions())
    try client.initialize()
    let marked = MarkedText("def area(radius):\n    <|cursor|>\n")
    client.open(uri: "file:///g.py", text: marked.text)
    let reply = generate(
      client, GenerateCodeArguments(uri: "file:///g.py", position: marked.position(), instruction: "compute the area"))
    let result = try GenerateCodeResult(json: try reply.value(), path: "result")
    XCTAssertEqual(result, GenerateCodeResult(applied: true, text: "// compute the area\nreturn radius\n"))

    let methods = client.received.map(\.method).filter { $0 != LogMessageNotification.method }
    XCTAssertEqual(
      methods,
      [
        "window/workDoneProgress/create", "$/progress", "$/progress", "$/progress", "$/progress",
        "workspace/applyEdit",
      ])
    let token = try XCTUnwrap(client.received(WorkDoneProgressCreateRequest.method).first?["token"])
    let progress = try client.received(ProgressNotification.method).map {
      try ProgressNotification(json: $0, path: "params")
    }
    XCTAssertTrue(progress.allSatisfy { $0.token.json == token })
    XCTAssertEqual(progress.map(\.value.kind), ["begin", "report", "report", "end"])
    if case .begin(_, let cancellable, let message, _) = progress[0].value {
      XCTAssertEqual(cancellable, true)
      XCTAssertEqual(message, "“compute the area”")
    }
    if case .report(_, let message, _) = progress[2].value {
      XCTAssertEqual(message, "2 lines: return radius")
    }
    let apply = try ApplyWorkspaceEditRequest(
      json: try XCTUnwrap(client.received(ApplyWorkspaceEditRequest.method).first), path: "params")
    XCTAssertEqual(
      apply.edit.changes?["file:///g.py"],
      [TextEdit(range: LSPRange(at: marked.position()), newText: "// compute the area\nreturn radius\n")])
    let request = try XCTUnwrap(provider.log.generations.first)
    XCTAssertEqual(request.prefix, marked.prefix())
    XCTAssertEqual(request.suffix, marked.suffix())
    XCTAssertEqual(request.selection, "")
    XCTAssertEqual(request.instruction, "compute the area")
  }

  func testGenerateReplacingARangeWithVersionedEditAndRejectedApply() throws {
    let provider = BracketClosingProvider()
    let client = try TestClient(provider: provider, options: testOptions())
    client.applyEditResult = false
    try client.initialize(capabilities: ["workspace": ["applyEdit": true, "workspaceEdit": ["documentChanges": true]]])
    let marked = MarkedText("x = 1\n<|start|>old_code()\n<|end|>tail\n")
    client.open(uri: "file:///r.py", text: marked.text, version: 7)
    let reply = generate(
      client, GenerateCodeArguments(uri: "file:///r.py", range: marked.range(from: "start", to: "end")))
    let result = try GenerateCodeResult(json: try reply.value(), path: "result")
    XCTAssertEqual(result.applied, false)
    XCTAssertEqual(result.text, "// generated\nreturn x\n")
    // No work-done progress without the client capability.
    XCTAssertEqual(client.received(ProgressNotification.method).count, 0)
    XCTAssertEqual(client.received(WorkDoneProgressCreateRequest.method).count, 0)
    let apply = try ApplyWorkspaceEditRequest(
      json: try XCTUnwrap(client.received(ApplyWorkspaceEditRequest.method).first), path: "params")
    XCTAssertEqual(
      apply.edit.documentChanges,
      [
        TextDocumentEdit(
          textDocument: VersionedTextDocumentIdentifier(uri: "file:///r.py", version: 7),
          edits: [TextEdit(range: marked.range(from: "start", to: "end"), newText: result.text)])
      ])
    XCTAssertEqual(provider.log.generations.first?.selection, "old_code()\n")
    XCTAssertEqual(provider.log.generations.first?.suffix, "tail\n")
  }

  func testClientGivenWorkDoneTokenIsUsedWithoutCreate() throws {
    let client = try TestClient(provider: BracketClosingProvider(), options: testOptions())
    try client.initialize()
    client.open(uri: "file:///t.py", text: "a")
    let reply = generate(
      client, GenerateCodeArguments(uri: "file:///t.py", position: Position(line: 0, character: 1)),
      token: .string("client-token"))
    XCTAssertNil(try errorCode(reply))
    XCTAssertEqual(client.received(WorkDoneProgressCreateRequest.method).count, 0)
    XCTAssertTrue(client.received(ProgressNotification.method).allSatisfy { $0["token"] == "client-token" })
    XCTAssertEqual(client.received(ProgressNotification.method).count, 4)
  }

  func testCancellingTheProgressStopsGenerationWithoutApplying() throws {
    let provider = BlockingProvider()
    defer { provider.release() }
    let client = try TestClient(provider: provider, options: testOptions())
    try client.initialize()
    client.open(uri: "file:///c.py", text: "def f():\n")
    let reply = generate(client, GenerateCodeArguments(uri: "file:///c.py", position: Position(line: 1, character: 0)))
    waitFor(provider.started, "generation to start")
    let begin = try client.waitFor(ProgressNotification.method) { $0["value"]?["kind"] == "begin" }
    let token = try ProgressToken(json: try XCTUnwrap(begin.first?["token"]), path: "token")
    try client.waitFor(ProgressNotification.method) { $0["value"]?["kind"] == "report" }
    client.notify(WorkDoneProgressCancelNotification(token: token))
    let result = try GenerateCodeResult(json: try reply.value(), path: "result")
    XCTAssertEqual(result, GenerateCodeResult(applied: false, text: "partial line\n"))
    XCTAssertEqual(client.received(ApplyWorkspaceEditRequest.method).count, 0)
    let end = try client.waitFor(ProgressNotification.method) { $0["value"]?["kind"] == "end" }
    XCTAssertEqual(end.first?["value"]?["message"], "cancelled")
    XCTAssertEqual(provider.reasons, [.cancelled])
  }

  func testCancelRequestOfTheCommandAnswersRequestCancelled() throws {
    let provider = BlockingProvider()
    defer { provider.release() }
    let client = try TestClient(provider: provider, options: testOptions())
    try client.initialize()
    client.open(uri: "file:///k.py", text: "")
    let reply = generate(client, GenerateCodeArguments(uri: "file:///k.py", position: Position(line: 0, character: 0)))
    waitFor(provider.started, "generation to start")
    guard case .int(let id) = reply.id else { return XCTFail("integer ids expected") }
    client.notify(CancelRequestNotification(id: .int(id)))
    XCTAssertEqual(try errorCode(reply), -32800)
    try client.waitFor(ProgressNotification.method) { $0["value"]?["kind"] == "end" }
    XCTAssertEqual(client.received(ApplyWorkspaceEditRequest.method).count, 0)
  }

  func testBadArgumentsAreInvalidParams() throws {
    let client = try TestClient(provider: BracketClosingProvider(), options: testOptions())
    try client.initialize()
    client.open(uri: "file:///b.py", text: "")
    let unknown = client.sendRequest(ExecuteCommandRequest(command: "codegen-lsp.unknown", arguments: []))
    XCTAssertEqual(try errorCode(unknown), -32602)
    let none = client.sendRequest(ExecuteCommandRequest(command: "codegen-lsp.generateCode", arguments: []))
    XCTAssertEqual(try errorCode(none), -32602)
    let noURI = client.sendRequest(
      ExecuteCommandRequest(
        command: "codegen-lsp.generateCode", arguments: [["position": ["line": 0, "character": 0]]]))
    let error = try XCTUnwrap(try noURI.error())
    XCTAssertEqual(error.code, -32602)
    XCTAssertTrue(error.message.contains("params.arguments[0].uri"), error.message)
    let noPlace = client.sendRequest(
      ExecuteCommandRequest(command: "codegen-lsp.generateCode", arguments: [["uri": "file:///b.py"]]))
    XCTAssertEqual(try errorCode(noPlace), -32602)
    let notOpen = client.sendRequest(
      ExecuteCommandRequest(
        command: "codegen-lsp.generateCode",
        arguments: [GenerateCodeArguments(uri: "file:///nope.py", position: Position(line: 0, character: 0)).json]))
    XCTAssertEqual(try errorCode(notOpen), -32602)
  }

  func testProgressMessageIsTheLastLineShortened() {
    XCTAssertEqual(LanguageServerProgressProbe.message("a\nb\n"), "2 lines: b")
    let long = String(repeating: "x", count: 200)
    let message = LanguageServerProgressProbe.message("one\n" + long)
    XCTAssertTrue(message.hasPrefix("2 lines: …"))
    XCTAssertEqual(message.count, "2 lines: ".count + 80)
  }
}

/// Reaches the server's progress-message shortening through `@testable`-free public API.
enum LanguageServerProgressProbe {
  static func message(_ text: String) -> String { LanguageServer.progressMessage(for: text) }
}
