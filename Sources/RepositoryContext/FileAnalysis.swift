import SyntaxCheck

/// What a definition names.
public enum DefinitionKind: UInt8, Sendable, Equatable {
  /// A function or method (`def`, `func`, `fn`, `function`, a C function at file level).
  case function
  /// A type or module (`class`, `struct`, `enum`, `protocol`, `interface`, `trait`, `type`).
  case type
  /// A constant or variable at file level (`let`, `const`, `NAME = ...` in Python).
  case value
}

/// A definition found in a file: its name, kind, and the zero-based line it starts on.
public struct Definition: Sendable, Equatable {
  public var name: String
  public var kind: DefinitionKind
  public var line: Int
  /// Columns of indentation of its line.
  public var indent: Int
}

/// One file read for the index: its identifiers line by line and the definitions it holds, found with the syntax
/// layer's lexer (identifiers in code only, never in strings or comments), without any parser.
public struct FileAnalysis: Sendable {
  /// Number of lines.
  public var lineCount: Int
  /// The distinct identifiers of each line (two characters or more).
  public var lineIdentifiers: [[String]]
  public var definitions: [Definition]
  /// Identifiers on import lines (`from .utils import make_str`: `utils`, `make_str`), in order, without the import
  /// keywords; a bracketed import continued over several lines counts whole.
  public var importedNames: [String]

  static let importWords: Set<String> = ["import", "from", "use", "using", "require", "include", "as", "static"]

  /// Per language (`LanguageSpec.name`): keywords that introduce a definition of the next word at any depth, and
  /// keywords that do so only at file level (elsewhere they declare locals).
  static let keywords: [String: (anyDepth: [String: DefinitionKind], fileLevel: [String: DefinitionKind])] = {
    let types: [String: DefinitionKind] = ["class": .type, "struct": .type, "enum": .type, "interface": .type]
    func merge(_ a: [String: DefinitionKind], _ b: [String: DefinitionKind]) -> [String: DefinitionKind] {
      a.merging(b) { first, _ in first }
    }
    let values: [String: DefinitionKind] = ["let": .value, "var": .value, "const": .value]
    return [
      "python": (["def": .function, "class": .type], [:]),
      "swift": (
        merge(types, ["func": .function, "protocol": .type, "actor": .type, "typealias": .type]), values
      ),
      "kotlin": (
        merge(types, ["fun": .function, "object": .type, "typealias": .type]), ["val": .value, "var": .value]
      ),
      "rust": (
        ["fn": .function, "struct": .type, "enum": .type, "trait": .type, "type": .type, "mod": .type],
        ["const": .value, "static": .value]
      ),
      "go": (["func": .function], ["type": .type, "const": .value, "var": .value]),
      "javascript": (merge(types, ["function": .function]), values),
      "typescript": (merge(types, ["function": .function, "type": .type, "namespace": .type]), values),
      "java": (merge(types, ["record": .type]), [:]),
      "csharp": (merge(types, ["record": .type]), [:]),
      "c": (["struct": .type, "union": .type, "enum": .type], ["define": .value]),
      "cpp": (merge(types, ["union": .type, "namespace": .type]), ["define": .value]),
      "objective-c": (["struct": .type, "union": .type, "enum": .type], ["define": .value]),
      "objective-cpp": (merge(types, ["union": .type]), ["define": .value]),
      "ruby": (["def": .function, "class": .type, "module": .type], [:]),
      "php": (merge(types, ["function": .function, "trait": .type]), ["const": .value]),
      "lua": (["function": .function], [:]),
      "shell": (["function": .function], [:]),
    ]
  }()
  /// Languages whose functions are declared as `type name(...)` at file level.
  static let cFamily: Set<String> = ["c", "cpp", "objective-c", "objective-cpp"]
  static let notFunctionNames: Set<String> = [
    "if", "while", "for", "switch", "return", "sizeof", "defined", "typeof", "alignof", "decltype", "static_assert",
  ]

