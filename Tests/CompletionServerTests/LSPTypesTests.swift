import JSON
import LSPTypes
import XCTest

/// The message structs: decoding errors name the bad field, and every message round-trips through JSON.
final class LSPTypesTests: XCTestCase {
  func testDecodingErrorsNameTheField() {
    XCTAssertThrowsError(
      try InlineCompletionRequest(json: ["textDocument": ["uri": "file:///a"], "position": ["line": 1]])
    ) { error in
      XCTAssertEqual(error as? LSPTypesError, .missingField(path: "params.position.character"))
    }
    XCTAssertThrowsError(
      try DidChangeTextDocumentNotification(json: ["textDocument": ["uri": 1], "contentChanges": []])
    ) { error in
      XCTAssertEqual(
        error as? LSPTypesError, .wrongType(path: "params.textDocument.uri", expected: "a string", found: "integer"))
    }
    XCTAssertThrowsError(
      try DidChangeTextDocumentNotification(
        json: ["textDocument": ["uri": "u", "version": 1], "contentChanges": [["text": "a"], ["text": 5]]])
    ) { error in
      XCTAssertEqual("\(error)", "field 'params.contentChanges[1].text' must be a string, found integer")
    }
    XCTAssertThrowsError(
      try InlineCompletionRequest(
        json: [
          "textDocument": ["uri": "u"], "position": ["line": 0, "character": 0], "context": ["triggerKind": 3],
        ])
    ) { error in
      XCTAssertEqual(
        error as? LSPTypesError,
        .invalidValue(path: "params.context.triggerKind", message: "must be 1 (Invoked) or 2 (Automatic), not 3"))
    }
    XCTAssertThrowsError(try SetTraceNotification(json: ["value": "loud"]))
    XCTAssertThrowsError(try CancelRequestNotification(json: ["id": [1]]))
  }

  func testIntegralDoublesAreAcceptedAsIntegers() throws {
    let position = try Position(json: ["line": 2.0, "character": 3])
    XCTAssertEqual(position, Position(line: 2, character: 3))
    XCTAssertThrowsError(try Position(json: ["line": 2.5, "character": 3]))
  }

  func testMessagesRoundTrip() throws {
    let range = LSPRange(start: Position(line: 1, character: 2), end: Position(line: 3, character: 4))
    let change = DidChangeTextDocumentNotification(
      textDocument: VersionedTextDocumentIdentifier(uri: "file:///x", version: 4),
      contentChanges: [
        TextDocumentContentChangeEvent(range: range, text: "é"), TextDocumentContentChangeEvent(text: ""),
      ])
    XCTAssertEqual(try DidChangeTextDocumentNotification(json: change.json), change)
    let inline = InlineCompletionRequest(
      textDocument: TextDocumentIdentifier(uri: "u"), position: Position(line: 0, character: 1),
      context: InlineCompletionContext(
        triggerKind: .invoked, selectedCompletionInfo: SelectedCompletionInfo(range: range, text: "sel")))
    XCTAssertEqual(try InlineCompletionRequest(json: inline.json), inline)
    let item = CompletionItem(
      label: "l", kind: 1, documentation: "doc", sortText: "0", filterText: "f", preselect: true,
      textEdit: TextEdit(range: range, newText: "n"), insertTextFormat: .plainText, insertTextMode: .asIs)
    XCTAssertEqual(try CompletionItem(json: item.json), item)
    let edit = ApplyWorkspaceEditRequest(
      label: "g", edit: WorkspaceEdit(changes: ["u": [TextEdit(range: range, newText: "t")]]))
    XCTAssertEqual(try ApplyWorkspaceEditRequest(json: edit.json), edit)
    for value in [
      WorkDoneProgressValue.begin(title: "t", cancellable: true, message: "m", percentage: nil),
      .report(cancellable: nil, message: "r", percentage: 5), .end(message: nil),
    ] {
      let progress = ProgressNotification(token: .int(3), value: value)
      XCTAssertEqual(try ProgressNotification(json: progress.json), progress)
    }
    let initialize = InitializeRequest(
      processId: 5, clientName: "c", clientVersion: "1", rootUri: "file:///", initializationOptions: ["k": 1],
      trace: .verbose)
    XCTAssertEqual(try InitializeRequest(json: initialize.json), initialize)
    let capabilities = ServerCapabilities(executeCommands: ["x"])
    XCTAssertEqual(try ServerCapabilities(json: capabilities.json, path: "result"), capabilities)
  }

  func testWatchedFilesMessagesRoundTripAndRejectUnknownChangeTypes() throws {
    let notification = DidChangeWatchedFilesNotification(changes: [
      FileEvent(uri: "file:///a.py", type: .created), FileEvent(uri: "file:///b.py", type: .deleted),
    ])
    XCTAssertEqual(try DidChangeWatchedFilesNotification(json: notification.json, path: "params"), notification)
    let bad: JSONValue = ["changes": [["uri": "file:///a.py", "type": 7]]]
    XCTAssertThrowsError(try DidChangeWatchedFilesNotification(json: bad, path: "params")) { error in
      XCTAssertTrue("\(error)".contains("params.changes[0].type") || "\(error)".contains("type"), "\(error)")
    }
    let registration = RegisterCapabilityRequest(
      id: "w", method: DidChangeWatchedFilesNotification.method, globPatterns: ["**/*"])
    XCTAssertEqual(try RegisterCapabilityRequest(json: registration.json, path: "params"), registration)
    XCTAssertEqual(registration.json["registrations"]?[0]?["registerOptions"]?["watchers"]?[0]?["globPattern"], "**/*")
    XCTAssertTrue(
      ClientCapabilities(raw: ["workspace": ["didChangeWatchedFiles": ["dynamicRegistration": true]]])
        .watchedFilesRegistration)
    XCTAssertFalse(ClientCapabilities().watchedFilesRegistration)
  }

  func testRegistryListsEveryMessageOnce() {
    let methods = LSPMessageRegistry.all.map { $0.type.method }
    XCTAssertEqual(Set(methods).count, methods.count)
    XCTAssertTrue(LSPMessageRegistry.isRequest("textDocument/inlineCompletion"))
    XCTAssertFalse(LSPMessageRegistry.isRequest("textDocument/didChange"))
    XCTAssertNil(LSPMessageRegistry.messageType(forMethod: "nope"))
    XCTAssertTrue(LSPMessageRegistry.messageType(forMethod: "shutdown") == ShutdownRequest.self)
  }

  func testClientCapabilityAccessors() {
    let capabilities = ClientCapabilities(raw: [
      "general": ["positionEncodings": ["utf-32", "bogus", "utf-8"]],
      "window": ["workDoneProgress": true],
      "textDocument": ["completion": ["completionItem": ["insertTextModeSupport": ["valueSet": [2]]]]],
    ])
    XCTAssertEqual(capabilities.positionEncodings, [.utf32, .utf8])
    XCTAssertTrue(capabilities.workDoneProgress)
    XCTAssertFalse(capabilities.applyEdit)
    XCTAssertEqual(capabilities.completionInsertTextModes, [2])
  }
}
