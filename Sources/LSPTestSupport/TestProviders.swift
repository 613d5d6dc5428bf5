import CodeCompletion
import Foundation

/// Records what a test provider was asked, thread-safely.
public final class ProviderLog: @unchecked Sendable {
  private let lock = NSLock()
  private var completionRequests: [CompletionRequest] = []
  private var generateRequests: [GenerateRequest] = []
  private var prepareRequests: [CompletionRequest] = []
  private var settingsUpdates: [CompletionSettings] = []

  public init() {}

  func record(_ request: CompletionRequest) { locked { completionRequests.append(request) } }
  func record(_ request: GenerateRequest) { locked { generateRequests.append(request) } }
  func recordPrepare(_ request: CompletionRequest) { locked { prepareRequests.append(request) } }
  func record(_ settings: CompletionSettings) { locked { settingsUpdates.append(settings) } }

  /// Every `complete` request, in order.
  public var completions: [CompletionRequest] { locked { completionRequests } }
  /// Every `generate` request, in order.
  public var generations: [GenerateRequest] { locked { generateRequests } }
  /// Every `prepare` request, in order.
  public var preparations: [CompletionRequest] { locked { prepareRequests } }
  /// Every `updateSettings` call, in order.
  public var settings: [CompletionSettings] { locked { settingsUpdates } }

  private func locked<T>(_ body: () -> T) -> T {
    lock.lock()
    defer { lock.unlock() }
    return body()
  }
}

/// A deterministic provider that computes its completion from the request, for end-to-end tests.
///
/// `complete`: when the prefix has unclosed brackets (outside string literals), the candidate closes them
/// (`foo(bar[1` -> `])`); otherwise, when an identifier is being typed, it completes it to the most recent longer
/// identifier of the prefix or of the context documents that starts with it (`pri` after `print(x)` -> `nt`);
/// otherwise nothing. An invoked request adds variants (`;` and a newline appended) up to
/// `settings.invokedCandidates`. `generate`: one comment line with the instruction (or "generated") and one
/// `return <last identifier>` line, streamed line by line; it stops early when cancelled.
public final class BracketClosingProvider: CompletionProvider, @unchecked Sendable {
  public let log = ProviderLog()
  /// Signalled after each `prepare` call.
  public let prepared = DispatchSemaphore(value: 0)
  private let lock = NSLock()
  private var settingsStorage = CompletionSettings()
  private var statusStorage: ProviderStatus

  public init(status: ProviderStatus = .ready(description: "bracket-closing test provider")) {
    statusStorage = status
  }

  public var status: ProviderStatus {
    lock.lock()
    defer { lock.unlock() }
    return statusStorage
  }

  /// The settings last applied.
  public var settings: CompletionSettings {
    lock.lock()
    defer { lock.unlock() }
    return settingsStorage
  }

  public func updateSettings(_ settings: CompletionSettings) {
    lock.lock()
    settingsStorage = settings
    lock.unlock()
    log.record(settings)
  }

  public func complete(_ request: CompletionRequest, cancellation: CancellationToken) throws -> CompletionResult {
    log.record(request)
    guard
      let base = BracketClosingProvider.completion(
        prefix: request.prefix, context: request.contextDocuments.map(\.text))
    else {
      return CompletionResult(candidates: [], trace: ["no open bracket and no identifier to complete"])
    }
    var texts = [base]
    if request.trigger == .invoked {
      texts += [base + ";", base + "\n"]
      texts = Array(texts.prefix(max(1, settings.invokedCandidates)))
    }
    let candidates = texts.enumerated().map {
      CompletionCandidate(text: $0.element, score: -Double($0.offset), stopReason: "test")
    }
    return CompletionResult(
      candidates: candidates, trace: ["closing brackets or completing an identifier: \(base.debugDescription)"],
      promptTokens: request.prefix.utf8.count, generatedTokens: candidates.count)
  }

  public func generate(
    _ request: GenerateRequest, cancellation: CancellationToken, onPartial: @escaping (String) -> Void
  ) throws -> GenerateResult {
    log.record(request)
    let lines = [
      "// \(request.instruction ?? "generated")\n",
      "return \(BracketClosingProvider.identifiers(in: request.prefix).last.map(String.init) ?? "nil")\n",
    ]
    var text = ""
    for line in lines {
      if cancellation.isCancelled { break }
      text += line
      onPartial(text)
    }
    return GenerateResult(text: text, generatedTokens: text.count)
  }

  public func prepare(_ request: CompletionRequest, cancellation: CancellationToken) {
    log.recordPrepare(request)
    prepared.signal()
  }

