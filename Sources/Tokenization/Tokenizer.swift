import Foundation

/// Turns text into token ids and back for one model's vocabulary: byte-level BPE (GPT-2 family) or SentencePiece BPE.
///
/// Encoding follows llama.cpp's `llama_tokenize` (`src/llama-vocab.cpp`), which reproduces the models' Hugging Face
/// tokenizers: special tokens are cut out of the text first (user-defined tokens always, control tokens only with
/// `parseSpecial`), then each remaining fragment is pre-tokenized into words (`PreTokenizer`) and each word is merged
/// by BPE rank (Sennrich et al. 2016, "Neural Machine Translation of Rare Words with Subword Units"), or, for
/// SentencePiece, the whole fragment is merged by score with byte fallback (Kudo & Richardson 2018).
///
/// ```
/// let tokenizer = try Tokenizer(gguf: GGUFFile(path: "model.gguf"))
/// let ids = tokenizer.encode("def f():\n", addBOS: false)     // [Int32]
/// let text = tokenizer.decode(ids)                            // "def f():\n"
/// ```
///
/// - Important: all methods may be called from any thread. The cache of encoded words is guarded by a lock, so
///   concurrent `encode` calls serialise; everything else is immutable after `init`.
public final class Tokenizer: @unchecked Sendable {
  /// The vocabulary this tokenizer was built from.
  public let vocabulary: Vocabulary
  /// The algorithm (byte-level BPE or SentencePiece).
  public var algorithm: TokenizerAlgorithm { vocabulary.algorithm }
  /// The pre-tokenizer of a byte-level BPE vocabulary (nil for SentencePiece).
  public let preTokenizer: PreTokenizer?
  /// The number of tokens (ids are `0..<vocabularySize`).
  public let vocabularySize: Int

  /// Beginning of sequence, end of sequence, end of turn, padding, unknown.
  public let bosID: Int32?
  public let eosID: Int32?
  public let eotID: Int32?
  public let padID: Int32?
  public let unknownID: Int32?
  /// FIM tokens: from the metadata, else found by their text (`<|fim_prefix|>`, `<fim_prefix>`, `<｜fim▁begin｜>`…).
  public let fimPrefixID: Int32?
  public let fimSuffixID: Int32?
  public let fimMiddleID: Int32?
  public let fimPadID: Int32?
  /// The repository-name token (`<|repo_name|>`, `<reponame>`).
  public let fimRepoID: Int32?
  /// The file-separator token (`<|file_sep|>`, `<file_sep>`).
  public let fimSeparatorID: Int32?
  /// Whether the model wants BOS before a prompt (`tokenizer.ggml.add_bos_token`); `encode` adds it only when asked.
  public var addBOSByDefault: Bool { vocabulary.addBOS }

  /// Token types after promoting the FIM and end-of-generation tokens found by text to `.control` (as llama.cpp).
  private let types: [TokenType]
  /// What each token contributes to decoded text: `pieceArena[pieceStarts[id]..<pieceStarts[id + 1]]`.
  private let pieceArena: [UInt8]
  private let pieceStarts: [Int32]
  /// Token text (UTF-8, as stored) → id.
  private let textTable: ByteStringTable
  /// The tokens that end generation.
  private let endOfGeneration: Set<Int32>

  /// Special tokens that may be matched in text, bucketed by first byte, longest first.
  private let specialsByFirstByte: [[SpecialToken]]

  // Byte-level BPE
  /// The token of each single byte's byte-level spelling (-1 when missing).
  private let byteTokens: [Int32]
  /// `(left id << 32 | right id)` → `(rank << 32 | merged id)`.
  private let merges: PairTable

  // SentencePiece
  private let scores: [Float]
  /// The `<0xXX>` token of each byte (-1 when missing).
  private let byteFallbackTokens: [Int32]

  /// Cache of encoded words (byte-level BPE), guarded by `lock`.
  private let lock = NSLock()
  private let wordCache = WordCache()

  private struct SpecialToken {
    var bytes: [UInt8]
    var id: Int32
    /// Matched only with `parseSpecial` (control and unknown tokens).
    var needsParseSpecial: Bool
  }

