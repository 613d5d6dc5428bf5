import LSPTypes

/// Errors of `TextDocument` edits.
public enum TextDocumentError: Error, Equatable, Sendable, CustomStringConvertible {
  /// The edit's range ends before it starts (after clamping both ends into the document).
  case rangeEndBeforeStart(LSPRange)

  public var description: String {
    switch self {
    case .rangeEndBeforeStart(let range): return "range \(range) ends before it starts"
    }
  }
}

/// The text of one open document, with positions in UTF-8, UTF-16 or UTF-32 and edits whose cost follows the
/// edit, not the document.
///
/// Storage: the lines (UTF-8 bytes without their terminator, plus the terminator kind and cached UTF-16 and scalar
/// counts) are grouped in blocks of at most `maxBlockLines` lines, each block caching its totals (a square-root
/// decomposition, in the spirit of a rope of lines). Finding a line walks the block totals, then one block; an edit
/// re-splits only the lines it touches. Cost of an edit: O(edit length + length of the touched lines +
/// maxBlockLines + blocks), where blocks = lines / 256; nothing is proportional to the document's byte size.
/// It is a value type: copies share storage (copy-on-write), so a snapshot for a background request is O(1).
///
/// Lines end at "\n", "\r\n" or "\r" (LSP 3.17). Positions are clamped as the spec says: a character past the end of
/// its line means the end of the line; a line past the last one means the end of the document. A character inside a
/// multi-unit character (half of a surrogate pair, the middle of a UTF-8 sequence) snaps back to its start.
/// Offsets in this API are UTF-8 byte offsets into `text`.
public struct TextDocument: Sendable, Equatable {
  enum Terminator: UInt8, Sendable {
    case none = 0
    case lf = 1
    case crlf = 2
    case cr = 3

    var length: Int {
      switch self {
      case .none: return 0
      case .lf, .cr: return 1
      case .crlf: return 2
      }
    }

    var bytes: [UInt8] {
      switch self {
      case .none: return []
      case .lf: return [0x0A]
      case .crlf: return [0x0D, 0x0A]
      case .cr: return [0x0D]
      }
    }
  }

  struct Line: Sendable, Equatable {
    /// UTF-8 content without the terminator.
    var bytes: [UInt8]
    var terminator: Terminator
    /// UTF-16 code units of the content.
    var utf16: Int
    /// Unicode scalars of the content.
    var scalars: Int

    init(bytes: [UInt8], terminator: Terminator) {
      self.bytes = bytes
      self.terminator = terminator
      (scalars, utf16) = Line.counts(bytes[...])
    }

    /// Unicode scalars and UTF-16 code units of UTF-8 bytes.
    static func counts(_ bytes: ArraySlice<UInt8>) -> (scalars: Int, utf16: Int) {
      var scalars = 0
      var astral = 0
      for byte in bytes {
        if byte & 0xC0 != 0x80 { scalars += 1 }
        if byte >= 0xF0 { astral += 1 }
      }
      return (scalars, scalars + astral)
    }

    /// Totals including the terminator.
    var totalBytes: Int { bytes.count + terminator.length }
    var totalUTF16: Int { utf16 + terminator.length }
    var totalScalars: Int { scalars + terminator.length }
  }

  struct Block: Sendable, Equatable {
    var lines: [Line]
    var bytes = 0
    var utf16 = 0
    var scalars = 0

    init(lines: [Line]) {
      self.lines = lines
      for line in lines { add(line) }
    }

    mutating func add(_ line: Line) {
      bytes += line.totalBytes
      utf16 += line.totalUTF16
      scalars += line.totalScalars
    }

    mutating func remove(_ line: Line) {
      bytes -= line.totalBytes
      utf16 -= line.totalUTF16
      scalars -= line.totalScalars
    }
  }

  /// Blocks are split when they grow past this many lines.
  static let maxBlockLines = 512
  /// New blocks are cut to this many lines.
  static let targetBlockLines = 256

