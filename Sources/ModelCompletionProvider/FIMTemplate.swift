/// What the prompt builder needs from a tokenizer: plain encoding (special-token text in user code is never
/// parsed as a special token) and lookups of special tokens by id or by text.
public protocol PromptTokenizer: AnyObject {
  /// Encodes text without BOS and without parsing special-token text.
  func encodePlain(_ text: String) -> [Int32]
  /// The id of a token whose text is exactly `text` (special tokens included), if any.
  func tokenID(forText text: String) -> Int32?
  /// Fill-in-the-middle ids declared in the model's metadata (`tokenizer.ggml.fim_*`).
  var metadataFIM: (prefix: Int32?, suffix: Int32?, middle: Int32?, pad: Int32?, repo: Int32?, separator: Int32?) {
    get
  }
}

/// Fill-in-the-middle order.
public enum FIMOrder: String, Sendable, Equatable {
  /// `<prefix-token> prefix <suffix-token> suffix <middle-token>`: the standard order every FIM model knows.
  case psm
  /// `<prefix-token> <suffix-token> suffix <middle-token> prefix`: the suffix comes first, so typing at the
  /// cursor only appends to the prompt and the KV cache stays valid (only where the model was trained for it).
  case spm
}

/// The fill-in-the-middle tokens of one model, found in its metadata or by the known texts of its family.
public struct FIMTemplate: Sendable, Equatable {
  /// Which family's texts matched (`metadata`, `qwen`, `starcoder`, `deepseek`, `codellama`).
  public var family: String
  public var prefix: Int32
  public var suffix: Int32
  public var middle: Int32
  /// Token that separates files in a repository-level prompt (Qwen `<|file_sep|>`, StarCoder `<file_sep>`).
  public var fileSeparator: Int32?
  /// Token that introduces the repository name (Qwen `<|repo_name|>`, StarCoder `<reponame>`).
  public var repoName: Int32?
  /// Tokens that end a fill-in-the-middle answer besides end-of-sequence (FIM pad, file separator, …).
  public var stopTokens: Set<Int32>
  /// True when the family was trained with the suffix-prefix-middle order too.
  public var supportsSPM: Bool

  /// The known families, in the order they are tried: (family, prefix, suffix, middle, separator, repo, pad, SPM).
  static let knownFamilies: [(String, String, String, String, String?, String?, String?, Bool)] = [
    (
      "qwen", "<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>", "<|file_sep|>", "<|repo_name|>", "<|fim_pad|>",
      false
    ),
    ("starcoder", "<fim_prefix>", "<fim_suffix>", "<fim_middle>", "<file_sep>", "<reponame>", "<fim_pad>", true),
    ("deepseek", "<｜fim▁begin｜>", "<｜fim▁hole｜>", "<｜fim▁end｜>", nil, nil, nil, false),
    ("codellama", "▁<PRE>", "▁<SUF>", "▁<MID>", nil, nil, "▁<EOT>", true),
    ("codellama", "<PRE>", "<SUF>", "<MID>", nil, nil, "<EOT>", true),
  ]

  /// Finds the template of a tokenizer: metadata ids first, then the known token texts of each family.
  /// - Returns: nil for a model without fill-in-the-middle tokens (it completes from the prefix alone).
  public static func detect(_ tokenizer: PromptTokenizer) -> FIMTemplate? {
    let meta = tokenizer.metadataFIM
    // The family's texts tell us about SPM support and the separator even when the metadata has the ids.
    var family: FIMTemplate?
    for (name, pre, suf, mid, sep, repo, pad, spm) in knownFamilies {
      guard let p = tokenizer.tokenID(forText: pre), let s = tokenizer.tokenID(forText: suf),
        let m = tokenizer.tokenID(forText: mid)
      else { continue }
      var stops = Set<Int32>()
      let separator = sep.flatMap(tokenizer.tokenID(forText:))
      if let separator { stops.insert(separator) }
      if let pad, let id = tokenizer.tokenID(forText: pad) { stops.insert(id) }
      family = FIMTemplate(
        family: name, prefix: p, suffix: s, middle: m, fileSeparator: separator,
        repoName: repo.flatMap(tokenizer.tokenID(forText:)), stopTokens: stops, supportsSPM: spm)
      break
    }
    if let p = meta.prefix, let s = meta.suffix, let m = meta.middle {
      var template =
        family
        ?? FIMTemplate(
          family: "metadata", prefix: p, suffix: s, middle: m, fileSeparator: nil, repoName: nil, stopTokens: [],
          supportsSPM: false)
      template.prefix = p
      template.suffix = s
      template.middle = m
      if let separator = meta.separator {
        template.fileSeparator = separator
        template.stopTokens.insert(separator)
      }
      if let repo = meta.repo { template.repoName = repo }
      if let pad = meta.pad { template.stopTokens.insert(pad) }
      return template
    }
    return family
  }

  /// The order to use for a configured value (`auto`, `psm`, `spm`): `auto` picks SPM where the family was
  /// trained for it (typing then only appends to the prompt), PSM otherwise; `spm` is honoured as asked.
  public func order(for configured: String) -> FIMOrder {
    switch configured {
    case "psm": return .psm
    case "spm": return .spm
    default: return supportsSPM ? .spm : .psm
    }
  }
}
