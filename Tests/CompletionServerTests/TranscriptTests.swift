import CodeCompletion
import CompletionServer
import Foundation
import JSON
import LSPTestSupport
import LSPTransport
import LSPTypes
import XCTest

#if canImport(Glibc)
  import Glibc
#endif

/// A server on raw pipes: the test writes framed client messages and reads every framed server message, so the
/// transcript holds exactly what went over the wire.
final class RawSession: @unchecked Sendable {
  let server: LanguageServer
  private let input: (read: Int32, write: Int32)
  private let output: (read: Int32, write: Int32)
  private let condition = NSCondition()
  private var messages: [JSONValue] = []
  private var cursor = 0
  private let exitCode = ExitCodeBox()

  init(provider: CompletionProvider) throws {
    input = try makePipe()
    output = try makePipe()
    let connection = JSONRPCConnection(inputFD: input.read, outputFD: output.write)
    server = LanguageServer(connection: connection, options: testOptions()) { _ in provider }
    let server = self.server
    let box = exitCode
    Thread { box.set(server.run()) }.start()
    let readFD = output.read
    Thread { [self] in
      var framer = MessageFramer()
      var buffer = [UInt8](repeating: 0, count: 65536)
      while true {
        let count = read(readFD, &buffer, buffer.count)
        if count <= 0 { break }
        for event in framer.push(Array(buffer[0..<count])) {
          if case .message(let body) = event, let value = try? JSONValue.parse(body, maxDepth: 512) {
            condition.lock()
            messages.append(value)
            condition.broadcast()
            condition.unlock()
          }
        }
      }
    }.start()
  }

  func send(_ message: JSONValue) {
    let bytes = MessageFramer.frame(message.serializedBytes())
    bytes.withUnsafeBytes { raw in
      var offset = 0
      while offset < raw.count {
        let written = write(input.write, raw.baseAddress! + offset, raw.count - offset)
        if written <= 0 { break }
        offset += written
      }
    }
  }

  /// The next server message that `include` accepts (others are skipped), or nil after the safety timeout.
  func next(where include: (JSONValue) -> Bool) -> JSONValue? {
    let limit = Date(timeIntervalSinceNow: TestClient.safetyTimeout)
    condition.lock()
    defer { condition.unlock() }
    while true {
      while cursor < messages.count {
        let message = messages[cursor]
        cursor += 1
        if include(message) { return message }
      }
      if !condition.wait(until: limit) { return nil }
    }
  }

  func closeInput() { close(input.write) }

  func waitForExit() -> Int32? { exitCode.wait() }

  deinit {
    close(input.read)
    close(output.write)
    close(output.read)
  }
}

final class ExitCodeBox: @unchecked Sendable {
  private let semaphore = DispatchSemaphore(value: 0)
  private var code: Int32?
  func set(_ value: Int32) {
    code = value
    semaphore.signal()
  }
  func wait() -> Int32? {
    if semaphore.wait(timeout: .now() + TestClient.safetyTimeout) == .timedOut { return nil }
    return code
  }
}

/// Replays the recorded sessions in `Transcripts/` (documented in `Protocol/README.md`) against the server.
///
/// A transcript is `{"description", "provider", "exitCode", "messages": [{"from": "client"|"server", "message"}]}`.
/// Client messages are sent as they are; each server message is compared with the next message the server sent,
/// skipping `window/logMessage` and `$/logTrace` (their text varies). In expected messages the string `"<any>"`
/// matches any value (used for fields that vary, such as the server version).
final class TranscriptTests: XCTestCase {
  static let ignoredMethods: Set<String> = [LogMessageNotification.method, LogTraceNotification.method]

  static func include(_ message: JSONValue) -> Bool {
    guard let method = message["method"]?.stringValue else { return true }
    return !ignoredMethods.contains(method)
  }

  static func makeProvider(_ name: String) -> CompletionProvider {
    switch name {
    case "unavailable":
      return UnavailableProvider(reason: "no model file: put a GGUF model in ~/.cache/codegen-lsp/models")
    default: return BracketClosingProvider()
    }
  }

  /// True when `actual` matches `expected`, where `"<any>"` matches anything.
  static func matches(_ actual: JSONValue, _ expected: JSONValue) -> Bool {
    if expected == "<any>" { return true }
    switch (actual, expected) {
    case (.object(let a), .object(let e)):
      return a.count == e.count && e.allSatisfy { key, value in a[key].map { matches($0, value) } ?? false }
    case (.array(let a), .array(let e)):
      return a.count == e.count && zip(a, e).allSatisfy { matches($0, $1) }
    case (.int(let a), .double(let e)): return Double(a) == e
    case (.double(let a), .int(let e)): return a == Double(e)
    default: return actual == expected
    }
  }