  private(set) var blocks: [Block]
  /// Number of lines (at least 1: an empty document has one empty line).
  public private(set) var lineCount: Int
  /// Size of the text in UTF-8 bytes.
  public private(set) var utf8Count: Int
  /// Size of the text in UTF-16 code units.
  public private(set) var utf16Count: Int

  /// Creates a document holding `text`.
  public init(text: String) {
    let lines = TextDocument.split(Array(text.utf8))
    blocks = TextDocument.chunk(lines)
    lineCount = lines.count
    utf8Count = blocks.reduce(0) { $0 + $1.bytes }
    utf16Count = blocks.reduce(0) { $0 + $1.utf16 }
  }

  /// The whole text. O(document).
  public var text: String {
    var bytes: [UInt8] = []
    bytes.reserveCapacity(utf8Count)
    for block in blocks {
      for line in block.lines {
        bytes.append(contentsOf: line.bytes)
        bytes.append(contentsOf: line.terminator.bytes)
      }
    }
    return String(decoding: bytes, as: UTF8.self)
  }

  /// The content of line `index` without its terminator; "" past the end.
  public func line(_ index: Int) -> String {
    guard index >= 0, index < lineCount else { return "" }
    let (block, slot) = locate(line: index)
    return String(decoding: blocks[block].lines[slot].bytes, as: UTF8.self)
  }

  /// The length of line `index` (without terminator) in an encoding; 0 past the end.
  public func lineLength(_ index: Int, encoding: PositionEncodingKind = .utf16) -> Int {
    guard index >= 0, index < lineCount else { return 0 }
    let (block, slot) = locate(line: index)
    let line = blocks[block].lines[slot]
    switch encoding {
    case .utf8: return line.bytes.count
    case .utf16: return line.utf16
    case .utf32: return line.scalars
    }
  }

  // MARK: Positions

  /// The UTF-8 offset of a position, clamped into the document as the LSP spec says.
  public func offset(of position: Position, encoding: PositionEncodingKind = .utf16) -> Int {
    let (lineIndex, byteInLine) = resolve(position, encoding: encoding)
    return lineStartOffset(lineIndex) + byteInLine
  }

  /// The position of a UTF-8 offset (clamped to 0...utf8Count; an offset inside a character or a CRLF snaps back).
  public func position(ofOffset offset: Int, encoding: PositionEncodingKind = .utf16) -> Position {
    var remaining = max(0, min(offset, utf8Count))
    var lineIndex = 0
    for block in blocks {
      if remaining >= block.bytes && lineIndex + block.lines.count < lineCount {
        remaining -= block.bytes
        lineIndex += block.lines.count
        continue
      }
      for line in block.lines {
        if remaining < line.totalBytes || line.terminator == .none {
          let byte = TextDocument.snapBack(line.bytes, min(remaining, line.bytes.count))
          return Position(line: lineIndex, character: TextDocument.units(line.bytes, upTo: byte, encoding: encoding))
        }
        remaining -= line.totalBytes
        lineIndex += 1
      }
    }
    return Position(line: lineCount - 1, character: lineLength(lineCount - 1, encoding: encoding))
  }

  /// The position after clamping (`position(ofOffset: offset(of: position))`).
  public func clamp(_ position: Position, encoding: PositionEncodingKind = .utf16) -> Position {
    let (lineIndex, byteInLine) = resolve(position, encoding: encoding)
    let (block, slot) = locate(line: lineIndex)
    let bytes = blocks[block].lines[slot].bytes
    return Position(line: lineIndex, character: TextDocument.units(bytes, upTo: byteInLine, encoding: encoding))
  }

  /// The text before a UTF-8 offset.
  public func prefix(upToOffset offset: Int) -> String { text(inOffsets: 0, max(0, min(offset, utf8Count))) }

