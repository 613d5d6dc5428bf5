import Foundation
import JSON
import LSPTransport
import XCTest

/// Starts the built `codegen-lsp` binary over pipes and runs whole LSP sessions against it, as an editor would.
///
/// The binary is the one next to this test bundle (`swift build` before `swift test`, as `Scripts/test.sh`
/// does). Sessions without a model always run; the one with a real model needs CODEGEN_LSP_MODEL_TESTS=1.
final class BinarySessionTests: XCTestCase {
  /// A client connection to a running server process.
  final class Session: @unchecked Sendable {
    let process = Process()
    let connection: JSONRPCConnection
    let stderrPipe = Pipe()
    private let lock = NSLock()
    private var notifications: [(method: String, params: JSONValue?)] = []
    private var serverRequests: [String] = []
    private let closed = DispatchSemaphore(value: 0)
    private(set) var closeReason: ConnectionCloseReason?
    var stdoutProblems: [String] = []
    private var stderrBytes = Data()
    private var stderrEnded = false
    private let stderrChanged = DispatchSemaphore(value: 0)

    init(binary: String, arguments: [String], environment: [String: String] = [:]) throws {
      let toServer = Pipe()
      let fromServer = Pipe()
      process.executableURL = URL(fileURLWithPath: binary)
      process.arguments = arguments
      var env = ProcessInfo.processInfo.environment
      for (key, value) in environment { env[key] = value }
      process.environment = env
      process.standardInput = toServer
      process.standardOutput = fromServer
      process.standardError = stderrPipe
      try process.run()
      connection = JSONRPCConnection(
        inputFD: fromServer.fileHandleForReading.fileDescriptor, outputFD: toServer.fileHandleForWriting.fileDescriptor)
      connection.start(
        handler: { [self] message in
          switch message {
          case .notification(let method, let params):
            lock.lock()
            notifications.append((method, params))
            lock.unlock()
          case .request(let id, let method, _):
            lock.lock()
            serverRequests.append(method)
            lock.unlock()
            let result: JSONValue = method == "workspace/applyEdit" ? ["applied": true] : .null
            connection.sendResponse(id: id, result: result)
          }
        },
        onProtocolError: { [self] error in
          lock.lock()
          stdoutProblems.append(error)
          lock.unlock()
        },
        onClose: { [self] reason in
          closeReason = reason
          closed.signal()
        })
      stderrPipe.fileHandleForReading.readabilityHandler = { [self] handle in
        let data = handle.availableData
        lock.lock()
        if data.isEmpty {
          stderrEnded = true
          handle.readabilityHandler = nil
        } else {
          stderrBytes += data
        }
        lock.unlock()
        stderrChanged.signal()
      }
    }

    /// Sends a request and waits for its reply (a generous safety timeout only guards against a hang).
    func request(_ method: String, _ params: JSONValue?, timeout: Double = 120) throws -> Result<
      JSONValue, ResponseError
    > {
      let done = DispatchSemaphore(value: 0)
      var outcome: Result<JSONValue, ResponseError>?
      connection.sendRequest(method: method, params: params) { reply in
        outcome = reply
        done.signal()
      }
      guard done.wait(timeout: .now() + timeout) == .success, let outcome else {
        throw NSError(
          domain: "BinarySessionTests", code: 1, userInfo: [NSLocalizedDescriptionKey: "no reply to \(method)"])
      }
      return outcome
    }

    /// Sends a request without waiting; the reply lands in the returned box.
    func requestAsync(_ method: String, _ params: JSONValue?) -> (
      RequestID, DispatchSemaphore, () -> Result<JSONValue, ResponseError>?
    ) {
      let done = DispatchSemaphore(value: 0)
      let box = Box()
      let id = connection.sendRequest(method: method, params: params) { reply in
        box.value = reply
        done.signal()
      }
      return (id, done, { box.value })
    }

    final class Box: @unchecked Sendable { var value: Result<JSONValue, ResponseError>? }

    func notify(_ method: String, _ params: JSONValue?) {
      connection.sendNotification(method: method, params: params)
    }

    func messages(_ method: String) -> [JSONValue?] {
      lock.lock()
      defer { lock.unlock() }
      return notifications.filter { $0.method == method }.map(\.params)
    }

    /// Waits for the process to exit after `exit` and returns its status.
    func waitForExit(timeout: Double = 60) -> Int32? {
      let deadline = Date().addingTimeInterval(timeout)
      while process.isRunning && Date() < deadline { usleep(20_000) }
      if process.isRunning {
        process.terminate()
        return nil
      }
      _ = closed.wait(timeout: .now() + 10)
      return process.terminationStatus
    }

