/// Tables derived once from a `LanguageSpec`, as Unicode scalars.
final class LexTables: @unchecked Sendable {
  struct Form {
    var open: [Unicode.Scalar]
    var string: OpenString
    var afterWord: Bool
  }
  struct BlockComment {
    var open: [Unicode.Scalar]
    var close: [Unicode.Scalar]
    var nests: Bool
    var atLineStart: Bool
  }

  let spec: LanguageSpec
  let forms: [Form]  // longest opener first
  let lineComments: [[Unicode.Scalar]]
  let lineCommentExceptions: [[Unicode.Scalar]]
  let blockComments: [BlockComment]
  let openToClose: [Unicode.Scalar: Unicode.Scalar]
  let closeToOpen: [Unicode.Scalar: Unicode.Scalar]
  let blockOpeners: Set<Unicode.Scalar>
  let identifierExtra: Set<Unicode.Scalar>
  let prefixes: [String: StringModifiers]
  let keywordWords: Set<String>
  let statementSeparators: Set<Unicode.Scalar>
  let heredocIntroducer: [Unicode.Scalar]
  let heredocNotFollowedBy: Unicode.Scalar?
  let maxPrefixWordLength: Int

  init(_ spec: LanguageSpec) {
    self.spec = spec
    func scalars(_ s: String) -> [Unicode.Scalar] { Array(s.unicodeScalars) }
    forms = spec.strings.map { f in
      Form(
        open: scalars(f.open),
        string: OpenString(
          close: scalars(f.close), escape: f.escape.flatMap { $0.unicodeScalars.first }, multiline: f.multiline,
          interpolations: f.interpolations.map {
            ScalarInterpolation(
              open: scalars($0.open), close: $0.close.unicodeScalars.first!, formatSpec: $0.formatSpec)
          },
          doubledClose: f.doubledCloseEscapes, doubledInterpolation: f.doubledInterpolationEscapes, opener: f.open),
        afterWord: f.afterWord)
    }.sorted { $0.open.count > $1.open.count }
    lineComments = spec.lineComments.map(scalars).sorted { $0.count > $1.count }
    lineCommentExceptions = spec.lineCommentExceptions.map(scalars)
    blockComments = spec.blockComments.map {
      BlockComment(open: scalars($0.open), close: scalars($0.close), nests: $0.nests, atLineStart: $0.atLineStart)
    }.sorted { $0.open.count > $1.open.count }
    var o2c: [Unicode.Scalar: Unicode.Scalar] = [:]
    var c2o: [Unicode.Scalar: Unicode.Scalar] = [:]
    for pair in spec.brackets {
      let s = scalars(pair)
      precondition(s.count == 2, "bracket pairs are two characters")
      o2c[s[0]] = s[1]
      c2o[s[1]] = s[0]
    }
    openToClose = o2c
    closeToOpen = c2o
    blockOpeners = Set(spec.blockBrackets.unicodeScalars)
    identifierExtra = Set(spec.identifierCharacters.unicodeScalars)
    prefixes = spec.stringPrefixes
    var words = spec.continuationKeywords
    if let k = spec.keywordBlocks {
      words.formUnion(k.openers.keys)
      words.formUnion(k.closers.keys)
    }
    keywordWords = words
    statementSeparators = Set((spec.keywordBlocks?.statementSeparators ?? ";").unicodeScalars)
    heredocIntroducer = spec.heredoc.map { scalars($0.introducer) } ?? []
    heredocNotFollowedBy = spec.heredoc?.notFollowedBy?.unicodeScalars.first
    var longest = 3
    for key in spec.stringPrefixes.keys { longest = max(longest, key.unicodeScalars.count) }
    maxPrefixWordLength = longest
  }
}