  /// The text from a UTF-8 offset to the end.
  public func suffix(fromOffset offset: Int) -> String { text(inOffsets: max(0, min(offset, utf8Count)), utf8Count) }

  /// The text between two UTF-8 offsets (clamped; empty when `end <= start`).
  public func text(inOffsets start: Int, _ end: Int) -> String {
    let start = max(0, start)
    let end = min(end, utf8Count)
    guard end > start else { return "" }
    var bytes: [UInt8] = []
    bytes.reserveCapacity(end - start)
    var position = 0
    for block in blocks {
      if position + block.bytes <= start {
        position += block.bytes
        continue
      }
      if position >= end { break }
      for line in block.lines {
        let lineEnd = position + line.totalBytes
        if lineEnd > start && position < end {
          let lo = max(start, position) - position
          let hi = min(end, lineEnd) - position
          if lo < line.bytes.count { bytes.append(contentsOf: line.bytes[lo..<min(hi, line.bytes.count)]) }
          if hi > line.bytes.count {
            let terminator = line.terminator.bytes
            bytes.append(contentsOf: terminator[max(0, lo - line.bytes.count)..<(hi - line.bytes.count)])
          }
        }
        position = lineEnd
        if position >= end { break }
      }
    }
    return String(decoding: bytes, as: UTF8.self)
  }

  /// The text of a range (clamped).
  public func text(in range: LSPRange, encoding: PositionEncodingKind = .utf16) -> String {
    text(inOffsets: offset(of: range.start, encoding: encoding), offset(of: range.end, encoding: encoding))
  }

  // MARK: Edits

  /// Applies one `didChange` content change: a range replaced, or the whole text when it has no range.
  /// - Throws: `TextDocumentError.rangeEndBeforeStart` when the range is reversed.
  public mutating func apply(change: TextDocumentContentChangeEvent, encoding: PositionEncodingKind = .utf16) throws {
    if let range = change.range {
      try replace(range, with: change.text, encoding: encoding)
    } else {
      self = TextDocument(text: change.text)
    }
  }

  /// Replaces the text of a range (both ends clamped) with `newText`.
  /// - Throws: `TextDocumentError.rangeEndBeforeStart` when the clamped end is before the clamped start.
  public mutating func replace(_ range: LSPRange, with newText: String, encoding: PositionEncodingKind = .utf16) throws
  {
    let start = resolve(range.start, encoding: encoding)
    let end = resolve(range.end, encoding: encoding)
    guard (start.line, start.byte) <= (end.line, end.byte) else { throw TextDocumentError.rangeEndBeforeStart(range) }

    // An edit inside one line that inserts no line break (and whose line does not follow a lone "\r", which an empty
    // line's "\n" would join) changes that line alone: edit its bytes in place and
    // count only the bytes removed and inserted (a long line is not copied and rescanned for every edit).
    let inserted = Array(newText.utf8)
    if start.line == end.line, !inserted.contains(where: { $0 == 0x0A || $0 == 0x0D }),
      start.line == 0 || lineAt(start.line - 1).terminator != .cr
    {
      let (block, slot) = locate(line: start.line)
      var line = blocks[block].lines[slot]
      blocks[block].lines[slot].bytes = []  // `line` holds the only reference, so the edit below is in place
      let removed = Line.counts(line.bytes[start.byte..<end.byte])
      let added = Line.counts(inserted[...])
      blocks[block].remove(line)
      line.bytes.replaceSubrange(start.byte..<end.byte, with: inserted)
      line.scalars += added.scalars - removed.scalars
      line.utf16 += added.utf16 - removed.utf16
      blocks[block].add(line)
      blocks[block].lines[slot] = line
      utf8Count += inserted.count - (end.byte - start.byte)
      utf16Count += added.utf16 - removed.utf16
      return
    }
    var firstLine = start.line
    var combined: [UInt8] = []
    // A "\r" ending the previous line could join a "\n" that now follows it: re-split that line too.
    if firstLine > 0 && lineAt(firstLine - 1).terminator == .cr {
      firstLine -= 1
      let previous = lineAt(firstLine)
      combined.append(contentsOf: previous.bytes)
      combined.append(contentsOf: previous.terminator.bytes)
    }
    let startLine = lineAt(start.line)
    combined.append(contentsOf: startLine.bytes[0..<start.byte])
    combined.append(contentsOf: newText.utf8)
    var lastLine = end.line
    let endLine = lineAt(end.line)
    combined.append(contentsOf: endLine.bytes[end.byte...])
    combined.append(contentsOf: endLine.terminator.bytes)
    // A "\r" now ending the text could join a following "\n" line.
    if combined.last == 0x0D && lastLine + 1 < lineCount {
      lastLine += 1
      let next = lineAt(lastLine)
      combined.append(contentsOf: next.bytes)
      combined.append(contentsOf: next.terminator.bytes)
    }
    var newLines = TextDocument.split(combined)
    if lastLine < lineCount - 1 {
      // The replaced lines ended with a terminator, so the split's final piece is the empty remainder.
      newLines.removeLast()
    }
    replaceLines(firstLine...lastLine, with: newLines)
  }

