import Foundation
import GGUF

/// What `InferenceSession.evaluate` did.
public struct Evaluation: Sendable {
  /// Logits of the last evaluated position.  // (vocab)
  public var logits: [Float]
  /// Logits of every position of the call's tokens, when asked for.  // (tokens, vocab) flattened
  public var allLogits: [Float]?
  /// Tokens taken from the KV cache (the common prefix with the previous call).
  public var reusedTokens: Int
  /// Tokens computed by this call.
  public var computedTokens: Int
  /// False when the stop closure ended the prefill early; the cache then holds the computed prefix and `logits`
  /// is empty.
  public var completed: Bool
}

/// One conversation with a model: the KV cache, the tokens in it, and the scratch buffers of the forward pass
/// (llama2.c's `RunState`).
///
/// `evaluate(_:)` reuses the longest common prefix of the new tokens and the cached ones and computes only the
/// rest, in batched chunks of `ModelOptions.prefillChunk` tokens (matrix-matrix products), then one token at a
/// time during generation (matrix-vector products on the packed weights). `rollback(to:)` forgets positions.
///
/// - Important: not thread-safe: use a session from one thread at a time. Sessions of the same model are
///   independent and may run on different threads (they share only the immutable weights).
public final class InferenceSession {
  public let model: LanguageModel
  public var config: ModelConfig { model.config }
  /// The tokens whose keys and values are in the cache, in order.
  public private(set) var tokens: [Int32] = []
  /// Logits after the last cached token, when known.
  private var lastLogits: [Float]?

  let cache: KVCache
  let engine: ForwardPass

  /// Creates a session with an empty cache of `model.config.contextLength` positions.
  ///
  /// - Parameters:
  ///   - model: the loaded model.
  ///   - kvCacheType: overrides `model.options.kvCacheType`.
  public init(model: LanguageModel, kvCacheType: KVCacheType? = nil) {
    self.model = model
    let c = model.config
    cache = KVCache(
      type: kvCacheType ?? model.options.kvCacheType, layers: c.blockCount, kvHeads: c.headCountKV,
      headDim: c.headDimension, capacity: c.contextLength)
    engine = ForwardPass(
      config: c, weights: model.weights, cache: cache, chunk: max(1, model.options.prefillChunk),
      threads: model.options.threads, precision: model.options.exactProducts ? .exact : .fast,
      matVecOptions: model.options.matVecOptions, fusedDecode: model.options.fusedDecode,
      decodeSchedule: model.options.decodeSchedule, spinPause: model.options.spinPause)
  }

  /// Capacity of the context window in tokens.
  public var capacity: Int { cache.capacity }

  /// Bytes of KV cache per cached token.
  public var kvBytesPerToken: Int { cache.bytesPerToken }

  /// Runs the model over `tokens`, reusing the cached prefix they share with the previous call.
  ///
  /// - Parameters:
  ///   - tokens: the whole sequence (prompt and anything generated so far), not just the new part.
  ///   - allLogits: also return the logits of every position of `tokens` (forces recomputing from position 0).
  ///   - chunk: tokens per batched prefill step, at most (and by default) `ModelOptions.prefillChunk`; smaller
  ///     chunks lose less work when `shouldStop` ends the prefill.
  ///   - shouldStop: polled between prefill chunks and between the layers of a chunk; returning true stops early with `completed == false`, keeping the chunks already finished in the cache.
  /// - Returns: logits of the last position and how much was reused.
  /// - Throws: `InferenceError.invalidToken`, `.contextOverflow` or `.invalidArgument` (empty `tokens`).
  public func evaluate(
    _ tokens: [Int32], allLogits: Bool = false, chunk: Int? = nil, shouldStop: () -> Bool = { false }
  ) throws(InferenceError) -> Evaluation {
    let slowdown = model.options.slowdown
    guard slowdown > 1, slowdown.isFinite else {
      return try evaluateAtFullSpeed(tokens, allLogits: allLogits, chunk: chunk, shouldStop: shouldStop)
    }
    // A slowed engine (benchmarks) waits at every poll, between layers, for (slowdown - 1) times the work done since
    // the previous poll: a stop is then seen as promptly, in layers, as on a machine that slow.
    var lastPoll = DispatchTime.now().uptimeNanoseconds
    defer { throttle(since: lastPoll) }
    return try withoutActuallyEscaping(shouldStop) { stop throws(InferenceError) in
      try evaluateAtFullSpeed(
        tokens, allLogits: allLogits, chunk: chunk,
        shouldStop: {
          self.throttle(since: lastPoll)
          lastPoll = DispatchTime.now().uptimeNanoseconds
          return stop()
        })
    }
  }

