/// The language table: one entry per language, and lookup by LSP language id or file extension.
public enum Languages {
  // MARK: Building blocks shared by entries

  static let cBlockComment = BlockCommentForm("/*", "*/")
  static let nestedBlockComment = BlockCommentForm("/*", "*/", nests: true)
  static let doubleQuoted = StringForm("\"", "\"")
  static let singleQuotedChar = StringForm("'", "'")
  static let cContinuations: Set<String> = ["else", "catch", "finally", "while"]
  /// Operators that cannot end a statement in the C family (not `*` and `&`, which end a declarator's type in
  /// `char *\nname(void)`, nor `<` and `>` of templates, nor `,` of initialiser lists and object literals).
  static let cDanglingOperators: Set<String> = [
    "=", "==", "!=", "<=", ">=", "&&", "||", "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=", "<<=", ">>=", "+",
    "-", "/", "%", "^", "|", ".", "->", "=>", "?", "::",
  ]

  /// Python string prefixes: every case and order of r, b, u, f (t for 3.14 template strings).
  static let pythonPrefixes: [String: StringModifiers] = {
    var table: [String: StringModifiers] = [:]
    let fInterp = [Interpolation("{", "}", formatSpec: true)]
    for base in ["r", "u", "b", "f", "t", "br", "rb", "fr", "rf", "tr", "rt"] {
      var variants: Set<String> = [""]
      for ch in base {
        variants = Set(variants.flatMap { [$0 + String(ch).lowercased(), $0 + String(ch).uppercased()] })
      }
      let raw = base.contains("r")
      let interp = base.contains("f") || base.contains("t")
      for v in variants { table[v] = StringModifiers(raw: raw, interpolations: interp ? fInterp : nil) }
    }
    return table
  }()

  // MARK: Entries

  /// Python: `#` comments, prefixed and triple-quoted strings, f-string interpolations with format specs,
  /// blocks by indentation after `:`.
  public static let python: LanguageSpec = {
    var s = LanguageSpec(name: "python", languageIds: ["python"], fileExtensions: ["py", "pyw", "pyi"])
    s.lineComments = ["#"]
    s.strings = [
      StringForm("\"\"\"", "\"\"\"", multiline: true, doubledInterpolationEscapes: true),
      StringForm("'''", "'''", multiline: true, doubledInterpolationEscapes: true),
      StringForm("\"", "\"", doubledInterpolationEscapes: true),
      StringForm("'", "'", doubledInterpolationEscapes: true),
    ]
    s.stringPrefixes = pythonPrefixes
    s.blockBrackets = ""  // `{` is a dict or set, never a block
    s.blockStyle = .indentation
    s.blockOpenerEndings = [":"]
    s.continuationKeywords = ["else", "elif", "except", "finally", "case"]
    // A line break outside brackets ends a statement: none of these may end one (`*` may: `import *`).
    s.danglingOperators = [
      "=", "+", "-", "/", "//", "%", "@", "**", "<", ">", "==", "!=", "<=", ">=", "&", "|", "^", "~", "<<", ">>",
      "+=", "-=", "*=", "/=", "//=", "%=", "@=", "**=", "&=", "|=", "^=", "<<=", ">>=", ":=", ".", "\\", "->",
    ]
    s.danglingWords = [
      "and", "or", "not", "in", "is", "if", "elif", "else", "for", "while", "def", "class", "import", "from", "with",
      "as", "assert", "del", "lambda", "global", "nonlocal", "await", "async", "except", "try", "finally",
    ]
    s.headerKeywords = [
      "if", "elif", "else", "for", "while", "with", "try", "except", "finally", "def", "class", "async",
    ]
    return s
  }()

  /// C: `//` and `/* */` comments, `"…"` strings and `'c'` characters, brace blocks.
  public static let c: LanguageSpec = {
    var s = LanguageSpec(name: "c", languageIds: ["c"], fileExtensions: ["c", "h"])
    s.lineComments = ["//"]
    s.blockComments = [cBlockComment]
    s.strings = [doubleQuoted, singleQuotedChar]
    s.continuationKeywords = cContinuations
    s.statementTerminators = [";"]
    s.danglingOperators = cDanglingOperators
    return s
  }()

  /// C++: C plus raw strings `R"delim(…)delim"` and digit separators `1'000`.
  public static let cpp: LanguageSpec = {
    var s = c
    s.name = "cpp"
    s.languageIds = ["cpp", "cuda-cpp"]
    s.fileExtensions = ["cpp", "cc", "cxx", "c++", "hpp", "hh", "hxx", "h++", "ipp", "tpp", "cu"]
    s.strings = [doubleQuoted, StringForm("'", "'", afterWord: false)]  // 1'000'000 is a number
    s.cppRawStrings = true
    return s
  }()