  /// Texts of tokens that end generation in the models we know (llama.cpp's list).
  static let endOfGenerationTexts: Set<String> = [
    "<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>", "<end_of_turn>", "<|endoftext|>", "<|eom_id|>",
    "<EOT>", "_<EOT>", "<｜end▁of▁sentence｜>", "<|EOT|>", "<|end_of_text|>",
  ]
  static let eotTexts = [
    "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<EOT>", "_<EOT>", "<|EOT|>",
    "<｜end▁of▁sentence｜>",
  ]
  static let fimPrefixTexts = ["<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>", "<｜fim▁begin｜>", "<PRE>", "▁<PRE>"]
  static let fimSuffixTexts = ["<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>", "<｜fim▁hole｜>", "<SUF>", "▁<SUF>"]
  static let fimMiddleTexts = ["<|fim_middle|>", "<fim-middle>", "<fim_middle>", "<｜fim▁end｜>", "<MID>", "▁<MID>"]
  static let fimPadTexts = ["<|fim_pad|>", "<fim-pad>", "<fim_pad>"]
  static let fimRepoTexts = ["<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>", "<reponame>", "<repo_name>"]
  static let fimSeparatorTexts = ["<|file_sep|>", "<file_sep>", "<fim-sep>", "<FILE_SEP>"]

