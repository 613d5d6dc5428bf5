import XCTest

@testable import SyntaxCheck

/// Seeded random documents and candidates made of the characters that trouble lexers: the middleware must not
/// crash, must read chunked text exactly like whole text, and must never return only whitespace.
final class FuzzTests: XCTestCase {
  struct SplitMix {
    var state: UInt64
    mutating func next() -> UInt64 {
      state &+= 0x9E37_79B9_7F4A_7C15
      var z = state
      z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
      z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
      return z ^ (z >> 31)
    }
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
  }

  static let pieces = [
    "(", ")", "[", "]", "{", "}", "\"", "'", "`", "\"\"\"", "'''", "#", "//", "/*", "*/", "--", "--[[", "]]", "[[",
    "\\", "$", "${", "#{", "\\(", "r#\"", "\"#", "R\"x(", ")x\"", "<<EOF", "<<~EOS", "EOF", "EOS", "@\"", "$\"",
    "/", "x", "foo", " ", "  ", "\n", "\n    ", "\r\n", "\t", ":", ";", ",", "end", "do", "if", "then", "fi", "done",
    "def", "function", "case", "esac", "é", "😀", "=begin", "=end", "'a", "'\\n'",
  ]

  static func randomText(_ rng: inout SplitMix, pieces count: Int) -> String {
    (0..<count).map { _ in Self.pieces[rng.below(Self.pieces.count)] }.joined()
  }

  func testRandomInputs() {
    var rng = SplitMix(state: 20_261_123)
    for language in Languages.all + [Languages.generic] {
      for _ in 0..<40 {
        let prefix = Self.randomText(&rng, pieces: rng.below(30))
        let suffix = Self.randomText(&rng, pieces: rng.below(30))
        let candidate = Self.randomText(&rng, pieces: 1 + rng.below(25))
        let context = CursorContext(prefix: prefix, suffix: suffix, language: language)
        let mode = decideCompletionMode(context: context).mode
        var results: [String?] = []
        var cuts: [StopDecision] = []
        for chunk in [1, 3, 1 << 20] {
          let stopper = StreamingStopper(context: context, mode: mode)
          var rest = Substring(candidate)
          while !rest.isEmpty {
            let piece = rest.prefix(chunk)
            rest = rest.dropFirst(piece.count)
            if stopper.feed(String(piece)).isStop { break }
          }
          cuts.append(stopper.flush())
          let final = stopper.finalize()
          if let text = final.text { XCTAssertFalse(text.allSatisfy(\.isWhitespace), language.name) }
          results.append(final.text)
        }
        let detail =
          "\(language.name) prefix=\(prefix.debugDescription) suffix=\(suffix.debugDescription) "
          + "candidate=\(candidate.debugDescription)"
        XCTAssertEqual(Set(cuts.map { "\($0)" }).count, 1, "stop depends on chunking: \(detail) \(cuts)")
        XCTAssertEqual(Set(results.map { $0 ?? "<nil>" }).count, 1, "result depends on chunking: \(detail)")
      }
    }
  }

  func testRandomLexingIsChunkIndependent() {
    var rng = SplitMix(state: 7)
    for language in Languages.all {
      for _ in 0..<30 {
        let text = Self.randomText(&rng, pieces: 40)
        var whole = Lexer(spec: language)
        whole.scan(text, final: true)
        var chunked = Lexer(spec: language)
        for ch in text { chunked.scan(String(ch), final: false) }
        chunked.scan("", final: true)
        XCTAssertEqual(chunked.state, whole.state, "\(language.name): \(text.debugDescription)")
      }
    }
  }
}

final class SuffixConvergenceTests: XCTestCase {
  /// A what-if scan that stops where it agrees with the cursor's scan reports exactly what a full scan does.
  func testConvergedScansEqualFullScans() {
    var rng = FuzzTests.SplitMix(state: 99)
    for language in Languages.all {
      for _ in 0..<25 {
        let prefix = FuzzTests.randomText(&rng, pieces: rng.below(20))
        let suffix = FuzzTests.randomText(&rng, pieces: 10 + rng.below(40))
        let candidate = FuzzTests.randomText(&rng, pieces: 1 + rng.below(8))
        let context = CursorContext(prefix: prefix, suffix: suffix, language: language)
        var lexer = Lexer(spec: language)
        lexer.scan(prefix + candidate, final: true)
        let fast = context.suffixReport(from: lexer.state)
        let full = CursorContext.readSuffix(suffix, from: lexer.state, tables: context.streamingLexer.tables)
        XCTAssertEqual(
          fast, full,
          "\(language.name) \(prefix.debugDescription) \(candidate.debugDescription) \(suffix.debugDescription)")
      }
    }
  }
}