  private func evaluateAtFullSpeed(
    _ tokens: [Int32], allLogits: Bool, chunk: Int?, shouldStop: () -> Bool
  ) throws(InferenceError) -> Evaluation {
    guard !tokens.isEmpty else { throw .invalidArgument("evaluate needs at least one token") }
    guard tokens.count <= capacity else { throw .contextOverflow(needed: tokens.count, capacity: capacity) }
    let vocab = config.vocabularySize
    for t in tokens where t < 0 || Int(t) >= vocab { throw .invalidToken(id: t, vocabularySize: vocab) }

    var common = 0
    if !allLogits {
      let limit = min(tokens.count, self.tokens.count)
      while common < limit && tokens[common] == self.tokens[common] { common += 1 }
      if common == tokens.count {
        if common == self.tokens.count, let lastLogits {
          return Evaluation(
            logits: lastLogits, allLogits: nil, reusedTokens: common, computedTokens: 0, completed: true)
        }
        // The new sequence is a prefix of the cache: recompute its last position to get its logits.
        common -= 1
      }
    }
    rollbackUnchecked(to: common)

    var all: [Float]? = allLogits ? [Float](repeating: 0, count: tokens.count * vocab) : nil
    var position = common
    var last = [Float]()
    // Polled between prefill chunks and between the layers of a chunk; an abandoned chunk is not cached.
    while position < tokens.count {
      if position > common && shouldStop() {
        return Evaluation(
          logits: [], allLogits: nil, reusedTokens: common, computedTokens: position - common, completed: false)
      }
      let n = min(max(1, min(chunk ?? engine.chunk, engine.chunk)), tokens.count - position)
      let chunk = Array(tokens[position..<(position + n)])
      let isLast = position + n == tokens.count
      var finished = true
      if allLogits {
        all!.withUnsafeMutableBufferPointer { buf in
          finished = engine.forward(
            tokens: chunk, start: position, logitsOut: buf.baseAddress! + position * vocab, allRows: true,
            shouldStop: shouldStop)
        }
        if isLast { last = Array(all![((tokens.count - 1) * vocab)..<(tokens.count * vocab)]) }
      } else if isLast {
        last = [Float](repeating: 0, count: vocab)
        last.withUnsafeMutableBufferPointer { buf in
          finished = engine.forward(
            tokens: chunk, start: position, logitsOut: buf.baseAddress!, allRows: false, shouldStop: shouldStop)
        }
      } else {
        finished = engine.forward(
          tokens: chunk, start: position, logitsOut: nil, allRows: false, shouldStop: shouldStop)
      }
      guard finished else {
        return Evaluation(
          logits: [], allLogits: nil, reusedTokens: common, computedTokens: position - common, completed: false)
      }
      self.tokens.append(contentsOf: chunk)
      position += n
    }
    lastLogits = last
    return Evaluation(
      logits: last, allLogits: all, reusedTokens: common, computedTokens: tokens.count - common, completed: true)
  }

  /// Appends one token and returns the logits after it (the decode step of generation).
  ///
  /// - Throws: `InferenceError.invalidToken` or `.contextOverflow`.
  public func append(_ token: Int32) throws(InferenceError) -> [Float] {
    guard token >= 0, Int(token) < config.vocabularySize else {
      throw .invalidToken(id: token, vocabularySize: config.vocabularySize)
    }
    guard tokens.count < capacity else { throw .contextOverflow(needed: tokens.count + 1, capacity: capacity) }
    var logits = [Float](repeating: 0, count: config.vocabularySize)
    let start = DispatchTime.now().uptimeNanoseconds
    defer { throttle(since: start) }
    logits.withUnsafeMutableBufferPointer { buf in
      _ = engine.forward(tokens: [token], start: tokens.count, logitsOut: buf.baseAddress!, allRows: false)
    }
    tokens.append(token)
    lastLogits = logits
    return logits
  }

  /// Forgets every position from `length` on; the next `evaluate` recomputes them.
  ///
  /// - Throws: `InferenceError.invalidArgument` when `length` is negative or past the cached length.
  public func rollback(to length: Int) throws(InferenceError) {
    guard length >= 0, length <= tokens.count else {
      throw .invalidArgument("cannot roll back to \(length): the cache holds \(tokens.count) tokens")
    }
    rollbackUnchecked(to: length)
  }

  /// Empties the cache.
  public func reset() { rollbackUnchecked(to: 0) }

  /// With `ModelOptions.slowdown` s > 1, waits (s - 1) times the work done since `start`.
  private func throttle(since start: UInt64) {
    let slowdown = model.options.slowdown
    guard slowdown > 1, slowdown.isFinite else { return }
    let worked = Double(DispatchTime.now().uptimeNanoseconds - start)
    let wait = worked * (slowdown - 1) / 1000
    if wait >= 1 { usleep(UInt32(min(wait, 60e6))) }
  }

  private func rollbackUnchecked(to length: Int) {
    if length < tokens.count {
      tokens.removeSubrange(length...)
      lastLogits = nil
    }
  }
}