  /// Builds a tokenizer from a vocabulary.
  ///
  /// - Throws: `TokenizerError` when the arrays disagree, a merge is malformed, or the pre-tokenizer is not
  ///   supported.
  public init(vocabulary: Vocabulary) throws(TokenizerError) {
    try vocabulary.validate()
    let n = vocabulary.tokens.count
    self.vocabulary = vocabulary
    self.vocabularySize = n

    switch vocabulary.algorithm {
    case .byteLevelBPE:
      guard let pre = PreTokenizer.named(vocabulary.preTokenizerName) else {
        throw .unsupportedPreTokenizer(file: vocabulary.source, pre: vocabulary.preTokenizerName ?? "")
      }
      preTokenizer = pre
    case .sentencePiece:
      preTokenizer = nil
    }

    // Text → id. For duplicate texts the last id wins, as in llama.cpp's `token_to_id` and Hugging Face's vocab
    // dictionary (inserting in reverse with first-wins gives that).
    var table = ByteStringTable(capacity: n)
    for id in stride(from: n - 1, through: 0, by: -1) {
      var text = vocabulary.tokens[id]
      text.withUTF8 { table.insertIfAbsent($0, Int32(id)) }
    }
    textTable = table
    /// The lowest id whose text is one of `texts`.
    func find(_ texts: [String]) -> Int32? {
      texts.compactMap { table.get(Array($0.utf8)) }.min()
    }

    bosID = vocabulary.bosID
    eosID = vocabulary.eosID
    padID = vocabulary.paddingID
    unknownID = vocabulary.unknownID
    eotID = vocabulary.eotID ?? find(Self.eotTexts)
    fimPrefixID = vocabulary.fimPrefixID ?? find(Self.fimPrefixTexts)
    fimSuffixID = vocabulary.fimSuffixID ?? find(Self.fimSuffixTexts)
    fimMiddleID = vocabulary.fimMiddleID ?? find(Self.fimMiddleTexts)
    fimPadID = vocabulary.fimPadID ?? find(Self.fimPadTexts)
    fimRepoID = vocabulary.fimRepoID ?? find(Self.fimRepoTexts)
    fimSeparatorID = vocabulary.fimSeparatorID ?? find(Self.fimSeparatorTexts)

    var types = vocabulary.types
    var eog = Set<Int32>()
    for id in [eosID, eotID, vocabulary.eomID, fimPadID, fimRepoID, fimSeparatorID] {
      if let id { eog.insert(id) }
    }
    for text in Self.endOfGenerationTexts { if let id = table.get(Array(text.utf8)) { eog.insert(id) } }
    // llama.cpp treats the FIM and end-of-generation tokens as control tokens even when the file calls them normal
    // or user-defined, so that they never leak into decoded text.
    for id in eog.union([fimPrefixID, fimSuffixID, fimMiddleID].compactMap { $0 }) {
      if types[Int(id)] == .normal || types[Int(id)] == .userDefined { types[Int(id)] = .control }
    }
    self.types = types
    endOfGeneration = eog

    // Byte-level BPE: single-byte tokens and merges.
    var byteTokens = [Int32](repeating: -1, count: 256)
    var merges = PairTable(capacity: vocabulary.algorithm == .byteLevelBPE ? vocabulary.merges.count : 0)
    if vocabulary.algorithm == .byteLevelBPE {
      for b in 0..<256 { byteTokens[b] = table.get(ByteLevel.utf8ForByte[b]) ?? -1 }
      var joined = [UInt8]()
      for (rank, merge) in vocabulary.merges.enumerated() {
        var merge = merge
        let ids: (Int32, Int32, Int32)?? = merge.withUTF8 { utf8 in
          guard utf8.count > 2, let space = utf8[1...].firstIndex(of: 0x20) else { return .none }
          let left = UnsafeBufferPointer(rebasing: utf8[..<space])
          let right = UnsafeBufferPointer(rebasing: utf8[(space + 1)...])
          joined.removeAll(keepingCapacity: true)
          joined.append(contentsOf: left)
          joined.append(contentsOf: right)
          guard let l = table.get(left), let r = table.get(right), let m = table.get(joined) else { return .some(nil) }
          return .some((l, r, m))
        }
        guard let found = ids else {
          throw .inconsistentVocabulary(file: vocabulary.source, reason: "merge \(rank) '\(merge)' is not two tokens")
        }
        // A merge whose parts or result are not tokens can never apply (Hugging Face rejects such files; llama.cpp
        // ignores the merge); skip it.
        guard let (l, r, m) = found else { continue }
        merges.insertIfAbsent(UInt64(UInt32(l)) << 32 | UInt64(UInt32(r)), UInt64(rank) << 32 | UInt64(UInt32(m)))
      }
      _ = CharacterClass.basicPlaneTable.count  // build the class table now rather than in the first request
    }
    self.byteTokens = byteTokens
    self.merges = merges

    // SentencePiece: scores and byte fallback.
    var byteFallback = [Int32](repeating: -1, count: 256)
    if vocabulary.algorithm == .sentencePiece {
      for b in 0..<256 {
        let hex = String(b, radix: 16, uppercase: true)
        byteFallback[b] = table.get(Array("<0x\(hex.count == 1 ? "0" + hex : hex)>".utf8)) ?? -1
      }
    }
    self.scores = vocabulary.scores
    self.byteFallbackTokens = byteFallback

    // Pieces: what each token contributes to decoded text.
    var arena = [UInt8]()
    arena.reserveCapacity(n * 6)
    var starts = [Int32]()
    starts.reserveCapacity(n + 1)
    for id in 0..<n {
      starts.append(Int32(arena.count))
      arena.append(contentsOf: Self.piece(of: vocabulary.tokens[id], type: types[id], algorithm: vocabulary.algorithm))
    }
    starts.append(Int32(arena.count))
    pieceArena = arena
    pieceStarts = starts

    // Special tokens matched in text: control and unknown (with parseSpecial), user-defined (always).
    var buckets = [[SpecialToken]](repeating: [], count: 256)
    for id in 0..<n {
      let type = types[id]
      guard type == .control || type == .userDefined || type == .unknown else { continue }
      let bytes = Array(vocabulary.tokens[id].utf8)
      guard let first = bytes.first else { continue }
      buckets[Int(first)].append(SpecialToken(bytes: bytes, id: Int32(id), needsParseSpecial: type != .userDefined))
    }
    for b in 0..<256 {
      buckets[b].sort { $0.bytes.count > $1.bytes.count || ($0.bytes.count == $1.bytes.count && $0.id < $1.id) }
    }
    specialsByFirstByte = buckets
  }

  /// The bytes a token of this type and text stands for in decoded output.
  private static func piece(of text: String, type: TokenType, algorithm: TokenizerAlgorithm) -> [UInt8] {
    switch type {
    case .control, .unknown, .unused, .undefined:
      return []
    case .byte:
      // `<0xXX>`
      let utf8 = Array(text.utf8)
      if utf8.count == 6, utf8[0] == 0x3C, utf8[5] == 0x3E,
        let b = UInt8(String(decoding: utf8[3..<5], as: UTF8.self), radix: 16)
      {
        return [b]
      }
      return Array(text.utf8)
    case .userDefined:
      return algorithm == .sentencePiece ? unescapeSpaces(text) : Array(text.utf8)
    case .normal:
      switch algorithm {
      case .byteLevelBPE: return ByteLevel.decode(text) ?? Array(text.utf8)
      case .sentencePiece: return unescapeSpaces(text)
      }
    }
  }

