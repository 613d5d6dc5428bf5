import GGUF

extension Vocabulary {
  /// Reads the `tokenizer.ggml.*` metadata of a GGUF file (a full model or a vocabulary-only file).
  ///
  /// Special ids outside the vocabulary are ignored (as llama.cpp does, some files write -1 for "none").
  /// - Throws: `TokenizerError` naming the file and the missing or unsupported key.
  public init(gguf: GGUFFile) throws(TokenizerError) {
    let file = gguf.path
    guard let model = gguf.string("tokenizer.ggml.model") else {
      throw .missingMetadata(file: file, key: "tokenizer.ggml.model")
    }
    guard let algorithm = TokenizerAlgorithm(rawValue: model) else {
      throw .unsupportedModel(file: file, model: model)
    }
    guard let tokens = gguf.stringArray("tokenizer.ggml.tokens") else {
      throw .missingMetadata(file: file, key: "tokenizer.ggml.tokens")
    }
    let n = tokens.count
    var types: [TokenType] = []
    if let raw = gguf.intArray("tokenizer.ggml.token_type") {
      guard raw.count == n else {
        throw .inconsistentVocabulary(file: file, reason: "\(n) tokens but \(raw.count) token types")
      }
      types = raw.map { TokenType(rawValue: Int32(truncatingIfNeeded: $0)) ?? .undefined }
    }
    var scores = gguf.floatArray("tokenizer.ggml.scores") ?? []
    if algorithm == .sentencePiece && scores.isEmpty {
      throw .missingMetadata(file: file, key: "tokenizer.ggml.scores")
    }
    if algorithm == .byteLevelBPE { scores = [] }
    var merges: [String] = []
    if algorithm == .byteLevelBPE {
      guard let m = gguf.stringArray("tokenizer.ggml.merges") else {
        throw .missingMetadata(file: file, key: "tokenizer.ggml.merges")
      }
      merges = m
    }
    func id(_ key: String) -> Int32? {
      guard let v = gguf.int("tokenizer.ggml." + key), v >= 0, v < n else { return nil }
      return Int32(v)
    }
    let spm = algorithm == .sentencePiece
    self.init(
      source: file, algorithm: algorithm, preTokenizerName: gguf.string("tokenizer.ggml.pre"), tokens: tokens,
      scores: scores, types: types, merges: merges,
      // llama.cpp's defaults for SentencePiece files that name no special tokens.
      bosID: id("bos_token_id") ?? (spm && n > 1 ? 1 : nil), eosID: id("eos_token_id") ?? (spm && n > 2 ? 2 : nil),
      eotID: id("eot_token_id"), eomID: id("eom_token_id"), unknownID: id("unknown_token_id") ?? (spm ? 0 : nil),
      paddingID: id("padding_token_id"), separatorID: id("seperator_token_id") ?? id("separator_token_id"),
      fimPrefixID: id("fim_pre_token_id") ?? id("prefix_token_id"),
      fimSuffixID: id("fim_suf_token_id") ?? id("suffix_token_id"),
      fimMiddleID: id("fim_mid_token_id") ?? id("middle_token_id"), fimPadID: id("fim_pad_token_id"),
      fimRepoID: id("fim_rep_token_id"), fimSeparatorID: id("fim_sep_token_id"),
      addBOS: gguf.bool("tokenizer.ggml.add_bos_token"), addEOS: gguf.bool("tokenizer.ggml.add_eos_token") ?? false,
      addSpacePrefix: gguf.bool("tokenizer.ggml.add_space_prefix"))
  }
}

extension Tokenizer {
  /// The tokenizer described by a GGUF file's `tokenizer.ggml.*` metadata.
  /// - Throws: `TokenizerError` naming the file and what is missing or unsupported.
  public convenience init(gguf: GGUFFile) throws(TokenizerError) {
    try self.init(vocabulary: Vocabulary(gguf: gguf))
  }

  /// The tokenizer of the GGUF file at `path` (a model or a vocabulary-only file).
  /// - Throws: `TokenizerError.unreadableFile` with the reader's message, or another `TokenizerError`.
  public convenience init(ggufPath path: String) throws(TokenizerError) {
    let file: GGUFFile
    do {
      file = try GGUFFile(path: path)
    } catch {
      throw .unreadableFile(file: path, reason: error.description)
    }
    try self.init(gguf: file)
  }

  /// What `codegen-lsp model tokenize` prints: the ids of `text` for the tokenizer of the GGUF file at `path`.
  ///
  /// EOS is never added.
  /// - Parameters:
  ///   - path: a GGUF model or vocabulary-only file.
  ///   - text: the text (stdin).
  ///   - addBOS: put BOS first (`--bos`).
  ///   - parseSpecial: match control-token text such as `<|fim_prefix|>` as single tokens (off by default).
  /// - Throws: `TokenizerError` when the file cannot be read or its tokenizer is not supported.
  public static func tokenize(
    ggufPath path: String, text: String, addBOS: Bool = false, parseSpecial: Bool = false
  ) throws(TokenizerError) -> [Int32] {
    try Tokenizer(ggufPath: path).encode(text, addBOS: addBOS, parseSpecial: parseSpecial)
  }
}
