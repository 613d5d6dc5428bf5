/// A problem in the `Content-Length` framing of the byte stream. Each is reported once, and the framer
/// carries on with the next message it can find.
public enum FramingError: Error, Equatable, Sendable, CustomStringConvertible {
  /// A header block ended without a `Content-Length` header.
  case missingContentLength
  /// The `Content-Length` value is not a non-negative decimal integer that fits in `Int`; `value` is as sent.
  case invalidContentLength(value: String)
  /// Two `Content-Length` headers disagree.
  case conflictingContentLength(first: Int, second: Int)
  /// The announced body is longer than the framer's limit; its bytes were skipped without being buffered.
  case messageTooLarge(length: Int, limit: Int)
  /// A header line is not `Name: value` (shown up to 200 bytes, invalid UTF-8 replaced).
  case malformedHeaderLine(String)
  /// No empty line ends the header block within `limit` bytes.
  case headerTooLarge(limit: Int)

  /// A message that says what is wrong.
  public var description: String {
    switch self {
    case .missingContentLength:
      return "message header has no Content-Length"
    case .invalidContentLength(let value):
      return "Content-Length '\(value)' is not a non-negative integer"
    case .conflictingContentLength(let first, let second):
      return "message header has two different Content-Length values, \(first) and \(second)"
    case .messageTooLarge(let length, let limit):
      return "message of \(length) bytes is larger than the limit of \(limit) bytes; it was skipped"
    case .malformedHeaderLine(let line):
      return "malformed message header line '\(line)' (expected 'Name: value')"
    case .headerTooLarge(let limit):
      return "message header is longer than \(limit) bytes without an empty line ending it"
    }
  }
}

/// What the framer found in the bytes pushed into it, in stream order.
public enum FramerEvent: Equatable, Sendable {
  /// A complete message body (the bytes after the header, exactly `Content-Length` of them).
  case message([UInt8])
  /// A framing problem; the stream continues with the next message.
  case error(FramingError)
}

/// Splits a byte stream into LSP base-protocol messages: header lines `Name: value` ended by CRLF, an empty
/// line, then exactly `Content-Length` bytes of body (LSP 3.17, "Base Protocol").
///
/// A pure, stateful parser: push chunks of any size; each call returns the events completed by that chunk.
/// Header names are case-insensitive; `Content-Type` and unknown headers are ignored; empty lines (CRLF) before
/// a header block are skipped.
///
/// Recovery. Every problem is reported once as `.error`, then:
/// - If the header block gave a usable length (too large, or with a malformed extra line), exactly that many
///   body bytes are skipped, without buffering them, and the next header is expected right after.
/// - Otherwise (no `Content-Length`, a non-numeric, negative, overflowing or conflicting value, a header block
///   longer than `maxHeaderSize`) the body's end is unknown. The framer then *resynchronises*: it discards
///   bytes until the next case-insensitive occurrence of `Content-Length` anywhere in the stream after the
///   bad header block (a client's next message normally starts right after the previous body, often with no
///   line break) and reads a header block from there. A body that itself contains that text can make the
///   framer resynchronise inside it; the header parsed there is then usually invalid too, and the framer
///   resynchronises again.
public struct MessageFramer: Sendable {
  /// The body size above which messages are rejected (and skipped).
  public let maxMessageSize: Int
  /// The header block size above which the block is rejected.
  public let maxHeaderSize: Int

  private enum State: Sendable {
    /// Reading header lines; `header` holds the bytes of the block so far.
    case header
    /// Reading a body of `length` bytes into `body`.
    case body(length: Int)
    /// Skipping `remaining` bytes of a body that is not delivered.
    case skip(remaining: Int)
    /// Discarding bytes until `Content-Length`; `header` holds a tail that may be the start of a match.
    case resync
  }

  private var state: State = .header
  private var header: [UInt8] = []
  private var headerLineStart = 0
  private var body: [UInt8] = []

  private static let contentLengthName = Array("content-length".utf8)

  /// Creates a framer.
  /// - Parameters:
  ///   - maxMessageSize: the largest body accepted, in bytes (default 64 MiB).
  ///   - maxHeaderSize: the largest header block accepted, in bytes (default 64 KiB).
  public init(maxMessageSize: Int = 64 << 20, maxHeaderSize: Int = 64 << 10) {
    precondition(maxMessageSize >= 0 && maxHeaderSize >= 16, "limits must be non-negative and sensible")
    self.maxMessageSize = maxMessageSize
    self.maxHeaderSize = maxHeaderSize
  }

