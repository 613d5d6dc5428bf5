import Sampling
import Tokenization

/// The settings of `codegen-lsp generate`: plain text in, a streamed continuation out.
public struct GenerateParameters: Sendable, Equatable {
  /// Most tokens to generate.
  public var maxTokens: Int = 256
  /// Softmax temperature; ignored when `greedy`.
  public var temperature: Double = 0.7
  /// Keep the k most likely tokens (0 disables).
  public var topK: Int = 40
  /// Nucleus mass (1 disables).
  public var topP: Double = 0.95
  /// Drop tokens less likely than minP times the best one (0 disables).
  public var minP: Double = 0.05
  /// Repetition penalty over the last 64 generated tokens (1 disables).
  public var repetitionPenalty: Double = 1.0
  /// Seed of the sampler.
  public var seed: UInt64 = 42
  /// Always take the most likely token (temperature 0).
  public var greedy: Bool = false
  /// Stop strings (the text ends before them).
  public var stopStrings: [String] = []
  /// Prepend BOS; nil follows the model (`tokenizer.ggml.add_bos_token`).
  public var addBOS: Bool? = nil
  /// Match control tokens written in the prompt (`<|fim_prefix|>`) as single tokens.
  public var parseSpecial: Bool = true

  public init(
    maxTokens: Int = 256, temperature: Double = 0.7, topK: Int = 40, topP: Double = 0.95, minP: Double = 0.05,
    repetitionPenalty: Double = 1.0, seed: UInt64 = 42, greedy: Bool = false, stopStrings: [String] = [],
    addBOS: Bool? = nil, parseSpecial: Bool = true
  ) {
    self.maxTokens = maxTokens
    self.temperature = temperature
    self.topK = topK
    self.topP = topP
    self.minP = minP
    self.repetitionPenalty = repetitionPenalty
    self.seed = seed
    self.greedy = greedy
    self.stopStrings = stopStrings
    self.addBOS = addBOS
    self.parseSpecial = parseSpecial
  }

  /// The sampler settings these parameters stand for.
  public var samplerSettings: SamplerSettings {
    var s = SamplerSettings()
    s.temperature = greedy ? 0 : temperature
    s.topK = topK
    s.topP = topP
    s.minP = minP
    s.seed = seed
    s.penalties = repetitionPenalty != 1
    s.repetitionPenalty = repetitionPenalty
    return s
  }
}

extension LanguageModel {
  /// Tokenizes `prompt`, generates a continuation in a fresh session and streams its text.
  ///
  /// - Parameters:
  ///   - prompt: plain text (control tokens written in it are parsed when `parseSpecial`).
  ///   - parameters: length, sampling and stop settings.
  ///   - shouldCancel: polled between prefill chunks and after every token (Ctrl-C in the CLI).
  ///   - onText: receives each piece of text as soon as it is complete.
  /// - Throws: `InferenceError.tokenizer` when the model has no tokenizer, `.sampling` for bad settings, and the
  ///   errors of `InferenceSession.evaluate` (an empty prompt, a prompt longer than the context window).
  public func generate(
    prompt: String, parameters: GenerateParameters = GenerateParameters(), shouldCancel: (() -> Bool)? = nil,
    onText: @escaping (String) -> Void
  ) throws(InferenceError) -> GenerationResult {
    guard let tokenizer else { throw .tokenizer(path: path, reason: "the model was loaded without its tokenizer") }
    var ids = tokenizer.encode(
      prompt, addBOS: parameters.addBOS ?? tokenizer.addBOSByDefault, parseSpecial: parameters.parseSpecial)
    if ids.isEmpty, let bos = tokenizer.bosID { ids = [bos] }
    guard !ids.isEmpty else { throw .invalidArgument("the prompt is empty and the model has no BOS token") }
    let sampler: Sampler
    do { sampler = try Sampler(settings: parameters.samplerSettings) } catch { throw .sampling("\(error)") }
    let session = InferenceSession(model: self)
    let generator = Generator(session: session, tokenizer: tokenizer, sampler: sampler)
    generator.onText = onText
    let options = GenerationOptions(
      maxTokens: parameters.maxTokens, stopStrings: parameters.stopStrings, shouldCancel: shouldCancel)
    return try generator.generate(prompt: ids, options: options)
  }
}
