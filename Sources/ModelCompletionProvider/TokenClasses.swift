import Foundation
import Sampling
import Tokenization

/// Makes the real tokenizer usable by the prompt builder.
final class TokenizerAdapter: PromptTokenizer {
  let tokenizer: Tokenizer

  init(_ tokenizer: Tokenizer) {
    self.tokenizer = tokenizer
  }

  func encodePlain(_ text: String) -> [Int32] {
    tokenizer.encode(text, addBOS: false, parseSpecial: false)
  }

  func tokenID(forText text: String) -> Int32? {
    tokenizer.tokenID(forText: text)
  }

  var metadataFIM: (prefix: Int32?, suffix: Int32?, middle: Int32?, pad: Int32?, repo: Int32?, separator: Int32?) {
    (
      tokenizer.fimPrefixID, tokenizer.fimSuffixID, tokenizer.fimMiddleID, tokenizer.fimPadID, tokenizer.fimRepoID,
      tokenizer.fimSeparatorID
    )
  }
}

/// Sets of token ids the sampler chain needs, computed once per model from every token's text by the rules of
/// `Sampling.TokenSets`.
///
/// - Important: `exempt(for:)` caches per character set under a lock; everything else is immutable.
final class TokenClasses: @unchecked Sendable {
  /// Tokens whose text contains a line break (ends a single-line completion).
  let newline: Set<Int32>
  /// Tokens whose text contains two line breaks (a blank line: a natural end of a block completion).
  let blankLine: Set<Int32>
  /// Tokens that end generation (EOS, EOT, `<|endoftext|>`, `<|im_end|>`, …).
  let endOfGeneration: Set<Int32>
  /// What each token contributes to the text, as bytes (token healing).
  let pieces: TokenPieces
  private let texts: [String]
  private let lock = NSLock()
  private var exemptCache: [String: Set<Int32>] = [:]

  init(tokenizer: Tokenizer, exemptCharacters: String) {
    let bytes = (0..<Int32(tokenizer.vocabularySize)).map { tokenizer.tokenBytes($0) }
    let texts = bytes.map { String(decoding: $0, as: UTF8.self) }
    self.texts = texts
    self.pieces = TokenPieces(bytes: bytes)
    self.newline = TokenSets.endOfLineTokens(vocabularySize: texts.count) { texts[Int($0)] }
    self.blankLine = TokenSets.blankLineTokens(vocabularySize: texts.count) { texts[Int($0)] }
    self.endOfGeneration = Set(tokenizer.endOfGenerationIDs)
    _ = exempt(for: exemptCharacters)
  }

  /// Tokens made only of whitespace and the given characters: code repeats them legitimately, so the
  /// repetition, frequency and presence penalties leave them alone.
  func exempt(for characters: String) -> Set<Int32> {
    lock.lock()
    defer { lock.unlock() }
    if let cached = exemptCache[characters] { return cached }
    let texts = self.texts
    let result = TokenSets.exemptTokens(vocabularySize: texts.count, exemptCharacters: characters) { texts[Int($0)] }
    exemptCache[characters] = result
    return result
  }
}
