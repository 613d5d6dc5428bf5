/// One line of a candidate as the final check reads it.
struct CandidateLine {
  /// Candidate offset (UTF-8) of the line's first byte.
  var start: Int
  /// Candidate offset where the line ends: its line break, or the candidate's end.
  var end: Int
  /// Lexer state at `end`.
  var endState: LexState
  /// Column of the line's first character when that character is code at statement level (outside brackets that
  /// are not blocks) and the line starts in the candidate; nil otherwise (line 0 continuing the cursor's line, a
  /// blank line, a line inside brackets, a string or a comment).
  var statementIndent: Int?
  /// The line begins at statement level (line 0: the cursor's line did).
  var startsStatement = false
  /// Stack depth where the line began.
  var startDepth = 0
  /// Candidate offset of a line comment on this line.
  var commentStart: Int?
  /// A block opener at the line's statement level: a `blockOpenerEndings` character (Python `:`) outside
  /// brackets, or a block bracket anywhere on the line.
  var openerSeen = false

  /// The line has code (not only blanks and comments).
  var hasCode: Bool { endState.lastCode != nil }
}

/// The statement rules of the final check: what the lexer's bracket and string balance cannot see.
///
/// At a cut (the candidate kept up to the end of one of its lines, the suffix following), the candidate must:
/// - not end its last statement with an operator or keyword that needs an operand (`x =`, `a and`, `case`;
///   `LanguageSpec.danglingOperators`, `danglingWords`), when nothing follows the cursor on its line;
/// - not end with a statement that starts with a header keyword but has no block opener (`if x` without `:`,
///   `switch (self)` without `{`; `LanguageSpec.headerKeywords`);
/// - in indentation languages, keep the indentation valid: a line after a block opener indented deeper, no other
///   line indented deeper than the one before, a dedent only to an enclosing level; and the first line of the
///   suffix must still fit (a block the candidate opens needs its body: `while True:` before a line at the same
///   indentation is unfinished).
///
/// The checks compare with the document without the candidate: a rule the suffix already breaks there is not
/// held against the candidate.
struct StatementRules {
  let context: CursorContext
  let candidate: [UInt8]
  let lines: [CandidateLine]
  private let spec: LanguageSpec
  private let restBlank: Bool
  private let indentation: Bool
  /// Indentation of the suffix's first code line, when the junction is checked.
  private let suffixIndent: Int?
  private let baseWalk: IndentWalk?

  /// The cursor is on a line of its own between the elements of a bracketed list whose elements are followed by
  /// `,` (the line before ends with `,` or the opener, the next line is not the closer): a candidate that ends
  /// at this level must end with `,` too.
  private let needsSeparator: Bool

  init(context: CursorContext, candidate: String, lines: [CandidateLine]) {
    self.context = context
    self.candidate = Array(candidate.utf8)
    self.lines = lines
    spec = context.spec
    restBlank = context.restOfLine.allSatisfy { $0 == " " || $0 == "\t" || $0 == "\r" }
    let atStatementLevel = context.state.stack.allSatisfy(\.isBlock)
    var separator = false
    if restBlank, context.cursorOnBlankLinePrefix, context.state.context.isCode, let top = context.state.stack.last,
      !top.isBlock, case .bracket = top.kind, let next = StatementRules.suffixCodeLine(context)?.trimmingWhitespace(),
      let nextFirst = next.unicodeScalars.first
    {
      let closers = Set(context.spec.brackets.compactMap { $0.unicodeScalars.last })
      let openers = Set(context.spec.brackets.compactMap { $0.unicodeScalars.first })
      if !closers.contains(nextFirst), let previous = context.state.previousLine?.lastCode {
        separator = previous == "," || (openers.contains(previous) && context.state.previousLine?.line == top.line)
      }
    }
    needsSeparator = separator
    let cursorInCode = context.state.context.isCode || context.state.context == .lineComment
    indentation = spec.blockStyle == .indentation && atStatementLevel && cursorInCode
    if indentation {
      let walk = IndentWalk(context: context)
      baseWalk = walk
      var probe = walk
      let next = StatementRules.suffixCodeLineIndent(context)
      // The junction is checked only where the document without the candidate passes it.
      if let next, restBlank, probe.take(indent: next, opensBlock: false) == nil {
        suffixIndent = next
      } else {
        suffixIndent = nil
      }
    } else {
      baseWalk = nil
      suffixIndent = nil
    }
  }

