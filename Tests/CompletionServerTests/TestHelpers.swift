import CodeCompletion
import CompletionServer
import Foundation
import JSON
import LSPTestSupport
import LSPTransport
import LSPTypes
import XCTest

/// Options for tests: no background prefetch, and a deadline long enough that only cancellation ends a blocking call.
func testOptions(deadlineMilliseconds: Int = 600_000, modelSpec: String? = nil) -> ServerOptions {
  var settings = CompletionSettings()
  settings.deadlineMilliseconds = deadlineMilliseconds
  settings.generateDeadlineMilliseconds = deadlineMilliseconds
  return ServerOptions(settings: settings, modelSpec: modelSpec, logLevel: .info, prefetch: false)
}

/// Waits on a semaphore with the safety timeout; fails the test instead of hanging.
func waitFor(_ semaphore: DispatchSemaphore, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
  if semaphore.wait(timeout: .now() + TestClient.safetyTimeout) == .timedOut {
    XCTFail("timed out waiting for \(what)", file: file, line: line)
  }
}

/// The error code of a reply, nil when it succeeded.
func errorCode(_ reply: PendingReply) throws -> Int? { try reply.error()?.code }

/// A provider that answers a fixed candidate list and records requests and cancellation tokens (for tests of the
/// server's formatting of given candidates).
final class ScriptedProvider: CompletionProvider, @unchecked Sendable {
  let candidates: [String]
  private let lock = NSLock()
  private var tokens: [CancellationToken] = []
  private var requests: [CompletionRequest] = []

  init(_ candidates: [String]) { self.candidates = candidates }

  var status: ProviderStatus { .ready(description: "scripted") }
  func updateSettings(_ settings: CompletionSettings) {}

  var seenTokens: [CancellationToken] {
    lock.lock()
    defer { lock.unlock() }
    return tokens
  }

  var seenRequests: [CompletionRequest] {
    lock.lock()
    defer { lock.unlock() }
    return requests
  }

  func complete(_ request: CompletionRequest, cancellation: CancellationToken) throws -> CompletionResult {
    lock.lock()
    tokens.append(cancellation)
    requests.append(request)
    lock.unlock()
    return CompletionResult(candidates: candidates.map { CompletionCandidate(text: $0) })
  }

  func generate(_ request: GenerateRequest, cancellation: CancellationToken, onPartial: @escaping (String) -> Void)
    throws -> GenerateResult
  {
    GenerateResult(text: candidates.first ?? "")
  }
}