  /// Objective-C: C (`@"…"` reads as `@` and a string).
  public static let objectiveC: LanguageSpec = {
    var s = c
    s.name = "objective-c"
    s.languageIds = ["objective-c"]
    s.fileExtensions = ["m"]
    return s
  }()

  /// Objective-C++: C++.
  public static let objectiveCpp: LanguageSpec = {
    var s = cpp
    s.name = "objective-cpp"
    s.languageIds = ["objective-cpp"]
    s.fileExtensions = ["mm"]
    return s
  }()

  /// Java: C plus text blocks `"""…"""`.
  public static let java: LanguageSpec = {
    var s = c
    s.name = "java"
    s.languageIds = ["java"]
    s.fileExtensions = ["java"]
    s.strings = [StringForm("\"\"\"", "\"\"\"", multiline: true), doubleQuoted, singleQuotedChar]
    s.identifierCharacters = "$"
    return s
  }()

  /// Kotlin: nested block comments, raw `"""…"""` and `${…}` templates.
  public static let kotlin: LanguageSpec = {
    var s = c
    s.name = "kotlin"
    s.languageIds = ["kotlin"]
    s.fileExtensions = ["kt", "kts"]
    s.blockComments = [nestedBlockComment]
    let interp = [Interpolation("${", "}")]
    s.strings = [
      StringForm("\"\"\"", "\"\"\"", escape: nil, multiline: true, interpolations: interp),
      StringForm("\"", "\"", interpolations: interp), singleQuotedChar,
    ]
    s.statementTerminators = [";"]
    s.danglingOperators.remove("->")  // `{ x ->` starts a lambda's body
    return s
  }()

  /// C#: verbatim `@"…"`, interpolated `$"{x:N2}"`, raw `"""…"""` strings.
  public static let csharp: LanguageSpec = {
    var s = c
    s.name = "csharp"
    s.languageIds = ["csharp"]
    s.fileExtensions = ["cs", "csx"]
    let interp = [Interpolation("{", "}", formatSpec: true)]
    s.strings = [
      StringForm("$\"\"\"", "\"\"\"", escape: nil, multiline: true, interpolations: interp),
      StringForm("\"\"\"", "\"\"\"", escape: nil, multiline: true),
      StringForm(
        "$@\"", "\"", escape: nil, multiline: true, interpolations: interp, doubledCloseEscapes: true,
        doubledInterpolationEscapes: true),
      StringForm(
        "@$\"", "\"", escape: nil, multiline: true, interpolations: interp, doubledCloseEscapes: true,
        doubledInterpolationEscapes: true),
      StringForm("@\"", "\"", escape: nil, multiline: true, doubledCloseEscapes: true),
      StringForm("$\"", "\"", interpolations: interp, doubledInterpolationEscapes: true),
      doubleQuoted, singleQuotedChar,
    ]
    return s
  }()

  /// JavaScript (and JSX): template literals with nested `${…}`, regular expression literals.
  public static let javascript: LanguageSpec = {
    var s = LanguageSpec(
      name: "javascript", languageIds: ["javascript", "javascriptreact"],
      fileExtensions: ["js", "mjs", "cjs", "jsx"])
    s.lineComments = ["//"]
    s.blockComments = [cBlockComment]
    s.strings = [
      StringForm("`", "`", multiline: true, interpolations: [Interpolation("${", "}")]),
      doubleQuoted, StringForm("'", "'"),
    ]
    s.regexLiterals = true
    s.continuationKeywords = cContinuations
    s.statementTerminators = [";"]
    s.identifierCharacters = "$"
    s.danglingOperators = cDanglingOperators
    return s
  }()

  /// TypeScript (and TSX): as JavaScript.
  public static let typescript: LanguageSpec = {
    var s = javascript
    s.name = "typescript"
    s.languageIds = ["typescript", "typescriptreact"]
    s.fileExtensions = ["ts", "tsx", "mts", "cts"]
    return s
  }()

  /// Go: raw strings in backquotes, runes.
  public static let go: LanguageSpec = {
    var s = LanguageSpec(name: "go", languageIds: ["go"], fileExtensions: ["go"])
    s.lineComments = ["//"]
    s.blockComments = [cBlockComment]
    s.strings = [StringForm("`", "`", escape: nil, multiline: true), doubleQuoted, singleQuotedChar]
    s.continuationKeywords = ["else"]
    s.statementTerminators = [";"]
    s.danglingOperators = cDanglingOperators.union([",", ":="])
    s.headerKeywords = ["if", "for", "switch", "select", "else"]
    return s
  }()

