/// Why generation should stop, and where.
public struct SyntaxStop: Sendable, Equatable, CustomStringConvertible {
  /// The rule that fired.
  public enum Rule: String, Sendable, Equatable {
    /// Single-line mode reached the end of the line.
    case endOfLine
    /// The block the completion is writing ended (a dedent, or its own block closed).
    case endOfBlock
    /// A closer would close more than the completion opened (the suffix's own `)` or `}`).
    case closesOuter
    /// A closer that matches nothing the completion opened.
    case badCloser
    /// The candidate started producing the text that already follows the cursor.
    case duplicatesSuffix
    /// A line break ended a single-line string.
    case unterminatedString
    /// A markdown code fence (a line of code starting with three backticks): the model left the code.
    case markdownFence
  }

  /// The rule.
  public var rule: Rule
  /// What happened, in words.
  public var message: String

  public var description: String { "\(rule.rawValue): \(message)" }
}

/// What the stopper says after a chunk.
public enum StopDecision: Sendable, Equatable {
  /// Keep generating.
  case `continue`
  /// Stop; keep the first `at` UTF-8 bytes of the accumulated candidate.
  case stop(at: Int, reason: SyntaxStop)

  /// True for `.stop`.
  public var isStop: Bool {
    if case .stop = self { return true }
    return false
  }
}

/// The outcome of `StreamingStopper.finalize`.
public struct FinalizedCandidate: Sendable, Equatable {
  /// The text to insert, or nil when the candidate was dropped.
  public var text: String?
  /// Every decision, in words (`cut at 37: closes `)` the completion did not open`).
  public var trace: [String]
}

/// Follows a completion as it streams and says where generation should stop; then checks the final text.
///
/// The cursor's context (prefix and suffix, scanned once) is shared; each `feed` lexes only the new text.
/// Offsets are UTF-8 bytes of the accumulated candidate. Rules, in the order of the events that trigger them
/// (each records a trace line):
/// - a closer that would close a bracket, keyword block, string or comment the completion did not open: stop
///   before it when the document then reads worse (the suffix's own `)` or `}` becomes unmatched; scored as in
///   `finalize`). When the document reads no worse (an unbalanced document being written, `print(` with no
///   `)` after the cursor), the completion may close it. If the text just before such a closer begins the rest
///   of the cursor's line (`other)` before `other))`), stop where that repetition begins;
/// - single-line mode: stop at the first line break after some text (a completion may begin with one line
///   break when nothing follows the cursor on its line);
/// - block mode, indentation languages: stop before a line indented less than the block (after `def f():` any
///   line at or below the `def`; on a blank line, any line left of the cursor);
/// - block mode, a completion that starts a block of its own (`if x {`, `for x in y:`, `def g`), unless the
///   cursor was right after an opener (then the completion is that body): stop at the end of the line that
///   closes it, unless the next line continues it (`else`, `catch`, `elif`, `rescue`);
/// - block mode, indentation languages, the cursor on a blank line below a definition whose body is only a
///   docstring so far: the completion is that body (stop before a line at or left of the definition);
/// - a closing bracket with no match, or (block mode) a line break inside a single-line string: stop there;
/// - a line of code that starts with three backticks (a markdown fence): stop before it;
/// - text that repeats the suffix: a first line that ends with the rest of the cursor's line (cut that text,
///   when the document reads no worse without it), or a line equal to the first non-blank line below the
///   cursor (when that line is not trivial): stop at its start.
///
/// - Important: not thread-safe; one stopper per candidate.
public final class StreamingStopper {
  /// The cursor's context.
  public let context: CursorContext
  /// The mode it stops for.
  public let mode: CompletionMode
  /// The candidate so far.
  public private(set) var text = ""
  /// Decisions so far.
  public private(set) var trace: [String] = []
  /// The first stop decision, once made.
  public private(set) var stopDecision: StopDecision = .continue