  /// The unclosed brackets of `prefix` closed, or the completion of the identifier being typed.
  public static func completion(prefix: String, context: [String] = []) -> String? {
    let closing = closingBrackets(prefix)
    if !closing.isEmpty { return closing }
    let word = prefix.reversed().prefix { $0.isLetter || $0.isNumber || $0 == "_" }
    guard !word.isEmpty else { return nil }
    let typed = String(word.reversed())
    let earlier = identifiers(in: String(prefix.dropLast(typed.count)))
    let sources = [earlier] + context.map { identifiers(in: $0) }
    for identifiers in sources {
      if let match = identifiers.last(where: { $0.hasPrefix(typed) && $0.count > typed.count }) {
        return String(match.dropFirst(typed.count))
      }
    }
    return nil
  }

  /// The closing brackets for every unclosed `(`, `[`, `{` outside string literals, innermost first.
  public static func closingBrackets(_ text: String) -> String {
    var stack: [Character] = []
    var quote: Character?
    var escaped = false
    for character in text {
      if let open = quote {
        if escaped {
          escaped = false
        } else if character == "\\" {
          escaped = true
        } else if character == open || character == "\n" {
          quote = nil
        }
        continue
      }
      switch character {
      case "\"", "'": quote = character
      case "(": stack.append(")")
      case "[": stack.append("]")
      case "{": stack.append("}")
      case ")", "]", "}":
        if stack.last == character { stack.removeLast() }
      default: break
      }
    }
    return String(stack.reversed())
  }

  /// The identifiers of a text, in order.
  public static func identifiers(in text: String) -> [Substring] {
    text.split { !($0.isLetter || $0.isNumber || $0 == "_") }.filter { !($0.first?.isNumber ?? true) }
  }
}

/// A provider whose `complete` and `generate` block until their request is cancelled (or `release()`), to test
/// cancellation, ContentModified and superseding without sleeps in the tests.
///
/// The deadline is ignored on purpose: only `cancel` ends a call (tests set a long deadline anyway). `started` is
/// signalled when a call begins, so a test waits for that event before acting.
public final class BlockingProvider: CompletionProvider, @unchecked Sendable {
  public let log = ProviderLog()
  /// Signalled once per call, when it starts.
  public let started = DispatchSemaphore(value: 0)
  /// Signalled once per call, when it returns.
  public let finished = DispatchSemaphore(value: 0)
  private let lock = NSLock()
  private var released = false
  private var cancelReasons: [CancellationReason?] = []
  /// Text streamed with `onPartial` by `generate` before it blocks.
  public var partialText = "partial line\n"

  public init() {}

  public var status: ProviderStatus { .ready(description: "blocking test provider") }
  public func updateSettings(_ settings: CompletionSettings) { log.record(settings) }

  /// Lets every blocked call (and every later one) return normally.
  public func release() {
    lock.lock()
    released = true
    lock.unlock()
  }

  /// The cancellation reason each finished call saw, in order (nil: released).
  public var reasons: [CancellationReason?] {
    lock.lock()
    defer { lock.unlock() }
    return cancelReasons
  }

  private func block(_ cancellation: CancellationToken) {
    started.signal()
    // Polls the token (it has no wait primitive); 1 ms granularity. The 120 s cap only prevents a hung test run.
    for _ in 0..<120_000 {
      lock.lock()
      let done = released
      lock.unlock()
      if done || cancellation.isCancelled { break }
      usleep(1000)
    }
    lock.lock()
    cancelReasons.append(cancellation.reason)
    lock.unlock()
  }

  public func complete(_ request: CompletionRequest, cancellation: CancellationToken) throws -> CompletionResult {
    log.record(request)
    block(cancellation)
    defer { finished.signal() }
    return CompletionResult(candidates: [CompletionCandidate(text: "released()")])
  }

  public func generate(
    _ request: GenerateRequest, cancellation: CancellationToken, onPartial: @escaping (String) -> Void
  ) throws -> GenerateResult {
    log.record(request)
    onPartial(partialText)
    block(cancellation)
    defer { finished.signal() }
    return GenerateResult(text: partialText)
  }
}

/// A provider without a model: `status` is `.unavailable(reason)` and `complete` throws `.unavailable`.
public final class UnavailableProvider: CompletionProvider, @unchecked Sendable {
  public let reason: String
  public let log = ProviderLog()

  public init(
    reason: String = "no model file found at ~/.cache/codegen-lsp/models; run `python3 Scripts/fetch_model.py`"
  ) {
    self.reason = reason
  }

  public var status: ProviderStatus { .unavailable(reason: reason) }
  public func updateSettings(_ settings: CompletionSettings) { log.record(settings) }

  public func complete(_ request: CompletionRequest, cancellation: CancellationToken) throws -> CompletionResult {
    log.record(request)
    throw CompletionProviderError.unavailable(reason)
  }

  public func generate(
    _ request: GenerateRequest, cancellation: CancellationToken, onPartial: @escaping (String) -> Void
  ) throws -> GenerateResult {
    log.record(request)
    throw CompletionProviderError.unavailable(reason)
  }
}
