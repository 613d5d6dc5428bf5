extension StreamingStopper {
  /// The final check of a candidate: applies the stop rules (if the candidate was not streamed through `feed`),
  /// then the syntax check, then the post-filters.
  ///
  /// Syntax check: prefix + candidate + suffix must be no worse than prefix + suffix. "Worse" is counted by
  /// reading the suffix from the lexer state the candidate leaves (`SuffixReport.badness`: closers that match
  /// nothing, strings ended by a line break, what stays open at the end of the document) plus the errors inside
  /// the candidate, and by the statement rules (`StatementRules`: no statement left unfinished, indentation
  /// valid). When the whole candidate is worse, it is cut back to the end of its last line where it is not; when
  /// only the empty candidate qualifies, it is dropped. Post-filters that re-indent are checked again.
  ///
  /// - Parameters:
  ///   - candidate: the candidate; nil for the text fed so far.
  ///   - truncated: generation stopped for time or length, not by the model or a stop rule: the last line is
  ///     unfinished and is dropped when an earlier line ended (a lone first line is kept if it passes the check).
  public func finalize(_ candidate: String? = nil, truncated: Bool = false) -> FinalizedCandidate {
    var log: [String] = []
    var kept: String
    var stopped = false
    if let candidate, candidate != text {
      let fresh = StreamingStopper(context: context, mode: mode)
      _ = fresh.feed(candidate)
      fresh.flush()
      log += fresh.trace
      if case .stop(let at, _) = fresh.stopDecision {
        kept = fresh.prefixOfCandidate(at)
        stopped = true
      } else {
        kept = candidate
      }
    } else {
      flush()
      log += trace
      if case .stop(let at, _) = stopDecision {
        kept = prefixOfCandidate(at)
        stopped = true
      } else {
        kept = text
      }
    }
    if truncated && !stopped, let lineEnd = lastCompleteLineEnd(kept) {
      log.append("cut at \(lineEnd): generation stopped before the line was finished; the last finished line ends here")
      kept = String(decoding: kept.utf8.prefix(lineEnd), as: UTF8.self)
    }
    var (checked, syntaxTrace) = checkSyntax(kept)
    log += syntaxTrace
    if checked == nil, truncated, !stopped, let partial = partialLineCut(kept) {
      log.append(
        "cut inside the unfinished line at \(partial.utf8.count): generation stopped in the middle of the line, and "
          + "this much of it reads as well as without it")
      checked = partial
    }
    guard let checked else {
      log.append("dropped: no part of the candidate keeps the syntax as good as without it")
      return FinalizedCandidate(text: nil, trace: log)
    }
    kept = checked
    let (filtered, filterTrace) = PostFilters.apply(kept, context: context)
    log += filterTrace
    guard let filtered, filtered != kept else { return FinalizedCandidate(text: filtered, trace: log) }
    // The post-filters may have re-indented lines: check again.
    let (rechecked, recheckTrace) = checkSyntax(filtered)
    if rechecked == filtered { return FinalizedCandidate(text: filtered, trace: log) }
    log += recheckTrace.map { "after the post-filters: \($0)" }
    guard let rechecked else {
      log.append("dropped: the post-filtered candidate no longer passes the syntax check")
      return FinalizedCandidate(text: nil, trace: log)
    }
    return FinalizedCandidate(text: String(rechecked.trimmingTrailingWhitespace()), trace: log)
  }

  /// A single unfinished line that fails the check as a whole (cut by time inside a call or a literal) may still be
  /// shown in part: the longest piece before an opening bracket, a comma or a space that passes the check, so that
  /// the suggestion shows what was generated in time (`os.path.join(a` gives `os.path.join`). Nil for a candidate of
  /// several lines or when no piece passes.
  func partialLineCut(_ candidate: String) -> String? {
    let bytes = Array(candidate.utf8)
    guard !bytes.contains(0x0A) else { return nil }
    var tries = 0
    var end = bytes.count
    while end > 0, tries < 8 {
      end -= 1
      guard [0x28, 0x5B, 0x7B, 0x2C, 0x20].contains(bytes[end]) else { continue }
      var cut = end
      while cut > 0, bytes[cut - 1] == 0x20 || bytes[cut - 1] == 0x09 { cut -= 1 }
      guard cut > 0 else { break }
      tries += 1
      let piece = String(decoding: bytes[..<cut], as: UTF8.self)
      if piece.allSatisfy(\.isWhitespace) { break }
      if checkSyntax(piece).0 == piece { return piece }
    }
    return nil
  }

  /// Where the candidate's last finished line ends (before its line break), when a line with content ended
  /// before the last one; nil when the candidate is a single line.
  func lastCompleteLineEnd(_ text: String) -> Int? {
    let bytes = Array(text.utf8)
    guard let lastBreak = bytes.lastIndex(of: 0x0A) else { return nil }
    var end = lastBreak
    if end > 0 && bytes[end - 1] == 0x0D { end -= 1 }
    guard bytes[..<end].contains(where: { $0 != 0x20 && $0 != 0x09 && $0 != 0x0A && $0 != 0x0D }) else { return nil }
    // Nothing is lost when the last line is blank.
    if !bytes[(lastBreak + 1)...].contains(where: { $0 != 0x20 && $0 != 0x09 && $0 != 0x0D }) { return nil }
    return end
  }

  /// Cuts `candidate` back until prefix + candidate + suffix is no worse than prefix + suffix and no statement is
  /// left unfinished (`StatementRules`); nil when only the empty candidate qualifies.
  ///
  /// Cuts fall at the ends of the candidate's lines: a cut inside a line leaves a truncated statement
  /// (`switch (self)`, `max(a, min(b,` cut to `max`). Only on the cursor's own line, when text follows the cursor
  /// there, may a cut fall between tokens (inside `compute(‸)`, a string the candidate leaves open). In an
  /// indentation language, a first line that restates the cursor's indentation (`    def f():` with the cursor
  /// already indented) is also tried without it, and kept that way when more of the candidate then passes.
  func checkSyntax(_ candidate: String) -> (String?, [String]) {
    if candidate.isEmpty { return (nil, []) }
    guard let asIs = examine(candidate) else {
      return (candidate, ["syntax check skipped: the candidate could not be read to its end"])
    }
    var chosen = asIs
    var text = candidate
    var log: [String] = []
    if asIs.keep != candidate.utf8.count, let dedented = withoutRestatedIndentation(candidate),
      let other = examine(dedented.text)
    {
      let shift = dedented.removed
      let gain = other.keep.map { $0 + shift } ?? -1
      if gain > (asIs.keep ?? -1) {
        log.append(
          "first line's leading whitespace (\(shift) columns) removed: the cursor is already indented, and the "
            + "candidate's lines read as if it started there")
        chosen = other
        text = dedented.text
      }
    }
    log += chosen.log
    guard let keep = chosen.keep else { return (nil, log) }
    if keep == text.utf8.count { return (text, log) }
    let cut = String(decoding: text.utf8.prefix(keep), as: UTF8.self)
    if cut.allSatisfy(\.isWhitespace) { return (nil, log) }
    log.append("cut at \(keep): \(chosen.cutReason)")
    return (cut, log)
  }

  /// What the check found for one text: how much of it to keep (nil: nothing), and why.
  struct Examination {
    var keep: Int?
    var cutReason: String
    var log: [String]
  }

  /// Scores the candidate and every cut point; nil when the lexer cannot read the candidate to its end.
  func examine(_ candidate: String) -> Examination? {
    let start = context.state
    let baseline = context.suffixReport.badness
    let bytes = Array(candidate.utf8)
    var lexer = Lexer(tables: context.streamingLexer.tables, state: start)
    lexer.append(candidate)
    var points: [(offset: Int, errors: Int, state: LexState)] = []
    var firstBadCloser: String?
    var lines: [CandidateLine] = []
    func newLine(at offset: Int) -> CandidateLine {
      CandidateLine(start: offset, end: offset, endState: start)
    }
    var current = newLine(at: 0)
    if !context.cursorOnBlankLinePrefix {
      let depth = min(start.lineStartDepth, start.stack.count)
      current.startsStatement = start.stack.prefix(depth).allSatisfy(\.isBlock)
      current.startDepth = depth
    }
    while true {
      let before = lexer.state
      let result = lexer.step(final: true)
      if case .needMore = result { break }
      if case .event(let event) = result {
        switch event {
        case .badCloser(let closer, _, let offset):
          if firstBadCloser == nil {
            firstBadCloser = "`\(closer)` at \(offset - context.prefixLength) matches nothing"
          }
        case .lineBreak(let offset):
          let at = offset - context.prefixLength
          if at >= 0 {
            current.end = at
            current.endState = before
            lines.append(current)
            let length = at + 1 < bytes.count && bytes[at] == 0x0D && bytes[at + 1] == 0x0A ? 2 : 1
            current = newLine(at: at + length)
          }
        case .lineStart(let offset, let indent):
          if offset - context.prefixLength >= 0 {
            let depth = lexer.state.stack.count
            let level = lexer.state.stack.allSatisfy(\.isBlock)
            current.startsStatement = level
            current.startDepth = depth
            current.statementIndent = level ? indent : nil
          }
        case .entered(.lineComment, let offset):
          if offset - context.prefixLength >= 0 && current.commentStart == nil {
            current.commentStart = offset - context.prefixLength
          }
        case .opened(let frame, let offset):
          if frame.isBlock && offset - context.prefixLength >= 0 { current.openerSeen = true }
        default:
          break
        }
      } else if lexer.state.offset > before.offset, StatementRules.consumedOpenerEnding(lexer.state, context.spec),
        lexer.state.stack.count == current.startDepth
      {
        current.openerSeen = true
      }
      if !lexer.hasQueuedEvents {
        let s = lexer.state
        points.append((s.offset - context.prefixLength, s.errors - start.errors, s))
      }
      if !lexer.hasInput && !lexer.hasQueuedEvents { break }
    }
    let total = bytes.count
    guard let last = points.last, last.offset >= total else { return nil }
    current.end = total
    current.endState = last.state
    lines.append(current)
    let rules = StatementRules(context: context, candidate: candidate, lines: lines)

    func badness(_ s: LexState) -> Int {
      s.structuralKey == start.structuralKey ? baseline : context.suffixReport(from: s).badness
    }
    /// The last point at or before a candidate offset.
    func point(at offset: Int) -> (offset: Int, errors: Int, state: LexState)? {
      points.last { $0.offset <= offset && $0.offset >= 0 }
    }
    var log: [String] = []
    // The whole candidate.
    let endScore = last.errors + badness(last.state)
    let endProblem = rules.problem(cutAfterLine: lines.count - 1)
    if endScore <= baseline && endProblem == nil { return Examination(keep: total, cutReason: "", log: []) }
    if endScore > baseline {
      log.append(
        "syntax: prefix+candidate+suffix scores \(endScore), without the candidate \(baseline)"
          + (firstBadCloser.map { " (\($0))" } ?? ""))
    }
    if let endProblem { log.append("syntax: \(endProblem)") }
    // Line ends, longest first (distinct structures capped: a scan from inside an unclosed bracket reads to the end
    // of the file; the cap counts structures, cached or not, so the outcome never depends on earlier calls).
    var seen: Set<StructuralKey> = [start.structuralKey, last.state.structuralKey]
    for k in stride(from: lines.count - 2, through: 0, by: -1) {
      let end = lines[k].end
      guard end > 0, let p = point(at: end) else { continue }
      if seen.insert(p.state.structuralKey).inserted && seen.count > 10 { break }
      guard p.errors + badness(p.state) <= baseline, rules.problem(cutAfterLine: k) == nil else { continue }
      return Examination(
        keep: end,
        cutReason: "the longest part that ends a line, reads as well as without the candidate and "
          + "leaves no statement unfinished", log: log)
    }
    // On the cursor's line, with text after the cursor, between tokens.
    if !context.restOfLine.allSatisfy({ $0 == " " || $0 == "\t" || $0 == "\r" }) {
      let firstEnd = lines[0].end
      for p in points.reversed() where p.offset > 0 && p.offset < firstEnd {
        if seen.insert(p.state.structuralKey).inserted && seen.count > 10 { break }
        if p.errors + badness(p.state) <= baseline {
          return Examination(
            keep: p.offset,
            cutReason: "the longest part that reads as well as without the candidate, ending in "
              + p.state.context.label, log: log)
        }
      }
    }
    return Examination(keep: nil, cutReason: "", log: log)
  }

  /// The candidate without its first line's leading whitespace, when the cursor is already indented in an
  /// indentation language and the first line starts with whitespace before code.
  func withoutRestatedIndentation(_ candidate: String) -> (text: String, removed: Int)? {
    guard context.spec.blockStyle == .indentation, context.cursorOnBlankLinePrefix, context.cursorLineIndent > 0
    else { return nil }
    let bytes = Array(candidate.utf8)
    var i = 0
    while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x09 { i += 1 }
    guard i > 0, i < bytes.count, bytes[i] != 0x0A, bytes[i] != 0x0D else { return nil }
    return (String(decoding: bytes[i...], as: UTF8.self), i)
  }
}