  private var lexer: Lexer
  private let baseDepth: Int
  private let prefixLength: Int
  private let dedentLimit: Int?
  private let afterOpener: Bool
  private let restTrimmed: String
  private let suffixFirstLine: String?
  private var contentSeen = false
  private var leadingBreaks = 0
  private var lineStartOffset = 0  // candidate offset where the current line starts
  private var lastBreakOffset = 0
  private var lineCount = 0
  private var firstLineOpenedBlock = false
  private var ownIndentHeader: Int?
  private var ownIndentBody = false
  private var firstContentIndent: Int?
  private var stopAtNextBreak: String?
  private var awaitingLineStart: (cut: Int, reason: String)?
  private var awaitingWord: (cut: Int, reason: String)?
  private var leftInitialContext = false
  private var firstContentLine: Int?
  /// Candidate offset of the start of the current line when it starts in code (for the markdown-fence rule).
  private var codeLineStart: Int?

  private func markContent() {
    if contentSeen { return }
    contentSeen = true
    firstContentLine = lineCount
  }

  /// Prepares a stopper; `mode` usually comes from `completionMode(prefix:suffix:language:)`.
  public convenience init(prefix: String, suffix: String, language: LanguageSpec, mode: CompletionMode) {
    self.init(context: CursorContext(prefix: prefix, suffix: suffix, language: language), mode: mode)
  }

  /// Prepares a stopper from an already scanned context (the pipeline scans once for mode and stopper).
  public init(context: CursorContext, mode: CompletionMode) {
    self.context = context
    self.mode = mode
    lexer = context.streamingLexer
    baseDepth = context.state.stack.count
    prefixLength = context.prefixLength
    let state = context.state
    restTrimmed = String(context.restOfLine.trimmingWhitespace())
    if restTrimmed.isEmpty, let next = context.followingLines.first,
      next.filter({ !$0.isWhitespace }).count >= 6, next.contains(where: { $0.isLetter || $0.isNumber }),
      !context.spec.continuationKeywords.contains(String(next.prefix { $0.isLetter || $0.isNumber || $0 == "_" }))
    {
      suffixFirstLine = next
    } else {
      suffixFirstLine = nil
    }
    var limit: Int?
    var opener = false
    // Indentation rules only where indentation means blocks: not inside brackets (implicit line joining).
    if context.spec.blockStyle == .indentation && state.context.isCode && state.stack.isEmpty && mode == .block {
      if !context.cursorOnBlankLinePrefix && state.currentLineOpensBlock(spec: context.spec) {
        limit = state.statementIndent + 1
        opener = true
      } else if context.cursorOnBlankLinePrefix {
        if let header = context.emptyBody?.header {
          // Below a docstring (HumanEval's prompts end so), wherever the cursor sits: the body comes next.
          limit = header + 1
          opener = true
        } else if let previous = state.previousLine, previous.opensBlock {
          limit = previous.indent + 1
          opener = true
        } else {
          limit = context.cursorLineIndent
        }
      } else {
        limit = state.lineIndent
      }
    } else {
      if !context.cursorOnBlankLinePrefix && state.currentLineOpensBlock(spec: context.spec) {
        opener = true
      } else if context.cursorOnBlankLinePrefix, let previous = state.previousLine, previous.opensBlock {
        opener = true
      } else if restTrimmed.isEmpty == false,
        state.lastCode.map({ context.spec.blockBrackets.unicodeScalars.contains($0) }) == true
      {
        opener = true
      }
    }
    dedentLimit = limit
    afterOpener = opener
    codeLineStart = state.context.isCode && context.cursorOnBlankLinePrefix ? 0 : nil
    if let limit, limit > 0 { trace.append("block ends before a line indented less than column \(limit)") }
    if opener && mode == .block { trace.append("cursor right after a block opener: the completion is its body") }
  }

  /// The first `length` UTF-8 bytes of the candidate.
  public func prefixOfCandidate(_ length: Int) -> String {
    String(decoding: text.utf8.prefix(max(0, length)), as: UTF8.self)
  }

  /// Adds streamed text and says whether to stop. After a stop, further calls return the same stop.
  public func feed(_ chunk: String) -> StopDecision {
    if stopDecision.isStop { return stopDecision }
    text += chunk
    lexer.append(chunk)
    drain(final: false)
    return stopDecision
  }