  /// SentencePiece's `▁` (U+2581) back to a space.
  private static func unescapeSpaces(_ text: String) -> [UInt8] {
    var out = [UInt8]()
    let utf8 = Array(text.utf8)
    out.reserveCapacity(utf8.count)
    var i = 0
    while i < utf8.count {
      if i + 2 < utf8.count && utf8[i] == 0xE2 && utf8[i + 1] == 0x96 && utf8[i + 2] == 0x81 {
        out.append(0x20)
        i += 3
      } else {
        out.append(utf8[i])
        i += 1
      }
    }
    return out
  }

  // MARK: Token properties

  /// The token's text as stored in the vocabulary (byte-level spelling for BPE, `▁` for spaces for SentencePiece);
  /// empty for an id out of range.
  public func tokenText(_ id: Int32) -> String {
    guard id >= 0 && Int(id) < vocabularySize else { return "" }
    return vocabulary.tokens[Int(id)]
  }

  /// What the token contributes to decoded text: its bytes (possibly part of a UTF-8 character); empty for control,
  /// unknown and unused tokens and for ids out of range.
  public func tokenBytes(_ id: Int32) -> [UInt8] {
    guard id >= 0 && Int(id) < vocabularySize else { return [] }
    return Array(pieceArena[Int(pieceStarts[Int(id)])..<Int(pieceStarts[Int(id) + 1])])
  }

  /// The token's type (after FIM and end-of-generation tokens were promoted to `.control`); `.undefined` out of
  /// range.
  public func tokenType(_ id: Int32) -> TokenType {
    guard id >= 0 && Int(id) < vocabularySize else { return .undefined }
    return types[Int(id)]
  }

  /// True for control tokens (BOS/EOS, `<|im_start|>`, FIM markers…), which never appear in decoded text.
  public func isControl(_ id: Int32) -> Bool { tokenType(id) == .control }

  /// True for tokens that end generation: EOS, EOT, `<|endoftext|>`, `<|im_end|>`, `<|file_sep|>`, `<|fim_pad|>`,
  /// `<|repo_name|>`… (llama.cpp's `llama_vocab_is_eog`).
  public func isEndOfGeneration(_ id: Int32) -> Bool { endOfGeneration.contains(id) }

  /// All end-of-generation ids, sorted.
  public var endOfGenerationIDs: [Int32] { endOfGeneration.sorted() }

  /// The id of the token whose vocabulary text is exactly `text` (for example `<|fim_prefix|>`, `<fim_prefix>`,
  /// `<｜fim▁begin｜>`, `<|file_sep|>`, `<|im_start|>`), or nil.
  public func tokenID(forText text: String) -> Int32? {
    textTable.get(Array(text.utf8))
  }

