/// A line of generated text that repeats an earlier complete line of the same text.
public struct RepeatedLine: Sendable, Equatable {
  /// UTF-8 offset in the generated text where the repeating line starts (cut here to drop it).
  public var start: Int
  /// Zero-based index of the repeating line, and of its first occurrence.
  public var lineIndex: Int
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
/// A line repeats when it equals (indentation included, trailing whitespace ignored) an earlier complete line of
/// the generated text and is non-trivial: at least `minimumLength` non-whitespace characters with a letter or
/// digit among them, so `}`, `end`, `else:`, `pass` or blank lines may repeat freely.
public struct RepeatedLineDetector: Sendable, Equatable {
  /// Fewest non-whitespace characters of a line that counts (8: `return x`, `i += 1` and `break` may repeat).
  public var minimumLength: Int

  public init(minimumLength: Int = 8) { self.minimumLength = minimumLength }

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
  /// unterminated last line too, against the earlier complete lines.
  ///
  /// - Returns: the repeating line, or nil.
  public func repeatedLine(in generated: String, final: Bool = false) -> RepeatedLine? {
    // Split into lines with their UTF-8 start offsets.
    var lines: [(start: Int, text: Substring)] = []
    var lineStart = generated.startIndex
    var offset = 0
    var startOffset = 0
    var index = generated.startIndex
    while index < generated.endIndex {
      let c = generated[index]
      let next = generated.index(after: index)
      offset += c.utf8.count
      if c == "\n" || c == "\r\n" || c == "\r" {
        lines.append((startOffset, generated[lineStart..<index]))
        lineStart = next
        startOffset = offset
      }
      index = next
    }
    let trailing = generated[lineStart...]
    let candidateIndex: Int
    if final && !trailing.isEmpty {
      lines.append((startOffset, trailing))
      candidateIndex = lines.count - 1
    } else {
      candidateIndex = lines.count - 1
    }
    guard candidateIndex >= 1 else { return nil }
    let current = trimTrailing(lines[candidateIndex].text)
    guard isNonTrivial(current) else { return nil }
    for earlier in 0..<candidateIndex where trimTrailing(lines[earlier].text) == current {
      return RepeatedLine(
        start: lines[candidateIndex].start, lineIndex: candidateIndex, earlierLineIndex: earlier,
        text: String(current))
    }
    return nil
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
