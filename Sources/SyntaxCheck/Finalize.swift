extension StreamingStopper {
  /// The final check of a candidate: applies the stop rules (if the candidate was not streamed through `feed`),
  /// then the syntax check, then the post-filters.
  ///
  /// Syntax check: prefix + candidate + suffix must be no worse than prefix + suffix. "Worse" is counted by
  /// reading the suffix from the lexer state the candidate leaves (`SuffixReport.badness`: closers that match
  /// nothing, strings ended by a line break, what stays open at the end of the document) plus the errors inside
  /// the candidate. When the whole candidate is worse, it is cut back to the last token boundary where it is not;
  /// when only the empty candidate qualifies, it is dropped.
  ///
  /// - Parameter candidate: the candidate; nil for the text fed so far.
  public func finalize(_ candidate: String? = nil) -> FinalizedCandidate {
    var log: [String] = []
    var kept: String
    if let candidate, candidate != text {
      let fresh = StreamingStopper(context: context, mode: mode)
      _ = fresh.feed(candidate)
      fresh.flush()
      log += fresh.trace
      if case .stop(let at, _) = fresh.stopDecision {
        kept = fresh.prefixOfCandidate(at)
      } else {
        kept = candidate
      }
    } else {
      flush()
      log += trace
      if case .stop(let at, _) = stopDecision {
        kept = prefixOfCandidate(at)
      } else {
        kept = text
      }
    }
    let (checked, syntaxTrace) = checkSyntax(kept)
    log += syntaxTrace
    guard let checked else {
      log.append("dropped: no part of the candidate keeps the syntax as good as without it")
      return FinalizedCandidate(text: nil, trace: log)
    }
    kept = checked
    let (filtered, filterTrace) = PostFilters.apply(kept, context: context)
    log += filterTrace
    return FinalizedCandidate(text: filtered, trace: log)
  }

  /// Cuts `candidate` back until prefix + candidate + suffix is no worse than prefix + suffix; nil when only the
  /// empty candidate is.
  func checkSyntax(_ candidate: String) -> (String?, [String]) {
    if candidate.isEmpty { return (nil, []) }
    let start = context.state
    let baseline = context.suffixReport.badness
    var lexer = Lexer(tables: context.streamingLexer.tables, state: start)
    lexer.append(candidate)
    var points: [(offset: Int, errors: Int, state: LexState)] = []
    var firstBadCloser: String?
    while true {
      let result = lexer.step(final: true)
      if case .needMore = result { break }
      if case .event(.badCloser(let closer, _, let offset)) = result, firstBadCloser == nil {
        firstBadCloser = "`\(closer)` at \(offset - context.prefixLength) matches nothing"
      }
      if !lexer.hasQueuedEvents {
        let s = lexer.state
        points.append((s.offset - context.prefixLength, s.errors - start.errors, s))
      }
      if !lexer.hasInput && !lexer.hasQueuedEvents { break }
    }
    func badness(_ s: LexState) -> Int {
      s.structuralKey == start.structuralKey ? baseline : context.suffixReport(from: s).badness
    }
    let total = candidate.utf8.count
    guard let last = points.last, last.offset >= total else {
      return (candidate, ["syntax check skipped: the candidate could not be read to its end"])
    }
    let endScore = last.errors + badness(last.state)
    // Score every token boundary (memoised by structure; at most 8 structures besides the start and the end,
    // since a scan from inside an unclosed bracket reads to the end of the file), keep the longest cut with the
    // lowest score; the empty candidate scores the baseline.
    var best = (score: endScore, offset: total, state: last.state)
    var seen: Set<StructuralKey> = [start.structuralKey, last.state.structuralKey]
    for point in points.reversed() where point.offset < total && point.offset > 0 {
      // The cap counts distinct structures, cached or not, so the outcome never depends on earlier calls.
      if seen.insert(point.state.structuralKey).inserted && seen.count > 10 { break }
      let score = point.errors + badness(point.state)
      if score < best.score { best = (score, point.offset, point.state) }
    }
    if best.offset == total && endScore <= baseline { return (candidate, []) }
    var log = [
      "syntax: prefix+candidate+suffix scores \(endScore), without the candidate \(baseline)"
        + (firstBadCloser.map { " (\($0))" } ?? "")
    ]
    if best.score <= baseline {
      let cut = String(decoding: candidate.utf8.prefix(best.offset), as: UTF8.self)
      if !cut.allSatisfy(\.isWhitespace) {
        log.append(
          "cut at \(best.offset): the longest part that reads best (score \(best.score)), ending in "
            + best.state.context.label
        )
        return (cut, log)
      }
    }
    return (nil, log)
  }
}