  /// A human-readable description for `codegen-lsp model info`: algorithm, pre-tokenizer, sizes, special and FIM
  /// tokens, one item per line.
  public var summaryLines: [String] {
    func describe(_ id: Int32?) -> String {
      guard let id else { return "none" }
      return "\(id) \(tokenText(id).debugDescription)"
    }
    var lines = [
      "tokenizer: \(algorithm.rawValue) (\(algorithm == .byteLevelBPE ? "byte-level BPE" : "SentencePiece BPE")), "
        + "\(vocabularySize) tokens"
        + (algorithm == .byteLevelBPE
          ? ", \(vocabulary.merges.count) merges, pre-tokenizer "
            + "\(vocabulary.preTokenizerName ?? "default") (\(preTokenizer?.name ?? "?") rules)" : ""),
      "add BOS: \(addBOSByDefault), BOS: \(describe(bosID)), EOS: \(describe(eosID)), EOT: \(describe(eotID)), "
        + "PAD: \(describe(padID)), UNK: \(describe(unknownID))",
      "FIM prefix: \(describe(fimPrefixID)), suffix: \(describe(fimSuffixID)), middle: \(describe(fimMiddleID)), "
        + "pad: \(describe(fimPadID)), repo: \(describe(fimRepoID)), file separator: \(describe(fimSeparatorID))",
      "end of generation: " + endOfGenerationIDs.map { describe($0) }.joined(separator: ", "),
    ]
    var counts: [TokenType: Int] = [:]
    for type in types { counts[type, default: 0] += 1 }
    lines.append(
      "token types: "
        + counts.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
    return lines
  }

  // MARK: Decoding

  /// The text of a sequence of tokens: their `tokenBytes` joined and read as UTF-8 (an invalid or incomplete
  /// sequence becomes U+FFFD). Control tokens contribute nothing; SentencePiece's leading space is kept.
  public func decode(_ ids: [Int32]) -> String {
    String(decoding: decodeBytes(ids), as: UTF8.self)
  }

  /// The bytes of a sequence of tokens (their `tokenBytes` joined).
  public func decodeBytes(_ ids: [Int32]) -> [UInt8] {
    var out = [UInt8]()
    for id in ids where id >= 0 && Int(id) < vocabularySize {
      out.append(contentsOf: pieceArena[Int(pieceStarts[Int(id)])..<Int(pieceStarts[Int(id) + 1])])
    }
    return out
  }

  // MARK: Encoding

  /// Token ids of `text`.
  ///
  /// - Parameters:
  ///   - text: the text.
  ///   - addBOS: put `bosID` first (when the vocabulary has one).
  ///   - parseSpecial: match control tokens written in the text (`<|fim_prefix|>`, `<|endoftext|>`) as single
  ///     tokens. Off, they are tokenized as plain text. User-defined tokens are always matched (as llama.cpp and
  ///     Hugging Face do).
  /// - Returns: the ids, without EOS.
  public func encode(_ text: String, addBOS: Bool = false, parseSpecial: Bool = false) -> [Int32] {
    var out = [Int32]()
    if addBOS, let bosID { out.append(bosID) }
    var text = text
    text.withUTF8 { buffer in
      out.reserveCapacity(out.count + buffer.count / 3 + 4)
      lock.lock()
      defer { lock.unlock() }
      encodeLocked(buffer, parseSpecial: parseSpecial, into: &out)
    }
    return out
  }

  /// Splits off special tokens, then encodes each plain fragment. Caller holds `lock`.
  private func encodeLocked(_ bytes: UnsafeBufferPointer<UInt8>, parseSpecial: Bool, into out: inout [Int32]) {
    var fragmentStart = 0
    var previousWasSpecial = true
    var i = 0
    let n = bytes.count
    while i < n {
      let bucket = specialsByFirstByte[Int(bytes[i])]
      var matched: SpecialToken?
      if !bucket.isEmpty {
        for special in bucket where special.bytes.count <= n - i && (parseSpecial || !special.needsParseSpecial) {
          var equal = true
          for k in 1..<special.bytes.count where bytes[i + k] != special.bytes[k] {
            equal = false
            break
          }
          if equal {
            matched = special
            break
          }
        }
      }
      if let matched {
        if i > fragmentStart {
          encodeFragment(bytes, fragmentStart..<i, previousWasSpecial: previousWasSpecial, into: &out)
        }
        out.append(matched.id)
        previousWasSpecial = true
        i += matched.bytes.count
        fragmentStart = i
      } else {
        i += 1
      }
    }
    if fragmentStart < n {
      encodeFragment(bytes, fragmentStart..<n, previousWasSpecial: previousWasSpecial, into: &out)
    }
  }

  private func encodeFragment(
    _ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, previousWasSpecial: Bool, into out: inout [Int32]
  ) {
    switch vocabulary.algorithm {
    case .byteLevelBPE: encodeByteLevel(bytes, range, into: &out)
    case .sentencePiece: encodeSentencePiece(bytes, range, prefixSpace: previousWasSpecial, into: &out)
    }
  }

  // MARK: Byte-level BPE

  private func encodeByteLevel(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, into out: inout [Int32]) {
    guard let preTokenizer else { return }
    // Scalars of the fragment and their byte offsets (the text came from a String, so it is valid UTF-8).
    var scalars = [UInt32]()
    var offsets = [Int]()
    var classes = [CharacterClass]()
    scalars.reserveCapacity(range.count)
    offsets.reserveCapacity(range.count + 1)
    classes.reserveCapacity(range.count)
    var i = range.lowerBound
    while i < range.upperBound {
      let b0 = UInt32(bytes[i])
      var value: UInt32
      var length: Int
      if b0 < 0x80 {
        value = b0
        length = 1
      } else if b0 < 0xE0 {
        value = (b0 & 0x1F) << 6 | UInt32(bytes[i + 1] & 0x3F)
        length = 2
      } else if b0 < 0xF0 {
        value = (b0 & 0x0F) << 12 | UInt32(bytes[i + 1] & 0x3F) << 6 | UInt32(bytes[i + 2] & 0x3F)
        length = 3
      } else {
        value =
          (b0 & 0x07) << 18 | UInt32(bytes[i + 1] & 0x3F) << 12 | UInt32(bytes[i + 2] & 0x3F) << 6
          | UInt32(bytes[i + 3] & 0x3F)
        length = 4
      }
      scalars.append(value)
      offsets.append(i)
      classes.append(CharacterClass.of(value))
      i += length
    }
    offsets.append(range.upperBound)

    var words = [Range<Int>]()
    words.reserveCapacity(scalars.count / 3 + 1)
    preTokenizer.split(scalars: scalars, classes: classes, range: 0..<scalars.count, into: &words)
    for word in words {
      let start = offsets[word.lowerBound]
      let end = offsets[word.upperBound]
      encodeWord(UnsafeBufferPointer(rebasing: bytes[start..<end]), into: &out)
    }
  }

  /// Encodes one pre-tokenized word (raw UTF-8 bytes), through the cache.
  private func encodeWord(_ word: UnsafeBufferPointer<UInt8>, into out: inout [Int32]) {
    if word.count == 1 {
      let id = byteTokens[Int(word[0])]
      if id >= 0 { out.append(id) } else if let unknownID { out.append(unknownID) }
      return
    }
    if wordCache.lookup(word, into: &out) { return }
    let start = out.count
    mergeWord(word, into: &out)
    if word.count <= WordCache.maxWordBytes { wordCache.store(word, Array(out[start...])) }
  }

  /// Byte-level BPE of one word: start from its bytes' tokens and apply the lowest-ranked merge (leftmost first)
  /// until none applies.
  private func mergeWord(_ word: UnsafeBufferPointer<UInt8>, into out: inout [Int32]) {
    if preTokenizer?.ignoreMerges == true, let id = textTable.get(ByteLevel.encode(word)) {
      out.append(id)
      return
    }
    let n = word.count
    var ids = [Int32](repeating: -1, count: n)
    var next = [Int](repeating: -1, count: n)
    var prev = [Int](repeating: -1, count: n)
    for k in 0..<n {
      ids[k] = byteTokens[Int(word[k])]
      next[k] = k + 1 < n ? k + 1 : -1
      prev[k] = k - 1
    }
    var heap = MinHeap(capacity: 2 * n)
    @inline(__always) func rankedMerge(_ l: Int, _ r: Int) -> UInt64? {
      guard ids[l] >= 0 && ids[r] >= 0 else { return nil }
      return merges.get(UInt64(UInt32(ids[l])) << 32 | UInt64(UInt32(ids[r])))
    }
    @inline(__always) func push(_ l: Int) {
      guard l >= 0, next[l] >= 0, let m = rankedMerge(l, next[l]) else { return }
      heap.push((m >> 32) << 32 | UInt64(l))
    }
    for k in 0..<(n - 1) { push(k) }
    while let key = heap.pop() {
      let l = Int(key & 0xFFFF_FFFF)
      let rank = key >> 32
      let r = next[l]
      // Skip entries made stale by an earlier merge (the pair at `l` changed).
      guard r >= 0, let m = rankedMerge(l, r), m >> 32 == rank else { continue }
      ids[l] = Int32(truncatingIfNeeded: m & 0xFFFF_FFFF)
      ids[r] = -2  // merged away
      next[l] = next[r]
      if next[r] >= 0 { prev[next[r]] = l }
      push(prev[l])
      push(l)
    }
    var k = 0
    while k >= 0 && k < n {
      let id = ids[k]
      if id >= 0 {
        out.append(id)
      } else if id == -1, let unknownID {
        out.append(unknownID)  // a byte with no token (an incomplete vocabulary)
      }
      k = next[k]
    }
  }

  // MARK: SentencePiece

  /// SentencePiece BPE of one fragment: spaces become `▁` (with one more in front when `prefixSpace` and the
  /// vocabulary adds a dummy prefix), the text is split into characters, and the adjacent pair whose concatenation
  /// is the highest-scoring token is merged (leftmost first) until none is; characters that are not tokens become
  /// their `<0xXX>` byte tokens.
  private func encodeSentencePiece(
    _ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, prefixSpace: Bool, into out: inout [Int32]
  ) {
    var text = [UInt8]()
    text.reserveCapacity(range.count + 3)
    if prefixSpace && vocabulary.addSpacePrefix { text.append(contentsOf: [0xE2, 0x96, 0x81]) }
    for k in range {
      if bytes[k] == 0x20 { text.append(contentsOf: [0xE2, 0x96, 0x81]) } else { text.append(bytes[k]) }
    }
    let total = text.count
    guard total > 0 else { return }
    // Symbols: one per UTF-8 character, as byte ranges of `text`.
    var starts = [Int]()
    var lengths = [Int]()
    var k = 0
    while k < total {
      let b = text[k]
      let length = b < 0x80 ? 1 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4
      starts.append(k)
      lengths.append(min(length, total - k))
      k += length
    }
    let n = starts.count
    var next = (0..<n).map { $0 + 1 < n ? $0 + 1 : -1 }
    var prev = (0..<n).map { $0 - 1 }
    var heap = MinHeap(capacity: 2 * n)

    text.withUnsafeBufferPointer { buffer in
      /// The mergeable token spelled by `buffer[start..<start+length]`, or nil.
      @inline(__always) func token(_ start: Int, _ length: Int) -> Int32? {
        guard let id = textTable.get(UnsafeBufferPointer(rebasing: buffer[start..<(start + length)])) else {
          return nil
        }
        let type = types[Int(id)]
        return type == .normal || type == .userDefined ? id : nil
      }
      /// Score order: higher score first, then leftmost; packed so that a smaller key comes first.
      @inline(__always) func key(_ score: Float, _ left: Int) -> UInt64 {
        let bits = score.bitPattern
        let ascending = bits & 0x8000_0000 != 0 ? ~bits : bits | 0x8000_0000
        return UInt64(~ascending) << 32 | UInt64(left)
      }
      @inline(__always) func push(_ l: Int) {
        guard l >= 0, next[l] >= 0 else { return }
        let r = next[l]
        guard let id = token(starts[l], lengths[l] + lengths[r]) else { return }
        heap.push(key(scores[Int(id)], l))
      }
      for i in 0..<(n - 1) { push(i) }
      while let entry = heap.pop() {
        let l = Int(entry & 0xFFFF_FFFF)
        let r = next[l]
        guard lengths[l] > 0, r >= 0, let id = token(starts[l], lengths[l] + lengths[r]),
          key(scores[Int(id)], l) == entry
        else { continue }
        lengths[l] += lengths[r]
        lengths[r] = 0
        next[l] = next[r]
        if next[r] >= 0 { prev[next[r]] = l }
        push(prev[l])
        push(l)
      }
      var i = 0
      while i >= 0 {
        if let id = textTable.get(UnsafeBufferPointer(rebasing: buffer[starts[i]..<(starts[i] + lengths[i])])) {
          out.append(id)
        } else {
          for b in buffer[starts[i]..<(starts[i] + lengths[i])] {
            let id = byteFallbackTokens[Int(b)]
            if id >= 0 { out.append(id) } else if let unknownID { out.append(unknownID) }
          }
        }
        i = next[i]
      }
    }
  }
}

/// Encoded words, keyed by their UTF-8 bytes; emptied when it grows past `limit` words.
///
/// - Important: not thread-safe; `Tokenizer` uses it under its lock.
final class WordCache {
  static let limit = 100_000
  /// Longer words (minified code, base64) are not worth keeping.
  static let maxWordBytes = 256
  private var table = ByteStringTable(capacity: 4096)
  private var starts: [Int32] = []
  private var counts: [Int32] = []
  private var arena: [Int32] = []

  /// Appends the cached ids of `word` to `out` and returns true, or returns false when it is not cached.
  func lookup(_ word: UnsafeBufferPointer<UInt8>, into out: inout [Int32]) -> Bool {
    guard let entry = table.get(word) else { return false }
    let start = Int(starts[Int(entry)])
    out.append(contentsOf: arena[start..<(start + Int(counts[Int(entry)]))])
    return true
  }

  func store(_ word: UnsafeBufferPointer<UInt8>, _ ids: [Int32]) {
    if starts.count >= Self.limit {
      table = ByteStringTable(capacity: 4096)
      starts.removeAll(keepingCapacity: true)
      counts.removeAll(keepingCapacity: true)
      arena.removeAll(keepingCapacity: true)
    }
    table.insertIfAbsent(word, Int32(starts.count))
    starts.append(Int32(arena.count))
    counts.append(Int32(ids.count))
    arena.append(contentsOf: ids)
  }
}
