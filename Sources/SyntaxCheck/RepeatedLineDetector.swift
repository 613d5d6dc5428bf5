/// A line of generated text that repeats an earlier complete line of the same text.
public struct RepeatedLine: Sendable, Equatable {
  /// UTF-8 offset in the generated text where the repeating line starts (cut here to drop it).
  public var start: Int
  /// Zero-based index of the repeating line.
  public var lineIndex: Int
  /// Zero-based index of its earlier occurrence.
  public var earlierLineIndex: Int
  /// The line's text without the line break and trailing whitespace.
  public var text: String

  public init(start: Int, lineIndex: Int, earlierLineIndex: Int, text: String) {
    self.start = start
    self.lineIndex = lineIndex
    self.earlierLineIndex = earlierLineIndex
    self.text = text
  }
}

/// Detects a completion that loops on whole lines: the pipeline asks it whenever a generated token contains a
/// line break (and once at the end with `final: true`).
///
/// Lines are compared with their indentation, trailing whitespace ignored. A line counts only when it is
/// non-trivial: at least `minimumLength` non-whitespace characters with a letter or digit among them, so `}`,
/// `end`, `else:`, `pass` or blank lines may repeat freely.
public struct RepeatedLineDetector: Sendable, Equatable {
  /// What counts as a repetition.
  public enum Policy: String, Sendable, Equatable {
    /// The line repeats the line right before it, or closes a block of lines that repeats the block right
    /// before it (a loop). Lines that recur with other code between them (`if err != nil {` in Go, rows of a
    /// table) are legitimate: measured on real Go, Lua and Python, `anyEarlierLine` cut correct code.
    case consecutive
    /// The line equals any earlier complete line of the completion.
    case anyEarlierLine
  }

  /// Fewest non-whitespace characters of a line that counts (8: `return x`, `i += 1` and `break` may repeat).
  public var minimumLength: Int
  /// What counts as a repetition (default `consecutive`).
  public var policy: Policy

  public init(minimumLength: Int = 8, policy: Policy = .consecutive) {
    self.minimumLength = minimumLength
    self.policy = policy
  }

  /// True when `line` (without its break) is non-trivial.
  public func isNonTrivial(_ line: Substring) -> Bool {
    var count = 0
    var hasWordCharacter = false
    for scalar in line.unicodeScalars where !scalar.properties.isWhitespace {
      count += 1
      if scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) { hasWordCharacter = true }
    }
    return count >= minimumLength && hasWordCharacter
  }

  /// Checks the last complete line of `generated` (the one its last line break ends), or with `final` the
  /// unterminated last line too.
  ///
  /// - Returns: the repeating line (for a repeated block, its first line, where the second copy starts), or nil.
  public func repeatedLine(in generated: String, final: Bool = false) -> RepeatedLine? {
    var lines = Self.lines(generated)
    if !final || lines.last?.text.isEmpty == true { lines.removeLast() }
    let last = lines.count - 1
    guard last >= 1 else { return nil }
    let trimmed = lines.map { trimTrailing($0.text) }
    switch policy {
    case .anyEarlierLine:
      guard isNonTrivial(trimmed[last]) else { return nil }
      for earlier in 0..<last where trimmed[earlier] == trimmed[last] {
        return RepeatedLine(
          start: lines[last].start, lineIndex: last, earlierLineIndex: earlier, text: String(trimmed[last]))
      }
      return nil
    case .consecutive:
      // A block of k lines ending at `last` equal to the k lines before it.
      for k in 1...((last + 1) / 2) {
        let second = (last - k + 1)...last
        let first = (last - 2 * k + 1)...(last - k)
        guard trimmed[second].elementsEqual(trimmed[first]) else { continue }
        let significant = k == 1 ? isNonTrivial(trimmed[last]) : nonWhitespaceCount(trimmed[second]) >= minimumLength
        if significant {
          return RepeatedLine(
            start: lines[second.lowerBound].start, lineIndex: second.lowerBound,
            earlierLineIndex: first.lowerBound, text: String(trimmed[second.lowerBound]))
        }
      }
      return nil
    }
  }

  /// The first place where the text loops (the `consecutive` rule over the whole text): the earliest start of a
  /// second copy of a non-trivial line repeated right after itself, or of a block of lines repeated right after
  /// itself. Lines that recur with other code between them are legitimate and stay.
  public func firstRepetition(in text: String) -> RepeatedLine? {
    let lines = Self.lines(text)
    let trimmed = lines.map { trimTrailing($0.text) }
    var best: (second: Int, first: Int)?
    let n = lines.count
    guard n >= 2 else { return nil }
    outer: for k in 1...(n / 2) {
      for i in 0...(n - 2 * k) where best == nil || i + k < best!.second {
        let a = trimmed[i..<(i + k)]
        guard a.elementsEqual(trimmed[(i + k)..<(i + 2 * k)]) else { continue }
        if k == 1 ? isNonTrivial(a.first!) : nonWhitespaceCount(a) >= minimumLength {
          best = (i + k, i)
          continue outer
        }
      }
    }
    guard let best else { return nil }
    return RepeatedLine(
      start: lines[best.second].start, lineIndex: best.second, earlierLineIndex: best.first,
      text: String(trimmed[best.second]))
  }

  /// The lines of `text` with their UTF-8 start offsets, line breaks (LF, CRLF, CR) excluded; the last entry is
  /// the text after the last break (empty when the text ends with one).
  public static func lines(_ text: String) -> [(start: Int, text: Substring)] {
    var result: [(Int, Substring)] = []
    var lineStart = text.startIndex
    var offset = 0
    var startOffset = 0
    var index = text.startIndex
    while index < text.endIndex {
      let c = text[index]
      let next = text.index(after: index)
      offset += c.utf8.count
      if c == "\n" || c == "\r\n" || c == "\r" {
        result.append((startOffset, text[lineStart..<index]))
        lineStart = next
        startOffset = offset
      }
      index = next
    }
    result.append((startOffset, text[lineStart...]))
    return result
  }

  private func nonWhitespaceCount(_ lines: ArraySlice<Substring>) -> Int {
    lines.reduce(0) { $0 + $1.unicodeScalars.filter { !$0.properties.isWhitespace }.count }
  }

  private func trimTrailing(_ s: Substring) -> Substring {
    var end = s.endIndex
    while end > s.startIndex {
      let before = s.index(before: end)
      if s[before].isWhitespace { end = before } else { break }
    }
    return s[s.startIndex..<end]
  }
}