  /// Rust: nested block comments, raw strings `r#"…"#`, byte strings, lifetimes versus character literals.
  public static let rust: LanguageSpec = {
    var s = LanguageSpec(name: "rust", languageIds: ["rust"], fileExtensions: ["rs"])
    s.lineComments = ["//"]
    s.blockComments = [nestedBlockComment]
    s.strings = [StringForm("\"", "\"", multiline: true)]
    s.stringPrefixes = ["b": StringModifiers(), "c": StringModifiers()]
    s.rustRawStrings = true
    s.quoteCharLiteralOrLifetime = true
    s.continuationKeywords = ["else"]
    s.statementTerminators = [";"]
    s.danglingOperators = cDanglingOperators
    s.headerKeywords = ["if", "while", "for", "loop", "match", "else"]
    return s
  }()

  /// Swift: nested block comments, `\(…)` interpolation, multi-line `"""` and raw `#"…"#` strings.
  public static let swift: LanguageSpec = {
    var s = LanguageSpec(name: "swift", languageIds: ["swift"], fileExtensions: ["swift"])
    s.lineComments = ["//"]
    s.blockComments = [nestedBlockComment]
    let interp = [Interpolation("\\(", ")")]
    s.strings = [
      StringForm("\"\"\"", "\"\"\"", multiline: true, interpolations: interp),
      StringForm("\"", "\"", interpolations: interp),
    ]
    s.swiftRawStrings = true
    s.continuationKeywords = ["else", "catch"]
    s.statementTerminators = [";"]
    // Not `?` and `!` (postfix optionals), `<` and `>` (generics), `...` (a one-sided range), `:` (`case .a:`).
    s.danglingOperators = [
      "=", "==", "!=", "===", "!==", "<=", ">=", "&&", "||", "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=", "+",
      "-", "*", "/", "%", "&", "|", "^", "<<", ">>", "??", ".", "?.", "!.", "->", "..<", ",",
    ]
    s.danglingWords = [
      "let", "var", "func", "case", "if", "guard", "while", "for", "switch", "import", "class", "struct", "enum",
      "protocol", "extension", "typealias", "throw", "try", "await", "as", "is", "where", "else", "catch", "do",
      "repeat", "defer", "public", "private", "internal", "fileprivate", "static", "final", "override", "mutating",
      "nonmutating", "lazy", "weak", "unowned", "indirect", "inout",
    ]
    s.headerKeywords = ["if", "guard", "while", "for", "switch", "repeat", "do", "defer", "catch", "else"]
    return s
  }()

  /// Ruby: `#` and `=begin`/`=end` comments, `#{…}` interpolation, here-documents, regular expressions,
  /// keyword blocks closed by `end`.
  public static let ruby: LanguageSpec = {
    var s = LanguageSpec(
      name: "ruby", languageIds: ["ruby"], fileExtensions: ["rb", "rake", "gemspec", "ru"])
    s.lineComments = ["#"]
    s.blockComments = [BlockCommentForm("=begin", "=end", atLineStart: true)]
    let interp = [Interpolation("#{", "}")]
    s.strings = [
      StringForm("\"", "\"", multiline: true, interpolations: interp),
      StringForm("'", "'", multiline: true),
      StringForm("`", "`", multiline: true, interpolations: interp),
    ]
    s.heredoc = HeredocForm(introducer: "<<", indentFlags: "-~", tagMustBeUppercase: true)
    s.regexLiterals = true
    s.blockStyle = .keywords
    let start = KeywordOpener(statementStartOnly: true)
    s.keywordBlocks = KeywordBlocks(
      openers: [
        "def": KeywordOpener(), "class": KeywordOpener(), "module": KeywordOpener(), "begin": KeywordOpener(),
        "case": KeywordOpener(), "do": KeywordOpener(notAfterLineStartingWith: ["while", "until", "for"]),
        "if": start, "unless": start, "while": start, "until": start, "for": start,
      ],
      closers: ["end": []], statementSeparators: ";=(,[{|&!")
    s.continuationKeywords = ["else", "elsif", "when", "in", "rescue", "ensure"]
    s.identifierCharacters = "?!"
    return s
  }()

  /// PHP: `//`, `#` (not `#[`) and `/* */` comments, here- and now-documents `<<<`.
  public static let php: LanguageSpec = {
    var s = LanguageSpec(name: "php", languageIds: ["php"], fileExtensions: ["php", "phtml"])
    s.lineComments = ["//", "#"]
    s.lineCommentExceptions = ["#["]
    s.blockComments = [cBlockComment]
    s.strings = [StringForm("\"", "\"", multiline: true), StringForm("'", "'", multiline: true)]
    s.heredoc = HeredocForm(introducer: "<<<", alwaysIndentedClose: true)
    s.continuationKeywords = ["else", "elseif", "catch", "finally"]
    s.statementTerminators = [";"]
    s.identifierCharacters = "$"
    return s
  }()

