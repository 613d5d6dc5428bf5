/// The text each token of a vocabulary stands for, as bytes, indexed by first byte (built once per model, shared
/// by every generation).
public final class TokenPieces: @unchecked Sendable {
  /// The bytes of each token.  // (vocab)
  public let bytes: [[UInt8]]
  /// The ids of the non-empty tokens that start with each byte value.  // (256)
  let byFirstByte: [[Int32]]

  public init(bytes: [[UInt8]]) {
    self.bytes = bytes
    var buckets = [[Int32]](repeating: [], count: 256)
    for (id, piece) in bytes.enumerated() where !piece.isEmpty {
      buckets[Int(piece[0])].append(Int32(truncatingIfNeeded: id))
    }
    self.byFirstByte = buckets
  }

  /// Tokens that can spell the start of `text`: those whose bytes start with it, and those whose bytes are a
  /// non-empty prefix of it.
  public func compatible(with text: ArraySlice<UInt8>) -> [Int32] {
    var result: [Int32] = []
    forEachCompatible(with: text) { result.append($0) }
    return result
  }

  func forEachCompatible(with text: ArraySlice<UInt8>, _ body: (Int32) -> Void) {
    guard let first = text.first else { return }
    for id in byFirstByte[Int(first)] {
      let piece = bytes[Int(id)]
      if piece.count >= text.count ? piece.starts(with: text) : text.starts(with: piece) { body(id) }
    }
  }
}

/// Token healing (after Microsoft's guidance library and transformers' `token_healing`): the prompt's last token
/// was taken off, and the first generated tokens must spell its text again. Until they have, only tokens
/// compatible with the rest of that text stay candidates; after, the processor does nothing.
///
/// Cost per constrained step: one pass over the vocabulary to mask it, plus the tokens that start with the
/// text's next byte; nothing of vocabulary size is allocated.
public final class TokenHealingProcessor: LogitProcessor {
  public let name = "token-healing"
  /// The text the first tokens must spell.
  public let text: [UInt8]
  private let pieces: TokenPieces
  /// How many bytes of `text` the accepted tokens have spelled.
  private var spelled = 0
  private var allowed: [(token: Int32, logit: Float)] = []

  public init(text: [UInt8], pieces: TokenPieces) {
    self.text = text
    self.pieces = pieces
  }

  /// True while the text is not spelled yet.
  public var isActive: Bool { spelled < text.count }

  public func accept(_ token: Int32) {
    guard isActive, token >= 0, Int(token) < pieces.bytes.count else { return }
    spelled += pieces.bytes[Int(token)].count
  }

  public func apply(_ candidates: inout Candidates) {
    guard isActive else { return }
    allowed.removeAll(keepingCapacity: true)
    pieces.forEachCompatible(with: text[spelled...]) { id in
      if let logit = candidates.logit(of: id) { allowed.append((id, logit)) }
    }
    candidates.keepOnly(allowed)
  }

  public func reset() { spelled = 0 }
}

/// Forbids some tokens as the first generated token (a retry of a candidate whose first choice gave nothing).
public final class BannedFirstTokensProcessor: LogitProcessor {
  public let name = "banned-first"
  public let tokens: Set<Int32>
  private var generated = 0

  public init(tokens: Set<Int32>) { self.tokens = tokens }

  public func accept(_ token: Int32) { generated += 1 }

  public func apply(_ candidates: inout Candidates) {
    guard generated == 0 else { return }
    candidates.modifyLogits(of: tokens) { _, logit in logit = -.infinity }
  }

  public func reset() { generated = 0 }
}
