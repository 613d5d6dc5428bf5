// How the pipeline uses this module, per request:
//
//   let spec = Languages.lookup(languageId: request.languageId, fileName: request.fileName)
//   let context = CursorContext(prefix: request.prefix, suffix: request.suffix, language: spec)  // one scan
//   let mode = CompletionMode(setting: settings.multiline) ?? decideCompletionMode(context: context).mode
//   // per candidate:
//   let stopper = StreamingStopper(context: context, mode: mode)
//   for each detokenized piece { if case .stop = stopper.feed(piece) { break } }   // stop generating
//   let result = stopper.finalize()   // result.text (nil: drop), result.trace (explain / debug log)
//
// Without the middleware (`syntaxCheck: false`) none of this runs.

import Foundation

/// How the suffix reads when the text before it ends in a given lexer state.
public struct SuffixReport: Sendable, Equatable {
  /// Errors inside the suffix: closers that match nothing, strings ended by a line break.
  public var errors: Int
  /// Frames left open at the end (counted only when the whole suffix was read).
  public var unclosedAtEnd: Int
  /// The suffix ends inside a string or comment (only when the whole suffix was read).
  public var unterminatedAtEnd: Bool
  /// The whole suffix was read (not cut at the scan limit).
  public var complete: Bool

  /// The number the final check compares: errors, plus what stays open at the end of the document.
  public var badness: Int { errors + unclosedAtEnd + (unterminatedAtEnd ? 1 : 0) }
}

/// The cursor's surroundings, scanned once per request: lexer state at the cursor, the cursor's line, the
/// lines below it and how the suffix reads from here.
public struct CursorContext: Sendable {
  /// The language.
  public let spec: LanguageSpec
  /// Lexer after the prefix, lookahead still pending (for streaming: a word may continue in the completion).
  public let streamingLexer: Lexer
  /// Lexer state after the prefix with every pending construct decided.
  public let state: LexState
  /// The cursor line's text before the cursor.
  public let linePrefix: String
  /// The cursor line's text after the cursor (no line break).
  public let restOfLine: String
  /// The first non-blank line after the cursor's line, and its indentation in columns.
  public let nextLine: (text: String, indent: Int)?
  /// The non-blank lines after the cursor's line, trimmed (up to 12).
  public let followingLines: [String]
  /// The line before the cursor's line is blank (or there is none).
  public let previousLineBlank: Bool
  /// The line right after the cursor's line holds code or text (is not blank, and exists).
  public let lineBelowHasText: Bool
  /// The suffix read from the cursor's state.
  public let suffixReport: SuffixReport
  /// UTF-8 length of the prefix.
  public let prefixLength: Int
  /// The suffix (kept for what-if scans).
  let suffix: String
  /// The scan of the suffix from the cursor's state, line by line (what-if scans stop where they agree).
  let suffixCheckpoints: SuffixCheckpoints
  /// What-if scans already made.
  let reportCache = ReportCache()
  /// Up to 400 lines before the cursor and 100 after it, for detecting the indentation style.
  public let styleLines: [String]
  /// Up to 400 lines before the cursor's line, nearest last (for the enclosing indentation levels).
  public let linesBefore: [String]