  /// Reads what lookahead held back (end of generation) and returns the final stop decision.
  @discardableResult
  public func flush() -> StopDecision {
    if stopDecision.isStop { return stopDecision }
    drain(final: true)
    if !stopDecision.isStop { checkMarkdownFence(lineEnd: text.utf8.count) }
    if !stopDecision.isStop && lineCount == 0 { checkLineEndsWithRest(lineEnd: text.utf8.count) }
    if !stopDecision.isStop { checkSuffixLine(endingAt: text.utf8.count) }
    return stopDecision
  }

  // MARK: Events

  private func drain(final: Bool) {
    while !stopDecision.isStop, let event = lexer.next(final: final) {
      handle(event)
    }
  }

  private func stop(_ at: Int, _ rule: SyntaxStop.Rule, _ message: String) {
    let cut = max(0, min(at, text.utf8.count))
    stopDecision = .stop(at: cut, reason: SyntaxStop(rule: rule, message: message))
    trace.append("cut at \(cut): \(message)")
  }

  private func candidateOffset(_ offset: Int) -> Int { offset - prefixLength }

  /// A line of code that starts with three backticks is a markdown fence, never code (chat-tuned models close
  /// their answer with one): stop before the line.
  private func checkMarkdownFence(lineEnd: Int) {
    guard let start = codeLineStart, start <= lineEnd else { return }
    let line = text.utf8.dropFirst(start).prefix(lineEnd - start).drop(while: { $0 == 0x20 || $0 == 0x09 })
    guard line.starts(with: "```".utf8) else { return }
    stop(lineCount > 0 ? lastBreakOffset : 0, .markdownFence, "a markdown fence (```) is not code")
  }