  // MARK: Internals

  /// (block, index in block) of a line; the line must exist.
  func locate(line: Int) -> (Int, Int) {
    var remaining = line
    for (index, block) in blocks.enumerated() {
      if remaining < block.lines.count { return (index, remaining) }
      remaining -= block.lines.count
    }
    let last = blocks.count - 1
    return (last, blocks[last].lines.count - 1)
  }

  func lineAt(_ index: Int) -> Line {
    let (block, slot) = locate(line: index)
    return blocks[block].lines[slot]
  }

  /// UTF-8 offset of the start of a line.
  func lineStartOffset(_ line: Int) -> Int {
    var remaining = line
    var offset = 0
    for block in blocks {
      if remaining >= block.lines.count {
        remaining -= block.lines.count
        offset += block.bytes
        continue
      }
      for slot in 0..<remaining { offset += block.lines[slot].totalBytes }
      return offset
    }
    return offset
  }

  /// Clamps a position to (line, byte offset within the line's content).
  func resolve(_ position: Position, encoding: PositionEncodingKind) -> (line: Int, byte: Int) {
    if position.line >= lineCount {
      let last = lineCount - 1
      return (last, lineAt(last).bytes.count)
    }
    let line = lineAt(max(0, position.line))
    // An ASCII line (as many scalars as bytes) counts the same in every encoding.
    if line.scalars == line.bytes.count {
      return (max(0, position.line), min(max(0, position.character), line.bytes.count))
    }
    return (max(0, position.line), TextDocument.byteIndex(line.bytes, character: max(0, position.character), encoding))
  }

  /// Byte index in a line's content of a character offset in an encoding (clamped; snapped back to a scalar start).
  static func byteIndex(_ bytes: [UInt8], character: Int, _ encoding: PositionEncodingKind) -> Int {
    switch encoding {
    case .utf8:
      return snapBack(bytes, min(character, bytes.count))
    case .utf16, .utf32:
      var units = 0
      var index = 0
      while index < bytes.count {
        let lead = bytes[index]
        let width = lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4
        let scalarUnits = (encoding == .utf16 && width == 4) ? 2 : 1
        if units + scalarUnits > character { return index }
        units += scalarUnits
        index += width
      }
      return bytes.count
    }
  }

  /// Moves a byte index back to the start of the UTF-8 sequence containing it.
  static func snapBack(_ bytes: [UInt8], _ index: Int) -> Int {
    var index = index
    while index > 0 && index < bytes.count && bytes[index] & 0xC0 == 0x80 { index -= 1 }
    return index
  }

