import XCTest

@testable import SyntaxCheck

/// Splits a document at the cursor marker `‸`.
func cursor(_ document: String) -> (prefix: String, suffix: String) {
  let parts = document.components(separatedBy: "‸")
  precondition(parts.count == 2, "one cursor marker expected")
  return (parts[0], parts[1])
}

/// Streams `candidate` in chunks of `chunk` characters through a stopper and returns the kept text.
struct Streamed {
  var decision: StopDecision
  var kept: String
  var final: FinalizedCandidate
  var mode: CompletionMode
  var trace: [String]
}

func stream(
  _ language: LanguageSpec, _ document: String, _ candidate: String, mode: CompletionMode? = nil, chunk: Int = 3,
  file: StaticString = #filePath, line: UInt = #line
) -> Streamed {
  let result = streamOnce(language, document, candidate, mode: mode, chunk: chunk)
  // The outcome must not depend on how the text is chunked.
  for other in [1, 1 << 20] where other != chunk {
    let again = streamOnce(language, document, candidate, mode: mode, chunk: other)
    XCTAssertEqual(
      again.final.text, result.final.text, "chunk \(other) differs from chunk \(chunk)", file: file, line: line)
  }
  return result
}

func streamOnce(
  _ language: LanguageSpec, _ document: String, _ candidate: String, mode: CompletionMode?, chunk: Int
) -> Streamed {
  let (prefix, suffix) = cursor(document)
  let context = CursorContext(prefix: prefix, suffix: suffix, language: language)
  let chosen = mode ?? decideCompletionMode(context: context).mode
  let stopper = StreamingStopper(context: context, mode: chosen)
  var rest = Substring(candidate)
  var decision = StopDecision.continue
  while !rest.isEmpty && !decision.isStop {
    let piece = rest.prefix(chunk)
    rest = rest.dropFirst(piece.count)
    decision = stopper.feed(String(piece))
  }
  if !decision.isStop { decision = stopper.flush() }
  let kept: String
  if case .stop(let at, _) = decision { kept = stopper.prefixOfCandidate(at) } else { kept = stopper.text }
  let final = stopper.finalize()
  return Streamed(decision: decision, kept: kept, final: final, mode: chosen, trace: stopper.trace)
}

extension StopDecision {
  var rule: SyntaxStop.Rule? {
    if case .stop(_, let reason) = self { return reason.rule }
    return nil
  }
}