    /// Everything the server wrote to stderr so far.
    var stderrText: String {
      lock.lock()
      defer { lock.unlock() }
      return String(decoding: stderrBytes, as: UTF8.self)
    }

    /// Waits until stderr contains `text` (a log line marks an event inside the server); false if the server
    /// closed stderr first or `timeout` (a safety net against a hang) passed.
    func waitForStderr(containing text: String, timeout: Double = 120) -> Bool {
      let deadline = Date().addingTimeInterval(timeout)
      while Date() < deadline {
        if stderrText.contains(text) { return true }
        lock.lock()
        let ended = stderrEnded
        lock.unlock()
        if ended { return stderrText.contains(text) }
        _ = stderrChanged.wait(timeout: .now() + 1)
      }
      return false
    }
  }

  static var binary: String {
    // The test bundle (or, on Linux, the test executable) lives in the build products directory next to the
    // executable; CODEGEN_LSP_BINARY overrides.
    if let path = ProcessInfo.processInfo.environment["CODEGEN_LSP_BINARY"], !path.isEmpty { return path }
    var directories: [URL] = []
    if let executable = Bundle.main.executableURL { directories.append(executable.deletingLastPathComponent()) }
    let bundle = Bundle(for: BinarySessionTests.self).bundleURL
    directories += [bundle, bundle.deletingLastPathComponent()]
    for directory in directories {
      let candidate = directory.appendingPathComponent("codegen-lsp").path
      if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
    }
    return directories[0].appendingPathComponent("codegen-lsp").path
  }

  func requireBinary() throws -> String {
    let path = Self.binary
    guard FileManager.default.isExecutableFile(atPath: path) else {
      XCTFail("\(path) is missing: build the package (`swift build`) before running the tests")
      throw XCTSkip("no binary")
    }
    return path
  }

  let source = "def add(a, b):\n    return a + b\n\n\ndef mul(a, b):\n    \n"

  func initialize(_ session: Session, options: JSONValue = [:]) throws -> JSONValue {
    let result = try session.request(
      "initialize",
      [
        "processId": .null, "rootUri": .null,
        "capabilities": ["general": ["positionEncodings": ["utf-16"]], "window": ["workDoneProgress": true]],
        "initializationOptions": options,
      ]
    ).get()
    session.notify("initialized", [:])
    return result
  }

  func testWholeSessionWithoutAModelAnswersEmptyAndExplains() throws {
    let binary = try requireBinary()
    let session = try Session(
      binary: binary, arguments: ["lsp", "--stdio", "--model", "/nonexistent/model.gguf"],
      environment: ["CODEGEN_LSP_MODEL": ""])
    let capabilities = try initialize(session)["capabilities"]
    XCTAssertEqual(capabilities?["positionEncoding"]?.stringValue, "utf-16")
    XCTAssertNotNil(capabilities?["inlineCompletionProvider"])
    XCTAssertNotNil(capabilities?["completionProvider"])
    XCTAssertEqual(
      capabilities?["executeCommandProvider"]?["commands"]?.arrayValue?.compactMap(\.stringValue),
      ["codegen-lsp.generateCode"])
    let uri = "file:///tmp/example.py"
    session.notify(
      "textDocument/didOpen",
      ["textDocument": ["uri": .string(uri), "languageId": "python", "version": 1, "text": .string(source)]])
    session.notify(
      "textDocument/didChange",
      [
        "textDocument": ["uri": .string(uri), "version": 2],
        "contentChanges": [
          ["range": ["start": ["line": 5, "character": 4], "end": ["line": 5, "character": 4]], "text": "ret"]
        ],
      ])
    let position: JSONValue = ["line": 5, "character": 7]
    let inline = try session.request(
      "textDocument/inlineCompletion",
      ["textDocument": ["uri": .string(uri)], "position": position, "context": ["triggerKind": 2]]
    ).get()
    XCTAssertEqual(
      inline["items"]?.arrayValue?.count ?? inline.arrayValue?.count, 0, "no model: no invented completion")
    let completion = try session.request(
      "textDocument/completion", ["textDocument": ["uri": .string(uri)], "position": position]
    ).get()
    XCTAssertEqual(completion["items"]?.arrayValue?.count ?? completion.arrayValue?.count, 0)
    // The missing model is explained once.
    let shown = session.messages("window/showMessage").compactMap { $0?["message"]?.stringValue }
    XCTAssertEqual(shown.filter { $0.contains("/nonexistent/model.gguf") }.count, 1, "\(shown)")
    // A bad request gets an error and the server keeps serving.
    if case .success = try session.request("textDocument/unknownThing", [:]) { XCTFail("unknown request must fail") }
    if case .failure(let error) = try session.request("textDocument/unknownThing", [:]) {
      XCTAssertEqual(error.code, ResponseError.Code.methodNotFound)
    }
    _ = try session.request("shutdown", nil).get()
    session.notify("exit", nil)
    XCTAssertEqual(session.waitForExit(), 0)
    XCTAssertEqual(session.stdoutProblems, [], "everything on stdout must be a valid protocol message")
  }

