import Foundation
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

/// Sets of token ids the sampler chain needs, computed once per model by looking at every token's text.
///
/// - Important: `exempt(for:)` caches per character set under a lock; everything else is immutable.
final class TokenClasses: @unchecked Sendable {
  /// Tokens whose text contains a line break (ends a single-line completion).
  let newline: Set<Int32>
  /// Tokens whose text contains two line breaks (a blank line: a natural end of a block completion).
  let blankLine: Set<Int32>
  /// Tokens that end generation (EOS, EOT, `<|endoftext|>`, `<|im_end|>`, …).
  let endOfGeneration: Set<Int32>
  private let pieces: [String]
  /// What each token contributes to the text, as bytes.
  let pieceBytes: [[UInt8]]
  private let lock = NSLock()
  private var exemptCache: [String: Set<Int32>] = [:]

  init(tokenizer: Tokenizer, exemptCharacters: String) {
    var pieces: [String] = []
    pieces.reserveCapacity(tokenizer.vocabularySize)
    var pieceBytes: [[UInt8]] = []
    pieceBytes.reserveCapacity(tokenizer.vocabularySize)
    var newline = Set<Int32>()
    var blank = Set<Int32>()
    for id in 0..<Int32(tokenizer.vocabularySize) {
      let bytes = tokenizer.tokenBytes(id)
      let piece = String(decoding: bytes, as: UTF8.self)
      pieces.append(piece)
      pieceBytes.append(bytes)
      let breaks = bytes.reduce(0) { $0 + ($1 == 10 ? 1 : 0) }
      if breaks > 0 { newline.insert(id) }
      if breaks > 1 { blank.insert(id) }
    }
    self.pieces = pieces
    self.pieceBytes = pieceBytes
    self.newline = newline
    self.blankLine = blank
    self.endOfGeneration = Set(tokenizer.endOfGenerationIDs)
    _ = exempt(for: exemptCharacters)
  }

  /// Tokens that can spell the start of `remaining` (token healing): those whose text starts with it, and those
  /// whose text is a non-empty prefix of it.
  func compatible(with remaining: [UInt8]) -> [Int32] {
    var result: [Int32] = []
    guard let first = remaining.first else { return result }
    for (id, bytes) in pieceBytes.enumerated() where !bytes.isEmpty && bytes[0] == first {
      if bytes.count >= remaining.count ? bytes.starts(with: remaining) : remaining.starts(with: bytes) {
        result.append(Int32(id))
      }
    }
    return result
  }

  /// Tokens made only of whitespace and the given characters: code repeats them legitimately, so the
  /// repetition, frequency and presence penalties leave them alone.
  func exempt(for characters: String) -> Set<Int32> {
    lock.lock()
    defer { lock.unlock() }
    if let cached = exemptCache[characters] { return cached }
    let allowed = Set(characters.unicodeScalars)
    var result = Set<Int32>()
    for (id, piece) in pieces.enumerated() where !piece.isEmpty {
      if piece.unicodeScalars.allSatisfy({ allowed.contains($0) || $0.properties.isWhitespace }) {
        result.insert(Int32(id))
      }
    }
    exemptCache[characters] = result
    return result
  }
}
