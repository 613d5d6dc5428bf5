/// A string literal the lexer is inside, with its closing delimiter resolved (`"##` for `r##"`, `)x"` for
/// `R"x(`), so that the state is self-contained and comparable.
public struct OpenString: Sendable, Equatable, Hashable {
  /// The closing delimiter.
  public var close: [Unicode.Scalar]
  /// Escape character, nil when raw.
  public var escape: Unicode.Scalar?
  /// May span lines.
  public var multiline: Bool
  /// Interpolation openers and their closing character.
  public var interpolations: [ScalarInterpolation]
  /// A doubled closing delimiter is literal (C# verbatim strings).
  public var doubledClose: Bool
  /// A doubled interpolation opener is literal (`{{`).
  public var doubledInterpolation: Bool
  /// The opening delimiter as written (for traces).
  public var opener: String
  /// The closing delimiter is left for the enclosing code to read (a format specification ends where its
  /// interpolation's `}` closes the interpolation).
  public var leavesClose = false
}

/// An interpolation as scalars.
public struct ScalarInterpolation: Sendable, Equatable, Hashable {
  /// The opener.
  public var open: [Unicode.Scalar]
  /// The closing character.
  public var close: Unicode.Scalar
  /// A top-level `:` starts a format specification.
  public var formatSpec = false
}

/// One open construct on the lexer's stack.
public struct Frame: Sendable, Equatable, Hashable, CustomStringConvertible {
  /// What kind of construct.
  public enum Kind: Sendable, Equatable, Hashable {
    /// A bracket: `(`, `[`, `{`.
    case bracket(open: Unicode.Scalar, close: Unicode.Scalar)
    /// Code inside a string (`${`, `\(`, `#{`); closing it resumes the string.
    case interpolation(close: Unicode.Scalar, resume: OpenString, formatSpec: Bool)
    /// A keyword block (`def`, `if`, `do`).
    case keyword(String)
  }

  /// The construct.
  public var kind: Kind
  /// Zero-based line where it opened.
  public var line: Int
  /// A body (`{`, a keyword block), not an argument list.
  public var isBlock: Bool

  /// The text that closes it (`)`, `}`, `end`).
  public var closerText: String {
    switch kind {
    case .bracket(_, let close): return String(Character(close))
    case .interpolation(let close, _, _): return String(Character(close))
    case .keyword(let word): return "the end of `\(word)`"
    }
  }

  /// The text that opened it.
  public var openerText: String {
    switch kind {
    case .bracket(let open, _): return String(Character(open))
    case .interpolation(_, let resume, _): return "\(resume.opener)…${"
    case .keyword(let word): return word
    }
  }

  public var description: String { openerText }
}

/// Where the lexer is: code, or inside a comment, string, regular expression or here-document.
public enum LexContext: Sendable, Equatable, Hashable {
  case code
  case lineComment
  case blockComment(open: [Unicode.Scalar], close: [Unicode.Scalar], nests: Bool, depth: Int, atLineStart: Bool)
  case string(OpenString)
  case regex(inClass: Bool)
  case heredoc(tag: String, indented: Bool)

  /// True outside comments and strings.
  public var isCode: Bool { self == .code }
  /// True in a line or block comment.
  public var isComment: Bool {
    switch self {
    case .lineComment, .blockComment: return true
    default: return false
    }
  }
  /// True in a string, regular expression or here-document.
  public var isString: Bool {
    switch self {
    case .string, .regex, .heredoc: return true
    default: return false
    }
  }
  /// True where a line break does not end the construct.
  public var spansLines: Bool {
    switch self {
    case .code, .lineComment, .regex: return false
    case .blockComment, .heredoc: return true
    case .string(let s): return s.multiline
    }
  }

  /// A short description for traces.
  public var label: String {
    switch self {
    case .code: return "code"
    case .lineComment: return "a line comment"
    case .blockComment(let open, _, _, _, _): return "a block comment \(String(String.UnicodeScalarView(open)))"
    case .string(let s): return "a string \(s.opener)"
    case .regex: return "a regular expression"
    case .heredoc(let tag, _): return "a here-document \(tag)"
    }
  }
}

/// A here-document waiting for the end of its introducing line.
public struct PendingHeredoc: Sendable, Equatable, Hashable {
  /// The closing tag.
  public var tag: String
  /// The closing tag may be indented.
  public var indented: Bool
}