  private func handle(_ event: LexEvent) {
    let state = lexer.state
    // Confirm or cancel a pending end of block.
    if let pending = awaitingWord {
      switch event {
      case .word(let w, _):
        awaitingWord = nil
        if context.spec.continuationKeywords.contains(w) {
          trace.append("`\(w)` continues the block")
        } else {
          stop(pending.cut, .endOfBlock, pending.reason)
          return
        }
      case .lineBreak, .lineStart: break
      default:
        awaitingWord = nil
        stop(pending.cut, .endOfBlock, pending.reason)
        return
      }
    }
    switch event {
    case .lineStart(let offset, let indent):
      let at = candidateOffset(offset)
      guard at >= 0 else { return }
      codeLineStart = state.context.isCode ? at : nil
      if let pending = awaitingLineStart {
        awaitingLineStart = nil
        awaitingWord = pending
      }
      if !contentSeen {
        markContent()
        firstContentIndent = indent
      }
      guard mode == .block, state.stack.count <= baseDepth, state.context.isCode else { return }
      if let limit = dedentLimit, indent < limit {
        stop(
          lineCount > 0 ? lastBreakOffset : 0, .endOfBlock,
          "line indented to column \(indent) leaves the block (column \(limit) or more)")
        return
      }
      if let header = ownIndentHeader {
        if indent > header {
          ownIndentBody = true
        } else if ownIndentBody && awaitingWord == nil {
          awaitingWord = (lastBreakOffset, "the block the completion opened ended (dedent to column \(indent))")
        }
      }
    case .lineBreak(let offset):
      let at = candidateOffset(offset)
      guard at >= 0 else { return }
      checkMarkdownFence(lineEnd: at)
      if stopDecision.isStop { return }
      codeLineStart = nil
      checkSuffixLine(endingAt: at)
      if stopDecision.isStop { return }
      if lineCount == 0 { checkLineEndsWithRest(lineEnd: at) }
      if stopDecision.isStop { return }
      if mode == .singleLine {
        if text.utf8.prefix(at).contains(where: { $0 != 0x20 && $0 != 0x09 && $0 != 0x0A && $0 != 0x0D })
          || !restTrimmed.isEmpty || leadingBreaks > 0
        {
          stop(at, .endOfLine, "end of the line (single-line mode)")
          return
        }
        leadingBreaks += 1
      } else if state.context.isCode || state.context == .lineComment {
        // The line that just ended.
        if context.spec.blockStyle == .indentation, let summary = state.previousLine, summary.opensBlock,
          firstContentLine == lineCount, !afterOpener, ownIndentHeader == nil,
          summary.indent == (firstContentIndent ?? -1)
        {
          ownIndentHeader = summary.indent
        }
        if let reason = stopAtNextBreak, state.stack.count <= baseDepth {
          stopAtNextBreak = nil
          awaitingLineStart = (at, reason)
        } else if stopAtNextBreak != nil && state.stack.count > baseDepth {
          stopAtNextBreak = nil  // `} else {`: the block goes on
        }
      }
      lineCount += 1
      lastBreakOffset = at
      lineStartOffset = at + 1
    case .word(_, let offset):
      if candidateOffset(offset) >= 0 { markContent() }
    case .opened(let frame, let offset):
      guard candidateOffset(offset) >= 0 else { return }
      markContent()
      // Only a block opened on the completion's first line counts as its own block.
      if firstContentLine == lineCount && frame.isBlock && state.stack.count == baseDepth + 1 {
        firstLineOpenedBlock = true
      }
    case .closed(let frame, let offset):
      let at = candidateOffset(offset)
      guard at >= 0 else { return }
      markContent()
      let depth = state.stack.count
      if depth < baseDepth {
        let (after, before) = scores(state)
        if after > before {
          stopAtCloser(
            at, .closesOuter,
            "closes `\(frame.openerText)` (line \(frame.line + 1)) that the completion did not open; the suffix "
              + "needs it (document score \(after) against \(before))")
          return
        }
        trace.append(
          "closes `\(frame.openerText)` from before the cursor: the document reads no worse (\(after) ≤ \(before))")
        if mode == .block && frame.isBlock { stopAtNextBreak = "the enclosing block was closed" }
      } else if depth == baseDepth && frame.isBlock && mode == .block && firstLineOpenedBlock && !afterOpener {
        stopAtNextBreak = "the block the completion opened is closed"
      }
    case .badCloser(let closer, let expected, let offset):
      let at = candidateOffset(offset)
      guard at >= 0 else { return }
      if let expected {
        stopAtCloser(at, .badCloser, "`\(closer)` does not close `\(expected.openerText)` (line \(expected.line + 1))")
      } else {
        stopAtCloser(at, .badCloser, "`\(closer)` closes nothing")
      }
    case .entered(_, let offset):
      if candidateOffset(offset) >= 0 { markContent() }
    case .exited(let ctx, let offset):
      let at = candidateOffset(offset)
      guard at >= 0 else { return }
      if !leftInitialContext && !context.state.context.isCode && state.stack.count == baseDepth {
        leftInitialContext = true
        let (after, before) = scores(state)
        if after > before {
          stopAtCloser(
            at, .closesOuter,
            "ends \(ctx.label) that the cursor is in; the suffix needs it (score \(after) against \(before))")
          return
        }
        if ctx != .lineComment {
          trace.append("ends \(ctx.label) opened before the cursor: the document reads no worse")
        }
      }
    case .unterminated(let ctx, let offset):
      let at = candidateOffset(offset)
      guard at >= 0 else { return }
      if mode == .block {
        stop(at, .unterminatedString, "line break inside \(ctx.label)")
      }
    }
  }

  /// How the document would read if the candidate ended in `state` (errors so far plus the suffix read from
  /// there), against the document without the candidate. Memoised by the state's structure.
  private func scores(_ state: LexState) -> (after: Int, before: Int) {
    let suffixScore = context.suffixReport(from: state).badness  // memoised in the context
    return (state.errors - context.state.errors + suffixScore, context.suffixReport.badness)
  }

  // MARK: Suffix duplication