  func transcriptURLs() throws -> [URL] {
    let directory = try XCTUnwrap(Bundle.module.url(forResource: "Transcripts", withExtension: nil))
    return try FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)
      .filter { $0.pathExtension == "json" }.sorted { $0.lastPathComponent < $1.lastPathComponent }
  }

  func testReplayRecordedTranscripts() throws {
    let urls = try transcriptURLs()
    XCTAssertGreaterThanOrEqual(urls.count, 3)
    for url in urls {
      let transcript = try JSONValue.parse(String(contentsOf: url, encoding: .utf8))
      let name = url.lastPathComponent
      let session = try RawSession(provider: TranscriptTests.makeProvider(transcript["provider"]?.stringValue ?? ""))
      for (index, step) in (transcript["messages"]?.arrayValue ?? []).enumerated() {
        let message = try XCTUnwrap(step["message"], "\(name) step \(index)")
        if step["from"] == "client" {
          session.send(message)
        } else {
          guard let actual = session.next(where: TranscriptTests.include) else {
            XCTFail("\(name) step \(index): no server message, expected \(message.serialized())")
            break
          }
          XCTAssertTrue(
            TranscriptTests.matches(actual, message),
            "\(name) step \(index):\n  expected \(message.serialized())\n  actual   \(actual.serialized())")
        }
      }
      if let code = transcript["exitCode"]?.intValue {
        XCTAssertEqual(session.waitForExit().map(Int64.init), code, name)
      }
      session.closeInput()
    }
  }

  // MARK: Recording

  /// Re-records the transcripts from the scripted sessions below when `CODEGEN_LSP_RECORD_TRANSCRIPTS=1`.
  func testRecordTranscripts() throws {
    guard ProcessInfo.processInfo.environment["CODEGEN_LSP_RECORD_TRANSCRIPTS"] == "1" else {
      throw XCTSkip("set CODEGEN_LSP_RECORD_TRANSCRIPTS=1 to re-record Transcripts/*.json")
    }
    let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Transcripts")
    for script in TranscriptScripts.all {
      let session = try RawSession(provider: TranscriptTests.makeProvider(script.provider))
      var steps: [JSONValue] = []
      for message in script.messages {
        session.send(message)
        steps.append(["from": "client", "message": message])
        guard let id = message["id"], message["method"] != nil else { continue }
        // Collect server messages up to this request's response, answering server-to-client requests.
        while let reply = session.next(where: TranscriptTests.include) {
          steps.append(["from": "server", "message": TranscriptScripts.mask(reply)])
          if let method = reply["method"]?.stringValue, let requestID = reply["id"] {
            let result: JSONValue = method == ApplyWorkspaceEditRequest.method ? ["applied": true] : .null
            let answer: JSONValue = ["jsonrpc": "2.0", "id": requestID, "result": result]
            session.send(answer)
            steps.append(["from": "client", "message": answer])
          }
          if reply["method"] == nil && reply["id"] == id { break }
        }
      }
      let code = session.waitForExit()
      let transcript: JSONValue = .fields([
        ("description", .string(script.description)), ("provider", .string(script.provider)),
        ("exitCode", code.map { .int(Int64($0)) }), ("messages", .array(steps)),
      ])
      try TranscriptScripts.pretty(transcript).write(
        to: directory.appendingPathComponent(script.name + ".json"), atomically: true, encoding: .utf8)
    }
  }
}

/// The sessions the transcripts are recorded from.
enum TranscriptScripts {
  struct Script {
    let name: String
    let description: String
    let provider: String
    let messages: [JSONValue]
  }

  static func request(_ id: Int64, _ method: String, _ params: JSONValue? = nil) -> JSONValue {
    .fields([("jsonrpc", "2.0"), ("id", .int(id)), ("method", .string(method)), ("params", params)])
  }

  static func notification(_ method: String, _ params: JSONValue? = nil) -> JSONValue {
    .fields([("jsonrpc", "2.0"), ("method", .string(method)), ("params", params)])
  }

  static let uri = "file:///project/app.py"