  /// Reads `text` as `spec`'s language.
  public init(text: String, spec: LanguageSpec) {
    var lexer = Lexer(spec: spec)
    lexer.append(text)
    let bytes = Array(text.utf8)
    var lines: [[String]] = [[]]
    var seenOnLine: Set<String> = []
    var definitions: [Definition] = []
    var lineIndent = 0
    var previousWord: (word: String, end: Int, line: Int)?
    let braces = spec.blockStyle != .indentation
    let cLike = Self.cFamily.contains(spec.name)
    let (anyDepth, fileLevel) = Self.keywords[spec.name] ?? ([:], [:])
    var pendingCName: (name: String, end: Int, line: Int, indent: Int)?
    var imported: [String] = []
    var importDepth: Int?  // stack depth where the import statement began, while in one
    var lineStartDepth = 0
    var firstWordOfLine = true
    func onlySpaces(_ from: Int, _ to: Int) -> Bool {
      guard from <= to, to <= bytes.count else { return false }
      for i in from..<to where bytes[i] != 32 && bytes[i] != 9 { return false }
      return true
    }
    while let event = lexer.next(final: true) {
      switch event {
      case .lineBreak:
        if let depth = importDepth, lexer.state.stack.count <= depth { importDepth = nil }
        lineStartDepth = lexer.state.stack.count
        firstWordOfLine = true
        lines.append([])
        seenOnLine.removeAll(keepingCapacity: true)
        lineIndent = 0
        previousWord = nil
        pendingCName = nil
      case .lineStart(_, let indent):
        lineIndent = indent
      case .word(let word, let offset):
        let line = lines.count - 1
        let end = offset + word.utf8.count
        if word.utf8.count >= 2, seenOnLine.insert(word).inserted { lines[line].append(word) }
        let depth = lexer.state.stack.count
        if firstWordOfLine {
          firstWordOfLine = false
          if importDepth == nil, word == "import" || word == "from" || word == "use" || word == "using" {
            importDepth = lineStartDepth
          }
        }
        if importDepth != nil, !Self.importWords.contains(word) { imported.append(word) }
        if let previous = previousWord, previous.line == line, onlySpaces(previous.end, offset) {
          if let kind = anyDepth[previous.word], !cLike || depth == 0 {
            definitions.append(Definition(name: word, kind: kind, line: line, indent: lineIndent))
          } else if let kind = fileLevel[previous.word], depth == 0 || (!braces && lineIndent == 0) {
            definitions.append(Definition(name: word, kind: kind, line: line, indent: lineIndent))
          }
        }
        if cLike && depth == 0 && lineIndent == 0 && !Self.notFunctionNames.contains(word) {
          pendingCName = (word, end, line, lineIndent)
        } else {
          pendingCName = nil
        }
        previousWord = (word, end, line)
      case .opened(let frame, let offset):
        if let pending = pendingCName, frame.openerText == "(", pending.line == lines.count - 1,
          onlySpaces(pending.end, offset), lexer.state.stack.count == 1
        {
          definitions.append(
            Definition(name: pending.name, kind: .function, line: pending.line, indent: pending.indent))
        }
        pendingCName = nil
        previousWord = nil
      default:
        pendingCName = nil
      }
    }
    // Python (and other indentation languages): `NAME = ...` or `NAME: T = ...` at column 0.
    if !braces {
      var lineStart = 0
      var line = 0
      for i in 0...bytes.count where i == bytes.count || bytes[i] == 10 {
        if let name = Self.fileLevelAssignment(bytes[lineStart..<i]) {
          definitions.append(Definition(name: name, kind: .value, line: line, indent: 0))
        }
        lineStart = i + 1
        line += 1
      }
    }
    // One definition per name and line (`let x` and an assignment can both see the same line), and a value assigned
    // again later in the file is defined where it is first assigned.
    definitions.sort { ($0.line, $0.name) < ($1.line, $1.name) }
    var seen: Set<String> = []
    var values: Set<String> = []
    definitions = definitions.filter {
      seen.insert("\($0.line):\($0.name)").inserted && ($0.kind != .value || values.insert($0.name).inserted)
    }
    self.lineCount = lines.count
    self.lineIdentifiers = lines
    self.definitions = definitions
    self.importedNames = imported
  }

  /// The assigned name of a line `NAME = value` or `NAME: T = value` starting at column 0, else nil.
  static func fileLevelAssignment(_ line: ArraySlice<UInt8>) -> String? {
    var i = line.startIndex
    func isStart(_ b: UInt8) -> Bool { (b >= 65 && b <= 90) || (b >= 97 && b <= 122) || b == 95 }
    func isPart(_ b: UInt8) -> Bool { isStart(b) || (b >= 48 && b <= 57) }
    guard i < line.endIndex, isStart(line[i]) else { return nil }
    while i < line.endIndex, isPart(line[i]) { i += 1 }
    let name = String(decoding: line[line.startIndex..<i], as: UTF8.self)
    while i < line.endIndex, line[i] == 32 { i += 1 }
    guard i < line.endIndex else { return nil }
    if line[i] == 58 {  // `:` annotation, then `=` somewhere later on the line
      guard let equals = line[i...].firstIndex(of: 61), equals + 1 < line.endIndex, line[equals + 1] != 61 else {
        return nil
      }
      return name
    }
    guard line[i] == 61, i + 1 < line.endIndex, line[i + 1] != 61 else { return nil }
    return name
  }
}
