import Foundation
import SyntaxCheck

/// The pipeline's view of the syntax-check middleware (module SyntaxCheck): the completion mode from the
/// cursor's context, a streaming stopper fed with every piece of generated text, and the final check and
/// post-filters. With `enabled` false (measurement only) it keeps just what every completion tool does: stop a
/// single-line completion at the end of its line, trim trailing whitespace, never return only whitespace.
struct SyntaxMiddleware {
  let language: String
  let enabled: Bool
  /// The scanned prefix and suffix (nil when disabled).
  private let context: CursorContext?
  private let prefix: String
  private let suffix: String
  private(set) var modeReason = ""

  init(language: String, prefix: String, suffix: String, enabled: Bool) {
    self.language = language
    self.enabled = enabled
    self.prefix = prefix
    self.suffix = suffix
    context =
      enabled ? CursorContext(prefix: prefix, suffix: suffix, language: Languages.lookup(languageId: language)) : nil
  }

  /// A middleware that only trims (generate-code's chat answers are whole code blocks).
  static func disabled(language: String) -> SyntaxMiddleware {
    SyntaxMiddleware(language: language, prefix: "", suffix: "", enabled: false)
  }

  /// The completion mode: forced by configuration (`CompletionSettings.multiline` `line` or `block`) or decided
  /// from the cursor's context.
  mutating func mode(forced: String) -> CompletionMode {
    if let mode = CompletionMode(setting: forced) {
      modeReason = "forced by configuration"
      return mode
    }
    let context =
      self.context ?? CursorContext(prefix: prefix, suffix: suffix, language: Languages.lookup(languageId: language))
    let decision = decideCompletionMode(context: context)
    modeReason = decision.reason
    return decision.mode
  }

  /// A stopper for one candidate's streaming text.
  func makeStopper(mode: CompletionMode) -> Stopper {
    Stopper(mode: mode, stopper: context.map { StreamingStopper(context: $0, mode: mode) })
  }

  /// Decides, while tokens stream, where a completion ends.
  struct Stopper {
    let mode: CompletionMode
    let stopper: StreamingStopper?

    /// - Returns: the UTF-8 length to keep and the reason, when generation should stop now.
    mutating func feed(_ piece: String, accumulated: String) -> (cut: Int, reason: String)? {
      if let stopper {
        if case .stop(let at, let reason) = stopper.feed(piece) { return (at, reason.description) }
        return nil
      }
      // Disabled middleware: only the end of the line in single-line mode.
      guard mode == .singleLine else { return nil }
      let bytes = Array(accumulated.utf8)
      if let newline = bytes.firstIndex(of: 10), bytes[..<newline].contains(where: { $0 > 32 }) {
        return (newline, "end of line")
      }
      return nil
    }
  }

  /// The final check and post-filters.
  /// - Returns: the text to show, or nil to drop the candidate, with one trace line per decision.
  func finalize(_ text: String, mode: CompletionMode, stoppedEarly: Bool) -> (text: String?, trace: [String]) {
    if let context {
      let stopper = StreamingStopper(context: context, mode: mode)
      let result = stopper.finalize(text, truncated: stoppedEarly)
      return (result.text, result.trace)
    }
    var result = text
    while let last = result.unicodeScalars.last, last.properties.isWhitespace {
      result.unicodeScalars.removeLast()
    }
    if result.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
      return (nil, ["dropped: only whitespace"])
    }
    return (result, [])
  }
}

/// Maps file names to LSP language ids.
public enum LanguageIdentifiers {
  static let byExtension: [String: String] = [
    "py": "python", "swift": "swift", "c": "c", "h": "c", "cc": "cpp", "cpp": "cpp", "cxx": "cpp", "hpp": "cpp",
    "hh": "cpp", "m": "objective-c", "mm": "objective-cpp", "java": "java", "kt": "kotlin", "kts": "kotlin",
    "cs": "csharp", "js": "javascript", "mjs": "javascript", "cjs": "javascript", "jsx": "javascriptreact",
    "ts": "typescript", "tsx": "typescriptreact", "go": "go", "rs": "rust", "rb": "ruby", "php": "php", "lua": "lua",
    "sh": "shellscript", "bash": "shellscript", "zsh": "shellscript", "json": "json", "jsonc": "jsonc",
  ]

  /// The language id of a file name, from its extension.
  public static func languageId(forFileName name: String) -> String? {
    let ext = (name as NSString).pathExtension.lowercased()
    return byExtension[ext]
  }
}
