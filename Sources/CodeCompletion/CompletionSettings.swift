/// Every knob of the completion pipeline, with the defaults the product ships.
///
/// The server fills it from `initializationOptions` / `workspace/didChangeConfiguration`, the command line from
/// its flags; the model provider maps it onto the sampler chain, the prompt builder and the syntax middleware.
/// Keys in the editor configuration have the same names as these properties (see `Protocol/configuration.schema.json`).
public struct CompletionSettings: Sendable, Equatable {
  // MARK: Sampling
  /// Softmax temperature of the first candidate; 0 means greedy (argmax).
  public var temperature: Double = 0
  /// Temperature of the extra candidates of an invoked completion (they must differ from the first).
  public var candidateTemperature: Double = 0.7
  /// Keep the k most likely tokens (0 disables).
  public var topK: Int = 40
  /// Keep the smallest set of tokens whose probability reaches p (1 disables).
  public var topP: Double = 0.95
  /// Drop tokens less likely than minP times the most likely one (0 disables).
  public var minP: Double = 0.05
  /// Seed of every random choice.
  public var seed: UInt64 = 42

  // MARK: Penalties
  /// Master switch for all penalties and blockers below (the quality benchmark turns it off to compare).
  public var penalties: Bool = true
  /// Divides positive logits and multiplies negative ones of recently generated tokens (1 disables).
  public var repetitionPenalty: Double = 1.1
  /// How many recent tokens the repetition, frequency and presence penalties look at.
  public var repetitionWindow: Int = 64
  /// Subtracted once per earlier occurrence of a token in the window.
  public var frequencyPenalty: Double = 0
  /// Subtracted once if the token occurred in the window.
  public var presencePenalty: Double = 0
  /// Tokens made only of these characters (and whitespace) are never penalised: code repeats them legitimately.
  public var penaltyExemptCharacters: String = "()[]{}<>;:,.=+-*/%&|!?^~'\"`\\#@$_"
  /// Forbid generating an n-gram of this many tokens a second time (0 disables).
  public var noRepeatNgramSize: Int = 0
  /// Stop a completion that starts a non-trivial line it already produced.
  public var blockRepeatedLines: Bool = true
  /// Soft budget in tokens for a single-line completion; past it newline and end-of-sequence are favoured.
  public var lengthPenaltyStartLine: Int = 48
  /// Soft budget in tokens for a block completion.
  public var lengthPenaltyStartBlock: Int = 160
  /// Growth factor per token past the soft budget (transformers' `exponential_decay_length_penalty`).
  public var lengthPenaltyDecay: Double = 1.06
  /// Candidates are ranked by sum(log p) / length^alpha.
  public var lengthNormalizationAlpha: Double = 1.0

  // MARK: Length and time
  /// Hard limit of generated tokens in single-line mode.
  public var maxTokensLine: Int = 96
  /// Hard limit of generated tokens in block mode.
  public var maxTokensBlock: Int = 320
  /// Hard limit of generated tokens for generate-code.
  public var maxTokensGenerate: Int = 768
  /// Per-request deadline in milliseconds; the best partial completion is returned when it passes.
  public var deadlineMilliseconds: Int = 1000
  /// The time a suggestion should take, in milliseconds: a request whose full context the measured speed of this
  /// machine cannot prefill in time is answered from a shorter window around the cursor (`LatencyPolicy`), while
  /// the full context is prefilled in the background. Applies under a deadline (the editor's), not offline.
  public var latencyTargetMilliseconds: Int = 1000
  /// The time a suggestion should take while typing (a request whose prompt is nearly all in the KV cache), in
  /// milliseconds: generation stops then, the suggestion shows what was generated, and the server generates the
  /// rest in the background for the completion cache. Applies under a deadline (the editor's), not offline.
  public var typingLatencyTargetMilliseconds: Int = 300
  /// A cold prompt (nothing of it in the KV cache) may be prefilled for this long from the request's start even
  /// past `deadlineMilliseconds`: stopping it would return nothing, and the work is kept for the next request.
  public var prefillDeadlineMilliseconds: Int = 2500
  /// After a prefill that ran past the deadline, generation still gets this long.
  public var minimumGenerationMilliseconds: Int = 400
  /// Deadline for generate-code, in milliseconds.
  public var generateDeadlineMilliseconds: Int = 60000

  // MARK: Prompt
  /// Token budget for text before the cursor. Chosen by measurement: a cold prompt of about 400 tokens prefills
  /// in about 3 s on 2 cores (Benchmarks/RESULTS.md), the bar for the first completion in a freshly opened file.
  public var prefixTokens: Int = 320
  /// Token budget for text after the cursor.
  public var suffixTokens: Int = 64
  /// Token budget for context from other files: the repository context chosen for the cursor, then other open
  /// documents of the same language (0 disables both).
  public var contextDocumentTokens: Int = 512
  /// Repository context: the server indexes the editor's workspace folders and gives the model the definitions of
  /// names used near the cursor, the signatures of imported names and similar code from other files. Off by
  /// default: on the cross-file evaluation (Benchmarks/RESULTS.md) it does not yet improve Qwen2.5-Coder-0.5B's
  /// answers.
  public var repositoryContext: Bool = false
  /// Upper bound on the model's context window in tokens (the model's own limit applies when lower).
  public var contextLength: Int = 4096
  /// In PSM prompts, up to this many tokens typed since the last anchor (the start of the line where typing began)
  /// are placed after the middle token, so typing only appends to the prompt and reuses the KV cache (0: never).
  public var middleTokens: Int = 64
  /// Token healing: the last token of the text before the cursor is regenerated, constrained to spell it again,
  /// so completions of a partial word start at a natural token boundary.
  public var tokenHealing: Bool = true
  /// Fill-in-the-middle order: `auto`, `psm` (prefix-suffix-middle) or `spm` (suffix-prefix-middle).
  public var fimOrder: String = "auto"

  // MARK: Middleware
  /// Syntax middleware on or off (off only for measurement).
  public var syntaxCheck: Bool = true
  /// `auto` decides single-line or block from the cursor's context; `line` and `block` force it.
  public var multiline: String = "auto"
  /// Candidates returned for an invoked completion.
  public var invokedCandidates: Int = 3
  /// The prompt of generate-code without an instruction: `fillInTheMiddle` (the text before and after the cursor
  /// with the model's FIM tokens), `continuation` (the text before the cursor as plain text), or `auto`
  /// (continuation when nothing but whitespace follows the cursor, else fill-in-the-middle).
  public var generateCodePrompt: String = "auto"

  // MARK: Models per request kind
  /// The model of invoked completions (the user asked): `auto` (the larger preset of the main model's family, when
  /// it is downloaded and the measured speed of this machine lets it answer within `latencyTargetMilliseconds`),
  /// `same` (the main model), or a preset name or GGUF path.
  public var invokedModel: String = "auto"
  /// The model of generate-code: `auto` (the larger preset of the main model's family, when it is downloaded and
  /// the measured speed lets it finish a typical answer within a quarter of `generateDeadlineMilliseconds`), `same`
  /// (the main model), or a preset name or GGUF path.
  public var generateModel: String = "auto"

  // MARK: Engine
  /// Worker threads for the engine (0: one per core).
  public var threads: Int = 0

  public init() {}
}