  /// Lua: `--` and `--[[ ]]` comments, long strings `[==[ ]==]`, keyword blocks (`function`, `if`, `do`, `repeat`).
  public static let lua: LanguageSpec = {
    var s = LanguageSpec(name: "lua", languageIds: ["lua"], fileExtensions: ["lua"])
    s.lineComments = ["--"]
    s.longBracketComments = true
    s.strings = [doubleQuoted, StringForm("'", "'")]
    s.luaLongStrings = true
    s.blockStyle = .keywords
    s.keywordBlocks = KeywordBlocks(
      openers: ["function": KeywordOpener(), "if": KeywordOpener(), "do": KeywordOpener(), "repeat": KeywordOpener()],
      closers: ["end": ["function", "if", "do"], "until": ["repeat"]])
    s.continuationKeywords = ["else", "elseif"]
    return s
  }()

  /// Shell (sh, bash, zsh): `#` at word starts, quoting, `$(…)`, here-documents, `if/fi`, `case/esac`, `do/done`.
  public static let shell: LanguageSpec = {
    var s = LanguageSpec(
      name: "shell", languageIds: ["shellscript", "sh", "bash", "zsh"],
      fileExtensions: ["sh", "bash", "zsh", "ksh"])
    s.lineComments = ["#"]
    s.lineCommentNeedsBoundary = true
    let interp = [Interpolation("$(", ")"), Interpolation("${", "}")]
    s.strings = [
      StringForm("$'", "'"),
      StringForm("\"", "\"", multiline: true, interpolations: interp),
      StringForm("'", "'", escape: nil, multiline: true),
      StringForm("`", "`", multiline: true),
    ]
    s.heredoc = HeredocForm(introducer: "<<", indentFlags: "-", spaceBeforeTag: true, notFollowedBy: "<")
    s.blockStyle = .keywords
    let start = KeywordOpener(statementStartOnly: true)
    s.keywordBlocks = KeywordBlocks(
      openers: ["if": start, "case": start, "do": start, "select": start],
      closers: ["fi": ["if"], "esac": ["case"], "done": ["do", "select"]],
      closerTolerantOpeners: ["case"], statementSeparators: ";|&({!")
    s.continuationKeywords = ["else", "elif", "then", "do"]
    return s
  }()

  /// JSON and JSONC: strings, objects and arrays (comments accepted for JSONC).
  public static let json: LanguageSpec = {
    var s = LanguageSpec(
      name: "json", languageIds: ["json", "jsonc", "jsonl"], fileExtensions: ["json", "jsonc", "jsonl", "json5"])
    s.lineComments = ["//"]  // JSONC; harmless for JSON
    s.blockComments = [cBlockComment]
    s.strings = [doubleQuoted]
    s.blockBrackets = "{["
    return s
  }()

  /// The fallback for unknown languages: C-style comments, both quotes, brackets and braces.
  public static let generic: LanguageSpec = {
    var s = LanguageSpec(name: "generic", languageIds: [], fileExtensions: [])
    s.lineComments = ["//"]
    s.blockComments = [cBlockComment]
    s.strings = [doubleQuoted, StringForm("'", "'", afterWord: false)]
    return s
  }()

  /// Every entry, in lookup order.
  public static let all: [LanguageSpec] = [
    python, c, cpp, objectiveC, objectiveCpp, java, kotlin, csharp, javascript, typescript, go, rust, swift,
    ruby, php, lua, shell, json,
  ]

  private static let byID: [String: LanguageSpec] = {
    var table: [String: LanguageSpec] = [:]
    for spec in all { for id in spec.languageIds where table[id] == nil { table[id] = spec } }
    return table
  }()

  private static let byExtension: [String: LanguageSpec] = {
    var table: [String: LanguageSpec] = [:]
    for spec in all { for ext in spec.fileExtensions where table[ext] == nil { table[ext] = spec } }
    return table
  }()

  /// The entry for an LSP language id (case-insensitive), else for the file name's extension.
  ///
  /// - Throws: `SyntaxCheckError.unknownLanguage` when neither matches (callers usually fall back to `generic`).
  public static func spec(languageId: String, fileName: String? = nil) throws -> LanguageSpec {
    if let found = byID[languageId.lowercased()] { return found }
    if let fileName, let dot = fileName.lastIndex(of: ".") {
      let ext = fileName[fileName.index(after: dot)...].lowercased()
      if let found = byExtension[ext] { return found }
    }
    throw SyntaxCheckError.unknownLanguage(languageId: languageId, fileName: fileName)
  }

  /// The entry for a language id or file name, or `generic` when none matches.
  public static func lookup(languageId: String, fileName: String? = nil) -> LanguageSpec {
    (try? spec(languageId: languageId, fileName: fileName)) ?? generic
  }
}
