/// Everything that can be wrong when building a tokenizer from a vocabulary or a GGUF file.
///
/// Every case carries the file (or `"<memory>"` for a vocabulary built in code) and says what is wrong.
public enum TokenizerError: Error, Equatable, CustomStringConvertible {
  /// A `tokenizer.ggml.*` key the tokenizer needs is absent or has the wrong type.
  case missingMetadata(file: String, key: String)
  /// `tokenizer.ggml.model` names a tokenizer family this module does not implement.
  case unsupportedModel(file: String, model: String)
  /// `tokenizer.ggml.pre` names a pre-tokenizer this module does not implement.
  case unsupportedPreTokenizer(file: String, pre: String)
  /// The arrays disagree (token count vs scores or types), a special id is out of range, a merge is malformed…
  case inconsistentVocabulary(file: String, reason: String)
  /// The GGUF file itself could not be read (the reader's message).
  case unreadableFile(file: String, reason: String)

  public var description: String {
    switch self {
    case .missingMetadata(let file, let key):
      return "\(file): tokenizer metadata '\(key)' is missing or has the wrong type"
    case .unsupportedModel(let file, let model):
      return "\(file): tokenizer model '\(model)' is not supported (supported: gpt2 = byte-level BPE, "
        + "llama = SentencePiece BPE)"
    case .unsupportedPreTokenizer(let file, let pre):
      return "\(file): pre-tokenizer '\(pre)' is not supported (supported: "
        + PreTokenizer.supportedNames.joined(separator: ", ") + ")"
    case .inconsistentVocabulary(let file, let reason):
      return "\(file): inconsistent tokenizer vocabulary: \(reason)"
    case .unreadableFile(let file, let reason):
      return "\(file): cannot read the tokenizer: \(reason)"
    }
  }
}
