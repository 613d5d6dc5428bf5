import Foundation
import JSON
import LSPTransport
import XCTest

#if canImport(Glibc)
  import Glibc
#endif

/// Collects what a connection's callbacks receive; tests wait on expectations, never on time.
private final class Recorder: @unchecked Sendable {
  private let lock = NSLock()
  private var _messages: [IncomingMessage] = []
  private var _protocolErrors: [String] = []
  private var _closeReason: ConnectionCloseReason?
  private var _onMessage: ((IncomingMessage) -> Void)?
  let closed: XCTestExpectation

  init(_ test: XCTestCase, name: String) {
    closed = XCTestExpectation(description: "\(name) closed")
  }

  var messages: [IncomingMessage] { lock.withLock { _messages } }
  var protocolErrors: [String] { lock.withLock { _protocolErrors } }
  var closeReason: ConnectionCloseReason? { lock.withLock { _closeReason } }
  var onMessage: ((IncomingMessage) -> Void)? {
    get { lock.withLock { _onMessage } }
    set { lock.withLock { _onMessage = newValue } }
  }

  func start(_ connection: JSONRPCConnection) {
    connection.start(
      handler: { [self] message in
        lock.withLock { _messages.append(message) }
        onMessage?(message)
      },
      onProtocolError: { [self] text in lock.withLock { _protocolErrors.append(text) } },
      onClose: { [self] reason in
        lock.withLock { _closeReason = reason }
        closed.fulfill()
      })
  }
}

/// Reads framed JSON messages from a descriptor (the raw peer of a connection under test).
private final class RawReader: @unchecked Sendable {
  private var framer = MessageFramer()
  private var queue: [JSONValue] = []
  let fd: Int32

  init(fd: Int32) { self.fd = fd }

  /// The next message, blocking; nil at end of input.
  func next() -> JSONValue? {
    var buffer = [UInt8](repeating: 0, count: 4096)
    while queue.isEmpty {
      let count = read(fd, &buffer, buffer.count)
      if count <= 0 { return nil }
      for event in framer.push(Array(buffer[0..<count])) {
        if case .message(let body) = event, let value = try? JSONValue.parse(body) { queue.append(value) }
      }
    }
    return queue.removeFirst()
  }
}

final class JSONRPCConnectionTests: XCTestCase {
  /// A connection under test with raw pipes on the peer side.
  private struct Rig {
    let connection: JSONRPCConnection
    let toConnection: (read: Int32, write: Int32)
    let fromConnection: (read: Int32, write: Int32)
    let reader: RawReader

    func write(_ bytes: [UInt8]) {
      bytes.withUnsafeBytes { raw in
        var offset = 0
        while offset < raw.count {
          let n = Glibc.write(toConnection.write, raw.baseAddress! + offset, raw.count - offset)
          if n <= 0 { return }
          offset += n
        }
      }
    }

    func write(_ text: String) { write(MessageFramer.frame(Array(text.utf8))) }

    func closeInput() { Glibc.close(toConnection.write) }

    func tearDown() {
      connection.close()
      connection.waitForReaderExit()
      Glibc.close(toConnection.read)
      Glibc.close(fromConnection.write)
      Glibc.close(fromConnection.read)
    }
  }

  private func makeRig(maxMessageSize: Int = 64 << 20) throws -> Rig {
    let input = try makePipe()
    let output = try makePipe()
    let connection = JSONRPCConnection(inputFD: input.read, outputFD: output.write, maxMessageSize: maxMessageSize)
    return Rig(connection: connection, toConnection: input, fromConnection: output, reader: RawReader(fd: output.read))
  }