/// What one finished line of code looked like.
public struct LineSummary: Sendable, Equatable {
  /// Zero-based line number.
  public var line: Int
  /// Leading whitespace of the statement's first line in columns (tabs to the next multiple of 8).
  public var indent: Int
  /// The last code character (comments excluded).
  public var lastCode: Unicode.Scalar?
  /// The first word.
  public var firstWord: String?
  /// The line opened a block that is still open at its end (`{`, `:` in Python, `do`, `then`).
  public var opensBlock: Bool
}

/// The lexer's complete state at a position: everything the checks compare.
public struct LexState: Sendable, Equatable {
  /// Code, or the comment or string the lexer is in.
  public var context: LexContext = .code
  /// Open brackets, interpolations and keyword blocks, outermost first.
  public var stack: [Frame] = []
  /// UTF-8 offset of the next scalar, from the start of everything fed.
  public var offset = 0
  /// Zero-based line.
  public var line = 0
  /// Only whitespace so far on this line.
  public var atLineStart = true
  /// Leading whitespace of this line in columns.
  public var lineIndent = 0
  /// Leading whitespace of the line where the current statement started (continuation lines inside brackets
  /// keep the indentation of their statement's first line).
  public var statementIndent = 0
  /// Stack depth when this line started.
  public var lineStartDepth = 0
  /// Something other than whitespace occurred on this line (in any context).
  public var lineHasContent = false
  /// The last code scalar on this line (nil at its start).
  public var lastCode: Unicode.Scalar?
  /// The last token in code was a word (`lastWord`).
  public var lastTokenWasWord = false
  /// The last word in code.
  public var lastWord: String?
  /// The first word of this line.
  public var lineFirstWord: String?
  /// A statement starts here (for keyword blocks that only open at one).
  public var statementStart = true
  /// The last scalar consumed, in any context.
  public var previousScalar: Unicode.Scalar?
  /// Here-documents that start on the next line.
  public var pendingHeredocs: [PendingHeredoc] = []
  /// The last finished line that had code.
  public var previousLine: LineSummary?
  /// Errors so far: unmatched or mismatched closers, strings ended by a line break.
  public var errors = 0

  public init() {}

  /// The part of the state that decides how following text is read: context, stack, pending here-documents.
  public var structuralKey: StructuralKey {
    StructuralKey(context: context, stack: stack.map(\.kind), heredocs: pendingHeredocs)
  }

  /// Whether the current line, if it ended now, would open a block.
  ///
  /// A bracket block counts when its opener is on this line and still open (`) -> Never {` after a multi-line
  /// signature too). An ending such as Python's `:` counts outside brackets. A keyword block counts when, in
  /// addition, the line ends like a header: with `)`, a block keyword (`then`, `do`), or a word on a line that
  /// starts with the opener (`def name`, `class Foo`); `if a then x = ` is a statement being written, not a header.
  public func currentLineOpensBlock(spec: LanguageSpec) -> Bool {
    if let top = stack.last, top.line == line, top.isBlock {
      guard case .keyword(let opener) = top.kind else { return true }
      if lastCode == ")" { return true }
      guard lastTokenWasWord, let word = lastWord else { return false }
      let blocks = spec.keywordBlocks
      return blocks?.openers[word] != nil || blocks?.closers[word] != nil || spec.continuationKeywords.contains(word)
        || lineFirstWord == opener
    }
    if let last = lastCode, stack.last.map({ $0.isBlock }) ?? true,
      spec.blockOpenerEndings.contains(where: { $0.unicodeScalars.last == last })
    {
      return true
    }
    return false
  }
}

/// The structural part of a `LexState`, used to memoise suffix scans.
public struct StructuralKey: Hashable, Sendable {
  /// The context.
  public var context: LexContext
  /// The stack's kinds.
  public var stack: [Frame.Kind]
  /// Pending here-documents.
  public var heredocs: [PendingHeredoc]
}

/// Something the lexer saw.
public enum LexEvent: Sendable, Equatable {
  /// A line break at `offset` (in any context).
  case lineBreak(offset: Int)
  /// The first non-whitespace character of a line of code, before it is read.
  case lineStart(offset: Int, indent: Int)
  /// An identifier or keyword in code.
  case word(String, offset: Int)
  /// A frame was pushed by the text at `offset`.
  case opened(Frame, offset: Int)
  /// A frame was popped by the closer at `offset`.
  case closed(Frame, offset: Int)
  /// A closer with nothing to close, or not matching the innermost frame.
  case badCloser(String, expected: Frame?, offset: Int)
  /// A string, comment, regular expression or here-document starts at `offset`.
  case entered(LexContext, offset: Int)
  /// It ends; `offset` is where its closing delimiter starts.
  case exited(LexContext, offset: Int)
  /// A line break ended a single-line string (an error).
  case unterminated(LexContext, offset: Int)
}
