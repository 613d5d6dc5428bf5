import CodeCompletion

/// How a request under a deadline is answered: from the full context, or from a shorter window around the cursor
/// that the measured speed can prefill within the latency target.
public struct LatencyPlan: Sendable, Equatable {
  /// The prompt windows.
  public enum Window: Sendable, Equatable {
    /// The configured budgets (the prompt the background prefill and typing reuse).
    case full
    /// A window of at most these many tokens before and after the cursor, and no other documents.
    case short(prefixTokens: Int, suffixTokens: Int)
  }

  public var window: Window
  /// Why, in words (for `--explain`).
  public var reason: String
  /// Even the shortest window misses the target at this speed.
  public var tooSlow: Bool
}

/// Chooses the prompt window of a request from the measured speed, so a cold request answers within the latency
/// target on any machine that can run the model, and the full context is used once it is in the KV cache.
///
/// The estimate of a request: the prompt tokens not yet in the KV cache at the prefill speed, plus the tokens a
/// completion of this kind usually needs at the decode speed. When the full prompt does not fit, the short window
/// gets what the prefill can do in the time left after generation (at least half the target), split 4:1 between the
/// text before and after the cursor, never less than `shortestPrefix` and `shortestSuffix`.
public enum LatencyPolicy {
  /// The smallest windows a short prompt is made of.
  public static let shortestPrefix = 24
  public static let shortestSuffix = 8
  /// Tokens a completion usually needs before it is worth showing: a line, or the first lines of a block.
  public static func expectedGeneration(block: Bool) -> Int { block ? 24 : 12 }

  /// - Parameters:
  ///   - fullRemaining: tokens of the full prompt not in the KV cache.
  ///   - speed: the measured speed; nil plans the full prompt (nothing is known yet).
  ///   - targetMilliseconds: the latency target of this request.
  ///   - block: the completion is a block (more tokens to generate).
  ///   - settings: the configured budgets (the short window never exceeds them).
  public static func plan(
    fullRemaining: Int, speed: MachineSpeed?, targetMilliseconds: Int, block: Bool, settings: CompletionSettings
  ) -> LatencyPlan {
    guard let speed, speed.prefillTokensPerSecond > 0, speed.decodeTokensPerSecond > 0 else {
      return LatencyPlan(window: .full, reason: "no speed measured yet: the full context", tooSlow: false)
    }
    let target = Double(max(1, targetMilliseconds)) / 1000
    let generation = Double(expectedGeneration(block: block)) / speed.decodeTokensPerSecond
    let prefillTime = max(target - generation, target / 2)
    let affordable = Int(speed.prefillTokensPerSecond * prefillTime)
    let shortest = shortestPrefix + shortestSuffix
    let tooSlow = Double(shortest) / speed.prefillTokensPerSecond + generation > target
    let estimate = Double(fullRemaining) / speed.prefillTokensPerSecond + generation
    if fullRemaining <= affordable {
      return LatencyPlan(
        window: .full,
        reason: "the full context: \(fullRemaining) tokens to prefill, about \(milliseconds(estimate)) ms with "
          + "generation, within the \(targetMilliseconds) ms target",
        tooSlow: tooSlow)
    }
    var prefix = min(max(shortestPrefix, affordable * 4 / 5), max(shortestPrefix, settings.prefixTokens))
    var suffix = min(max(shortestSuffix, affordable - prefix), max(shortestSuffix, settings.suffixTokens))
    if affordable <= shortest { (prefix, suffix) = (shortestPrefix, shortestSuffix) }
    return LatencyPlan(
      window: .short(prefixTokens: prefix, suffixTokens: suffix),
      reason: "a short window of \(prefix)+\(suffix) tokens: the full context needs \(fullRemaining) more tokens, "
        + "about \(milliseconds(estimate)) ms, over the \(targetMilliseconds) ms target"
        + (tooSlow ? " (even the shortest window misses it at this speed)" : ""),
      tooSlow: tooSlow)
  }

  static func milliseconds(_ seconds: Double) -> Int { Int((seconds * 1000).rounded()) }

  /// What the editor is told, once, when even the shortest window misses the target.
  public static func tooSlowMessage(_ speed: MachineSpeed, targetMilliseconds: Int, model: String) -> String {
    "This machine runs \(model) at \(speed.description): too slow for suggestions within "
      + "\(targetMilliseconds) ms even from a few lines around the cursor. Suggestions come later than that. "
      + "A smaller model preset (smollm2-135m), more engine threads, or a longer latencyTargetMilliseconds helps."
  }
}
