/// The boundary between the language server and whatever produces completions.
///
/// The server knows documents, positions and the wire; a provider knows prompts, models and text. Neither
/// imports the other: the server talks to `CompletionProvider`, and the executable wires a concrete provider
/// (the model pipeline) or a test provider into it. Everything here is a plain value type; nothing in this
/// module touches LSP or tensors.

/// How the completion was asked for.
public enum CompletionTrigger: String, Sendable, Equatable {
  /// While typing (ghost text): one candidate, latency first.
  case automatic
  /// Explicitly invoked by the user: up to `CompletionSettings.invokedCandidates` ranked candidates.
  case invoked
}

/// Another open document offered to the provider as extra context.
public struct ContextDocument: Sendable, Equatable {
  /// A path or URI naming the document (shown to the model as a file name where the prompt format has one).
  public var name: String
  /// The LSP language identifier (`python`, `swift`, …).
  public var languageId: String
  /// The full text, or the part of another file chosen for the prompt.
  public var text: String
  /// Why it is offered (`definition of `parse` used near the cursor, util.py:10-18`), for `--explain`; nil for an
  /// open document.
  public var reason: String?

  public init(name: String, languageId: String, text: String, reason: String? = nil) {
    self.name = name
    self.languageId = languageId
    self.text = text
    self.reason = reason
  }
}

/// A request for a completion at one cursor position.
public struct CompletionRequest: Sendable, Equatable {
  /// Identifies the document (an LSP URI, or a file name in stdin mode); providers key caches on it.
  public var documentID: String
  /// The file name or path, when known (used for file-name hints in prompts).
  public var fileName: String?
  /// The LSP language identifier (`python`, `swift`, `c`, …).
  public var languageId: String
  /// The whole document text before the cursor.
  public var prefix: String
  /// The whole document text after the cursor.
  public var suffix: String
  /// How it was triggered.
  public var trigger: CompletionTrigger
  /// Context from other files, most relevant first: parts of the repository chosen for the cursor (definitions of
  /// names used near it, similar code), then other open documents of the same language, most recently used first.
  public var contextDocuments: [ContextDocument]
  /// The workspace's name, shown to models with a repository-name token (`<|repo_name|>`); nil without a workspace.
  public var repositoryName: String?
  /// The current file's path as the context names it (relative to the workspace); nil for `fileName`.
  public var contextFileName: String?
  /// When true the provider fills `CompletionResult.trace` with every decision it made.
  public var explain: Bool

  public init(
    documentID: String, fileName: String? = nil, languageId: String, prefix: String, suffix: String,
    trigger: CompletionTrigger = .automatic, contextDocuments: [ContextDocument] = [], repositoryName: String? = nil,
    explain: Bool = false
  ) {
    self.documentID = documentID
    self.fileName = fileName
    self.languageId = languageId
    self.prefix = prefix
    self.suffix = suffix
    self.trigger = trigger
    self.contextDocuments = contextDocuments
    self.repositoryName = repositoryName
    self.explain = explain
  }
}

/// One completion candidate: the text to insert at the cursor.
public struct CompletionCandidate: Sendable, Equatable {
  /// Text inserted at the cursor (never only whitespace).
  public var text: String
  /// Ranking score, higher is better (length-normalised log-probability for the model provider).
  public var score: Double
  /// Why generation stopped (`eos`, `stop-string`, `syntax: block closed`, `max-tokens`, `deadline`, …).
  public var stopReason: String

  public init(text: String, score: Double = 0, stopReason: String = "") {
    self.text = text
    self.score = score
    self.stopReason = stopReason
  }
}

/// What a provider returns for a completion request.
public struct CompletionResult: Sendable, Equatable {
  /// Ranked candidates, best first; empty when there is no good completion.
  public var candidates: [CompletionCandidate]
  /// Human-readable decisions (filled when `CompletionRequest.explain` is set, always cheap to skip).
  public var trace: [String]
  /// True when the answer came from the completion cache without running the model.
  public var fromCache: Bool
  /// Prompt tokens that had to be computed (the rest came from the KV cache).
  public var promptTokensComputed: Int
  /// Prompt tokens in total.
  public var promptTokens: Int
  /// Tokens generated over all candidates.
  public var generatedTokens: Int
  /// Something the user should be told once (the editor shows it with `window/showMessage`), such as a machine
  /// too slow for the latency target; nil when there is nothing to say.
  public var notice: String? = nil

