/// Splits text into the words that byte-level BPE encodes one at a time, following the regexes of each model family.
///
/// The regexes are those of the models' own `tokenizer.json` (and of llama.cpp's `llama-vocab.cpp`, which lists them
/// per `tokenizer.ggml.pre`). They are applied in sequence: each rule splits every current piece into its matches and
/// the gaps between them (the `Split` pre-tokenizer with behaviour `Isolated`). Each rule is matched by hand on
/// Unicode scalars with `CharacterClass`; nothing here uses a regex engine.
///
/// ```
/// gpt2       's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
/// llama3     (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+
///            |\s+(?!\S)|\s+                                       (qwen2: \p{N} instead of \p{N}{1,3})
/// starcoder  \p{N}  then gpt2                                    (smollm: gpt2 alone, see `byName`)
/// deepseek   [\r\n]  then \s?\p{L}+  then \s?\p{P}+  then [一-龥ࠀ-一가-퟿]+  then \p{N}
/// falcon     [\p{P}\$\+<=>\^~\|`]+  then gpt2 without the final \s+  then [0-9][0-9][0-9]
/// default    [\p{P}\$\+<=>\^~\|]+  then gpt2 without the final \s+  then \p{N}+  then [0-9][0-9][0-9]
/// ```
public struct PreTokenizer: Sendable, Equatable {
  /// One split rule (one regex of the sequence).
  enum Rule: Sendable, Equatable {
    /// The GPT-2 regex; `finalWhitespace` is false for the variant without the trailing `|\s+`.
    case gpt2(finalWhitespace: Bool)
    /// The llama3 regex; `maxDigits` is 3 for llama3, 1 for qwen2.
    case llama3(maxDigits: Int)
    /// Every scalar of the set on its own (`\p{N}`, `[\r\n]`).
    case each(ScalarSet)
    /// `\s?X+`: an optional whitespace scalar followed by a run of the set.
    case optionalWhitespaceRun(ScalarSet)
    /// `X+`: a run of the set.
    case run(ScalarSet)
    /// `[0-9][0-9][0-9]`.
    case asciiDigitTriple
  }

  /// A set of scalars: those in any of `classes`, plus the explicit ranges.
  struct ScalarSet: Sendable, Equatable {
    var classes: CharacterClass
    var ranges: [ClosedRange<UInt32>] = []

    @inline(__always)
    func contains(_ value: UInt32, _ cls: CharacterClass) -> Bool {
      if !cls.isDisjoint(with: classes) { return true }
      for range in ranges where range.contains(value) { return true }
      return false
    }
  }

  /// The family name (as in `tokenizer.ggml.pre`, normalised to the family).
  public let name: String
  let rules: [Rule]
  /// True when a word that is itself a token is emitted whole without running the merges (llama3's
  /// `ignore_merges`).
  public let ignoreMerges: Bool

  init(name: String, rules: [Rule], ignoreMerges: Bool = false) {
    self.name = name
    self.rules = rules
    self.ignoreMerges = ignoreMerges
  }

  // MARK: Families

  static let gpt2 = PreTokenizer(name: "gpt-2", rules: [.gpt2(finalWhitespace: true)])
  static let llama3 = PreTokenizer(name: "llama3", rules: [.llama3(maxDigits: 3)], ignoreMerges: true)
  static let qwen2 = PreTokenizer(name: "qwen2", rules: [.llama3(maxDigits: 1)])
  static let starcoder = PreTokenizer(
    name: "starcoder", rules: [.each(ScalarSet(classes: .number)), .gpt2(finalWhitespace: true)])
  static let deepseekCoder = PreTokenizer(
    name: "deepseek-coder",
    rules: [
      .each(ScalarSet(classes: .newline)),
      .optionalWhitespaceRun(ScalarSet(classes: .letter)),
      .optionalWhitespaceRun(ScalarSet(classes: .punctuation)),
      .run(ScalarSet(classes: [], ranges: [0x4E00...0x9FA5, 0x0800...0x4E00, 0xAC00...0xD7FF])),
      .each(ScalarSet(classes: .number)),
    ])
  static let falcon = PreTokenizer(
    name: "falcon",
    rules: [
      .run(ScalarSet(classes: .punctuation, ranges: asciiRanges("$+<=>^~|`"))),
      .gpt2(finalWhitespace: false),
      .asciiDigitTriple,
    ])
  static let bpeDefault = PreTokenizer(
    name: "default",
    rules: [
      .run(ScalarSet(classes: .punctuation, ranges: asciiRanges("$+<=>^~|"))),
      .gpt2(finalWhitespace: false),
      .run(ScalarSet(classes: .number)),
      .asciiDigitTriple,
    ])

  private static func asciiRanges(_ characters: String) -> [ClosedRange<UInt32>] {
    characters.unicodeScalars.map { $0.value...$0.value }
  }

