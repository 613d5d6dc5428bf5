/// How one programming language looks to the syntax middleware: comments, strings, brackets and blocks, as data.
///
/// One `LanguageSpec` value per language lives in `Languages.all`; the lexer, the completion-mode rules, the
/// streaming stopper and the post-filters read only this description, never a language name. To add a language,
/// add one entry there (and a test with a real snippet).
public struct LanguageSpec: Sendable, Equatable {
  /// A short name used in traces (`python`, `cpp`, …).
  public var name: String
  /// LSP language identifiers that select this entry.
  public var languageIds: [String]
  /// File extensions (without the dot, lower case) that select this entry.
  public var fileExtensions: [String]

  // MARK: Comments
  /// Line comment openers (`//`, `#`, `--`).
  public var lineComments: [String] = []
  /// A line comment opener counts only at the start of a word (shell: `$#` and `a#b` are not comments).
  public var lineCommentNeedsBoundary = false
  /// Texts that start with a line comment opener but are not comments (PHP attributes `#[`).
  public var lineCommentExceptions: [String] = []
  /// Block comment forms.
  public var blockComments: [BlockCommentForm] = []
  /// A line comment opener followed by a long bracket is a block comment (Lua `--[[ … ]]`, `--[==[ … ]==]`).
  public var longBracketComments = false

  // MARK: Strings
  /// Delimited string forms with literal openers (`"`, `'''`, `@"`, `` ` ``), tried longest opener first.
  public var strings: [StringForm] = []
  /// Words that may directly precede a string opener and modify it (Python `r`, `f`, `rb`; Rust `b`).
  public var stringPrefixes: [String: StringModifiers] = [:]
  /// Rust raw strings: `r"…"`, `r#"…"#`, `br##"…"##` (the words `r`, `br`, `cr` then hashes then a quote).
  public var rustRawStrings = false
  /// Swift raw strings: `#"…"#`, `##"…"##`, `#"""…"""#`, with `\#(…)` interpolation.
  public var swiftRawStrings = false
  /// C++ raw strings: `R"delim(…)delim"` after the words `R`, `u8R`, `uR`, `UR`, `LR`.
  public var cppRawStrings = false
  /// Lua long strings `[[…]]`, `[==[…]==]`.
  public var luaLongStrings = false
  /// `'` starts a character literal only when one character or escape and a closing `'` follow; otherwise it is
  /// a lifetime or label (Rust `'a`, `'static`).
  public var quoteCharLiteralOrLifetime = false
  /// Here-documents (shell `<<EOF`, Ruby `<<~EOS`, PHP `<<<EOT`), or nil.
  public var heredoc: HeredocForm?
  /// `/…/` regular expression literals where an operand is expected (JavaScript, TypeScript, Ruby).
  public var regexLiterals = false

  // MARK: Structure
  /// Bracket pairs, as two-character strings: `"()"`, `"[]"`, `"{}"`.
  public var brackets: [String] = ["()", "[]", "{}"]
  /// Openers whose bracket is a block (a body), not an argument list: `{` (and `[` in JSON).
  public var blockBrackets: String = "{"
  /// Whether blocks are delimited by braces, by indentation, or by keywords.
  public var blockStyle: BlockStyle = .braces
  /// Keyword blocks (`def … end`, `if … fi`), or nil.
  public var keywordBlocks: KeywordBlocks?
  /// A line whose code ends with one of these opens a block (`:` in Python). Brackets and keyword blocks are
  /// detected from the bracket stack and need not be listed.
  public var blockOpenerEndings: [String] = []
  /// Words that continue a block at its own level (`else`, `elif`, `catch`, `rescue`): a line starting with
  /// one does not end the block the completion opened.
  public var continuationKeywords: Set<String> = []
  /// Statement terminators (`;`): a line ending with one is a complete statement.
  public var statementTerminators: [String] = []
  /// Characters besides letters, digits and `_` that belong to identifiers (`$` in JavaScript and PHP).
  public var identifierCharacters: String = ""