/// An incremental lexer over a `LanguageSpec`: feed text in chunks, read events, inspect `state` at any time.
///
/// It tracks comments, strings (raw, multi-line, template and interpolated forms, here-documents), regular
/// expression literals, the bracket and keyword-block stack, and indentation. Constructs that need lookahead
/// (`"` versus `"""`, a word versus a string prefix, `\r\n`) wait for more text: `next(final: false)` returns
/// nil until it can decide, and `final: true` decides with what there is.
///
/// Used to scan a prefix once and then follow a completion chunk by chunk as tokens stream; copying a `Lexer`
/// is cheap (copy-on-write) and gives an independent one, for what-if scans of the suffix.
public struct Lexer: Sendable {
  let tables: LexTables
  /// The state after everything consumed so far.
  public private(set) var state = LexState()
  private var buffer: [Unicode.Scalar] = []
  private var pos = 0
  /// Events produced together (a token that closes a string and opens a bracket) wait here.
  private var queued: [LexEvent] = []

  /// A lexer for one language.
  public init(spec: LanguageSpec) { tables = LexTables(spec) }

  /// The language it reads.
  public var spec: LanguageSpec { tables.spec }

  /// Scalars received but not yet consumed (waiting for lookahead).
  public var pendingScalars: Int { buffer.count - pos }

  /// Adds text to read.
  public mutating func append(_ text: String) {
    if pos > 4096 && pos * 2 > buffer.count {
      buffer.removeFirst(pos)
      pos = 0
    }
    buffer.append(contentsOf: text.unicodeScalars)
  }

  /// Appends `text` and consumes as much as possible, discarding events; returns the number of events.
  @discardableResult
  public mutating func scan(_ text: String, final: Bool) -> Int {
    append(text)
    var n = 0
    while next(final: final) != nil { n += 1 }
    return n
  }

  /// Replaces the unread text (what-if scans from a copied state).
  mutating func resetInput() {
    buffer.removeAll(keepingCapacity: true)
    pos = 0
    queued.removeAll()
  }

  /// The next event, or nil when the buffer is exhausted or more text is needed to decide (unless `final`).
  public mutating func next(final: Bool) -> LexEvent? {
    if !queued.isEmpty { return queued.removeFirst() }
    while pos < buffer.count {
      switch step(final: final) {
      case .needMore: return nil
      case .consumed: continue
      case .event(let e): return e
      }
    }
    return nil
  }

  /// Creates a lexer in a given state (what-if scans).
  init(tables: LexTables, state: LexState) {
    self.tables = tables
    self.state = state
  }

  /// Whether events wait in the queue (a step produced more than one).
  var hasQueuedEvents: Bool { !queued.isEmpty }

  /// Takes one queued event.
  mutating func takeQueued() -> LexEvent? { queued.isEmpty ? nil : queued.removeFirst() }

  /// True when unread input remains.
  var hasInput: Bool { pos < buffer.count }

  /// Performs exactly one step: consumes one token or construct, or reports that more text is needed.
  mutating func step(final: Bool) -> StepResult {
    if let e = takeQueued() { return .event(e) }
    guard pos < buffer.count else { return .needMore }
    do {
      let result: StepResult
      switch state.context {
      case .code: result = stepCode(final: final)
      case .string(let s): result = stepString(s, final: final)
      case .lineComment: result = stepLineComment()
      case .blockComment(let open, let close, let nests, let depth, let atLineStart):
        result = stepBlockComment(
          open: open, close: close, nests: nests, depth: depth, atLineStart: atLineStart, final: final)
      case .regex(let inClass): result = stepRegex(inClass: inClass, final: final)
      case .heredoc(let tag, let indented): result = stepHeredoc(tag: tag, indented: indented, final: final)
      }
      return result
    }
  }

  enum StepResult {
    case needMore
    case consumed
    case event(LexEvent)
  }

  // MARK: Helpers

  @inline(__always) private func peek(_ i: Int) -> Unicode.Scalar? {
    let j = pos + i
    return j < buffer.count ? buffer[j] : nil
  }

  private enum Match { case yes, no, needMore }

  /// Whether `pattern` occurs at `pos + from`; needMore when the buffer ends inside a possible match.
  private func match(_ pattern: [Unicode.Scalar], from: Int = 0, final: Bool) -> Match {
    for (k, p) in pattern.enumerated() {
      guard let c = peek(from + k) else { return final ? .no : .needMore }
      if c != p { return .no }
    }
    return .yes
  }

  @inline(__always) private static func utf8Length(_ c: Unicode.Scalar) -> Int {
    switch c.value {
    case 0..<0x80: return 1
    case 0x80..<0x800: return 2
    case 0x800..<0x10000: return 3
    default: return 4
    }
  }

