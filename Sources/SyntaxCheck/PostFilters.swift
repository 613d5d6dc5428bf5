/// The document's indentation: tabs, or spaces in steps of `width`.
public struct IndentStyle: Sendable, Equatable {
  /// Tabs (else spaces).
  public var usesTabs: Bool
  /// Columns per level (1 for tabs).
  public var width: Int

  public init(usesTabs: Bool, width: Int) {
    self.usesTabs = usesTabs
    self.width = width
  }

  /// Whitespace for `columns` columns in this style (tabs, then spaces for the remainder).
  public func whitespace(columns: Int) -> String {
    guard columns > 0 else { return "" }
    if usesTabs { return String(repeating: "\t", count: columns / 8) + String(repeating: " ", count: columns % 8) }
    return String(repeating: " ", count: columns)
  }

  /// Detects the style of some lines: tabs when most indented lines start with a tab, else the most common
  /// step between a line and a more indented next line. Nil when nothing is indented.
  public static func detect<S: Sequence>(lines: S) -> IndentStyle? where S.Element: StringProtocol {
    var tabLines = 0
    var spaceLines = 0
    var steps: [Int: Int] = [:]
    var previous: Int?
    for line in lines {
      guard line.contains(where: { !$0.isWhitespace }) else { continue }
      if line.first == "\t" { tabLines += 1 } else if line.hasPrefix("  ") { spaceLines += 1 }
      let columns = Indentation.columns(of: line)
      if line.first != "\t", let p = previous, columns > p, columns - p <= 8 { steps[columns - p, default: 0] += 1 }
      previous = columns
    }
    if tabLines > 0 && spaceLines > 0 && min(tabLines, spaceLines) * 5 > max(tabLines, spaceLines) {
      return nil  // mixed (tabs for some levels, spaces for others): leave the candidate alone
    }
    if tabLines > spaceLines && tabLines > 0 { return IndentStyle(usesTabs: true, width: 8) }
    guard let best = steps.max(by: { $0.value != $1.value ? $0.value < $1.value : $0.key > $1.key }) else { return nil }
    return IndentStyle(usesTabs: false, width: best.key)
  }
}

/// Clean-ups applied to a candidate after the syntax check, each recorded in the trace.
public enum PostFilters {
  /// Runs every filter in order: repeated lines and blocks, repetition of the lines below the cursor,
  /// indentation, trailing whitespace, whitespace-only. Returns nil when the candidate is dropped.
  public static func apply(_ candidate: String, context: CursorContext) -> (String?, [String]) {
    var log: [String] = []
    var text = candidate
    if let (cut, message) = repetitionCut(text) {
      text = String(decoding: text.utf8.prefix(cut), as: UTF8.self)
      log.append("cut at \(cut): \(message)")
    }
    if repeatsFollowingLines(text, context: context) {
      log.append("dropped: repeats the lines below the cursor")
      return (nil, log)
    }
    let (indented, indentLog) = fixIndentation(text, context: context)
    text = indented
    log += indentLog
    text = trimTrailingWhitespace(text, context: context)
    if text.allSatisfy(\.isWhitespace) {
      log.append("dropped: only whitespace")
      return (nil, log)
    }
    return (text, log)
  }

  /// Lines with their UTF-8 start offsets (line breaks excluded from the text).
  static func lines(_ text: String) -> [(start: Int, text: Substring)] {
    RepeatedLineDetector.lines(text)
  }

  /// Where to cut a candidate that loops (`RepeatedLineDetector.firstRepetition`): before the line break that
  /// precedes the second copy.
  static func repetitionCut(_ text: String) -> (Int, String)? {
    guard let repeated = RepeatedLineDetector().firstRepetition(in: text) else { return nil }
    let k = repeated.lineIndex - repeated.earlierLineIndex
    let message =
      k == 1
      ? "line \(repeated.lineIndex + 1) repeats line \(repeated.earlierLineIndex + 1)"
      : "lines \(repeated.lineIndex + 1)–\(repeated.lineIndex + k) repeat lines "
        + "\(repeated.earlierLineIndex + 1)–\(repeated.lineIndex)"
    return (max(0, repeated.start - 1), message)
  }

  /// True when the candidate's non-blank lines are the lines right below the cursor.
  static func repeatsFollowingLines(_ text: String, context: CursorContext) -> Bool {
    guard context.restOfLine.trimmingWhitespace().isEmpty, !context.followingLines.isEmpty else { return false }
    let mine = lines(text).map { $0.text.trimmingWhitespace() }.filter { !$0.isEmpty }
    guard !mine.isEmpty, mine.count <= context.followingLines.count else { return false }
    if !context.cursorOnBlankLinePrefix && mine.count == 1 { return false }  // completing a line in place
    return zip(mine, context.followingLines).allSatisfy { $0 == $1 }
  }

