import JSON
import XCTest

/// Mutated and truncated inputs: the parser must throw or return, never crash, and whatever it accepts
/// must survive a serialise/parse round trip.
final class JSONRobustnessTests: XCTestCase {
  /// A deterministic generator (SplitMix64), so a failure is reproducible.
  private struct SplitMix64 {
    var state: UInt64
    mutating func next() -> UInt64 {
      state &+= 0x9E37_79B9_7F4A_7C15
      var z = state
      z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
      z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
      return z ^ (z >> 31)
    }
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
  }

  func testMutatedInputsNeverCrash() throws {
    let seed =
      Array(
        #"{"jsonrpc":"2.0","id":12,"method":"textDocument/didChange","params":{"n":[-1.5e3,0,true,false,null],"#.utf8)
      + Array(#""t":"a\"b\\c\u00e9\ud83d\ude00 中😀","big":9223372036854775807,"neg":-9223372036854775808}}"#.utf8)
    XCTAssertNoThrow(try JSONValue.parse(seed))
    let interesting: [UInt8] =
      Array("{}[]\",:\\-+.eE0123456789unlfatrsNI \t\r\n".utf8) + [0x00, 0x80, 0xC3, 0xE4, 0xF0, 0xFF]
    var random = SplitMix64(state: 2024)
    var accepted = 0
    for _ in 0..<20_000 {
      var bytes = seed
      for _ in 0..<(1 + random.below(3)) {
        switch random.below(4) {
        case 0: bytes[random.below(bytes.count)] = interesting[random.below(interesting.count)]
        case 1: bytes.remove(at: random.below(bytes.count))
        case 2: bytes.insert(interesting[random.below(interesting.count)], at: random.below(bytes.count + 1))
        default: bytes = Array(bytes.prefix(random.below(bytes.count + 1)))
        }
        if bytes.isEmpty { break }
      }
      guard let value = try? JSONValue.parse(bytes) else { continue }
      accepted += 1
      XCTAssertEqual(try JSONValue.parse(value.serializedBytes()), value, String(decoding: bytes, as: UTF8.self))
    }
    // Some mutations (inside strings or numbers) stay valid; most do not.
    XCTAssertGreaterThan(accepted, 100)
    XCTAssertLessThan(accepted, 20_000)
  }
}
