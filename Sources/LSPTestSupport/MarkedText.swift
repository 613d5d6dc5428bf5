import CompletionServer
import LSPTypes

/// Text with named location markers (`<|cursor|>`, `<|a|>`, …) removed and remembered (after sourcekit-lsp's
/// `LocationMarkers`). Markers are written `<|name|>`; the name is letters, digits, `_` or `-`.
public struct MarkedText: Sendable {
  /// The text without markers.
  public let text: String
  /// UTF-8 offset of each marker in `text`.
  public let offsets: [String: Int]

  /// Parses the markers out of `marked`.
  /// - Precondition: marker names are unique (a programmer error in a test otherwise).
  public init(_ marked: String) {
    var output: [UInt8] = []
    var offsets: [String: Int] = [:]
    let bytes = Array(marked.utf8)
    var index = 0
    while index < bytes.count {
      if bytes[index] == UInt8(ascii: "<"), index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "|") {
        var end = index + 2
        while end < bytes.count, MarkedText.isNameByte(bytes[end]) { end += 1 }
        if end > index + 2, end + 1 < bytes.count, bytes[end] == UInt8(ascii: "|"), bytes[end + 1] == UInt8(ascii: ">")
        {
          let name = String(decoding: bytes[(index + 2)..<end], as: UTF8.self)
          precondition(offsets[name] == nil, "marker <|\(name)|> appears twice")
          offsets[name] = output.count
          index = end + 2
          continue
        }
      }
      output.append(bytes[index])
      index += 1
    }
    text = String(decoding: output, as: UTF8.self)
    self.offsets = offsets
  }

  static func isNameByte(_ byte: UInt8) -> Bool {
    (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
      || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
  }

  /// The position of a marker in an encoding.
  /// - Precondition: the marker exists.
  public func position(_ name: String = "cursor", encoding: PositionEncodingKind = .utf16) -> Position {
    guard let offset = offsets[name] else { preconditionFailure("no marker <|\(name)|> in the text") }
    return TextDocument(text: text).position(ofOffset: offset, encoding: encoding)
  }

  /// The range between two markers.
  public func range(from start: String, to end: String, encoding: PositionEncodingKind = .utf16) -> LSPRange {
    LSPRange(start: position(start, encoding: encoding), end: position(end, encoding: encoding))
  }

  /// The text before a marker.
  public func prefix(upTo name: String = "cursor") -> String {
    String(decoding: Array(text.utf8)[0..<(offsets[name] ?? 0)], as: UTF8.self)
  }

  /// The text after a marker.
  public func suffix(from name: String = "cursor") -> String {
    String(decoding: Array(text.utf8)[(offsets[name] ?? 0)...], as: UTF8.self)
  }
}