  /// The candidate's first line ends with the whole rest of the cursor's line (`free (*p);` before `*p);`): cut
  /// the repeated text, when the document then reads no worse than with it.
  private func checkLineEndsWithRest(lineEnd: Int) {
    guard !restTrimmed.isEmpty, !stopDecision.isStop else { return }
    let whole = Array(text.utf8.prefix(lineEnd))
    var variants = [whole]
    if context.state.context.isCode, let comment = trailingLineComment(in: lineEnd) {
      variants.append(Array(whole.prefix(comment)))  // `a + b; // note` before `;`: compare the code
    }
    let needle = Array(restTrimmed.utf8)
    for line in variants {
      var end = line.count
      while end > 0, line[end - 1] == 0x20 || line[end - 1] == 0x09 || line[end - 1] == 0x0D { end -= 1 }
      guard end >= needle.count else { continue }
      let p = end - needle.count
      guard line[p..<end].elementsEqual(needle) else { continue }
      if p > 0, isWordByte(needle[0]), isWordByte(line[p - 1]) { continue }
      let withRest = stateAfter(candidateLength: end)
      let withoutRest = stateAfter(candidateLength: p)
      if scores(withoutRest).after <= scores(withRest).after {
        stop(p, .duplicatesSuffix, "the line ends with `\(restTrimmed.prefix(40))`, the text after the cursor")
        return
      }
    }
  }

  /// At a closer the suffix needs (`)`, a closing quote) on the first line: when the candidate's text before
  /// and including the closer begins the rest of the cursor's line (`other)` before `other))`), the candidate
  /// is reproducing the suffix; returns where that reproduction starts.
  private func restPrefixStart(closerEnd: Int) -> Int? {
    guard lineCount == 0, !restTrimmed.isEmpty else { return nil }
    let hay = Array(text.utf8.prefix(closerEnd))
    let needle = Array(restTrimmed.utf8)
    var p = max(0, hay.count - needle.count)
    while p < hay.count - 1 {
      let piece = hay[p...]
      if needle.starts(with: piece) && !(p > 0 && isWordByte(needle[0]) && isWordByte(hay[p - 1])) { return p }
      p += 1
    }
    return nil
  }

  /// Stops at a closer the suffix needs, or earlier where the candidate began reproducing the suffix.
  private func stopAtCloser(_ at: Int, _ rule: SyntaxStop.Rule, _ message: String) {
    if let p = restPrefixStart(closerEnd: lexer.state.offset - prefixLength), p < at {
      stop(
        p, .duplicatesSuffix, "from here the candidate repeats `\(restTrimmed.prefix(40))`, the text after the cursor")
    } else {
      stop(at, rule, message)
    }
  }

  /// Where a line comment starts in the first `length` bytes of the candidate, if one does.
  private func trailingLineComment(in length: Int) -> Int? {
    var l = Lexer(tables: context.streamingLexer.tables, state: context.state)
    l.append(prefixOfCandidate(length))
    while let event = l.next(final: true) {
      if case .entered(.lineComment, let offset) = event { return offset - prefixLength }
    }
    return nil
  }

  /// The lexer state after the first `candidateLength` bytes of the candidate (a separate, final scan).
  private func stateAfter(candidateLength: Int) -> LexState {
    var l = Lexer(tables: context.streamingLexer.tables, state: context.state)
    l.scan(prefixOfCandidate(candidateLength), final: true)
    return l.state
  }

  /// A candidate line equal to the first non-blank line below the cursor starts a duplicate.
  private func checkSuffixLine(endingAt end: Int) {
    guard let target = suffixFirstLine, !stopDecision.isStop else { return }
    let start = lineCount == 0 ? 0 : lineStartOffset
    guard end > start, lineCount > 0 || context.cursorOnBlankLinePrefix else { return }
    let utf8 = Array(text.utf8)
    guard end <= utf8.count else { return }
    let line = String(decoding: utf8[start..<end], as: UTF8.self)
    if line.trimmingWhitespace() == target {
      stop(
        lineCount == 0 ? 0 : lastBreakOffset, .duplicatesSuffix,
        "line `\(target.prefix(40))` repeats the line below the cursor")
    }
  }

  private func isWordByte(_ b: UInt8) -> Bool {
    (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x5F || b >= 0x80
  }
}
