import CodeCompletion
import CompletionServer
import Foundation
import JSON
import LSPTestSupport
import LSPTransport
import LSPTypes

/// Edits to large documents, alone and through the server's JSON-RPC path (`codegen-bench document`); prints the
/// figures and checks only that the edits were applied.
struct DocumentBenchmarks {
  static func sourceLines(_ count: Int) -> [String] {
    (0..<count).map { "    let value\($0) = compute(\($0), \"text 😀 漢字\") // line \($0)" }
  }

  /// Single-character `didChange` notifications to a 5,000-line document through the real JSON-RPC connection and
  /// the server's reader thread, ended by a request that answers only after every change was applied.
  func singleCharacterEditStreamOnA5000LineDocument() throws {
    let provider = BracketClosingProvider()
    let client = try TestClient(provider: provider, options: benchmarkOptions())
    try client.initialize()
    let lines = Self.sourceLines(5000)
    let uri = "file:///bench/big.swift"
    client.open(uri: uri, languageId: "swift", text: lines.joined(separator: "\n"))
    let edits = 20_000
    let elapsed = try seconds {
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
    check(list != nil, "a completion list after the edits")
    let request = provider.log.completions.last
    check(request?.suffix.utf8.count == lines.joined(separator: "\n").utf8.count + edits, "every edit applied")
  }

  /// One edit to a 10 MB document: the `TextDocument` operation alone, and one `didChange` through the server.
  func oneEditToA10MBDocument() throws {
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
        try seconds {
          try document.replace(LSPRange(at: position), with: round % 2 == 0 ? "x" : "\n")
        })
    }
    samples.sort()
    let lookup = seconds {
      for round in 0..<1000 { _ = document.offset(of: Position(line: (round * 97) % lines.count, character: 12)) }
    }
    print(
      String(
        format:
          "BENCH TextDocument, %.1f MB / %d lines: one edit median %.2f µs, p99 %.2f µs; position->offset %.2f µs",
        Double(text.utf8.count) / 1e6, lines.count, samples[100] * 1e6, samples[198] * 1e6, lookup / 1000 * 1e6))
    check(document.utf8Count == text.utf8.count + 201, "every edit applied")

    // Through the server: open once, then time single edits each followed by a barrier, minus a barrier alone.
    let client = try TestClient(provider: BracketClosingProvider(), options: benchmarkOptions())
    try client.initialize()
    let uri = "file:///bench/huge.swift"
    client.open(uri: uri, languageId: "swift", text: text)
    _ = try client.sendRequest(method: "bench/barrier", params: nil).error()
    var roundTrips: [Double] = []
    var barriers: [Double] = []
    for round in 0..<51 {
      barriers.append(
        try seconds { _ = try client.sendRequest(method: "bench/barrier", params: nil).error() })
      roundTrips.append(
        try seconds {
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

  /// Server options as in the tests: no background prefetch, and deadlines that never end a request.
  func benchmarkOptions() -> ServerOptions {
    var settings = CompletionSettings()
    settings.deadlineMilliseconds = 600_000
    settings.generateDeadlineMilliseconds = 600_000
    return ServerOptions(settings: settings, modelSpec: nil, logLevel: .info, prefetch: false)
  }

  var all: [Benchmark] {
    [
      Benchmark("edit-stream-5000-lines", singleCharacterEditStreamOnA5000LineDocument),
      Benchmark("one-edit-10-mb", oneEditToA10MBDocument),
    ]
  }
}