  /// Whether the stream has stopped inside a message: a header block started, a body incomplete, or bytes
  /// of a broken message being skipped or resynchronised. At end of input this means a truncated message.
  public var hasPartialMessage: Bool {
    switch state {
    case .header: return !header.isEmpty
    case .body, .skip, .resync: return true
    }
  }

  /// Adds the header to a body: `Content-Length: <n>\r\n\r\n<body>`.
  public static func frame(_ body: [UInt8]) -> [UInt8] {
    var framed = Array("Content-Length: \(body.count)\r\n\r\n".utf8)
    framed.reserveCapacity(framed.count + body.count)
    framed.append(contentsOf: body)
    return framed
  }

  /// Feeds bytes from memory the caller owns; see `push(_:)`.
  public mutating func push(_ bytes: UnsafeRawBufferPointer) -> [FramerEvent] {
    var events: [FramerEvent] = []
    process(bytes.bindMemory(to: UInt8.self), into: &events)
    return events
  }

  /// Feeds the next chunk of the stream.
  /// - Returns: the messages and errors completed within this chunk, in stream order.
  public mutating func push(_ bytes: [UInt8]) -> [FramerEvent] {
    var events: [FramerEvent] = []
    bytes.withUnsafeBufferPointer { process($0, into: &events) }
    return events
  }

  private mutating func process(_ input: UnsafeBufferPointer<UInt8>, into events: inout [FramerEvent]) {
    var i = 0
    let count = input.count
    while i < count {
      switch state {
      case .header:
        // Skip blank lines between messages.
        if header.isEmpty && (input[i] == 0x0D || input[i] == 0x0A) {
          i += 1
          continue
        }
        // Copy up to and including the next LF; an empty line (CRLF, or a bare LF) ends the block. At most one byte
        // past the limit is copied, so the block is found too large at the same byte however the stream is chunked.
        let lineEnd = Self.firstIndex(of: 0x0A, in: input, from: i)
        var end = lineEnd.map { $0 + 1 } ?? count
        var lineComplete = lineEnd != nil
        let room = maxHeaderSize + 1 - header.count
        if end - i > room {
          end = i + room
          lineComplete = false
        }
        header.append(contentsOf: UnsafeBufferPointer(rebasing: input[i..<end]))
        i = end
        if lineComplete {
          let lineLength = header.count - headerLineStart
          if lineLength == 1 || (lineLength == 2 && header[headerLineStart] == 0x0D) {
            finishHeader(into: &events)
            continue
          }
          headerLineStart = header.count
        }
        if header.count > maxHeaderSize {
          events.append(.error(.headerTooLarge(limit: maxHeaderSize)))
          // Resynchronise over the block's own bytes after its first: the next message's header may already be
          // among them (an overlong line without a line break runs into the next message of the same read).
          let leftover = Array(header.dropFirst())
          header = []
          headerLineStart = 0
          state = .resync
          leftover.withUnsafeBufferPointer { process($0, into: &events) }
        }
      case .body(let length):
        let take = min(length - body.count, count - i)
        body.append(contentsOf: UnsafeBufferPointer(rebasing: input[i..<(i + take)]))
        i += take
        if body.count == length {
          events.append(.message(body))
          body = []
          state = .header
        }
      case .skip(let remaining):
        let take = min(remaining, count - i)
        i += take
        state = remaining == take ? .header : .skip(remaining: remaining - take)
      case .resync:
        // `header` holds fewer bytes than the name: a match may start there and continue in `input`.
        let nameLength = Self.contentLengthName.count
        let seam = header + Array(UnsafeBufferPointer(rebasing: input[i..<min(count, i + nameLength - 1)]))
        if let found = Self.findContentLength(in: seam[...]), found < header.count {
          header.removeFirst(found)
          headerLineStart = 0
          state = .header
          continue
        }
        if let found = Self.findContentLength(in: UnsafeBufferPointer(rebasing: input[i...])) {
          header = []
          headerLineStart = 0
          i += found
          state = .header
          continue
        }
        // No match: keep the last bytes, which may be the start of one.
        if count - i >= nameLength - 1 {
          header = Array(UnsafeBufferPointer(rebasing: input[(count - nameLength + 1)..<count]))
        } else {
          header = Array((header + Array(UnsafeBufferPointer(rebasing: input[i..<count]))).suffix(nameLength - 1))
        }
        i = count
      }
    }
  }