  /// The indentation of the suffix's first line that holds code (after the cursor's line), if any.
  static func suffixCodeLineIndent(_ context: CursorContext) -> Int? {
    suffixCodeLine(context).map { Indentation.columns(of: $0) }
  }

  /// The suffix's first line that holds code (after the cursor's line), if any.
  static func suffixCodeLine(_ context: CursorContext) -> Substring? {
    var first = true
    for line in context.suffix.split(
      omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" })
    {
      if first {
        first = false
        continue
      }
      let trimmed = line.trimmingWhitespace()
      if trimmed.isEmpty { continue }
      if context.spec.lineComments.contains(where: { trimmed.hasPrefix($0) }) { continue }
      return line
    }
    return nil
  }

  /// Why keeping the candidate up to the end of line `k` leaves a statement unfinished or the indentation
  /// invalid; nil when it does not.
  func problem(cutAfterLine k: Int) -> String? {
    if let p = indentationProblem(throughLine: k) { return p }
    guard restBlank else { return nil }
    guard let last = (0...k).reversed().first(where: { lines[$0].hasCode }) else { return nil }
    if let p = endingProblem(lines[last], index: last) { return p }
    // (A line that ends with an operator continues on the next line: `2 +` before `3)`.)
    if needsSeparator, lines[last].endState.structuralKey == context.state.structuralKey,
      let lastCode = lines[last].endState.lastCode, lastCode != ",",
      !(lastCode.isASCII && isOperatorByte(UInt8(lastCode.value)))
    {
      return "the element does not end with `,` like the elements around it"
    }
    return nil
  }

  // MARK: Endings

  /// The code text of a line (line 0 with the cursor line's text before the cursor), comments excluded.
  private func codeText(_ line: CandidateLine, index: Int) -> [UInt8]? {
    let end = line.commentStart.map { min($0, line.end) } ?? line.end
    guard end >= line.start else { return nil }
    var text = Array(candidate[line.start..<end])
    if index == 0 {
      guard context.state.context.isCode else { return nil }
      text = Array(context.linePrefix.utf8) + text
    }
    return text
  }

  private func endingProblem(_ line: CandidateLine, index: Int) -> String? {
    let state = line.endState
    guard state.context.isCode || state.context == .lineComment, state.stack.allSatisfy(\.isBlock) else { return nil }
    guard var text = codeText(line, index: index) else { return nil }
    // Only a line the candidate wrote code on: the cursor's line as it was is not the candidate's doing.
    if index == 0 {
      let own = candidate[line.start..<(line.commentStart.map { min($0, line.end) } ?? line.end)]
      if !own.contains(where: { !isBlank($0) }) { return nil }
    }
    while let b = text.last, isBlank(b) || b == 0x0D { text.removeLast() }
    guard let lastByte = text.last else { return nil }
    if isWordByte(lastByte) {
      var start = text.count
      while start > 0, isWordByte(text[start - 1]) { start -= 1 }
      let word = String(decoding: text[start...], as: UTF8.self)
      let afterDot = start > 0 && text[start - 1] == UInt8(ascii: ".")
      if spec.danglingWords.contains(word) && !afterDot {
        return "the line ends with `\(word)`, which needs more after it"
      }
    } else if isOperatorByte(lastByte) {
      var start = text.count
      while start > 0, isOperatorByte(text[start - 1]) { start -= 1 }
      let run = String(decoding: text[start...], as: UTF8.self)
      let afterDigit = start > 0 && text[start - 1] >= 0x30 && text[start - 1] <= 0x39
      if spec.danglingOperators.contains(run) && !(run == "." && afterDigit) {
        return "the line ends with `\(run)`, which needs an operand"
      }
    }
    // A line that starts with a closer continues the statement the closer ends (`} while x` after `repeat {`).
    let closers = Set(spec.brackets.compactMap { $0.utf8.last })
    let startsWithCloser = text.first(where: { !isBlank($0) }).map { closers.contains($0) } ?? false
    if !spec.headerKeywords.isEmpty, line.startsStatement, !startsWithCloser, let first = firstWord(text),
      spec.headerKeywords.contains(first), !opener(line, index: index)
    {
      return "the statement starting with `\(first)` has no block opener"
    }
    return nil
  }

  /// Whether the line has its block opener; for line 0, the cursor line's text before the cursor counts too.
  private func opener(_ line: CandidateLine, index: Int) -> Bool {
    if line.openerSeen { return true }
    guard index == 0, !context.cursorOnBlankLinePrefix else { return false }
    var lexer = Lexer(spec: spec)
    lexer.append(context.linePrefix)
    var found = false
    while true {
      let before = lexer.state.offset
      let result = lexer.step(final: true)
      if case .needMore = result { break }
      if case .event(.opened(let frame, _)) = result, frame.isBlock { found = true }
      if case .consumed = result, lexer.state.offset > before, StatementRules.consumedOpenerEnding(lexer.state, spec),
        lexer.state.stack.isEmpty
      {
        found = true
      }
      if !lexer.hasInput && !lexer.hasQueuedEvents { break }
    }
    return found
  }

  /// The state just consumed a `blockOpenerEndings` character in code.
  static func consumedOpenerEnding(_ state: LexState, _ spec: LanguageSpec) -> Bool {
    guard state.context.isCode, !state.lastTokenWasWord, let last = state.lastCode else { return false }
    return spec.blockOpenerEndings.contains { $0.unicodeScalars.last == last }
  }

  /// The first word of a line's text, when the line starts with a word.
  private func firstWord(_ text: [UInt8]) -> String? {
    var i = 0
    while i < text.count, isBlank(text[i]) { i += 1 }
    var j = i
    while j < text.count, isWordByte(text[j]) { j += 1 }
    return j > i ? String(decoding: text[i..<j], as: UTF8.self) : nil
  }

  // MARK: Indentation

  private func indentationProblem(throughLine k: Int) -> String? {
    guard indentation, var walk = baseWalk else { return nil }
    for i in 0...k {
      let line = lines[i]
      guard line.hasCode else { continue }
      let opens = line.endState.currentLineOpensBlock(spec: spec) && line.endState.stack.isEmpty
      if i == 0 && !context.cursorOnBlankLinePrefix {
        walk.expectIndent = opens  // the cursor's line, continued
        continue
      }
      guard let indent = line.statementIndent else { continue }
      if let p = walk.take(indent: indent, opensBlock: opens) { return "line \(i + 1): \(p)" }
    }
    if let next = suffixIndent, let p = walk.take(indent: next, opensBlock: false) {
      return "the line after the candidate: \(p)"
    }
    return nil
  }

  private func isBlank(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 }

  private func isWordByte(_ b: UInt8) -> Bool {
    (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x5F || b >= 0x80
      || spec.identifierCharacters.utf8.contains(b)
  }

  private func isOperatorByte(_ b: UInt8) -> Bool {
    "=+-*/%<>!&|^~?.:@\\,".utf8.contains(b) && !spec.identifierCharacters.utf8.contains(b)
  }
}

/// Python's indentation rules over a sequence of statement lines (the tokenizer's INDENT/DEDENT stack).
struct IndentWalk {
  /// Enclosing indentation levels, innermost last.
  var levels: [Int]
  /// The previous statement line opened a block: the next one must be indented deeper.
  var expectIndent: Bool

  /// The walk at the cursor: the levels enclosing the last statement line before the candidate (read backwards
  /// from the lines before the cursor; a line inside a multi-line string may add a level, which only makes the
  /// check more lenient).
  init(context: CursorContext) {
    let state = context.state
    let top: Int
    if context.cursorOnBlankLinePrefix {
      top = state.previousLine?.indent ?? 0
      expectIndent = state.previousLine?.opensBlock ?? false
    } else {
      top = state.statementIndent
      expectIndent = state.stack.isEmpty && state.currentLineOpensBlock(spec: context.spec)
    }
    var levels = [top]
    var current = top
    for line in context.linesBefore.reversed() where current > 0 {
      let trimmed = line.trimmingWhitespace()
      if trimmed.isEmpty || context.spec.lineComments.contains(where: { trimmed.hasPrefix($0) }) { continue }
      let indent = Indentation.columns(of: line)
      if indent < current {
        levels.insert(indent, at: 0)
        current = indent
      }
    }
    if levels.first != 0 { levels.insert(0, at: 0) }
    self.levels = levels
  }

  /// Takes the next statement line; returns what is wrong with its indentation, if anything.
  mutating func take(indent: Int, opensBlock: Bool) -> String? {
    let top = levels.last ?? 0
    defer { expectIndent = opensBlock }
    if expectIndent {
      if indent <= top { return "a block opened at column \(top) needs a body indented deeper, found column \(indent)" }
      levels.append(indent)
      return nil
    }
    if indent > top { return "unexpected indentation to column \(indent) (the block is at column \(top))" }
    while let last = levels.last, last > indent { levels.removeLast() }
    if levels.last != indent { return "dedent to column \(indent) matches no enclosing block" }
    return nil
  }
}
