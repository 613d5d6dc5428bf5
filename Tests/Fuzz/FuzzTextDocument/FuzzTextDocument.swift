import CompletionServer
import FuzzSupport
import LSPTypes

/// `TextDocument` under random incremental edits in all three position encodings, against a plain reference
/// (the UTF-8 bytes, lines ended by "\n", "\r\n" or "\r", positions clamped and snapped as LSP says): after every
/// edit the text, the line count, the sizes and the offset of a random position agree.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTextDocument(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
  var input = FuzzInput(data, count)
  let encoding = PositionEncodingKind.allCases[input.int(in: 0...PositionEncodingKind.allCases.count - 1)]
  var reference = Array(input.string(maximum: 512).utf8)
  var document = TextDocument(text: String(decoding: reference, as: UTF8.self))
  var edits = 0
  while !input.isEmpty, edits < 64 {
    edits += 1
    if input.int(in: 0...15) == 0 {
      let text = input.string(maximum: 256)
      try? document.apply(change: TextDocumentContentChangeEvent(text: text), encoding: encoding)
      reference = Array(text.utf8)
    } else {
      let start = position(&input)
      let end = position(&input)
      let text = input.string(maximum: 32)
      let startOffset = Reference.offset(of: start, in: reference, encoding: encoding)
      let endOffset = Reference.offset(of: end, in: reference, encoding: encoding)
      do {
        try document.replace(LSPRange(start: start, end: end), with: text, encoding: encoding)
        fuzzCheck(startOffset <= endOffset, "an edit from \(start) to \(end) was accepted reversed")
        reference.replaceSubrange(startOffset..<endOffset, with: Array(text.utf8))
      } catch {
        fuzzCheck(startOffset > endOffset, "an edit from \(start) to \(end) was refused: \(error)")
      }
    }
    fuzzCheck(document.utf8Count == reference.count, "size \(document.utf8Count), expected \(reference.count)")
    fuzzCheck(
      Array(document.text(inOffsets: 0, document.utf8Count).utf8) == reference, "text differs after edit \(edits)")
    fuzzCheck(document.lineCount == Reference.lines(reference).count, "line count differs after edit \(edits)")
    let probe = position(&input)
    let expected = Reference.offset(of: probe, in: reference, encoding: encoding)
    let actual = document.offset(of: probe, encoding: encoding)
    fuzzCheck(actual == expected, "offset of \(probe) is \(actual), expected \(expected)")
  }
  return 0
}

func position(_ input: inout FuzzInput) -> Position {
  Position(line: input.int(in: 0...40), character: input.int(in: 0...80))
}

enum Reference {
  /// (start, end of content) byte offsets of each line; a document has at least one line.
  static func lines(_ bytes: [UInt8]) -> [(start: Int, end: Int)] {
    var lines: [(Int, Int)] = []
    var start = 0
    var index = 0
    while index < bytes.count {
      if bytes[index] == 0x0A {
        lines.append((start, index))
        index += 1
        start = index
      } else if bytes[index] == 0x0D {
        lines.append((start, index))
        index += index + 1 < bytes.count && bytes[index + 1] == 0x0A ? 2 : 1
        start = index
      } else {
        index += 1
      }
    }
    lines.append((start, bytes.count))
    return lines
  }

  static func offset(of position: Position, in bytes: [UInt8], encoding: PositionEncodingKind) -> Int {
    let all = lines(bytes)
    guard position.line < all.count else { return bytes.count }
    var (offset, end) = all[position.line]
    var units = 0
    while offset < end {
      let lead = bytes[offset]
      let length = lead < 0x80 ? 1 : lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2
      let width: Int
      switch encoding {
      case .utf8: width = length
      case .utf16: width = length == 4 ? 2 : 1
      case .utf32: width = 1
      }
      if units + width > position.character { break }
      units += width
      offset += length
    }
    return offset
  }
}

@_cdecl("FuzzTextDocument_main")
public func fuzzTextDocumentMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
  runFuzzer(argc, argv) { fuzzTextDocument($0, $1) }
}