  // MARK: Statements (the final check of a completion that ends where a line of the suffix begins)
  /// Operators after which a statement cannot end at a line break outside brackets (`=`, `+`, `.`, `->`): a
  /// completion that ends with one leaves its statement unfinished (Python: a syntax error; elsewhere the next
  /// line of the suffix becomes its operand). Compared with the whole run of operator characters that ends the
  /// line's code, so `i++` does not match `+` and `Array<Int>` does not match `<`.
  public var danglingOperators: Set<String> = []
  /// Keywords after which a statement cannot end (`and`, `import`, `let`, `case`), except after a `.`.
  public var danglingWords: Set<String> = []
  /// Keywords that start a statement whose block opener must be on the same line: Python's `if … :` (a
  /// `blockOpenerEndings` character at the statement's level), Swift's `if … {` (a block bracket). A statement
  /// that starts with one and has no opener is unfinished (`if x`, `switch (self)`).
  public var headerKeywords: Set<String> = []

  public init(name: String, languageIds: [String], fileExtensions: [String]) {
    self.name = name
    self.languageIds = languageIds
    self.fileExtensions = fileExtensions
  }
}

/// A block comment form.
public struct BlockCommentForm: Sendable, Equatable {
  /// Opening delimiter (`/*`).
  public var open: String
  /// Closing delimiter (`*/`).
  public var close: String
  /// Nested comments count (Swift, Rust, Kotlin, Scala): `/* /* */ */`.
  public var nests: Bool
  /// Both delimiters must start a line (Ruby `=begin` / `=end`).
  public var atLineStart: Bool

  public init(_ open: String, _ close: String, nests: Bool = false, atLineStart: Bool = false) {
    self.open = open
    self.close = close
    self.nests = nests
    self.atLineStart = atLineStart
  }
}

/// An interpolation inside a string: code between `open` and the matching `close` (`${ }`, `\( )`, `#{ }`).
public struct Interpolation: Sendable, Equatable, Hashable {
  /// Opener inside the string (`${`, `\(`, `#{`, `{`).
  public var open: String
  /// The character that closes it (`}` or `)`).
  public var close: Character
  /// A `:` at the interpolation's own level starts a format specification that runs to the closer and may
  /// hold nested interpolations (Python f-strings `{x:>{width}}`, C# `{x:N2}`).
  public var formatSpec: Bool

  public init(_ open: String, _ close: Character, formatSpec: Bool = false) {
    self.open = open
    self.close = close
    self.formatSpec = formatSpec
  }
}

/// A string literal form with literal delimiters.
public struct StringForm: Sendable, Equatable {
  /// Opening delimiter (`"`, `'''`, `@"`).
  public var open: String
  /// Closing delimiter.
  public var close: String
  /// The escape character, nil for raw strings (Go backquotes, shell single quotes).
  public var escape: Character?
  /// Whether a line break may occur inside (else it ends the string as an error).
  public var multiline: Bool
  /// Interpolations (template literals, Swift, Kotlin, Ruby, C# `$"…"`).
  public var interpolations: [Interpolation]
  /// A doubled closing delimiter is an escaped one (C# verbatim `@"a""b"`).
  public var doubledCloseEscapes: Bool
  /// A doubled interpolation opener is literal text (`{{` in Python f-strings and C# `$"…"`).
  public var doubledInterpolationEscapes: Bool
  /// Whether the opener may directly follow an identifier character (`tag\`…\`` in JavaScript: yes;
  /// `1'000'000` in C++: no).
  public var afterWord: Bool

  public init(
    _ open: String, _ close: String, escape: Character? = "\\", multiline: Bool = false,
    interpolations: [Interpolation] = [], doubledCloseEscapes: Bool = false,
    doubledInterpolationEscapes: Bool = false, afterWord: Bool = true
  ) {
    self.open = open
    self.close = close
    self.escape = escape
    self.multiline = multiline
    self.interpolations = interpolations
    self.doubledCloseEscapes = doubledCloseEscapes
    self.doubledInterpolationEscapes = doubledInterpolationEscapes
    self.afterWord = afterWord
  }
}

/// What a prefix word (`r`, `f`, `rb`) does to the string that follows it.
public struct StringModifiers: Sendable, Equatable {
  /// No escapes.
  public var raw: Bool
  /// Interpolations that replace the form's own (Python f-strings: `{ }` with `{{` literal).
  public var interpolations: [Interpolation]?

