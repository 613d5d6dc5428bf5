import CFuzzer

/// Reads structured values from a fuzzer's input bytes (in the spirit of LLVM's FuzzedDataProvider): integers in a
/// range and byte strings, consuming the input front to back; an exhausted input reads as zeros and empty strings.
public struct FuzzInput {
  public private(set) var bytes: ArraySlice<UInt8>

  public init(_ data: UnsafePointer<UInt8>?, _ count: Int) {
    bytes = Array(UnsafeBufferPointer(start: data, count: data == nil ? 0 : count))[...]
  }

  public init(bytes: [UInt8]) { self.bytes = bytes[...] }

  public var isEmpty: Bool { bytes.isEmpty }

  /// One byte.
  public mutating func byte() -> UInt8 { bytes.popFirst() ?? 0 }

  /// An integer in `range`, from up to four bytes.
  public mutating func int(in range: ClosedRange<Int>) -> Int {
    let span = UInt64(range.upperBound - range.lowerBound)
    guard span > 0 else { return range.lowerBound }
    var value: UInt64 = 0
    var read: UInt64 = 0
    while read < span, !bytes.isEmpty, read < 1 << 32 {
      value = value << 8 | UInt64(byte())
      read = read << 8 | 0xFF
    }
    return range.lowerBound + Int(value % (span + 1))
  }

  /// Up to `maximum` bytes, the length read first.
  public mutating func data(maximum: Int) -> [UInt8] {
    let count = min(int(in: 0...maximum), bytes.count)
    defer { bytes = bytes.dropFirst(count) }
    return Array(bytes.prefix(count))
  }

  /// A string of up to `maximum` bytes (invalid UTF-8 repaired with U+FFFD, as the server's decoder does).
  public mutating func string(maximum: Int) -> String {
    String(decoding: data(maximum: maximum), as: UTF8.self)
  }

  /// The rest of the input.
  public mutating func rest() -> [UInt8] {
    defer { bytes = [] }
    return Array(bytes)
  }
}

/// Ends the process with a message when an invariant of the code under test does not hold (libFuzzer saves the
/// input as a crash reproducer).
public func fuzzCheck(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String) {
  if !condition() { fatalError("fuzz invariant failed: \(message())") }
}

/// Runs libFuzzer on `callback` with the process's command line. SwiftPM links an executable target with its
/// entry point renamed to `<target>_main`, which each target defines by calling this; libFuzzer's own `main` is then
/// not linked. `warmUp` runs first: it initialises the lazy globals the code under test keeps for the whole process
/// (tables built once), which the leak checker would otherwise count against the first input.
public func runFuzzer(
  _ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>, warmUp: () -> Void = {},
  _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt {
  warmUp()
  var count = argc
  var arguments: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = argv
  return LLVMFuzzerRunDriver(&count, &arguments, callback)
}