  /// `tokenizer.ggml.pre` values and the family each one uses (as llama.cpp maps them).
  static let byName: [String: PreTokenizer] = {
    var map: [String: PreTokenizer] = [:]
    // `smollm` is here, not with `starcoder` as in llama.cpp: the Hugging Face tokenizer built from a SmolLM2 GGUF
    // (the reference the model tests compare with) uses the plain GPT-2 regex. The two differ only where
    // whitespace precedes digits ("x =  1"); set `Vocabulary.preTokenizerName = "starcoder"` for llama.cpp's split.
    for name in ["gpt-2", "gpt2", "mpt", "olmo", "jais", "phi-2", "roberta-bpe", "smollm"] { map[name] = gpt2 }
    for name in ["llama3", "llama-v3", "llama-bpe", "falcon3", "pixtral", "dbrx", "smaug-bpe", "chatglm-bpe"] {
      map[name] = llama3
    }
    for name in ["qwen2", "deepseek-r1-qwen", "stablelm2", "megrez"] { map[name] = qwen2 }
    for name in ["starcoder", "refact", "command-r", "codeshell", "exaone", "minerva"] {
      map[name] = starcoder
    }
    map["deepseek-coder"] = deepseekCoder
    map["falcon"] = falcon
    map["default"] = bpeDefault
    return map
  }()

  /// The `tokenizer.ggml.pre` values this module supports, sorted.
  public static var supportedNames: [String] { byName.keys.sorted() }

  /// The pre-tokenizer for a `tokenizer.ggml.pre` value, or nil when it is not supported. A missing value means
  /// llama.cpp's `default` list.
  public static func named(_ pre: String?) -> PreTokenizer? {
    byName[pre ?? "default"]
  }

  // MARK: Splitting

  /// Splits `scalars[range]` into words and appends their scalar ranges to `words`.
  ///
  /// - Parameters:
  ///   - scalars: the Unicode scalar values of the text.
  ///   - classes: `CharacterClass.of` of each scalar (same count).
  ///   - range: the fragment to split (text between special tokens).
  ///   - words: receives the ranges, in order, covering `range` exactly.
  func split(scalars: [UInt32], classes: [CharacterClass], range: Range<Int>, into words: inout [Range<Int>]) {
    guard !range.isEmpty else { return }
    var pieces: [Range<Int>] = [range]
    var next: [Range<Int>] = []
    for (index, rule) in rules.enumerated() {
      let isLast = index == rules.count - 1
      next.removeAll(keepingCapacity: true)
      for piece in pieces {
        if isLast {
          Self.apply(rule, scalars, classes, piece, &words)
        } else {
          Self.apply(rule, scalars, classes, piece, &next)
        }
      }
      if !isLast { swap(&pieces, &next) }
    }
  }

  /// The words of `text` (for tests and diagnostics; the tokenizer splits UTF-8 buffers directly).
  public func words(in text: String) -> [String] {
    let scalars = text.unicodeScalars.map(\.value)
    let classes = scalars.map(CharacterClass.of)
    var ranges: [Range<Int>] = []
    split(scalars: scalars, classes: classes, range: 0..<scalars.count, into: &ranges)
    return ranges.map { range in
      var word = String.UnicodeScalarView()
      for value in scalars[range] { word.append(Unicode.Scalar(value)!) }
      return String(word)
    }
  }

  /// Splits one piece by one rule into matches and the gaps between them.
  private static func apply(
    _ rule: Rule, _ s: [UInt32], _ c: [CharacterClass], _ piece: Range<Int>, _ out: inout [Range<Int>]
  ) {
    var p = piece.lowerBound
    let end = piece.upperBound
    while p < end {
      guard let match = nextMatch(rule, s, c, p, end) else {
        out.append(p..<end)
        return
      }
      if match.lowerBound > p { out.append(p..<match.lowerBound) }
      out.append(match)
      p = match.upperBound
    }
  }

  /// The leftmost match of `rule` in `[from, end)`, or nil.
  @inline(__always)
  private static func nextMatch(
    _ rule: Rule, _ s: [UInt32], _ c: [CharacterClass], _ from: Int, _ end: Int
  ) -> Range<Int>? {
    switch rule {
    case .gpt2(let finalWhitespace):
      // Every position starts a match except a lone whitespace before non-whitespace without the final `\s+`.
      var p = from
      while p < end {
        if let e = matchGPT2(s, c, p, end, finalWhitespace) { return p..<e }
        p += 1
      }
      return nil
    case .llama3(let maxDigits):
      return from..<matchLlama3(s, c, from, end, maxDigits)
    case .each(let set):
      var p = from
      while p < end {
        if set.contains(s[p], c[p]) { return p..<(p + 1) }
        p += 1
      }
      return nil
    case .optionalWhitespaceRun(let set):
      var p = from
      while p < end {
        var start = -1
        if c[p].contains(.whitespace), p + 1 < end, set.contains(s[p + 1], c[p + 1]) {
          start = p + 1
        } else if set.contains(s[p], c[p]) {
          start = p
        }
        if start >= 0 {
          var e = start + 1
          while e < end && set.contains(s[e], c[e]) { e += 1 }
          return p..<e
        }
        p += 1
      }
      return nil
    case .run(let set):
      var p = from
      while p < end {
        if set.contains(s[p], c[p]) {
          var e = p + 1
          while e < end && set.contains(s[e], c[e]) { e += 1 }
          return p..<e
        }
        p += 1
      }
      return nil
    case .asciiDigitTriple:
      var p = from
      while p + 2 < end {
        if isASCIIDigit(s[p]) && isASCIIDigit(s[p + 1]) && isASCIIDigit(s[p + 2]) { return p..<(p + 3) }
        p += 1
      }
      return nil
    }
  }

