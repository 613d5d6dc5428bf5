import CodeCompletion
import CompletionServer
import Foundation
import JSON
import LSPTestSupport
import LSPTypes
import XCTest

/// A context source that records what the server tells it and adds one context document per request.
final class RecordingContextSource: ContextSource, @unchecked Sendable {
  private let lock = NSLock()
  private var events: [String] = []

  var log: [String] {
    lock.lock()
    defer { lock.unlock() }
    return events
  }

  private func record(_ event: String) {
    lock.lock()
    events.append(event)
    lock.unlock()
  }

  func setWorkspaceFolders(_ paths: [String]) { record("folders \(paths.joined(separator: ","))") }
  func documentChanged(path: String, languageId: String, text: String) { record("changed \(path) \(text.count)") }
  func fileChanged(path: String) { record("file \(path)") }
  func documentClosed(path: String, documentID: String) { record("closed \(path)") }
  func addContext(to request: inout CompletionRequest, path: String, openText: (String) -> String?) -> [String] {
    record("context \(path) open:\(openText(path) ?? "nil")")
    request.contextDocuments.insert(
      ContextDocument(name: "lib/util.py", languageId: request.languageId, text: "def util(): pass\n", reason: "test"),
      at: 0)
    request.repositoryName = "proj"
    return ["repository context: test"]
  }
  var summary: String { "recording" }
}

final class RepositoryContextServerTests: XCTestCase {
  func options(_ source: ContextSource) -> ServerOptions {
    var options = testOptions()
    options.contextSource = source
    return options
  }

  func testWorkspaceFoldersDocumentsAndWatchedFilesReachTheContextSource() throws {
    let source = RecordingContextSource()
    let provider = BracketClosingProvider()
    let client = try TestClient(provider: provider, options: options(source))
    let capabilities: JSONValue = [
      "workspace": ["applyEdit": true, "didChangeWatchedFiles": ["dynamicRegistration": true]]
    ]
    try client.initialize(
      capabilities: capabilities, initializationOptions: ["repositoryContext": true], rootUri: "file:///ignored",
      workspaceFolders: ["file:///work/proj"])
    // The server registered a file watcher, since the client allows it.
    let registration = try client.waitFor(RegisterCapabilityRequest.method)
    XCTAssertEqual(
      try RegisterCapabilityRequest(json: registration[0], path: "params").method,
      DidChangeWatchedFilesNotification.method)
    client.open(uri: "file:///work/proj/a.py", text: "x = ")
    client.change(
      uri: "file:///work/proj/a.py", version: 2, range: LSPRange(at: Position(line: 0, character: 4)), text: "1")
    client.notify(DidSaveTextDocumentNotification(textDocument: TextDocumentIdentifier(uri: "file:///work/proj/a.py")))
    client.notify(
      DidChangeWatchedFilesNotification(changes: [FileEvent(uri: "file:///work/proj/b.py", type: .deleted)]))
    _ = try client.inlineCompletion(uri: "file:///work/proj/a.py", position: Position(line: 0, character: 5))
    let request = try XCTUnwrap(provider.log.completions.last)
    XCTAssertEqual(request.contextDocuments.first?.name, "lib/util.py")
    XCTAssertEqual(request.repositoryName, "proj")
    client.notify(DidCloseTextDocumentNotification(textDocument: TextDocumentIdentifier(uri: "file:///work/proj/a.py")))
    XCTAssertEqual(try errorCode(client.sendRequest(method: "custom/barrier", params: nil)), -32601)
    XCTAssertEqual(
      source.log,
      [
        "folders /work/proj", "changed /work/proj/a.py 4", "changed /work/proj/a.py 5", "file /work/proj/b.py",
        "context /work/proj/a.py open:x = 1", "closed /work/proj/a.py",
      ])
  }

  /// Off by default: nothing is indexed and requests are left alone; turning it on later starts the index.
  func testRepositoryContextOffLeavesTheRequestAloneUntilTurnedOn() throws {
    let source = RecordingContextSource()
    let provider = BracketClosingProvider()
    let client = try TestClient(provider: provider, options: options(source))
    try client.initialize(rootUri: "file:///work/proj")
    client.open(uri: "file:///work/proj/a.py", text: "x = ")
    _ = try client.inlineCompletion(uri: "file:///work/proj/a.py", position: Position(line: 0, character: 4))
    let request = try XCTUnwrap(provider.log.completions.last)
    XCTAssertTrue(request.contextDocuments.isEmpty)
    XCTAssertNil(request.repositoryName)
    XCTAssertFalse(source.log.contains { $0.hasPrefix("folders") || $0.hasPrefix("context") }, "\(source.log)")
    client.notify(DidChangeConfigurationNotification(settings: ["repositoryContext": true]))
    _ = try client.inlineCompletion(uri: "file:///work/proj/a.py", position: Position(line: 0, character: 4))
    XCTAssertEqual(try XCTUnwrap(provider.log.completions.last).repositoryName, "proj")
    XCTAssertTrue(source.log.contains("folders /work/proj"), "\(source.log)")
  }

  func testInitializeReadsWorkspaceFoldersAndRootPath() throws {
    let json = try JSONValue.parse(
      #"{"capabilities": {}, "rootPath": "/a b", "workspaceFolders": [{"uri": "file:///x", "name": "x"}]}"#)
    let request = try InitializeRequest(json: json, path: "params")
    XCTAssertEqual(request.rootPath, "/a b")
    XCTAssertEqual(request.workspaceFolders, ["file:///x"])
    XCTAssertEqual(try InitializeRequest(json: request.json, path: "params"), request)
  }
}