  func testRequestResponseOverConnectionPair() throws {
    let pair = try ConnectionPair()
    defer { pair.close() }
    let server = Recorder(self, name: "server")
    let client = Recorder(self, name: "client")
    server.onMessage = { message in
      if case .request(let id, "echo", let params) = message {
        pair.server.sendResponse(id: id, result: ["echoed": params ?? nil])
      } else if case .request(let id, let method, _) = message {
        pair.server.sendError(id: id, error: .methodNotFound(method))
      }
    }
    server.start(pair.server)
    client.start(pair.client)

    let replied = expectation(description: "reply")
    let failed = expectation(description: "error reply")
    let text = "héllo 中 😀"
    pair.client.sendRequest(method: "echo", params: ["text": .string(text)]) { result in
      XCTAssertEqual(try? result.get(), ["echoed": ["text": .string(text)]])
      replied.fulfill()
    }
    pair.client.sendRequest(method: "nope", params: nil) { result in
      guard case .failure(let error) = result else { return XCTFail("expected an error") }
      XCTAssertEqual(error.code, ResponseError.Code.methodNotFound)
      failed.fulfill()
    }
    wait(for: [replied, failed], timeout: 30)

    let notified = expectation(description: "notification")
    server.onMessage = { message in
      if case .notification("initialized", let params) = message {
        XCTAssertNil(params)
        notified.fulfill()
      }
    }
    pair.client.sendNotification(method: "initialized", params: nil)
    wait(for: [notified], timeout: 30)

    pair.closeClientToServer()
    wait(for: [server.closed], timeout: 30)
    XCTAssertEqual(server.closeReason, .endOfInput)
    XCTAssertEqual(server.messages.map(\.method), ["echo", "nope", "initialized"])
    pair.close()
    wait(for: [client.closed], timeout: 30)
    XCTAssertEqual(client.closeReason, .closed)
  }

  func testRawBytesThroughConnectionPair() throws {
    let pair = try ConnectionPair()
    defer { pair.close() }
    let server = Recorder(self, name: "server")
    server.onMessage = { message in
      if case .request(let id, _, _) = message { pair.server.sendResponse(id: id, result: "ok") }
    }
    let client = Recorder(self, name: "client")
    server.start(pair.server)
    client.start(pair.client)
    pair.writeRawToServer(Array("Content-Length: 3\r\n\r\n{\"a".utf8))
    let replied = expectation(description: "reply")
    pair.client.sendRequest(method: "after", params: nil) { result in
      XCTAssertEqual(try? result.get(), "ok")
      replied.fulfill()
    }
    wait(for: [replied], timeout: 30)
    // The server's -32700 answer (id null) reached the client, which reports it as unmatched.
    XCTAssertTrue(client.protocolErrors.contains { $0.contains("-32700") }, "\(client.protocolErrors)")
    XCTAssertEqual(server.messages.map(\.method), ["after"])
  }

  func testServerToClientRequest() throws {
    let pair = try ConnectionPair()
    defer { pair.close() }
    let client = Recorder(self, name: "client")
    client.onMessage = { message in
      if case .request(let id, "workspace/applyEdit", _) = message {
        pair.client.sendResponse(id: id, result: ["applied": true])
      }
    }
    let server = Recorder(self, name: "server")
    client.start(pair.client)
    server.start(pair.server)
    let replied = expectation(description: "reply")
    let id = pair.server.sendRequest(method: "workspace/applyEdit", params: ["edit": [:]]) { result in
      XCTAssertEqual(try? result.get(), ["applied": true])
      replied.fulfill()
    }
    XCTAssertEqual(id, .int(1))
    wait(for: [replied], timeout: 30)
    // A second request gets a new id.
    XCTAssertEqual(pair.server.sendRequest(method: "x", params: nil) { _ in }, .int(2))
  }

  func testPendingRepliesFailOnClose() throws {
    let pair = try ConnectionPair()
    defer { pair.close() }
    let server = Recorder(self, name: "server")
    let client = Recorder(self, name: "client")
    client.start(pair.client)  // never answers
    server.start(pair.server)
    let rejected = expectation(description: "rejected")
    pair.server.sendRequest(method: "window/workDoneProgress/create", params: nil) { result in
      guard case .failure(let error) = result else { return XCTFail("expected rejection") }
      XCTAssertEqual(error, .pendingResponseRejected)
      rejected.fulfill()
    }
    pair.server.close()
    pair.server.close()  // idempotent
    wait(for: [rejected, server.closed], timeout: 30)
    XCTAssertEqual(server.closeReason, .closed)
    // After close, requests are refused at once.
    var refused = false
    pair.server.sendRequest(method: "late", params: nil) { result in
      if case .failure(.pendingResponseRejected) = result { refused = true }
    }
    XCTAssertTrue(refused)
  }