  static let all: [Script] = [
    Script(
      name: "01-lifecycle-completion",
      description:
        "initialize (UTF-16), open, inline completion, incremental change, menu completion, shutdown, exit 0",
      provider: "bracket-closing",
      messages: [
        request(1, "initialize", ["processId": nil, "capabilities": TestClient.defaultCapabilities]),
        notification("initialized", [:]),
        notification(
          "textDocument/didOpen",
          ["textDocument": ["uri": .string(uri), "languageId": "python", "version": 1, "text": "total = sum([1, 2\n"]]),
        request(
          2, "textDocument/inlineCompletion",
          [
            "textDocument": ["uri": .string(uri)], "position": ["line": 0, "character": 17],
            "context": ["triggerKind": 2],
          ]),
        notification(
          "textDocument/didChange",
          [
            "textDocument": ["uri": .string(uri), "version": 2],
            "contentChanges": [
              [
                "range": ["start": ["line": 0, "character": 17], "end": ["line": 0, "character": 17]],
                "text": "])\nprint(tot",
              ]
            ],
          ]),
        request(
          3, "textDocument/completion",
          ["textDocument": ["uri": .string(uri)], "position": ["line": 1, "character": 9]]),
        request(4, "shutdown"),
        notification("exit"),
      ]),
    Script(
      name: "02-generate-code",
      description: "workspace/executeCommand codegen-lsp.generateCode with work-done progress and workspace/applyEdit",
      provider: "bracket-closing",
      messages: [
        request(1, "initialize", ["processId": nil, "capabilities": TestClient.defaultCapabilities]),
        notification("initialized", [:]),
        notification(
          "textDocument/didOpen",
          [
            "textDocument": [
              "uri": .string(uri), "languageId": "python", "version": 1, "text": "def area(radius):\n    \n",
            ]
          ]),
        request(
          2, "workspace/executeCommand",
          [
            "command": "codegen-lsp.generateCode",
            "arguments": [
              [
                "uri": .string(uri), "position": ["line": 1, "character": 4],
                "instruction": "return the area of the circle",
              ]
            ],
          ]),
        request(3, "shutdown"),
        notification("exit"),
      ]),
    Script(
      name: "03-errors-and-configuration",
      description: "errors: before initialize, invalid configuration, unknown method, invalid params, after shutdown",
      provider: "bracket-closing",
      messages: [
        request(
          1, "textDocument/completion",
          ["textDocument": ["uri": .string(uri)], "position": ["line": 0, "character": 0]]),
        request(
          2, "initialize",
          [
            "processId": nil, "capabilities": ["general": ["positionEncodings": ["utf-8", "utf-16"]]],
            "initializationOptions": ["codegen-lsp": ["temperature": 0.2, "maxTokensLine": "lots", "colour": "blue"]],
          ]),
        notification("initialized", [:]),
        request(3, "codegen-lsp/unknown", [:]),
        request(
          4, "textDocument/inlineCompletion", ["textDocument": ["uri": 42], "position": ["line": 0, "character": 0]]),
        notification("workspace/didChangeConfiguration", ["settings": ["topK": -3]]),
        notification(
          "textDocument/didOpen",
          ["textDocument": ["uri": .string(uri), "languageId": "python", "version": 1, "text": "é = f(\"😀\""]]),
        request(
          5, "textDocument/inlineCompletion",
          [
            "textDocument": ["uri": .string(uri)], "position": ["line": 0, "character": 13],
            "context": ["triggerKind": 1],
          ]),
        request(6, "shutdown"),
        request(
          7, "textDocument/completion",
          ["textDocument": ["uri": .string(uri)], "position": ["line": 0, "character": 0]]),
        notification("exit"),
      ]),
    Script(
      name: "04-no-model",
      description: "provider unavailable: the server starts, says why once, and answers completions with empty results",
      provider: "unavailable",
      messages: [
        request(1, "initialize", ["processId": nil, "capabilities": [:]]),
        notification("initialized", [:]),
        notification(
          "textDocument/didOpen",
          ["textDocument": ["uri": .string(uri), "languageId": "python", "version": 1, "text": "x = ("]]),
        request(
          2, "textDocument/inlineCompletion",
          [
            "textDocument": ["uri": .string(uri)], "position": ["line": 0, "character": 5],
            "context": ["triggerKind": 2],
          ]),
        request(
          3, "textDocument/completion",
          ["textDocument": ["uri": .string(uri)], "position": ["line": 0, "character": 5]]),
        request(4, "shutdown"),
        notification("exit"),
      ]),
  ]

  /// Masks fields that vary between runs.
  static func mask(_ message: JSONValue) -> JSONValue {
    guard case .object(var object) = message else { return message }
    if case .object(var result) = object["result"], case .object(var info) = result["serverInfo"] {
      info["version"] = "<any>"
      result["serverInfo"] = .object(info)
      object["result"] = .object(result)
    }
    return .object(object)
  }

  /// Indented JSON with sorted keys (one message per block, readable in review).
  static func pretty(_ value: JSONValue, indent: String = "") -> String {
    let inner = indent + "  "
    switch value {
    case .array(let items) where !items.isEmpty:
      return "[\n" + items.map { inner + pretty($0, indent: inner) }.joined(separator: ",\n") + "\n\(indent)]"
    case .object(let members) where !members.isEmpty:
      return "{\n"
        + members.keys.sorted().map { key in
          inner + JSONValue.string(key).serialized() + ": " + pretty(members[key]!, indent: inner)
        }.joined(separator: ",\n") + "\n\(indent)}"
    default:
      return value.serialized()
    }
  }
}