  /// Matches the candidate's indentation to the document: the first line's indentation when the cursor is
  /// already indented, tabs versus spaces, and the indent width of the lines that follow.
  static func fixIndentation(_ text: String, context: CursorContext) -> (String, [String]) {
    var ls = lines(text).map { String($0.text) }
    var log: [String] = []
    let detected = IndentStyle.detect(lines: context.styleLines)
    let style = detected ?? IndentStyle(usesTabs: false, width: 4)

    // First line: the cursor is on a blank-so-far line and the candidate restates indentation.
    if context.cursorOnBlankLinePrefix, let first = ls.first {
      let w = Indentation.columns(of: first)
      let c = context.cursorLineIndent
      if w > 0 {
        var target = c
        if let previous = context.state.previousLine {
          target = previous.indent + (previous.opensBlock ? (style.usesTabs ? 8 : style.width) : 0)
        }
        if c + w > target && c <= target {
          let body = first.drop { $0 == " " || $0 == "\t" }
          ls[0] = style.whitespace(columns: target - c) + body
          log.append("first line re-indented: the cursor is already at column \(c), the line belongs at \(target)")
        }
      }
    }
    guard ls.count > 1, detected != nil else { return (ls.joined(separator: "\n"), log) }
    let rest = ls[1...].filter { $0.contains { !$0.isWhitespace } }
    if style.usesTabs {
      let spaced = rest.filter { $0.first == " " }
      if !spaced.isEmpty && rest.allSatisfy({ $0.first != "\t" }) {
        let unit = spaced.map { Indentation.columns(of: $0) }.reduce(0, gcd)
        if unit >= 2 {
          for i in 1..<ls.count where ls[i].first == " " {
            let cols = Indentation.columns(of: ls[i])
            ls[i] =
              String(repeating: "\t", count: cols / unit) + String(repeating: " ", count: cols % unit)
              + ls[i].drop { $0 == " " }
          }
          log.append("indentation converted from \(unit) spaces to tabs")
        }
      }
    } else {
      if rest.contains(where: { $0.first == "\t" }) {
        for i in 1..<ls.count where ls[i].first == "\t" {
          let tabs = ls[i].prefix { $0 == "\t" }.count
          ls[i] = String(repeating: " ", count: tabs * style.width) + ls[i].drop { $0 == "\t" }
        }
        log.append("indentation converted from tabs to \(style.width) spaces")
      } else {
        // Both spaces: rescale steps smaller than the document's (2 → 4), relative to the first line.
        let base =
          context.cursorOnBlankLinePrefix
          ? context.cursorLineIndent + Indentation.columns(of: ls[0]) : context.cursorLineIndent
        let deltas = rest.map { Indentation.columns(of: $0) - base }
        let unit = deltas.map(abs).reduce(0, gcd)
        if unit >= 2 && unit < style.width && style.width % unit == 0 && base % style.width == 0
          && linesStartInCode(text, context: context)
        {
          let factor = style.width / unit
          for i in 1..<ls.count where ls[i].contains(where: { !$0.isWhitespace }) {
            let cols = Indentation.columns(of: ls[i])
            let scaled = max(0, base + (cols - base) * factor)
            ls[i] = String(repeating: " ", count: scaled) + ls[i].drop { $0 == " " }
          }
          log.append("indentation rescaled from steps of \(unit) to the document's \(style.width)")
        }
      }
    }
    return (ls.joined(separator: "\n"), log)
  }

  /// True when every line after the first starts in code at the cursor's bracket depth (no continuation lines
  /// inside brackets or strings, whose alignment must not be rescaled).
  static func linesStartInCode(_ text: String, context: CursorContext) -> Bool {
    var lexer = Lexer(tables: context.streamingLexer.tables, state: context.state)
    lexer.append(text)
    let depth = context.state.stack.count
    while let event = lexer.next(final: true) {
      switch event {
      case .lineBreak:
        if !lexer.state.context.isCode { return false }  // a line inside a string, comment or here-document
      case .lineStart:
        if lexer.state.stack.count != depth { return false }  // a continuation line inside brackets
      default: break
      }
    }
    return true
  }

  /// Trims trailing whitespace of every line, and at the end when the suffix starts with whitespace, a line
  /// break, a closer or `,;:.` (or is empty); otherwise a space may separate the completion from the suffix.
  static func trimTrailingWhitespace(_ text: String, context: CursorContext) -> String {
    var ls = lines(text).map { $0.text }
    for i in 0..<(ls.count - 1) { ls[i] = ls[i].trimmingTrailingWhitespace() }
    var joined = ls.map(String.init).joined(separator: "\n")
    let suffixStart = context.restOfLine.first
    if suffixStart == nil || suffixStart!.isWhitespace || ")]},;:.".contains(suffixStart!) {
      joined = String(joined.trimmingTrailingWhitespace())
    }
    return joined
  }

  private static func gcd(_ a: Int, _ b: Int) -> Int { b == 0 ? a : gcd(b, a % b) }
}