  func testMalformedBodiesAreAnsweredAndServingContinues() throws {
    let rig = try makeRig()
    defer { rig.tearDown() }
    let recorder = Recorder(self, name: "connection")
    recorder.onMessage = { message in
      if case .request(let id, let method, _) = message {
        rig.connection.sendResponse(id: id, result: .string(method))
      }
    }
    recorder.start(rig.connection)

    func expectError(_ code: Int, id: JSONValue, file: StaticString = #filePath, line: UInt = #line) {
      guard let reply = rig.reader.next() else { return XCTFail("no reply", file: file, line: line) }
      XCTAssertEqual(reply["jsonrpc"], "2.0", file: file, line: line)
      XCTAssertEqual(reply["id"], id, "\(reply)", file: file, line: line)
      XCTAssertEqual(reply["error"]?["code"]?.intValue, Int64(code), "\(reply)", file: file, line: line)
      XCTAssertNotNil(reply["error"]?["message"]?.stringValue, file: file, line: line)
    }
    func expectServed(_ n: Int, file: StaticString = #filePath, line: UInt = #line) {
      rig.write(#"{"jsonrpc":"2.0","id":\#(n),"method":"m\#(n)"}"#)
      let reply = rig.reader.next()
      XCTAssertEqual(
        reply, ["jsonrpc": "2.0", "id": .int(Int64(n)), "result": .string("m\(n)")], file: file, line: line)
    }

    rig.write("{not json")
    expectError(-32700, id: nil)
    expectServed(1)
    rig.write(MessageFramer.frame(Array("\"a".utf8) + [0xFF, 0xFE] + Array("\"".utf8)))
    expectError(-32700, id: nil)
    expectServed(2)
    rig.write("[1,2]")
    expectError(-32600, id: nil)
    expectServed(3)
    rig.write(#"{"id":5,"method":"x"}"#)
    expectError(-32600, id: 5)
    expectServed(4)
    rig.write(#"{"jsonrpc":"1.0","id":"s","method":"x"}"#)
    expectError(-32600, id: "s")
    expectServed(5)
    rig.write(#"{"jsonrpc":"2.0","id":6,"method":42}"#)
    expectError(-32600, id: 6)
    expectServed(6)
    rig.write(#"{"jsonrpc":"2.0","id":{"a":1},"method":"x"}"#)
    expectError(-32600, id: nil)
    expectServed(7)
    rig.write(#"{"jsonrpc":"2.0","id":1.5,"method":"x"}"#)
    expectError(-32600, id: nil)
    expectServed(8)
    rig.write(#"{"jsonrpc":"2.0","id":9}"#)
    expectError(-32600, id: 9)
    expectServed(9)
    rig.write("")
    expectError(-32700, id: nil)
    expectServed(10)

    // Framing errors: -32700 with id null, then the next valid message.
    rig.write(Array("Content-Type: application/json\r\n\r\n{\"jsonrpc\":\"2.0\"}".utf8))
    expectError(-32700, id: nil)
    expectServed(11)
    rig.write(Array("Content-Length: abc\r\n\r\n{}".utf8))
    expectError(-32700, id: nil)
    expectServed(12)
    rig.write(Array("Content-Length: -3\r\n\r\n{}".utf8))
    expectError(-32700, id: nil)
    expectServed(13)

    // A response nobody waits for is reported, not answered.
    rig.write(#"{"jsonrpc":"2.0","id":77,"result":null}"#)
    expectServed(14)
    XCTAssertTrue(recorder.protocolErrors.contains { $0.contains("77") }, "\(recorder.protocolErrors)")
    XCTAssertEqual(recorder.messages.count, 14)
  }

  func testLengthPastLimitAnsweredAndNextServed() throws {
    let rig = try makeRig(maxMessageSize: 256)
    defer { rig.tearDown() }
    let recorder = Recorder(self, name: "connection")
    recorder.onMessage = { message in
      if case .request(let id, _, _) = message { rig.connection.sendResponse(id: id, result: true) }
    }
    recorder.start(rig.connection)
    let big = #"{"jsonrpc":"2.0","method":"x","params":"\#(String(repeating: "y", count: 10_000))"}"#
    rig.write(big)
    let error = rig.reader.next()
    XCTAssertEqual(error?["error"]?["code"], -32700)
    XCTAssertEqual(error?["id"], .null)
    rig.write(#"{"jsonrpc":"2.0","id":"after","method":"x"}"#)
    XCTAssertEqual(rig.reader.next(), ["jsonrpc": "2.0", "id": "after", "result": true])
  }

  func testParamsAndNotificationShapes() throws {
    let rig = try makeRig()
    defer { rig.tearDown() }
    let recorder = Recorder(self, name: "connection")
    let got = expectation(description: "three messages")
    got.expectedFulfillmentCount = 3
    recorder.onMessage = { _ in got.fulfill() }
    recorder.start(rig.connection)
    rig.write(#"{"jsonrpc":"2.0","method":"a","params":null}"#)
    rig.write(#"{"jsonrpc":"2.0","method":"b","params":[1,2]}"#)
    rig.write(#"{"jsonrpc":"2.0","id":"str-id","method":"c","params":{"k":"v"}}"#)
    wait(for: [got], timeout: 30)
    let messages = recorder.messages
    guard messages.count == 3 else { return XCTFail("got \(messages)") }
    if case .notification("a", let params) = messages[0] { XCTAssertNil(params) } else { XCTFail("\(messages[0])") }
    if case .notification("b", let params) = messages[1] { XCTAssertEqual(params, [1, 2]) } else { XCTFail() }
    if case .request(.string("str-id"), "c", let params) = messages[2] {
      XCTAssertEqual(params, ["k": "v"])
    } else {
      XCTFail("\(messages[2])")
    }
  }

  func testEndOfInputInsideMessage() throws {
    let rig = try makeRig()
    defer { rig.tearDown() }
    let recorder = Recorder(self, name: "connection")
    recorder.start(rig.connection)
    rig.write(Array("Content-Length: 100\r\n\r\n{\"jsonrpc\":".utf8))
    rig.closeInput()
    wait(for: [recorder.closed], timeout: 30)
    XCTAssertEqual(recorder.closeReason, .endOfInputInsideMessage)
  }

  func testEndOfInputInsideHeader() throws {
    let rig = try makeRig()
    defer { rig.tearDown() }
    let recorder = Recorder(self, name: "connection")
    recorder.start(rig.connection)
    rig.write(#"{"jsonrpc":"2.0","method":"ok"}"#)
    rig.write(Array("Content-Len".utf8))
    rig.closeInput()
    wait(for: [recorder.closed], timeout: 30)
    XCTAssertEqual(recorder.closeReason, .endOfInputInsideMessage)
    XCTAssertEqual(recorder.messages.map(\.method), ["ok"])
  }

  func testCleanEndOfInput() throws {
    let rig = try makeRig()
    defer { rig.tearDown() }
    let recorder = Recorder(self, name: "connection")
    recorder.start(rig.connection)
    rig.write(#"{"jsonrpc":"2.0","method":"exit"}"#)
    rig.closeInput()
    wait(for: [recorder.closed], timeout: 30)
    XCTAssertEqual(recorder.closeReason, .endOfInput)
    XCTAssertEqual(recorder.messages.map(\.method), ["exit"])
  }

  func testCloseFromHandlerStopsReading() throws {
    let rig = try makeRig()
    defer { rig.tearDown() }
    let recorder = Recorder(self, name: "connection")
    recorder.onMessage = { message in
      if message.method == "exit" { rig.connection.close() }
    }
    recorder.start(rig.connection)
    rig.write(
      MessageFramer.frame(Array(#"{"jsonrpc":"2.0","method":"exit"}"#.utf8))
        + MessageFramer.frame(Array(#"{"jsonrpc":"2.0","method":"after"}"#.utf8)))
    wait(for: [recorder.closed], timeout: 30)
    XCTAssertEqual(recorder.closeReason, .closed)
    XCTAssertEqual(recorder.messages.map(\.method), ["exit"])
  }

  func testConcurrentSendsKeepFramesWhole() throws {
    let rig = try makeRig()
    defer { rig.tearDown() }
    let senders = 4
    let perSender = 200
    let payload = String(repeating: "z", count: 5000)
    DispatchQueue.global().async {
      DispatchQueue.concurrentPerform(iterations: senders) { sender in
        for n in 0..<perSender {
          rig.connection.sendNotification(
            method: "n", params: ["s": .int(Int64(sender)), "n": .int(Int64(n)), "p": .string(payload)])
        }
      }
    }
    var next = [Int64](repeating: 0, count: senders)
    for _ in 0..<(senders * perSender) {
      guard let message = rig.reader.next() else { return XCTFail("stream ended") }
      guard let sender = message["params"]?["s"]?.intValue, let n = message["params"]?["n"]?.intValue else {
        return XCTFail("bad message \(message)")
      }
      XCTAssertEqual(n, next[Int(sender)])
      next[Int(sender)] = n + 1
      XCTAssertEqual(message["params"]?["p"]?.stringValue?.count, 5000)
    }
  }

  func testWriteToClosedPeerDoesNotKillTheProcess() throws {
    let output = try makePipe()
    let input = try makePipe()
    defer {
      Glibc.close(input.read)
      Glibc.close(input.write)
      Glibc.close(output.write)
    }
    Glibc.close(output.read)
    let connection = JSONRPCConnection(inputFD: input.read, outputFD: output.write)
    let reported = expectation(description: "write failure reported")
    connection.start(
      handler: { _ in }, onProtocolError: { text in if text.contains("write") { reported.fulfill() } },
      onClose: { _ in })
    connection.sendNotification(method: "x", params: nil)  // EPIPE, not SIGPIPE
    connection.sendNotification(method: "y", params: nil)  // dropped silently
    wait(for: [reported], timeout: 30)
    connection.close()
    connection.waitForReaderExit()
  }

  func testResponseErrorCodesAndJSON() {
    XCTAssertEqual(ResponseError.parseError().code, -32700)
    XCTAssertEqual(ResponseError.invalidRequest().code, -32600)
    XCTAssertEqual(ResponseError.methodNotFound("x").code, -32601)
    XCTAssertEqual(ResponseError.invalidParams("x").code, -32602)
    XCTAssertEqual(ResponseError.internalError("x").code, -32603)
    XCTAssertEqual(ResponseError.serverNotInitialized.code, -32002)
    XCTAssertEqual(ResponseError.unknownErrorCode("x").code, -32001)
    XCTAssertEqual(ResponseError.requestFailed("x").code, -32803)
    XCTAssertEqual(ResponseError.serverCancelled().code, -32802)
    XCTAssertEqual(ResponseError.contentModified.code, -32801)
    XCTAssertEqual(ResponseError.requestCancelled.code, -32800)
    let error = ResponseError(code: -32602, message: "bad", data: ["field": "uri"])
    XCTAssertEqual(error.json, ["code": -32602, "message": "bad", "data": ["field": "uri"]])
    XCTAssertEqual(ResponseError(json: error.json), error)
    XCTAssertNil(ResponseError(json: ["code": "x", "message": "m"]))
    XCTAssertEqual(RequestID(json: 3), .int(3))
    XCTAssertEqual(RequestID(json: "a"), .string("a"))
    XCTAssertEqual(RequestID(json: 4.0), .int(4))
    XCTAssertNil(RequestID(json: nil))
    XCTAssertNil(RequestID(json: 1.5))
    XCTAssertEqual(RequestID.string("a").json, "a")
  }
}
