import Foundation
import JSON
import LSPTransport
import XCTest

/// Throughput figures for the wire layer. Runs only with `CODEGEN_LSP_BENCH=1`, best in release:
/// `CODEGEN_LSP_BENCH=1 swift test -c release -Xswiftc -enable-testing --filter TransportBenchmarkTests`.
/// Prints the figures; asserts only that the work was done correctly.
final class TransportBenchmarkTests: XCTestCase {
  override func setUpWithError() throws {
    guard ProcessInfo.processInfo.environment["CODEGEN_LSP_BENCH"] == "1" else {
      throw XCTSkip("benchmarks run only with CODEGEN_LSP_BENCH=1")
    }
  }

  /// A `textDocument/didChange` notification inserting one character, as an editor sends per keystroke.
  private func didChange(version: Int) -> JSONValue {
    let line = Int64(version % 5000)
    let character = Int64(version % 80)
    return [
      "jsonrpc": "2.0", "method": "textDocument/didChange",
      "params": [
        "textDocument": ["uri": "file:///home/user/project/Sources/App/main.swift", "version": .int(Int64(version))],
        "contentChanges": [
          [
            "range": [
              "start": ["line": .int(line), "character": .int(character)],
              "end": ["line": .int(line), "character": .int(character)],
            ],
            "rangeLength": 0, "text": "x",
          ]
        ],
      ],
    ]
  }

  /// Code-like text of about `size` bytes: quotes, backslashes, tabs, newlines, some CJK and emoji.
  private func document(size: Int) -> String {
    let line = "\tlet value = \"中文 \\(name)\" // 😀 comment with \"quotes\" and \\ backslash\n"
    return String(repeating: line, count: size / line.utf8.count + 1)
  }

  private func seconds(_ body: () throws -> Void) rethrows -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
  }

  func testFramingAndParsingSmallMessages() throws {
    let count = 200_000
    var stream: [UInt8] = []
    for version in 0..<count { stream += MessageFramer.frame(didChange(version: version).serializedBytes()) }
    var parsed = 0
    var lastVersion: Int64 = -1
    let chunk = 64 << 10
    let elapsed = try seconds {
      var framer = MessageFramer()
      var start = 0
      while start < stream.count {
        let end = min(stream.count, start + chunk)
        for event in framer.push(Array(stream[start..<end])) {
          guard case .message(let body) = event else { return XCTFail("unexpected \(event)") }
          let value = try JSONValue.parse(body)
          lastVersion = value["params"]?["textDocument"]?["version"]?.intValue ?? -1
          parsed += 1
        }
        start = end
      }
    }
    XCTAssertEqual(parsed, count)
    XCTAssertEqual(lastVersion, Int64(count - 1))
    let mb = Double(stream.count) / 1e6
    print(
      String(
        format: "BENCH framing+parsing: %d didChange messages (%.1f MB) in %.3f s: %.0f messages/s, %.1f MB/s",
        count, mb, elapsed, Double(count) / elapsed, mb / elapsed))
  }

  func testSerializingSmallMessages() {
    let count = 200_000
    let messages = (0..<1000).map { didChange(version: $0) }
    var bytes = 0
    let elapsed = seconds {
      for n in 0..<count { bytes += MessageFramer.frame(messages[n % 1000].serializedBytes()).count }
    }
    XCTAssertGreaterThan(bytes, count * 100)
    print(
      String(
        format: "BENCH serialising+framing: %d didChange messages in %.3f s: %.0f messages/s", count, elapsed,
        Double(count) / elapsed))
  }

  func testParseTenMegabyteBody() throws {
    let text = document(size: 10 << 20)
    let message: JSONValue = [
      "jsonrpc": "2.0", "method": "textDocument/didOpen",
      "params": [
        "textDocument": ["uri": "file:///big.swift", "languageId": "swift", "version": 1, "text": .string(text)]
      ],
    ]
    let body = message.serializedBytes()
    var serialized: [UInt8] = []
    let serializeTime = seconds { serialized = message.serializedBytes() }
    XCTAssertEqual(serialized.count, body.count)
    var best = Double.infinity
    for _ in 0..<5 {
      var value: JSONValue = nil
      let elapsed = try seconds { value = try JSONValue.parse(body) }
      XCTAssertEqual(value["params"]?["textDocument"]?["text"]?.stringValue?.utf8.count, text.utf8.count)
      best = min(best, elapsed)
    }
    print(
      String(
        format: "BENCH one %.1f MB didOpen body: parse %.1f ms (best of 5), serialise %.1f ms",
        Double(body.count) / 1e6, best * 1000, serializeTime * 1000))
  }

  func testConnectionRoundTripsOverPipes() throws {
    let pair = try ConnectionPair()
    defer { pair.close() }
    let count = 20_000
    let done = XCTestExpectation(description: "all replies")
    let lock = NSLock()
    var replies = 0
    pair.server.start(
      handler: { message in
        if case .request(let id, _, _) = message { pair.server.sendResponse(id: id, result: nil) }
      }, onProtocolError: { XCTFail($0) }, onClose: { _ in })
    pair.client.start(handler: { _ in }, onProtocolError: { XCTFail($0) }, onClose: { _ in })
    let params = didChange(version: 7)["params"]
    let elapsed = seconds {
      // Keep a window of requests in flight, as an editor does with didChange followed by completion.
      for _ in 0..<count {
        pair.client.sendRequest(method: "textDocument/inlineCompletion", params: params) { _ in
          let finished = lock.withLock { () -> Bool in
            replies += 1
            return replies == count
          }
          if finished { done.fulfill() }
        }
      }
      wait(for: [done], timeout: 300)
    }
    XCTAssertEqual(lock.withLock { replies }, count)
    print(
      String(
        format: "BENCH connection over pipes: %d requests answered in %.3f s: %.0f round trips/s", count, elapsed,
        Double(count) / elapsed))
  }
}