  public init(
    candidates: [CompletionCandidate], trace: [String] = [], fromCache: Bool = false,
    promptTokensComputed: Int = 0, promptTokens: Int = 0, generatedTokens: Int = 0
  ) {
    self.candidates = candidates
    self.trace = trace
    self.fromCache = fromCache
    self.promptTokensComputed = promptTokensComputed
    self.promptTokens = promptTokens
    self.generatedTokens = generatedTokens
  }

  /// No completion.
  public static let empty = CompletionResult(candidates: [])
}

/// A request to generate code: complete the block at the cursor, or follow an instruction.
public struct GenerateRequest: Sendable, Equatable {
  public var documentID: String
  public var fileName: String?
  public var languageId: String
  /// Text before the replaced range (or the cursor).
  public var prefix: String
  /// The text of the selected range that the result replaces (empty for a cursor).
  public var selection: String
  /// Text after the replaced range.
  public var suffix: String
  /// What to do, in the user's words; nil to complete the function, class or block at the cursor.
  public var instruction: String?

  public init(
    documentID: String, fileName: String? = nil, languageId: String, prefix: String, selection: String = "",
    suffix: String, instruction: String? = nil
  ) {
    self.documentID = documentID
    self.fileName = fileName
    self.languageId = languageId
    self.prefix = prefix
    self.selection = selection
    self.suffix = suffix
    self.instruction = instruction
  }
}

/// The result of `generate`: the text that replaces the selection (or is inserted at the cursor).
public struct GenerateResult: Sendable, Equatable {
  public var text: String
  public var trace: [String]
  public var generatedTokens: Int

  public init(text: String, trace: [String] = [], generatedTokens: Int = 0) {
    self.text = text
    self.trace = trace
    self.generatedTokens = generatedTokens
  }
}

/// Whether a provider can answer.
public enum ProviderStatus: Sendable, Equatable {
  /// Ready; the description names the model (`Qwen2.5-Coder-0.5B-Instruct Q4_K_M, FIM`).
  case ready(description: String)
  /// Ready but degraded; the message says why once (for example a model without FIM tokens).
  case degraded(description: String, warning: String)
  /// Cannot answer; the message says what is missing and how to get it.
  case unavailable(reason: String)
}

/// Errors a provider may throw. Cancellation is not an error: a cancelled call returns what it has.
public enum CompletionProviderError: Error, Sendable, Equatable, CustomStringConvertible {
  /// The provider has no model; the message says what to do.
  case unavailable(String)
  /// The request itself is unusable (for example an unknown language id where one is required).
  case invalidRequest(String)
  /// The engine failed; the message names what failed.
  case engineFailure(String)

  public var description: String {
    switch self {
    case .unavailable(let message): return message
    case .invalidRequest(let message): return "invalid request: \(message)"
    case .engineFailure(let message): return "engine failure: \(message)"
    }
  }
}

/// Produces completions. The server calls it from one worker thread at a time, never from the thread that reads
/// messages, so implementations may block.
///
/// - Important: `complete`, `generate` and `prepare` are called serially (one at a time) from a single worker
///   queue. `status` and `updateSettings` may be called from any thread.
public protocol CompletionProvider: AnyObject, Sendable {
  /// Whether the provider can answer, and what it runs.
  var status: ProviderStatus { get }

  /// Applies new settings (from the editor's configuration or the command line). Takes effect on the next call.
  func updateSettings(_ settings: CompletionSettings)

  /// Completes at the cursor. Checks `cancellation` after every generated token and returns early, with the
  /// best partial answer cut at a valid boundary, once it is set or the deadline passes.
  func complete(_ request: CompletionRequest, cancellation: CancellationToken) throws -> CompletionResult

  /// Generates code for the generate-code command; `onPartial` receives the text so far as it streams.
  func generate(
    _ request: GenerateRequest, cancellation: CancellationToken, onPartial: @escaping (String) -> Void
  ) throws -> GenerateResult

  /// Warms caches for a likely next request (prefills the prompt in the background). Stops when cancelled.
  func prepare(_ request: CompletionRequest, cancellation: CancellationToken)

  /// Goes on with the last completion of `documentID` when it was cut short to answer in time (at the typing target or the editor's deadline): the
  /// rest is generated in the background, so that typing through the suggestion shown finds it in the completion
  /// cache. Returns at once when there is nothing to extend; stops when cancelled.
  func extendLastCompletion(documentID: String, cancellation: CancellationToken)
}

extension CompletionProvider {
  public func prepare(_ request: CompletionRequest, cancellation: CancellationToken) {}
  public func extendLastCompletion(documentID: String, cancellation: CancellationToken) {}
}