  /// `model bench --weights` takes the three placements and rejects anything else with a message naming the option.
  func testBenchWeightsOption() throws {
    let binary = try requireBinary()
    let tiny = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .appendingPathComponent("InferenceTests/Fixtures/tiny-llama.gguf").path
    func bench(_ weights: String) throws -> (status: Int32, output: String) {
      let process = Process()
      process.executableURL = URL(fileURLWithPath: binary)
      process.arguments = [
        "model", "bench", "--model", tiny, "--weights", weights, "--prompt-tokens", "8", "--decode-tokens", "4",
        "--repeat", "1", "--json",
      ]
      let out = Pipe(), err = Pipe()
      process.standardOutput = out
      process.standardError = err
      try process.run()
      let data = out.fileHandleForReading.readDataToEndOfFile() + err.fileHandleForReading.readDataToEndOfFile()
      process.waitUntilExit()
      return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
    for weights in ["regrouped", "all", "heap"] {
      let (status, output) = try bench(weights)
      XCTAssertEqual(status, 0, "\(weights): \(output)")
      XCTAssertTrue(output.contains("\"decode_tokens\":4") || output.contains("\"decode_tokens\": 4"), output)
    }
    let (status, output) = try bench("bogus")
    XCTAssertNotEqual(status, 0)
    XCTAssertTrue(output.contains("--weights must be regrouped, all or heap, not bogus"), output)
  }

  /// Every configuration key is reachable from the command line as `--set KEY=VALUE`, checked like the editor's
  /// configuration; the flags' help and `codegen-lsp settings` come from the same table.
  func testSettingsTableOnTheCommandLine() throws {
    let binary = try requireBinary()
    func run(_ arguments: [String]) throws -> (status: Int32, output: String) {
      let process = Process()
      process.executableURL = URL(fileURLWithPath: binary)
      process.arguments = arguments
      let out = Pipe(), err = Pipe()
      process.standardOutput = out
      process.standardError = err
      process.standardInput = FileHandle.nullDevice
      try process.run()
      let data = out.fileHandleForReading.readDataToEndOfFile() + err.fileHandleForReading.readDataToEndOfFile()
      process.waitUntilExit()
      return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
    let help = try run(["complete", "--help"])
    XCTAssertEqual(help.status, 0, help.output)
    XCTAssertTrue(help.output.contains("--set <key=value>"), help.output)
    XCTAssertTrue(help.output.contains("Keep the k most likely tokens"), help.output)
    let reference = try run(["settings"])
    XCTAssertEqual(reference.status, 0)
    let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent().appendingPathComponent("Protocol/settings.md")
    XCTAssertEqual(reference.output, try String(contentsOf: file, encoding: .utf8))
    for (assignment, message) in [
      ("bogus=1", "unknown"), ("maxTokensLine=0", "at least 1"), ("multiline=sideways", "must be one of"),
      ("topK", "KEY=VALUE"),
    ] {
      let (status, output) = try run([
        "complete", "--model", "/nonexistent.gguf", "--language", "python", "--set", assignment,
      ])
      XCTAssertEqual(status, 64, "\(assignment): \(output)")
      XCTAssertTrue(output.contains(message), "\(assignment): \(output)")
    }
  }

  func testExitWithoutShutdownAndEOFGiveExitCodeOne() throws {
    let binary = try requireBinary()
    let session = try Session(binary: binary, arguments: ["lsp", "--model", "/nonexistent/model.gguf"])
    _ = try initialize(session)
    session.notify("exit", nil)
    XCTAssertEqual(session.waitForExit(), 1)

    let eof = try Session(binary: binary, arguments: ["lsp", "--model", "/nonexistent/model.gguf"])
    _ = try initialize(eof)
    try (eof.process.standardInput as? Pipe)?.fileHandleForWriting.close()
    XCTAssertEqual(eof.waitForExit(), 1)
  }

  /// Closing the editor while a prefill runs (`shutdown` + `exit`, or the end of input) ends the process normally:
  /// the server cancels the work and waits for the engine before exiting (it crashed in OpenBLAS's teardown before).
  func testExitDuringAPrefillEndsCleanly() throws {
    guard ProcessInfo.processInfo.environment["CODEGEN_LSP_MODEL_TESTS"] == "1" else {
      throw XCTSkip("set CODEGEN_LSP_MODEL_TESTS=1 (and fetch smollm2-135m) to run against a real model")
    }
    let binary = try requireBinary()
    let text = (0..<160).map { "def function_\($0)(a, b):\n    value = a * \($0) + b\n    return value\n" }.joined()
    for round in 0..<6 {
      let session = try Session(binary: binary, arguments: ["lsp", "--model", "smollm2-135m", "--log-level", "debug"])
      let prefetch = round % 3 == 0
      _ = try initialize(session, options: ["prefetch": .bool(prefetch), "deadlineMilliseconds": 60000])
      let uri = "file:///tmp/long.py"
      session.notify(
        "textDocument/didOpen",
        ["textDocument": ["uri": .string(uri), "languageId": "python", "version": 1, "text": .string(text)]])
      if !prefetch {
        _ = session.requestAsync(
          "textDocument/inlineCompletion",
          [
            "textDocument": ["uri": .string(uri)], "position": ["line": 300, "character": 4],
            "context": ["triggerKind": 1],
          ])
      }
      // The provider logs the start of every prefill (at debug level): the session ends while it runs.
      XCTAssertTrue(session.waitForStderr(containing: "prefill started"), "round \(round): \(session.stderrText)")
      if round % 2 == 0 {
        // shutdown without waiting for its reply, then exit, as an editor that closes does
        session.connection.sendRequest(method: "shutdown", params: nil) { _ in }
        session.notify("exit", nil)
        XCTAssertEqual(session.waitForExit(), 0, "round \(round): \(session.stderrText.suffix(600))")
      } else {
        try (session.process.standardInput as? Pipe)?.fileHandleForWriting.close()
        XCTAssertEqual(session.waitForExit(), 1, "round \(round): \(session.stderrText.suffix(600))")
      }
      XCTAssertEqual(session.process.terminationReason, .exit, "round \(round)")
    }
  }

  func testWholeSessionWithARealModel() throws {
    guard ProcessInfo.processInfo.environment["CODEGEN_LSP_MODEL_TESTS"] == "1" else {
      throw XCTSkip("set CODEGEN_LSP_MODEL_TESTS=1 (and fetch smollm2-135m) to run against a real model")
    }
    let binary = try requireBinary()
    let session = try Session(binary: binary, arguments: ["lsp", "--stdio"])
    _ = try initialize(session, options: ["model": "smollm2-135m", "deadlineMilliseconds": 20000, "temperature": 0])
    let uri = "file:///tmp/real.py"
    let text = "def add(a, b):\n    return a + b\n\n\ndef square(x):\n    return x * \n"
    session.notify(
      "textDocument/didOpen",
      ["textDocument": ["uri": .string(uri), "languageId": "python", "version": 1, "text": .string(text)]])
    let position: JSONValue = ["line": 5, "character": 15]
    let inline = try session.request(
      "textDocument/inlineCompletion",
      ["textDocument": ["uri": .string(uri)], "position": position, "context": ["triggerKind": 1]]
    ).get()
    let items = inline["items"]?.arrayValue ?? inline.arrayValue ?? []
    XCTAssertFalse(items.isEmpty, "the model must complete `return x * `")
    let first = try XCTUnwrap(items.first)
    let insert = first["insertText"]?.stringValue ?? first["insertText"]?["value"]?.stringValue ?? ""
    XCTAssertFalse(insert.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty)
    XCTAssertFalse(insert.contains("\n"), "single-line mode: text after the cursor's line is not part of it: \(insert)")
    XCTAssertEqual(first["range"]?["start"]?["line"]?.intValue, 5)
    XCTAssertEqual(first["range"]?["start"]?["character"]?.intValue, 15)

    let completion = try session.request(
      "textDocument/completion", ["textDocument": ["uri": .string(uri)], "position": position]
    ).get()
    let menu = completion["items"]?.arrayValue ?? completion.arrayValue ?? []
    XCTAssertFalse(menu.isEmpty)

    // Cancel a running completion: exactly one reply, a result or RequestCancelled.
    let (id, done, reply) = session.requestAsync(
      "textDocument/inlineCompletion",
      ["textDocument": ["uri": .string(uri)], "position": ["line": 4, "character": 0], "context": ["triggerKind": 1]])
    session.notify("$/cancelRequest", ["id": id.json])
    XCTAssertEqual(done.wait(timeout: .now() + 120), .success)
    if case .failure(let error) = reply() { XCTAssertEqual(error.code, ResponseError.Code.requestCancelled) }

    _ = try session.request("shutdown", nil).get()
    session.notify("exit", nil)
    XCTAssertEqual(session.waitForExit(), 0)
    XCTAssertEqual(session.stdoutProblems, [])
  }
}
