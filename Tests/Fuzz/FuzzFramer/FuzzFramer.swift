import FuzzSupport
import LSPTransport

/// The message framer on any byte stream in any chunking: it never crashes, every message it delivers is no
/// longer than the limit, and the messages it delivers do not depend on how the stream is cut into chunks (which
/// error a broken header reports may: an overlong line is "too long" before its end arrives, "malformed" after).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzFramer(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
  var input = FuzzInput(data, count)
  let maxMessageSize = input.int(in: 0...4096)
  let maxHeaderSize = input.int(in: 16...1024)
  let seed = input.byte()
  let stream = input.rest()

  var whole = MessageFramer(maxMessageSize: maxMessageSize, maxHeaderSize: maxHeaderSize)
  let expected = whole.push(stream)

  var chunked = MessageFramer(maxMessageSize: maxMessageSize, maxHeaderSize: maxHeaderSize)
  var events: [FramerEvent] = []
  var position = 0
  var state = UInt32(seed) &+ 1
  while position < stream.count {
    state = state &* 1_103_515_245 &+ 12345
    let size = min(stream.count - position, Int(state >> 16) % 17)
    events += chunked.push(Array(stream[position..<position + size]))
    position += size
  }
  func messages(_ list: [FramerEvent]) -> [FramerEvent] {
    list.filter { if case .message = $0 { return true } else { return false } }
  }
  if messages(events) != messages(expected) {
    let (events, expected) = (messages(events), messages(expected))
    let index =
      (0..<min(events.count, expected.count)).first { events[$0] != expected[$0] } ?? min(events.count, expected.count)
    func show(_ list: [FramerEvent]) -> String {
      guard index < list.count else { return "nothing" }
      switch list[index] {
      case .message(let body):
        return "message of \(body.count) bytes: \(String(decoding: body.prefix(80), as: UTF8.self))"
      case .error(let error): return "error \(error)"
      }
    }
    fuzzCheck(
      false,
      "message \(index) differs (limits \(maxMessageSize)/\(maxHeaderSize)): whole stream gives \(show(expected)), "
        + "chunks give \(show(events))")
  }
  fuzzCheck(chunked.hasPartialMessage == whole.hasPartialMessage, "partial-message state differs")
  for case .message(let body) in expected {
    fuzzCheck(body.count <= maxMessageSize, "a message of \(body.count) bytes passed the limit \(maxMessageSize)")
  }
  // A framed copy of every delivered message frames back to the same message.
  for case .message(let body) in expected.prefix(4) {
    var again = MessageFramer(maxMessageSize: maxMessageSize, maxHeaderSize: maxHeaderSize)
    fuzzCheck(again.push(MessageFramer.frame(body)) == [.message(body)], "a framed message does not round-trip")
  }
  return 0
}

@_cdecl("FuzzFramer_main")
public func fuzzFramerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
  runFuzzer(argc, argv) { fuzzFramer($0, $1) }
}