  /// Parses the complete header block in `header` and moves to the body, skip or resync state.
  private mutating func finishHeader(into events: inout [FramerEvent]) {
    let block = header
    header = []
    headerLineStart = 0
    var length: Int?
    var failure: FramingError?
    var lengthIsBad = false
    // Lines without the final empty line; each ends in CRLF (a bare LF is tolerated).
    var start = 0
    while start < block.count {
      var end = start
      while end < block.count && block[end] != 0x0A { end += 1 }
      var lineEnd = end
      if lineEnd > start && block[lineEnd - 1] == 0x0D { lineEnd -= 1 }
      let line = block[start..<lineEnd]
      start = end + 1
      if line.isEmpty { continue }
      guard let colon = line.firstIndex(of: UInt8(ascii: ":")), colon > line.startIndex,
        line[line.startIndex..<colon].allSatisfy(Self.isTokenByte)
      else {
        if failure == nil { failure = .malformedHeaderLine(Self.display(line)) }
        continue
      }
      let name = line[line.startIndex..<colon]
      guard name.count == Self.contentLengthName.count,
        zip(name, Self.contentLengthName).allSatisfy({ ($0 | 0x20) == $1 })
      else { continue }
      let valueBytes = line[(colon + 1)...].drop(while: { $0 == 0x20 || $0 == 0x09 })
      let trimmed = valueBytes.reversed().drop(while: { $0 == 0x20 || $0 == 0x09 }).reversed()
      guard let value = Self.parseLength(trimmed) else {
        failure = .invalidContentLength(value: Self.display(valueBytes[...]))
        lengthIsBad = true
        continue
      }
      if let previous = length, previous != value {
        failure = .conflictingContentLength(first: previous, second: value)
        lengthIsBad = true
      }
      length = value
    }
    if length == nil && failure == nil { failure = .missingContentLength }
    if length == nil { lengthIsBad = true }
    if lengthIsBad {
      events.append(.error(failure ?? .missingContentLength))
      // The body's end is unknown: the stream after this block is searched for the next header.
      state = .resync
      return
    }
    let bodyLength = length!
    if bodyLength > maxMessageSize {
      events.append(.error(.messageTooLarge(length: bodyLength, limit: maxMessageSize)))
      state = bodyLength == 0 ? .header : .skip(remaining: bodyLength)
      return
    }
    if let failure {
      events.append(.error(failure))
      state = bodyLength == 0 ? .header : .skip(remaining: bodyLength)
      return
    }
    if bodyLength == 0 {
      events.append(.message([]))
      state = .header
      return
    }
    body = []
    body.reserveCapacity(bodyLength)
    state = .body(length: bodyLength)
  }

  /// The decimal value of `digits`, or nil if it is empty, has a non-digit, or overflows `Int`.
  private static func parseLength<C: Collection>(_ digits: C) -> Int? where C.Element == UInt8 {
    guard !digits.isEmpty else { return nil }
    var value = 0
    for byte in digits {
      let digit = Int(byte) - 0x30
      guard digit >= 0 && digit <= 9 else { return nil }
      let (times10, o1) = value.multipliedReportingOverflow(by: 10)
      let (next, o2) = times10.addingReportingOverflow(digit)
      if o1 || o2 { return nil }
      value = next
    }
    return value
  }

  /// The offset of the first case-insensitive `content-length` in `bytes`, if any.
  private static func findContentLength<C: Collection>(in bytes: C) -> Int?
  where C.Element == UInt8, C.Index == Int {
    let pattern = contentLengthName
    guard bytes.count >= pattern.count else { return nil }
    var i = bytes.startIndex
    let last = bytes.endIndex - pattern.count
    while i <= last {
      if bytes[i] | 0x20 == pattern[0] {
        var k = 1
        while k < pattern.count && bytes[i + k] | 0x20 == pattern[k] { k += 1 }
        if k == pattern.count { return i - bytes.startIndex }
      }
      i += 1
    }
    return nil
  }

  private static func firstIndex(of byte: UInt8, in input: UnsafeBufferPointer<UInt8>, from start: Int) -> Int? {
    var i = start
    while i < input.count {
      if input[i] == byte { return i }
      i += 1
    }
    return nil
  }

  /// RFC 9110 `tchar`: the bytes allowed in a header name.
  private static func isTokenByte(_ byte: UInt8) -> Bool {
    switch byte {
    case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
      UInt8(ascii: "0")...UInt8(ascii: "9"):
      return true
    default:
      return Array("!#$%&'*+-.^_`|~".utf8).contains(byte)
    }
  }

  private static func display(_ bytes: ArraySlice<UInt8>) -> String {
    String(decoding: bytes.prefix(200), as: UTF8.self)
  }
}
