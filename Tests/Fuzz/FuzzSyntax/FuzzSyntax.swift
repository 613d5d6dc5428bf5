import FuzzSupport
import SyntaxCheck

/// The syntax middleware on any prefix, candidate, suffix and language: the candidate streamed in chunks as a
/// model would produce it, then the final check. Nothing crashes; a stop lies inside the text fed; the final check
/// of the same candidate gives the same answer twice.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSyntax(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
  var input = FuzzInput(data, count)
  let language = Languages.all[input.int(in: 0...Languages.all.count - 1)]
  let mode: CompletionMode = input.byte() & 1 == 0 ? .singleLine : .block
  let prefix = input.string(maximum: 2048)
  let suffix = input.string(maximum: 1024)
  let candidate = input.string(maximum: 1024)
  let chunkSize = input.int(in: 1...16)

  let stopper = StreamingStopper(prefix: prefix, suffix: suffix, language: language, mode: mode)
  var fed = 0
  var chunk = ""
  for character in candidate {
    chunk.append(character)
    guard chunk.utf8.count >= chunkSize else { continue }
    fed += chunk.utf8.count
    if case .stop(let at, _) = stopper.feed(chunk) {
      fuzzCheck(at >= 0 && at <= fed, "stop at \(at) outside the \(fed) bytes fed")
      chunk = ""
      break
    }
    chunk = ""
  }
  if !chunk.isEmpty { _ = stopper.feed(chunk) }
  _ = stopper.flush()
  let first = stopper.finalize(candidate)
  let second = StreamingStopper(prefix: prefix, suffix: suffix, language: language, mode: mode).finalize(candidate)
  fuzzCheck(first.text == second.text, "the final check is not deterministic")
  _ = stopper.finalize(nil, truncated: true)
  return 0
}

@_cdecl("FuzzSyntax_main")
public func fuzzSyntaxMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
  runFuzzer(argc, argv) { fuzzSyntax($0, $1) }
}