  /// Scans the prefix once and the suffix once.
  public init(prefix: String, suffix: String, language: LanguageSpec) {
    spec = language
    var lexer = Lexer(spec: language)
    lexer.scan(prefix, final: false)
    streamingLexer = lexer
    var flushed = lexer
    while flushed.next(final: true) != nil {}
    state = flushed.state
    prefixLength = prefix.utf8.count
    self.suffix = suffix
    if let nl = prefix.lastIndex(where: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" }) {
      linePrefix = String(prefix[prefix.index(after: nl)...])
    } else {
      linePrefix = prefix
    }
    let suffixLines = suffix.split(
      omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" })
    restOfLine = suffixLines.first.map(String.init) ?? ""
    var following: [String] = []
    var next: (String, Int)?
    for line in suffixLines.dropFirst() {
      let trimmed = line.trimmingWhitespace()
      if trimmed.isEmpty { continue }
      if next == nil { next = (String(line), Indentation.columns(of: line)) }
      following.append(String(trimmed))
      if following.count >= 12 { break }
    }
    nextLine = next
    followingLines = following
    lineBelowHasText = suffixLines.count > 1 && !suffixLines[1].trimmingWhitespace().isEmpty
    var sample: [String] = []
    var count = 0
    var end = prefix.endIndex
    while count < 400, end > prefix.startIndex {
      guard let nl = prefix[..<end].lastIndex(where: { $0 == "\n" || $0 == "\r\n" }) else {
        sample.append(String(prefix[prefix.startIndex..<end]))
        break
      }
      sample.append(String(prefix[prefix.index(after: nl)..<end]))
      end = nl
      count += 1
    }
    sample.reverse()
    if !sample.isEmpty { sample.removeLast() }  // the cursor's own line, incomplete
    linesBefore = sample
    styleLines = sample + suffixLines.dropFirst().prefix(100).map(String.init)
    previousLineBlank = sample.last.map { $0.allSatisfy(\.isWhitespace) } ?? true
    let checkpoints = SuffixCheckpoints()
    suffixReport = CursorContext.readSuffix(
      suffix, from: flushed.state, tables: flushed.tables, recordInto: checkpoints)
    suffixCheckpoints = checkpoints
  }

  /// Where the suffix scan from the cursor's state stood at each line break in code: the structure and the
  /// errors so far, keyed by the line break's offset in the suffix.
  final class SuffixCheckpoints: @unchecked Sendable {
    var byOffset: [Int: (key: StructuralKey, errors: Int)] = [:]
  }

  /// Reads `suffix` from `state` with a copied lexer and reports how it fares.
  ///
  /// With `reference` (the checkpoints of the scan from the cursor's state, and its report), the scan stops at
  /// the first line break where it reads the same structure as the reference did: from there on both scans are
  /// identical, so the rest of the report is the reference's. Most scans converge within a few lines.
  static func readSuffix(
    _ suffix: String, from state: LexState, tables: LexTables, limit: Int = 400_000,
    recordInto checkpoints: SuffixCheckpoints? = nil,
    reference: (checkpoints: SuffixCheckpoints, report: SuffixReport)? = nil
  ) -> SuffixReport {
    var lexer = Lexer(tables: tables, state: state)
    let complete = suffix.utf8.count <= limit
    lexer.append(complete ? suffix : String(decoding: suffix.utf8.prefix(limit), as: UTF8.self))
    let startErrors = state.errors
    let startOffset = state.offset
    while let event = lexer.next(final: true) {
      guard case .lineBreak = event, lexer.state.context == .code, lexer.state.pendingHeredocs.isEmpty else { continue }
      let at = lexer.state.offset - startOffset
      let errors = lexer.state.errors - startErrors
      if let checkpoints {
        checkpoints.byOffset[at] = (lexer.state.structuralKey, errors)
      } else if let reference, let mark = reference.checkpoints.byOffset[at], mark.key == lexer.state.structuralKey {
        var report = reference.report
        report.errors = errors + (reference.report.errors - mark.errors)
        return report
      }
    }
    let end = lexer.state
    return SuffixReport(
      errors: end.errors - startErrors,
      unclosedAtEnd: complete ? end.stack.count : 0,
      unterminatedAtEnd: complete && !end.context.isCode && end.context != .lineComment, complete: complete)
  }

  /// Suffix reports by the structure of the state they start from, shared by every stopper of this context.
  final class ReportCache: @unchecked Sendable {
    private let lock = NSLock()
    private var reports: [StructuralKey: SuffixReport] = [:]

    func report(_ key: StructuralKey, _ make: () -> SuffixReport) -> SuffixReport {
      lock.lock()
      if let known = reports[key] {
        lock.unlock()
        return known
      }
      lock.unlock()
      let made = make()
      lock.lock()
      reports[key] = made
      lock.unlock()
      return made
    }
  }

  /// The suffix report from another state, memoised by its structure (the suffix reads the same from two
  /// states with the same context, stack and pending here-documents).
  func suffixReport(from state: LexState) -> SuffixReport {
    reportCache.report(state.structuralKey) {
      CursorContext.readSuffix(
        suffix, from: state, tables: streamingLexer.tables, reference: (suffixCheckpoints, suffixReport))
    }
  }

  /// The cursor's line before the cursor is only whitespace.
  /// When the cursor sits on a blank line below a definition whose body holds nothing yet but a docstring and
  /// comments (`def f():` then `"""Doc."""`, the cursor at column 0 or at the docstring's indentation), the
  /// columns of that definition's header and of its body so far (the docstring's): the code to write is the body.
  /// Nil otherwise, and for languages whose blocks are not indentation.
  public var emptyBody: (header: Int, body: Int)? {
    guard spec.blockStyle == .indentation, cursorOnBlankLinePrefix else { return nil }
    let quotes = ["\"\"\"", "'''"]
    var index = linesBefore.count - 1
    var bodyIndent: Int?
    func skipBlankAndComments() {
      while index >= 0 {
        let trimmed = linesBefore[index].trimmingWhitespace()
        if trimmed.isEmpty {
          index -= 1
        } else if spec.lineComments.contains(where: { trimmed.hasPrefix($0) }) {
          bodyIndent = Indentation.columns(of: Substring(linesBefore[index]))
          index -= 1
        } else {
          return
        }
      }
    }
    skipBlankAndComments()
    // One docstring, on one line or several, ending on this line.
    guard index >= 0 else { return nil }
    let last = linesBefore[index].trimmingWhitespace()
    if let quote = quotes.first(where: { last.hasSuffix($0) }) {
      var start = index
      let closesAlone = last.count >= 6 && last.hasPrefix(quote) || last.components(separatedBy: quote).count >= 3
      if !closesAlone {
        start -= 1
        while start >= 0 && !linesBefore[start].contains(quote) { start -= 1 }
        guard start >= 0, start >= index - 200 else { return nil }
      }
      let opening = linesBefore[start].trimmingWhitespace()
      guard quotes.contains(where: { opening.drop(while: { "rRbBuUfF".contains($0) }).hasPrefix($0) }) else {
        return nil
      }
      bodyIndent = Indentation.columns(of: Substring(linesBefore[start]))
      index = start - 1
      skipBlankAndComments()
    }
    guard let body = bodyIndent, index >= 0, cursorLineIndent <= body else { return nil }
    // The header: the line that ends with `:`, or the start of a signature over several lines.
    guard linesBefore[index].trimmingWhitespace().hasSuffix(":") else { return nil }
    var header = index
    while header >= 0 && header > index - 20 {
      let words = linesBefore[header].trimmingWhitespace()
      if ["def ", "async def ", "class "].contains(where: { words.hasPrefix($0) }) {
        let indent = Indentation.columns(of: Substring(linesBefore[header]))
        return indent < body ? (indent, body) : nil
      }
      header -= 1
    }
    return nil
  }

  public var cursorOnBlankLinePrefix: Bool { linePrefix.allSatisfy { $0 == " " || $0 == "\t" } }

  /// Indentation of the cursor's line in columns.
  public var cursorLineIndent: Int { Indentation.columns(of: Substring(linePrefix)) }
}

extension StringProtocol {
  /// The text without leading and trailing whitespace.
  func trimmingWhitespace() -> Substring {
    let s = Substring(self)
    guard let first = s.firstIndex(where: { !$0.isWhitespace }) else { return s[s.endIndex...] }
    let last = s.lastIndex(where: { !$0.isWhitespace })!
    return s[first...last]
  }

  /// The text without trailing whitespace.
  func trimmingTrailingWhitespace() -> Substring {
    let s = Substring(self)
    guard let last = s.lastIndex(where: { !$0.isWhitespace }) else { return s[s.startIndex..<s.startIndex] }
    return s[...last]
  }
}

/// Indentation helpers.
public enum Indentation {
  /// Leading whitespace of a line in columns (a tab advances to the next multiple of 8, as Python reads it).
  public static func columns<S: StringProtocol>(of line: S) -> Int {
    var n = 0
    for c in line.unicodeScalars {
      if c == " " {
        n += 1
      } else if c == "\t" {
        n = (n / 8 + 1) * 8
      } else {
        break
      }
    }
    return n
  }
}
