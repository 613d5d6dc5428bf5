import CodeCompletion
import CompletionServer
import Foundation
import JSON
import LSPTestSupport
import LSPTransport
import LSPTypes
import XCTest

/// Issue 2's "Measured" figures. Runs only with `CODEGEN_LSP_BENCH=1` (build in release:
/// `swift test -c release -Xswiftc -enable-testing --filter DocumentBenchmarkTests`); prints the figures and asserts
/// only correctness, never speed.
final class DocumentBenchmarkTests: XCTestCase {
  override func setUpWithError() throws {
    guard ProcessInfo.processInfo.environment["CODEGEN_LSP_BENCH"] == "1" else {
      throw XCTSkip("set CODEGEN_LSP_BENCH=1 to run the document benchmarks")
    }
  }

  static func seconds(_ body: () throws -> Void) rethrows -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
  }

  static func sourceLines(_ count: Int) -> [String] {
    (0..<count).map { "    let value\($0) = compute(\($0), \"text 😀 漢字\") // line \($0)" }
  }

  /// Single-character `didChange` notifications to a 5,000-line document through the real JSON-RPC connection and
  /// the server's reader thread, ended by a request that answers only after every change was applied.
  func testSingleCharacterEditStreamOnA5000LineDocument() throws {
    let provider = BracketClosingProvider()
    let client = try TestClient(provider: provider, options: testOptions())
    try client.initialize()
    let lines = DocumentBenchmarkTests.sourceLines(5000)
    let uri = "file:///bench/big.swift"
    client.open(uri: uri, languageId: "swift", text: lines.joined(separator: "\n"))
    let edits = 20_000
    let elapsed = try DocumentBenchmarkTests.seconds {
      for index in 0..<edits {
        let line = (index * 7) % 5000
        client.change(
          uri: uri, version: index + 2, range: LSPRange(at: Position(line: line, character: 4)), text: "x")
      }
      // Barrier: the reader handles messages in order, so this answer comes after the last change.
      _ = try client.sendRequest(method: "bench/barrier", params: nil).error()
    }
    let perSecond = Double(edits) / elapsed
    print(
      String(
        format: "BENCH didChange stream, 5000-line document: %d messages in %.3f s = %.0f messages/s (%.1f µs each)",
        edits, elapsed, perSecond, elapsed / Double(edits) * 1e6))
    // The document holds every edit.
    let list = try client.completion(uri: uri, position: Position(line: 0, character: 0))
    XCTAssertNotNil(list)
    let request = try XCTUnwrap(provider.log.completions.last)
    XCTAssertEqual(request.suffix.utf8.count, lines.joined(separator: "\n").utf8.count + edits)
  }

  /// One edit to a 10 MB document: the `TextDocument` operation alone, and one `didChange` through the server.
  func testOneEditToA10MBDocument() throws {
    var lines: [String] = []
    var size = 0
    var index = 0
    while size < 10_000_000 {
      let line = "    let value\(index) = compute(\(index), \"text 😀 漢字\") // line \(index)"
      size += line.utf8.count + 1
      lines.append(line)
      index += 1
    }
    let text = lines.joined(separator: "\n")
    var document = TextDocument(text: text)
    let middle = lines.count / 2
    var samples: [Double] = []
    for round in 0..<201 {
      let position = Position(line: middle + round, character: 10)
      samples.append(
        try DocumentBenchmarkTests.seconds {
          try document.replace(LSPRange(at: position), with: round % 2 == 0 ? "x" : "\n")
        })
    }
    samples.sort()
    let lookup = DocumentBenchmarkTests.seconds {
      for round in 0..<1000 { _ = document.offset(of: Position(line: (round * 97) % lines.count, character: 12)) }
    }
    print(
      String(
        format:
          "BENCH TextDocument, %.1f MB / %d lines: one edit median %.2f µs, p99 %.2f µs; position->offset %.2f µs",
        Double(text.utf8.count) / 1e6, lines.count, samples[100] * 1e6, samples[198] * 1e6, lookup / 1000 * 1e6))
    XCTAssertEqual(document.utf8Count, text.utf8.count + 201)

    // Through the server: open once, then time single edits each followed by a barrier, minus a barrier alone.
    let client = try TestClient(provider: BracketClosingProvider(), options: testOptions())
    try client.initialize()
    let uri = "file:///bench/huge.swift"
    client.open(uri: uri, languageId: "swift", text: text)
    _ = try client.sendRequest(method: "bench/barrier", params: nil).error()
    var roundTrips: [Double] = []
    var barriers: [Double] = []
    for round in 0..<51 {
      barriers.append(
        try DocumentBenchmarkTests.seconds { _ = try client.sendRequest(method: "bench/barrier", params: nil).error() })
      roundTrips.append(
        try DocumentBenchmarkTests.seconds {
          client.change(
            uri: uri, version: round + 2, range: LSPRange(at: Position(line: middle, character: 8)), text: "y")
          _ = try client.sendRequest(method: "bench/barrier", params: nil).error()
        })
    }
    roundTrips.sort()
    barriers.sort()
    print(
      String(
        format: "BENCH didChange on the 10 MB document through the server: median %.1f µs (a barrier alone: %.1f µs)",
        roundTrips[25] * 1e6, barriers[25] * 1e6))
  }
}