  /// Consumes `n` scalars (no line breaks among them unless handled by the caller).
  private mutating func consume(_ n: Int) {
    for _ in 0..<n {
      let c = buffer[pos]
      state.offset += Lexer.utf8Length(c)
      state.previousScalar = c
      pos += 1
    }
  }

  @inline(__always) private static func isLineBreak(_ c: Unicode.Scalar) -> Bool { c == "\n" || c == "\r" }
  @inline(__always) private static func isBlank(_ c: Unicode.Scalar) -> Bool {
    c == " " || c == "\t" || c == "\u{0C}" || c == "\u{0B}" || c == "\u{A0}" || c == "\u{FEFF}"
  }

  func isWordScalar(_ c: Unicode.Scalar) -> Bool {
    if c.value < 0x80 {
      return (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || (c >= "0" && c <= "9") || c == "_"
        || tables.identifierExtra.contains(c)
    }
    return c.properties.isAlphabetic || tables.identifierExtra.contains(c)
  }

  /// Consumes one line break (`\n`, `\r\n` or `\r`) and starts a new line; returns false when `\r` needs
  /// lookahead.
  private mutating func consumeLineBreak(final: Bool) -> Bool {
    if buffer[pos] == "\r" {
      guard let next = peek(1) else {
        if !final { return false }
        consume(1)
        newLine()
        return true
      }
      consume(next == "\n" ? 2 : 1)
    } else {
      consume(1)
    }
    newLine()
    return true
  }

  private mutating func newLine() {
    state.line += 1
    state.atLineStart = true
    state.lineIndent = 0
    state.lastCode = nil
    state.lastTokenWasWord = false
    state.lineFirstWord = nil
    state.statementStart = true
    state.lineStartDepth = state.stack.count
    state.lineHasContent = false
  }

  private mutating func enter(_ context: LexContext, consuming n: Int) -> StepResult {
    let offset = state.offset
    consume(n)
    state.context = context
    state.lineHasContent = true
    return .event(.entered(context, offset: offset))
  }

  // MARK: Code

  private mutating func stepCode(final: Bool) -> StepResult {
    let c = buffer[pos]
    if Lexer.isLineBreak(c) {
      // A line break inside the interpolation of a single-line string ends that string (an error): drop the
      // interpolation and everything opened inside it, so the damage stays on this line.
      if let i = state.stack.firstIndex(where: {
        if case .interpolation(_, let resume, _) = $0.kind { return !resume.multiline }
        return false
      }) {
        let frame = state.stack[i]
        state.stack.removeSubrange(i...)
        state.errors += 1
        if case .interpolation(_, let resume, _) = frame.kind {
          return .event(.unterminated(.string(resume), offset: state.offset))
        }
      }
      let offset = state.offset
      if state.lastCode != nil {
        state.previousLine = LineSummary(
          line: state.line, indent: state.statementIndent, lastCode: state.lastCode, firstWord: state.lineFirstWord,
          opensBlock: state.currentLineOpensBlock(spec: tables.spec))
      }
      guard consumeLineBreak(final: final) else { return .needMore }
      if !state.pendingHeredocs.isEmpty {
        let h = state.pendingHeredocs.removeFirst()
        let context = LexContext.heredoc(tag: h.tag, indented: h.indented)
        state.context = context
        queued.append(.entered(context, offset: state.offset))
      }
      return .event(.lineBreak(offset: offset))
    }
    if Lexer.isBlank(c) {
      if state.atLineStart {
        state.lineIndent = c == "\t" ? (state.lineIndent / 8 + 1) * 8 : state.lineIndent + 1
      }
      consume(1)
      return .consumed
    }
    if state.atLineStart {
      state.atLineStart = false
      state.lineHasContent = true
      if state.stack.last.map({ $0.isBlock }) ?? true { state.statementIndent = state.lineIndent }
      return .event(.lineStart(offset: state.offset, indent: state.lineIndent))
    }
    state.lineHasContent = true

    // Comments.
    for form in tables.blockComments {
      if form.atLineStart && (state.lineIndent != 0 || state.lastCode != nil) { continue }
      switch match(form.open, final: final) {
      case .needMore: return .needMore
      case .no: continue
      case .yes:
        return enter(
          .blockComment(open: form.open, close: form.close, nests: form.nests, depth: 1, atLineStart: form.atLineStart),
          consuming: form.open.count)
      }
    }
    for opener in tables.lineComments {
      switch match(opener, final: final) {
      case .needMore: return .needMore
      case .no: continue
      case .yes:
        if tables.spec.lineCommentNeedsBoundary, let p = state.previousScalar,
          !(Lexer.isBlank(p) || Lexer.isLineBreak(p) || ";|&(".unicodeScalars.contains(p))
        {
          continue
        }
        var excepted = false
        for ex in tables.lineCommentExceptions {
          switch match(ex, final: final) {
          case .needMore: return .needMore
          case .yes: excepted = true
          case .no: break
          }
        }
        if excepted { continue }
        if tables.spec.longBracketComments {
          switch longBracket(from: opener.count, final: final) {
          case .needMore: return .needMore
          case .none: break
          case .some(let level, let length):
            let close = [Unicode.Scalar("]")] + Array(repeating: "=", count: level) + [Unicode.Scalar("]")]
            return enter(
              .blockComment(open: opener, close: close, nests: false, depth: 1, atLineStart: false),
              consuming: opener.count + length)
          }
        }
        return enter(.lineComment, consuming: opener.count)
      }
    }

    // Strings.
    if c == "#" && tables.spec.swiftRawStrings {
      var hashes = 0
      while let h = peek(hashes), h == "#" { hashes += 1 }
      if peek(hashes) == nil && !final { return .needMore }
      if peek(hashes) == "\"" {
        let triple = match(["\"", "\"", "\""], from: hashes, final: final)
        if triple == .needMore { return .needMore }
        let quotes = triple == .yes ? 3 : 1
        let hashScalars = [Unicode.Scalar](repeating: "#", count: hashes)
        let s = OpenString(
          close: [Unicode.Scalar](repeating: "\"", count: quotes) + hashScalars, escape: nil, multiline: quotes == 3,
          interpolations: [ScalarInterpolation(open: ["\\"] + hashScalars + ["("], close: ")")],
          doubledClose: false, doubledInterpolation: false,
          opener: String(repeating: "#", count: hashes) + String(repeating: "\"", count: quotes))
        return enter(.string(s), consuming: hashes + quotes)
      }
    }
    if let heredoc = tables.spec.heredoc, c == tables.heredocIntroducer.first {
      switch heredocStart(heredoc, final: final) {
      case .needMore: return .needMore
      case .none: break
      case .some(let pending, let length):
        state.pendingHeredocs.append(pending)
        consume(length)
        state.lastCode = "<"
        state.lastTokenWasWord = false
        return .consumed
      }
    }
    if c == "[" && tables.spec.luaLongStrings {
      switch longBracket(from: 0, final: final) {
      case .needMore: return .needMore
      case .none: break
      case .some(let level, let length):
        let close = [Unicode.Scalar("]")] + Array(repeating: "=", count: level) + [Unicode.Scalar("]")]
        let s = OpenString(
          close: close, escape: nil, multiline: true, interpolations: [], doubledClose: false,
          doubledInterpolation: false, opener: "[" + String(repeating: "=", count: level) + "[")
        return enter(.string(s), consuming: length)
      }
    }
    let afterWord = state.previousScalar.map(isWordScalar) ?? false
    for form in tables.forms where form.open.first == c {
      if afterWord && !form.afterWord { continue }
      switch match(form.open, final: final) {
      case .needMore: return .needMore
      case .no: continue
      case .yes: return enter(.string(form.string), consuming: form.open.count)
      }
    }
    if c == "'" && tables.spec.quoteCharLiteralOrLifetime {
      // 'x', '\n', '\u{1F600}' are characters; 'a, 'static are lifetimes.
      guard let n1 = peek(1) else { return final ? consumeCodeScalar(c) : .needMore }
      if n1 == "\\" {
        var k = 2
        while k < 14 {
          guard let ch = peek(k) else { return final ? consumeCodeScalar(c) : .needMore }
          if ch == "'" {
            consume(k + 1)
            state.lastCode = "'"
            state.lastTokenWasWord = false
            return .consumed
          }
          if Lexer.isLineBreak(ch) { break }
          k += 1
        }
        return consumeCodeScalar(c)
      }
      guard let n2 = peek(2) else { return final ? consumeCodeScalar(c) : .needMore }
      if n2 == "'" && n1 != "'" && !Lexer.isLineBreak(n1) {
        consume(3)
        state.lastCode = "'"
        state.lastTokenWasWord = false
        return .consumed
      }
      return consumeCodeScalar(c)
    }
    if c == "/" && tables.spec.regexLiterals && regexAllowed() {
      return enter(.regex(inClass: false), consuming: 1)
    }

    // Words.
    if isWordScalar(c) { return stepWord(final: final) }

    // Interpolation end, brackets.
    if let top = state.stack.last, case .interpolation(let close, _, true) = top.kind, c == ":" {
      // A format specification: literal text up to the interpolation's closer, with nested interpolations.
      let spec = OpenString(
        close: [close], escape: nil, multiline: false,
        interpolations: [ScalarInterpolation(open: ["{"], close: "}", formatSpec: false)], doubledClose: false,
        doubledInterpolation: false, opener: ":", leavesClose: true)
      consume(1)
      state.context = .string(spec)
      return .consumed
    }
    if let top = state.stack.last, case .interpolation(let close, let resume, _) = top.kind, c == close {
      let offset = state.offset
      state.stack.removeLast()
      consume(1)
      state.context = .string(resume)
      return .event(.closed(top, offset: offset))
    }
    if let close = tables.openToClose[c] {
      let frame = Frame(
        kind: .bracket(open: c, close: close), line: state.line, isBlock: tables.blockOpeners.contains(c))
      let offset = state.offset
      state.stack.append(frame)
      _ = consumeCodeScalar(c)
      state.statementStart = true
      return .event(.opened(frame, offset: offset))
    }
    if tables.closeToOpen[c] != nil {
      let offset = state.offset
      let top = state.stack.last
      if let top, case .bracket(_, let close) = top.kind, close == c {
        state.stack.removeLast()
        _ = consumeCodeScalar(c)
        state.statementStart = false
        return .event(.closed(top, offset: offset))
      }
      if let top, case .keyword(let word) = top.kind, c == ")",
        tables.spec.keywordBlocks?.closerTolerantOpeners.contains(word) == true
      {
        return consumeCodeScalar(c)  // shell `case` pattern `a)`
      }
      // Recovery: a closer matching a deeper bracket closes it and everything above it (one error); a closer
      // matching nothing is skipped (one error). Interpolations are never crossed.
      state.errors += 1
      var index = state.stack.count - 1
      while index >= 0 {
        let kind = state.stack[index].kind
        if case .bracket(_, let close) = kind, close == c {
          state.stack.removeSubrange(index...)
          break
        }
        if case .interpolation = kind { break }
        index -= 1
      }
      _ = consumeCodeScalar(c)
      return .event(.badCloser(String(Character(c)), expected: top, offset: offset))
    }
    let result = consumeCodeScalar(c)
    state.statementStart = tables.statementSeparators.contains(c)
    return result
  }

  private mutating func consumeCodeScalar(_ c: Unicode.Scalar) -> StepResult {
    consume(1)
    state.lastCode = c
    state.lastTokenWasWord = false
    return .consumed
  }

  private func regexAllowed() -> Bool {
    guard let last = state.lastCode else { return true }
    if state.lastTokenWasWord {
      let words: Set<String> = [
        "return", "typeof", "case", "do", "else", "in", "of", "new", "delete", "void", "throw", "yield", "await",
        "and", "or", "not", "if", "unless", "when", "while", "until", "puts", "print", "p",
      ]
      return state.lastWord.map { words.contains($0) } ?? false
    }
    return "(,=:[!&|?{};+-*%<>~^".unicodeScalars.contains(last)
  }

  private enum LongBracket {
    case none
    case needMore
    case some(level: Int, length: Int)
  }

  /// A Lua long bracket `[`, `=`*, `[` starting at `pos + from`.
  private func longBracket(from: Int, final: Bool) -> LongBracket {
    guard let first = peek(from) else { return final ? .none : .needMore }
    guard first == "[" else { return .none }
    var level = 0
    while true {
      guard let ch = peek(from + 1 + level) else { return final ? .none : .needMore }
      if ch == "=" {
        level += 1
        continue
      }
      return ch == "[" ? .some(level: level, length: level + 2) : .none
    }
  }

  private enum HeredocStart {
    case none
    case needMore
    case some(PendingHeredoc, Int)
  }

  private func heredocStart(_ form: HeredocForm, final: Bool) -> HeredocStart {
    switch match(tables.heredocIntroducer, final: final) {
    case .needMore: return .needMore
    case .no: return .none
    case .yes: break
    }
    var k = tables.heredocIntroducer.count
    if let not = tables.heredocNotFollowedBy {
      guard let ch = peek(k) else { return final ? .none : .needMore }
      if ch == not { return .none }
    }
    var indented = form.alwaysIndentedClose
    if let ch = peek(k), form.indentFlags.unicodeScalars.contains(ch) {
      indented = true
      k += 1
    }
    if form.spaceBeforeTag { while let ch = peek(k), Lexer.isBlank(ch) { k += 1 } }
    guard let first = peek(k) else { return final ? .none : .needMore }
    var quote: Unicode.Scalar?
    if first == "'" || first == "\"" {
      quote = first
      k += 1
    }
    var tag = ""
    while let ch = peek(k), ch.value < 0x80, isWordScalar(ch), ch != "$" {
      tag.unicodeScalars.append(ch)
      k += 1
    }
    if peek(k) == nil && !final { return .needMore }
    guard let head = tag.unicodeScalars.first, !(head >= "0" && head <= "9") else { return .none }
    if let quote {
      guard peek(k) == quote else { return .none }
      k += 1
    } else if form.tagMustBeUppercase && !(head >= "A" && head <= "Z") {
      return .none
    }
    return .some(PendingHeredoc(tag: tag, indented: indented), k)
  }

  private mutating func stepWord(final: Bool) -> StepResult {
    var k = 0
    while let ch = peek(k), isWordScalar(ch) { k += 1 }
    if peek(k) == nil && !final { return .needMore }
    let word = String(String.UnicodeScalarView(buffer[pos..<(pos + k)]))
    let offset = state.offset

    // String prefixes and raw strings.
    if let next = peek(k), next == "\"" || next == "#" || next == "'" || next == "`" {
      if tables.spec.rustRawStrings && (word == "r" || word == "br" || word == "cr") {
        var hashes = 0
        while let h = peek(k + hashes), h == "#" { hashes += 1 }
        if peek(k + hashes) == nil && !final { return .needMore }
        if peek(k + hashes) == "\"" {
          let s = OpenString(
            close: ["\""] + [Unicode.Scalar](repeating: "#", count: hashes), escape: nil, multiline: true,
            interpolations: [], doubledClose: false, doubledInterpolation: false,
            opener: word + String(repeating: "#", count: hashes) + "\"")
          return enter(.string(s), consuming: k + hashes + 1)
        }
      }
      if tables.spec.cppRawStrings && next == "\"" && ["R", "u8R", "uR", "UR", "LR"].contains(word) {
        var delimiter: [Unicode.Scalar] = []
        var j = k + 1
        while true {
          guard let ch = peek(j) else {
            if !final { return .needMore }
            break
          }
          if ch == "(" {
            let s = OpenString(
              close: [")"] + delimiter + ["\""], escape: nil, multiline: true, interpolations: [],
              doubledClose: false, doubledInterpolation: false,
              opener: word + "\"" + String(String.UnicodeScalarView(delimiter)) + "(")
            return enter(.string(s), consuming: j + 1)
          }
          if delimiter.count >= 16 || ch == ")" || ch == "\\" || Lexer.isBlank(ch) || Lexer.isLineBreak(ch) { break }
          delimiter.append(ch)
          j += 1
        }
      }
      if let modifiers = tables.prefixes[word] {
        for form in tables.forms where form.open.first == next {
          switch match(form.open, from: k, final: final) {
          case .needMore: return .needMore
          case .no: continue
          case .yes:
            var s = form.string
            if modifiers.raw { s.escape = nil }
            if let interps = modifiers.interpolations {
              s.interpolations = interps.map {
                ScalarInterpolation(
                  open: Array($0.open.unicodeScalars), close: $0.close.unicodeScalars.first!, formatSpec: $0.formatSpec)
              }
            }
            s.opener = word + s.opener
            return enter(.string(s), consuming: k + form.open.count)
          }
        }
      }
    }

    consume(k)
    let afterDot = state.lastCode == "." && !state.lastTokenWasWord
    state.lastCode = buffer[pos - 1]
    state.lastTokenWasWord = true
    state.lastWord = word
    let isFirstWord = state.lineFirstWord == nil
    if isFirstWord { state.lineFirstWord = word }
    let wasStatementStart = state.statementStart
    state.statementStart = tables.keywordWords.contains(word)

    if let blocks = tables.spec.keywordBlocks, !afterDot {
      if let allowed = blocks.closers[word] {
        let top = state.stack.last
        if let top, case .keyword(let opener) = top.kind, allowed.isEmpty || allowed.contains(opener) {
          state.stack.removeLast()
          queued.append(.closed(top, offset: offset))
        } else {
          state.errors += 1
          queued.append(.badCloser(word, expected: top, offset: offset))
        }
      } else if let rule = blocks.openers[word] {
        var opens = true
        if rule.statementStartOnly && !wasStatementStart { opens = false }
        if !isFirstWord, let first = state.lineFirstWord, rule.notAfterLineStartingWith.contains(first) {
          opens = false
        }
        if opens {
          let frame = Frame(kind: .keyword(word), line: state.line, isBlock: true)
          state.stack.append(frame)
          queued.append(.opened(frame, offset: offset))
        }
      }
    }
    return .event(.word(word, offset: offset))
  }

  // MARK: Strings and comments

  private mutating func stepString(_ s: OpenString, final: Bool) -> StepResult {
    let c = buffer[pos]
    if Lexer.isLineBreak(c) {
      if !s.multiline {
        state.errors += 1
        state.context = .code
        return .event(.unterminated(.string(s), offset: state.offset))
      }
      let offset = state.offset
      guard consumeLineBreak(final: final) else { return .needMore }
      state.atLineStart = false
      state.lineHasContent = true
      return .event(.lineBreak(offset: offset))
    }
    for interp in s.interpolations where interp.open.first == c {
      switch match(interp.open, final: final) {
      case .needMore: return .needMore
      case .no: continue
      case .yes:
        if s.doubledInterpolation {
          switch match(interp.open, from: interp.open.count, final: final) {
          case .needMore: return .needMore
          case .yes:
            consume(interp.open.count * 2)
            return .consumed
          case .no: break
          }
        }
        let frame = Frame(
          kind: .interpolation(close: interp.close, resume: s, formatSpec: interp.formatSpec), line: state.line,
          isBlock: false)
        let offset = state.offset
        consume(interp.open.count)
        state.stack.append(frame)
        state.context = .code
        state.lastCode = nil
        state.lastTokenWasWord = false
        return .event(.opened(frame, offset: offset))
      }
    }
    if let escape = s.escape, c == escape {
      guard let next = peek(1) else { return final ? (consume(1), StepResult.consumed).1 : .needMore }
      if Lexer.isLineBreak(next) {
        consume(1)
        let offset = state.offset
        guard consumeLineBreak(final: final) else { return .needMore }
        state.atLineStart = false
        return .event(.lineBreak(offset: offset))
      }
      consume(2)
      return .consumed
    }
    if c == s.close[0] {
      switch match(s.close, final: final) {
      case .needMore: return .needMore
      case .no: break
      case .yes:
        if s.doubledClose {
          switch match(s.close, from: s.close.count, final: final) {
          case .needMore: return .needMore
          case .yes:
            consume(s.close.count * 2)
            return .consumed
          case .no: break
          }
        }
        if s.leavesClose {
          state.context = .code  // the enclosing interpolation reads the closer
          return .consumed
        }
        let offset = state.offset
        consume(s.close.count)
        state.context = .code
        state.lastCode = "\""
        state.lastTokenWasWord = false
        return .event(.exited(.string(s), offset: offset))
      }
    }
    consume(1)
    return .consumed
  }

  private mutating func stepLineComment() -> StepResult {
    let c = buffer[pos]
    if Lexer.isLineBreak(c) {
      state.context = .code
      return .event(.exited(.lineComment, offset: state.offset))
    }
    consume(1)
    return .consumed
  }

  private mutating func stepBlockComment(
    open: [Unicode.Scalar], close: [Unicode.Scalar], nests: Bool, depth: Int, atLineStart: Bool, final: Bool
  ) -> StepResult {
    let c = buffer[pos]
    if Lexer.isLineBreak(c) {
      let offset = state.offset
      guard consumeLineBreak(final: final) else { return .needMore }
      state.atLineStart = true
      return .event(.lineBreak(offset: offset))
    }
    let lineStartOK = !atLineStart || (state.atLineStart && state.lineIndent == 0)
    if c == close[0] && lineStartOK {
      switch match(close, final: final) {
      case .needMore: return .needMore
      case .no: break
      case .yes:
        let offset = state.offset
        consume(close.count)
        state.atLineStart = false
        if depth > 1 {
          state.context = .blockComment(
            open: open, close: close, nests: nests, depth: depth - 1, atLineStart: atLineStart)
          return .consumed
        }
        let old = state.context
        state.context = .code
        return .event(.exited(old, offset: offset))
      }
    }
    if nests && c == open[0] {
      switch match(open, final: final) {
      case .needMore: return .needMore
      case .no: break
      case .yes:
        consume(open.count)
        state.context = .blockComment(
          open: open, close: close, nests: nests, depth: depth + 1, atLineStart: atLineStart)
        return .consumed
      }
    }
    if !Lexer.isBlank(c) { state.atLineStart = false }
    consume(1)
    return .consumed
  }

  private mutating func stepRegex(inClass: Bool, final: Bool) -> StepResult {
    let c = buffer[pos]
    if Lexer.isLineBreak(c) {
      state.errors += 1
      let old = state.context
      state.context = .code
      return .event(.unterminated(old, offset: state.offset))
    }
    if c == "\\" {
      guard let next = peek(1) else { return final ? (consume(1), StepResult.consumed).1 : .needMore }
      if Lexer.isLineBreak(next) {
        consume(1)
        return .consumed
      }
      consume(2)
      return .consumed
    }
    if c == "[" && !inClass {
      state.context = .regex(inClass: true)
    } else if c == "]" && inClass {
      state.context = .regex(inClass: false)
    } else if c == "/" && !inClass {
      let offset = state.offset
      let old = state.context
      consume(1)
      state.context = .code
      state.lastCode = "/"
      state.lastTokenWasWord = false
      return .event(.exited(old, offset: offset))
    }
    consume(1)
    return .consumed
  }

  private mutating func stepHeredoc(tag: String, indented: Bool, final: Bool) -> StepResult {
    // Read the whole line.
    var k = 0
    while let ch = peek(k), !Lexer.isLineBreak(ch) { k += 1 }
    if peek(k) == nil && !final { return .needMore }
    var start = 0
    if indented { while start < k, Lexer.isBlank(buffer[pos + start]) { start += 1 } }
    let tagScalars = Array(tag.unicodeScalars)
    if k - start >= tagScalars.count && Array(buffer[(pos + start)..<(pos + start + tagScalars.count)]) == tagScalars {
      let after = start + tagScalars.count
      if after == k || !isWordScalar(buffer[pos + after]) {
        consume(start)
        let offset = state.offset
        let old = state.context
        consume(tagScalars.count)
        state.context = .code
        state.atLineStart = false
        state.lineHasContent = true
        state.lastCode = tagScalars.last
        return .event(.exited(old, offset: offset))
      }
    }
    consume(k)
    guard pos < buffer.count else { return .consumed }
    let offset = state.offset
    guard consumeLineBreak(final: final) else { return .needMore }
    state.atLineStart = false
    return .event(.lineBreak(offset: offset))
  }
}
