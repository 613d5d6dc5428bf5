/// Whether a completion is one line or a block of lines.
public enum CompletionMode: String, Sendable, Equatable, CustomStringConvertible {
  /// Complete the current line: generation stops at the end of the line.
  case singleLine
  /// Complete a block: generation stops where the block ends.
  case block

  public var description: String { self == .singleLine ? "single line" : "block" }
}

extension CompletionMode {
  /// Maps `CompletionSettings.multiline`: `line` or `single` → single line, `block` → block; nil for `auto`
  /// (decide from the context) and anything else.
  public init?(setting: String) {
    switch setting.lowercased() {
    case "line", "single", "singleline": self = .singleLine
    case "block", "multiline": self = .block
    default: return nil
    }
  }
}

/// A mode and the rule that chose it.
public struct ModeDecision: Sendable, Equatable {
  /// The mode.
  public var mode: CompletionMode
  /// The rule, in words (for traces).
  public var reason: String
}

/// Decides single-line or block from the cursor's context. See `decideCompletionMode(context:)` for the rules.
public func completionMode(prefix: String, suffix: String, language: LanguageSpec) -> CompletionMode {
  decideCompletionMode(context: CursorContext(prefix: prefix, suffix: suffix, language: language)).mode
}

/// Decides single-line or block, with the reason. The rules, first match wins:
///
/// 1. Inside a line comment, or a block comment: single line (comment text ends at the line).
/// 2. Inside a string: block when the string may span lines (triple quotes, template literals, raw strings,
///    here-documents) and either the cursor line is blank before the cursor or the string opened on this line;
///    else single line (text typed on a line in the middle of a docstring is finished to the end of that line,
///    as a user typing prose expects, and fast).
/// 3. Text after the cursor on its line: single line, unless it is only closing brackets right after a block
///    opener (`{|}`: an empty body), which is a block.
/// 4. The cursor line is blank before the cursor:
///    - the previous code line opens a block (`{`, `:` in Python, `do`, `then`, `def`): block, unless (indentation
///      languages) the body already goes on right below the cursor's line: then a statement is being inserted at
///      its start, single line;
///    - nothing follows, or the line above is blank too (a gap between definitions): block;
///    - the next non-blank line is indented less than the cursor, or starts with a closer (`}`, `end`, `fi`):
///      block (the end of a body is being written);
///    - otherwise: single line (a statement between statements).
/// 5. Code before the cursor, nothing after it: block when this line opens a block, else single line.
public func decideCompletionMode(context: CursorContext) -> ModeDecision {
  let state = context.state
  let spec = context.spec
  switch state.context {
  case .lineComment: return ModeDecision(mode: .singleLine, reason: "cursor in a line comment")
  case .blockComment: return ModeDecision(mode: .singleLine, reason: "cursor in a block comment")
  case .string, .regex, .heredoc:
    if state.context.spansLines {
      if !context.cursorOnBlankLinePrefix && !opensMultilineConstruct(context.linePrefix, spec) {
        return ModeDecision(
          mode: .singleLine, reason: "cursor after text on a line inside \(state.context.label): the rest of this line")
      }
      return ModeDecision(mode: .block, reason: "cursor in \(state.context.label), which may span lines")
    }
    return ModeDecision(mode: .singleLine, reason: "cursor in \(state.context.label)")
  case .code: break
  }
  let rest = context.restOfLine.trimmingWhitespace()
  if !rest.isEmpty {
    let closers = Set(spec.brackets.compactMap { $0.unicodeScalars.last })
    let onlyClosers = rest.unicodeScalars.allSatisfy { closers.contains($0) || $0 == ";" || $0 == " " || $0 == "," }
    if onlyClosers, let top = state.stack.last, top.isBlock, top.line == state.line,
      state.lastCode.map({ c in spec.blockBrackets.unicodeScalars.contains(c) }) == true
    {
      return ModeDecision(mode: .block, reason: "empty body between `\(top.openerText)` and `\(rest)`")
    }
    return ModeDecision(mode: .singleLine, reason: "text after the cursor on its line")
  }
  if context.cursorOnBlankLinePrefix {
    if let previous = state.previousLine, previous.opensBlock {
      if spec.blockStyle == .indentation, context.lineBelowHasText, let next = context.nextLine,
        next.indent > previous.indent
      {
        return ModeDecision(
          mode: .singleLine,
          reason: "blank line at the start of a body that goes on below (line \(previous.line + 1) opens it)")
      }
      return ModeDecision(mode: .block, reason: "blank line after a block opener (line \(previous.line + 1))")
    }
    guard let next = context.nextLine else {
      return ModeDecision(mode: .block, reason: "blank line with nothing after it")
    }
    if context.previousLineBlank && state.previousLine != nil {
      return ModeDecision(mode: .block, reason: "blank line in a gap between blocks (the line above is blank too)")
    }
    if next.indent < context.cursorLineIndent {
      return ModeDecision(mode: .block, reason: "blank line at the end of a block (the next line is dedented)")
    }
    let first = next.text.trimmingWhitespace()
    let closerWords = Set(spec.keywordBlocks?.closers.keys.map { $0 } ?? [])
    let firstWord = String(first.prefix { $0.isLetter || $0.isNumber || $0 == "_" })
    let closerChars = Set(spec.brackets.compactMap { $0.last })
    if let c = first.first, closerChars.contains(c) || closerWords.contains(firstWord) {
      return ModeDecision(mode: .block, reason: "blank line before a block's closer `\(first.prefix(8))`")
    }
    return ModeDecision(mode: .singleLine, reason: "blank line between statements")
  }
  if state.currentLineOpensBlock(spec: spec) {
    return ModeDecision(mode: .block, reason: "cursor at the end of a line that opens a block")
  }
  return ModeDecision(mode: .singleLine, reason: "cursor at the end of a line of code")
}

/// True when `line`, scanned on its own from code, ends inside a construct that may span lines: the multi-line
/// string (or comment) around the cursor opened on the cursor's line.
func opensMultilineConstruct(_ line: String, _ spec: LanguageSpec) -> Bool {
  var lexer = Lexer(spec: spec)
  _ = lexer.scan(line, final: false)
  while lexer.next(final: true) != nil {}
  return lexer.state.context.spansLines
}
