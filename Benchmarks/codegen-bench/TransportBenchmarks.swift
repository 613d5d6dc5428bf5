import Foundation
import JSON
import LSPTransport

/// Throughput figures for the wire layer (`codegen-bench transport`). Prints the figures; checks only that the work
/// was done correctly.
struct TransportBenchmarks {
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

  func framingAndParsingSmallMessages() throws {
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
          guard case .message(let body) = event else { return check(false, "unexpected \(event)") }
          let value = try JSONValue.parse(body)
          lastVersion = value["params"]?["textDocument"]?["version"]?.intValue ?? -1
          parsed += 1
        }
        start = end
      }
    }
    check(parsed == count, "every message parsed")
    check(lastVersion == Int64(count - 1), "the last message parsed last")
    let mb = Double(stream.count) / 1e6
    print(
      String(
        format: "BENCH framing+parsing: %d didChange messages (%.1f MB) in %.3f s: %.0f messages/s, %.1f MB/s",
        count, mb, elapsed, Double(count) / elapsed, mb / elapsed))
  }

  func serializingSmallMessages() {
    let count = 200_000
    let messages = (0..<1000).map { didChange(version: $0) }
    var bytes = 0
    let elapsed = seconds {
      for n in 0..<count { bytes += MessageFramer.frame(messages[n % 1000].serializedBytes()).count }
    }
    check(bytes > count * 100, "serialised bytes")
    print(
      String(
        format: "BENCH serialising+framing: %d didChange messages in %.3f s: %.0f messages/s", count, elapsed,
        Double(count) / elapsed))
  }

  func parseTenMegabyteBody() throws {
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
    check(serialized.count == body.count, "the same body serialised again")
    var best = Double.infinity
    for _ in 0..<5 {
      var value: JSONValue = nil
      let elapsed = try seconds { value = try JSONValue.parse(body) }
      check(
        value["params"]?["textDocument"]?["text"]?.stringValue?.utf8.count == text.utf8.count, "the text parsed whole")
      best = min(best, elapsed)
    }
    print(
      String(
        format: "BENCH one %.1f MB didOpen body: parse %.1f ms (best of 5), serialise %.1f ms",
        Double(body.count) / 1e6, best * 1000, serializeTime * 1000))
  }

  func connectionRoundTripsOverPipes() throws {
    let pair = try ConnectionPair()
    defer { pair.close() }
    let count = 20_000
    let done = DispatchSemaphore(value: 0)
    let lock = NSLock()
    var replies = 0
    pair.server.start(
      handler: { message in
        if case .request(let id, _, _) = message { pair.server.sendResponse(id: id, result: nil) }
      }, onProtocolError: { check(false, $0) }, onClose: { _ in })
    pair.client.start(handler: { _ in }, onProtocolError: { check(false, $0) }, onClose: { _ in })
    let params = didChange(version: 7)["params"]
    let elapsed = seconds {
      // Keep a window of requests in flight, as an editor does with didChange followed by completion.
      for _ in 0..<count {
        pair.client.sendRequest(method: "textDocument/inlineCompletion", params: params) { _ in
          let finished = lock.withLock { () -> Bool in
            replies += 1
            return replies == count
          }
          if finished { done.signal() }
        }
      }
      check(done.wait(timeout: .now() + 300) == .success, "all replies within 300 s")
    }
    check(lock.withLock { replies } == count, "every request answered")
    print(
      String(
        format: "BENCH connection over pipes: %d requests answered in %.3f s: %.0f round trips/s", count, elapsed,
        Double(count) / elapsed))
  }

  var all: [Benchmark] {
    [
      Benchmark("framing-and-parsing", framingAndParsingSmallMessages),
      Benchmark("serializing", serializingSmallMessages),
      Benchmark("parse-10-mb-body", parseTenMegabyteBody),
      Benchmark("round-trips-over-pipes", connectionRoundTripsOverPipes),
    ]
  }
}
