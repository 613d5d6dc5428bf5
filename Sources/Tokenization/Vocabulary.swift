/// What a vocabulary entry is (`tokenizer.ggml.token_type`, llama.cpp's `llama_token_type`).
public enum TokenType: Int32, Sendable, Equatable {
  case undefined = 0
  /// An ordinary token produced by the merges.
  case normal = 1
  /// The unknown token (`<unk>`).
  case unknown = 2
  /// A control token (`<|endoftext|>`, `<|im_start|>`, FIM markers): matched in text only with `parseSpecial`,
  /// contributes nothing to decoded text.
  case control = 3
  /// A user-defined token (added token): always matched whole in text, decoded as its own text.
  case userDefined = 4
  /// A reserved, unused entry.
  case unused = 5
  /// A SentencePiece byte-fallback token `<0xXX>`.
  case byte = 6
}

/// The tokenizer algorithm a vocabulary uses (`tokenizer.ggml.model`).
public enum TokenizerAlgorithm: String, Sendable, Equatable {
  /// Byte-level BPE with merges (`gpt2`): GPT-2, Qwen2, DeepSeek-Coder, StarCoder, SmolLM2, Llama 3.
  case byteLevelBPE = "gpt2"
  /// SentencePiece BPE with scores and byte fallback (`llama`): Llama 2, Mistral v0.1, Phi-3, CodeLlama.
  case sentencePiece = "llama"
}

/// Everything a tokenizer is built from: the `tokenizer.ggml.*` metadata of a GGUF file as plain values.
public struct Vocabulary: Sendable {
  /// Where it came from, for error messages (a file path, or `<memory>`).
  public var source: String
  /// The algorithm (`tokenizer.ggml.model`).
  public var algorithm: TokenizerAlgorithm
  /// `tokenizer.ggml.pre`; nil when absent (llama.cpp's `default`).
  public var preTokenizerName: String?
  /// The token texts, indexed by id (byte-level spelling for `gpt2`, `▁` for spaces for `llama`).
  public var tokens: [String]
  /// SentencePiece merge scores (higher merges first), one per token; empty for byte-level BPE.
  public var scores: [Float]
  /// Token types, one per token (all `.normal` when the file has none).
  public var types: [TokenType]
  /// BPE merges, `"left right"` in rank order (rank 0 first); empty for SentencePiece.
  public var merges: [String]

  /// Special token ids (`tokenizer.ggml.*_token_id`).
  public var bosID: Int32?
  public var eosID: Int32?
  public var eotID: Int32?
  public var eomID: Int32?
  public var unknownID: Int32?
  public var paddingID: Int32?
  public var separatorID: Int32?
  /// FIM token ids from the metadata (`fim_pre/suf/mid/pad/rep/sep_token_id`, or the older `prefix/suffix/middle`).
  public var fimPrefixID: Int32?
  public var fimSuffixID: Int32?
  public var fimMiddleID: Int32?
  public var fimPadID: Int32?
  public var fimRepoID: Int32?
  public var fimSeparatorID: Int32?

  /// Whether the model expects BOS / EOS around a prompt (`add_bos_token` / `add_eos_token`).
  public var addBOS: Bool
  public var addEOS: Bool
  /// SentencePiece only: whether text gets a leading space (`add_space_prefix`, default true).
  public var addSpacePrefix: Bool

  /// A vocabulary from plain values; the defaults are llama.cpp's when the metadata says nothing.
  public init(
    source: String = "<memory>", algorithm: TokenizerAlgorithm, preTokenizerName: String? = nil, tokens: [String],
    scores: [Float] = [], types: [TokenType] = [], merges: [String] = [], bosID: Int32? = nil, eosID: Int32? = nil,
    eotID: Int32? = nil, eomID: Int32? = nil, unknownID: Int32? = nil, paddingID: Int32? = nil,
    separatorID: Int32? = nil, fimPrefixID: Int32? = nil, fimSuffixID: Int32? = nil, fimMiddleID: Int32? = nil,
    fimPadID: Int32? = nil, fimRepoID: Int32? = nil, fimSeparatorID: Int32? = nil, addBOS: Bool? = nil,
    addEOS: Bool = false, addSpacePrefix: Bool? = nil
  ) {
    self.source = source
    self.algorithm = algorithm
    self.preTokenizerName = preTokenizerName
    self.tokens = tokens
    self.scores = scores
    self.types = types.isEmpty ? [TokenType](repeating: .normal, count: tokens.count) : types
    self.merges = merges
    self.bosID = bosID
    self.eosID = eosID
    self.eotID = eotID
    self.eomID = eomID
    self.unknownID = unknownID
    self.paddingID = paddingID
    self.separatorID = separatorID
    self.fimPrefixID = fimPrefixID
    self.fimSuffixID = fimSuffixID
    self.fimMiddleID = fimMiddleID
    self.fimPadID = fimPadID
    self.fimRepoID = fimRepoID
    self.fimSeparatorID = fimSeparatorID
    self.addBOS = addBOS ?? (algorithm == .sentencePiece)
    self.addEOS = addEOS
    self.addSpacePrefix = addSpacePrefix ?? (algorithm == .sentencePiece)
  }

  /// Checks that the arrays agree and every special id is in range.
  /// - Throws: `TokenizerError.inconsistentVocabulary` saying what disagrees.
  func validate() throws(TokenizerError) {
    let n = tokens.count
    guard n > 0 else { throw .inconsistentVocabulary(file: source, reason: "the token list is empty") }
    guard n < Int(Int32.max) else { throw .inconsistentVocabulary(file: source, reason: "\(n) tokens is too many") }
    guard types.count == n else {
      throw .inconsistentVocabulary(file: source, reason: "\(n) tokens but \(types.count) token types")
    }
    if algorithm == .sentencePiece && scores.count != n {
      throw .inconsistentVocabulary(file: source, reason: "\(n) tokens but \(scores.count) scores")
    }
    let named: [(String, Int32?)] = [
      ("bos", bosID), ("eos", eosID), ("eot", eotID), ("eom", eomID), ("unknown", unknownID), ("padding", paddingID),
      ("separator", separatorID), ("fim_pre", fimPrefixID), ("fim_suf", fimSuffixID), ("fim_mid", fimMiddleID),
      ("fim_pad", fimPadID), ("fim_rep", fimRepoID), ("fim_sep", fimSeparatorID),
    ]
    for (name, id) in named {
      if let id, id < 0 || Int(id) >= n {
        throw .inconsistentVocabulary(file: source, reason: "\(name) token id \(id) is outside 0..<\(n)")
      }
    }
  }
}