  @inline(__always) private static func isASCIIDigit(_ v: UInt32) -> Bool { v >= 0x30 && v <= 0x39 }

  /// `[^\s\p{L}\p{N}]`.
  @inline(__always) private static func isOther(_ cls: CharacterClass) -> Bool {
    cls.isDisjoint(with: [.whitespace, .letter, .number])
  }

  /// The contraction `'s|'t|'re|'ve|'m|'ll|'d` at `p` (ASCII case-insensitive when `ignoreCase`): its end, or nil.
  @inline(__always)
  private static func matchContraction(_ s: [UInt32], _ p: Int, _ end: Int, ignoreCase: Bool) -> Int? {
    guard s[p] == 0x27, p + 1 < end else { return nil }
    func lower(_ v: UInt32) -> UInt32 { ignoreCase && v >= 0x41 && v <= 0x5A ? v + 0x20 : v }
    let a = lower(s[p + 1])
    if a == 0x73 || a == 0x74 || a == 0x6D || a == 0x64 { return p + 2 }  // s t m d
    guard p + 2 < end else { return nil }
    let b = lower(s[p + 2])
    if (a == 0x72 && b == 0x65) || (a == 0x76 && b == 0x65) || (a == 0x6C && b == 0x6C) { return p + 3 }  // re ve ll
    return nil
  }

  /// The end of the GPT-2 regex's match starting exactly at `p`, or nil when none starts there.
  @inline(__always)
  private static func matchGPT2(
    _ s: [UInt32], _ c: [CharacterClass], _ p: Int, _ end: Int, _ finalWhitespace: Bool
  ) -> Int? {
    if let e = matchContraction(s, p, end, ignoreCase: false) { return e }
    // ` ?\p{L}+`, ` ?\p{N}+`, ` ?[^\s\p{L}\p{N}]+`
    let q = (s[p] == 0x20 && p + 1 < end) ? p + 1 : p
    let cq = c[q]
    if cq.contains(.letter) {
      var e = q + 1
      while e < end && c[e].contains(.letter) { e += 1 }
      return e
    }
    if cq.contains(.number) {
      var e = q + 1
      while e < end && c[e].contains(.number) { e += 1 }
      return e
    }
    if isOther(cq) {
      var e = q + 1
      while e < end && isOther(c[e]) { e += 1 }
      return e
    }
    // `\s+(?!\S)|\s+`
    guard c[p].contains(.whitespace) else { return nil }
    var r = p + 1
    while r < end && c[r].contains(.whitespace) { r += 1 }
    if r == end { return r }
    if r - p >= 2 { return r - 1 }
    return finalWhitespace ? r : nil
  }

  /// The end of the llama3 regex's match starting at `p` (some alternative always matches).
  @inline(__always)
  private static func matchLlama3(
    _ s: [UInt32], _ c: [CharacterClass], _ p: Int, _ end: Int, _ maxDigits: Int
  ) -> Int {
    if let e = matchContraction(s, p, end, ignoreCase: true) { return e }
    let cp = c[p]
    // `[^\r\n\p{L}\p{N}]?\p{L}+`
    var letterStart = -1
    if cp.contains(.letter) {
      letterStart = p
    } else if cp.isDisjoint(with: [.newline, .letter, .number]), p + 1 < end, c[p + 1].contains(.letter) {
      letterStart = p + 1
    }
    if letterStart >= 0 {
      var e = letterStart + 1
      while e < end && c[e].contains(.letter) { e += 1 }
      return e
    }
    // `\p{N}{1,k}`
    if cp.contains(.number) {
      var e = p + 1
      while e < end && e - p < maxDigits && c[e].contains(.number) { e += 1 }
      return e
    }
    // ` ?[^\s\p{L}\p{N}]+[\r\n]*`
    let q = (s[p] == 0x20 && p + 1 < end) ? p + 1 : p
    if isOther(c[q]) {
      var e = q + 1
      while e < end && isOther(c[e]) { e += 1 }
      while e < end && c[e].contains(.newline) { e += 1 }
      return e
    }
    // `\s*[\r\n]+|\s+(?!\S)|\s+`
    if cp.contains(.whitespace) {
      var r = p + 1
      var lastNewline = cp.contains(.newline) ? p : -1
      while r < end && c[r].contains(.whitespace) {
        if c[r].contains(.newline) { lastNewline = r }
        r += 1
      }
      if lastNewline >= 0 { return lastNewline + 1 }
      if r == end { return r }
      if r - p >= 2 { return r - 1 }
      return r
    }
    return p + 1  // unreachable: every scalar is a letter, number, whitespace or other
  }
}