  public init(raw: Bool = false, interpolations: [Interpolation]? = nil) {
    self.raw = raw
    self.interpolations = interpolations
  }
}

/// Here-document syntax: an introducer, an optional indent flag, a tag (optionally quoted); the body starts on
/// the next line and ends at a line holding only the tag.
public struct HeredocForm: Sendable, Equatable {
  /// `<<` (shell, Ruby) or `<<<` (PHP).
  public var introducer: String
  /// Flags after the introducer that allow an indented closing tag (`-` in shell, `-` and `~` in Ruby).
  public var indentFlags: String
  /// A space may separate the introducer and the tag (`cat << EOF`).
  public var spaceBeforeTag: Bool
  /// An unquoted tag must start with an upper-case letter (Ruby: `a <<b` is a shift).
  public var tagMustBeUppercase: Bool
  /// Introducers to ignore (`<<<` here-strings in bash).
  public var notFollowedBy: String?
  /// The closing tag may be indented even without a flag (PHP 7.3+).
  public var alwaysIndentedClose: Bool

  public init(
    introducer: String, indentFlags: String = "", spaceBeforeTag: Bool = false, tagMustBeUppercase: Bool = false,
    notFollowedBy: String? = nil, alwaysIndentedClose: Bool = false
  ) {
    self.introducer = introducer
    self.indentFlags = indentFlags
    self.spaceBeforeTag = spaceBeforeTag
    self.tagMustBeUppercase = tagMustBeUppercase
    self.notFollowedBy = notFollowedBy
    self.alwaysIndentedClose = alwaysIndentedClose
  }
}

/// How a language delimits blocks.
public enum BlockStyle: String, Sendable, Equatable {
  /// `{ … }` (C family, JavaScript, Go, Rust, Swift, JSON).
  case braces
  /// Indentation after a line ending with `:` (Python).
  case indentation
  /// Keywords: `def … end`, `if … then … end`, `if … fi` (Ruby, Lua, shell); braces may also occur.
  case keywords
}

/// Keyword-delimited blocks.
public struct KeywordBlocks: Sendable, Equatable {
  /// Words that open a block.
  public var openers: [String: KeywordOpener]
  /// Words that close a block, with the openers each may close (empty: any).
  public var closers: [String: Set<String>]
  /// Openers inside which an unmatched `)` is not an error (shell `case` patterns `a)`).
  public var closerTolerantOpeners: Set<String>
  /// Characters after which a statement starts (for `KeywordOpener.statementStartOnly`); a line start and the
  /// keywords themselves always start one.
  public var statementSeparators: String

  public init(
    openers: [String: KeywordOpener], closers: [String: Set<String>], closerTolerantOpeners: Set<String> = [],
    statementSeparators: String = ";"
  ) {
    self.openers = openers
    self.closers = closers
    self.closerTolerantOpeners = closerTolerantOpeners
    self.statementSeparators = statementSeparators
  }
}

/// When a keyword opens a block.
public struct KeywordOpener: Sendable, Equatable {
  /// Only at the start of a statement (Ruby `x if y` is a modifier, not a block).
  public var statementStartOnly: Bool
  /// Not when the line's first word is one of these (Ruby `while x do`: the `do` belongs to `while`).
  public var notAfterLineStartingWith: Set<String>

  public init(statementStartOnly: Bool = false, notAfterLineStartingWith: Set<String> = []) {
    self.statementStartOnly = statementStartOnly
    self.notAfterLineStartingWith = notAfterLineStartingWith
  }
}

/// Errors of the syntax middleware.
public enum SyntaxCheckError: Error, Equatable, Sendable, CustomStringConvertible {
  /// No language entry matches the LSP language id or file name.
  case unknownLanguage(languageId: String, fileName: String?)

  public var description: String {
    switch self {
    case .unknownLanguage(let id, let file):
      let where_ = file.map { " (file \($0))" } ?? ""
      return "no syntax description for language id '\(id)'\(where_); the generic bracket checker is used"
    }
  }
}