  /// Code units of `bytes[0..<byte]` in an encoding.
  static func units(_ bytes: [UInt8], upTo byte: Int, encoding: PositionEncodingKind) -> Int {
    if encoding == .utf8 { return byte }
    var count = 0
    for index in 0..<byte {
      let value = bytes[index]
      if value & 0xC0 != 0x80 { count += 1 }
      if encoding == .utf16 && value >= 0xF0 { count += 1 }
    }
    return count
  }

  /// Splits UTF-8 text into lines at "\n", "\r\n" and "\r"; the last line has no terminator (and may be empty).
  static func split(_ bytes: [UInt8]) -> [Line] {
    var lines: [Line] = []
    var start = 0
    var index = 0
    while index < bytes.count {
      let byte = bytes[index]
      if byte == 0x0A {
        lines.append(Line(bytes: Array(bytes[start..<index]), terminator: .lf))
        index += 1
        start = index
      } else if byte == 0x0D {
        if index + 1 < bytes.count && bytes[index + 1] == 0x0A {
          lines.append(Line(bytes: Array(bytes[start..<index]), terminator: .crlf))
          index += 2
        } else {
          lines.append(Line(bytes: Array(bytes[start..<index]), terminator: .cr))
          index += 1
        }
        start = index
      } else {
        index += 1
      }
    }
    lines.append(Line(bytes: Array(bytes[start..<bytes.count]), terminator: .none))
    return lines
  }

  static func chunk(_ lines: [Line]) -> [Block] {
    var blocks: [Block] = []
    var start = 0
    while start < lines.count {
      let end = min(lines.count, start + targetBlockLines)
      blocks.append(Block(lines: Array(lines[start..<end])))
      start = end
    }
    return blocks.isEmpty ? [Block(lines: [Line(bytes: [], terminator: .none)])] : blocks
  }

  /// Replaces a range of whole lines, touching only the blocks that hold them.
  mutating func replaceLines(_ range: ClosedRange<Int>, with newLines: [Line]) {
    let (firstBlock, firstSlot) = locate(line: range.lowerBound)
    let (lastBlock, lastSlot) = locate(line: range.upperBound)
    var removedBytes = 0
    var removedUTF16 = 0
    if firstBlock == lastBlock {
      var block = blocks[firstBlock]
      for line in block.lines[firstSlot...lastSlot] {
        removedBytes += line.totalBytes
        removedUTF16 += line.totalUTF16
        block.remove(line)
      }
      block.lines.replaceSubrange(firstSlot...lastSlot, with: newLines)
      for line in newLines { block.add(line) }
      if block.lines.count > TextDocument.maxBlockLines || block.lines.isEmpty {
        blocks.replaceSubrange(
          firstBlock...firstBlock, with: TextDocument.chunk(block.lines).filter { !$0.lines.isEmpty })
      } else {
        blocks[firstBlock] = block
      }
    } else {
      var merged: [Line] = []
      for blockIndex in firstBlock...lastBlock {
        let block = blocks[blockIndex]
        let lo = blockIndex == firstBlock ? firstSlot : 0
        let hi = blockIndex == lastBlock ? lastSlot : block.lines.count - 1
        if blockIndex == firstBlock { merged.append(contentsOf: block.lines[0..<lo]) }
        for line in block.lines[lo...hi] {
          removedBytes += line.totalBytes
          removedUTF16 += line.totalUTF16
        }
        if blockIndex == lastBlock {
          merged.append(contentsOf: newLines)
          merged.append(contentsOf: block.lines[(hi + 1)...])
        }
      }
      blocks.replaceSubrange(firstBlock...lastBlock, with: merged.isEmpty ? [] : TextDocument.chunk(merged))
    }
    if blocks.isEmpty { blocks = TextDocument.chunk([]) }
    lineCount += newLines.count - range.count
    utf8Count += newLines.reduce(0) { $0 + $1.totalBytes } - removedBytes
    utf16Count += newLines.reduce(0) { $0 + $1.totalUTF16 } - removedUTF16
  }
}
