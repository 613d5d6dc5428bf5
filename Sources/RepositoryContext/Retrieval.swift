import Foundation
import SyntaxCheck

/// A piece of another file chosen for the prompt.
public struct ContextSnippet: Sendable, Equatable {
  public enum Kind: Sendable, Equatable {
    /// The definition of a name used near the cursor and not defined in the current file.
    case definition(name: String)
    /// Lines similar to the code around the cursor (BM25 over identifiers).
    case similar(score: Double)
    /// The signatures (header lines) of names the current file imports from this file.
    case signatures(names: [String])
  }

  /// Absolute path of the file it comes from.
  public var path: String
  /// The path shown to the model: relative to the workspace root that holds it.
  public var displayPath: String
  /// Zero-based first line and number of lines.
  public var firstLine: Int
  public var lineCount: Int
  public var text: String
  public var kind: Kind

  /// One line for `--explain` and the debug log.
  public var reason: String {
    let lines = "\(displayPath):\(firstLine + 1)-\(firstLine + lineCount)"
    switch kind {
    case .definition(let name): return "definition of `\(name)` used near the cursor, \(lines)"
    case .similar(let score):
      return "similar to the code at the cursor (BM25 \(String(format: "%.1f", score))), \(lines)"
    case .signatures(let names):
      let shown = names.prefix(6).map { "`\($0)`" }.joined(separator: ", ") + (names.count > 6 ? ", ..." : "")
      return "signatures of names imported from \(displayPath): \(shown)"
    }
  }
}

/// What retrieval needs to know about the request.
public struct RetrievalQuery: Sendable {
  /// The current file's absolute path (its own windows and definitions are never returned).
  public var path: String
  public var languageId: String
  public var prefix: String
  public var suffix: String
  /// Definitions returned at most, and similar windows at most.
  public var maxDefinitions = 6
  public var maxSimilar = 3
  /// Signatures of imported names at most.
  public var maxSignatures = 16

  public init(path: String, languageId: String, prefix: String, suffix: String) {
    self.path = path
    self.languageId = languageId
    self.prefix = prefix
    self.suffix = suffix
  }
}

extension WorkspaceIndex {
  /// Lines of the prefix (before the cursor's line) read for names and for the similarity query, and of the suffix.
  static let nameLinesBefore = 8
  static let queryLinesBefore = 12
  static let queryLinesAfter = 3

  /// The definitions of the names used near the cursor that the current file does not define, closest to the
  /// cursor first, then the windows of other files most similar to the code around the cursor. `openText` gives
  /// the current text of a file the editor has open (else it is read from disk).
  public func retrieve(_ query: RetrievalQuery, openText: (String) -> String? = { _ in nil }) -> [ContextSnippet] {
    let spec = Languages.lookup(languageId: query.languageId, fileName: query.path)
    let before = lastLines(query.prefix, count: Self.queryLinesBefore + 1)
    let after = firstLines(query.suffix, count: Self.queryLinesAfter)
    // Names near the cursor, closest first: the cursor's line, then the lines before it, then the lines after.
    let nearBefore = lastLines(query.prefix, count: Self.nameLinesBefore + 1)
    var names: [String] = []
    var seenNames: Set<String> = []
    for line in splitLines(nearBefore).reversed() + splitLines(firstLines(query.suffix, count: 2)) {
      for word in identifiers(line, spec: spec).reversed() where seenNames.insert(word).inserted {
        names.append(word)
      }
    }
    let current = FileAnalysis(text: query.prefix + query.suffix, spec: spec)
    let definedHere = Set(current.definitions.map(\.name))
    let currentWords = Set(current.lineIdentifiers.joined())
    let queryTerms = Set(identifiers(before + after, spec: spec))

    lock.lock()
    let currentIndex = fileByPath[query.path]
    // Definitions: one per name, the best-placed file first.
    var chosen: [(file: FileEntry, definition: Definition, definitionIndex: Int)] = []
    for name in names where !definedHere.contains(name) {
      if chosen.count >= query.maxDefinitions { break }
      guard let refs = definitionsByName[name] else { continue }
      var best: (score: Int, file: FileEntry, definition: Definition, index: Int)?
      for ref in refs where ref.file != currentIndex {
        let file = files[Int(ref.file)]
        guard file.alive else { continue }
        let definition = file.definitions[Int(ref.index)]
        let score = placement(of: file, for: query.path, language: spec.name, currentWords: currentWords)
        if best == nil || score > best!.score { best = (score, file, definition, Int(ref.index)) }
      }
      if let best { chosen.append((best.file, best.definition, best.index)) }
    }
    // Signatures of the names the current file imports, grouped by the file that defines them.
    var chosenNames = Set(chosen.map(\.definition.name))
    var signatureGroups: [(file: FileEntry, definitions: [Definition])] = []
    for name in current.importedNames where !definedHere.contains(name) && !chosenNames.contains(name) {
      if chosenNames.count - chosen.count >= query.maxSignatures { break }
      guard let refs = definitionsByName[name] else { continue }
      var best: (score: Int, file: FileEntry, definition: Definition)?
      for ref in refs where ref.file != currentIndex {
        let file = files[Int(ref.file)]
        guard file.alive, file.language == spec.name else { continue }
        let score = placement(of: file, for: query.path, language: spec.name, currentWords: currentWords)
        if best == nil || score > best!.score { best = (score, file, file.definitions[Int(ref.index)]) }
      }
      guard let best else { continue }
      chosenNames.insert(name)
      if let k = signatureGroups.firstIndex(where: { $0.file.path == best.file.path }) {
        signatureGroups[k].definitions.append(best.definition)
      } else {
        signatureGroups.append((best.file, [best.definition]))
      }
    }
    let similar = bm25(terms: queryTerms, excluding: currentIndex, limit: query.maxSimilar * 4)
    lock.unlock()

    var cache: [String: [Substring]] = [:]
    func lines(of path: String) -> [Substring]? {
      if let cached = cache[path] { return cached }
      guard let text = openText(path) ?? (try? String(contentsOfFile: path, encoding: .utf8)) else { return nil }
      let split = text.split(separator: "\n", omittingEmptySubsequences: false)
      cache[path] = split
      return split
    }
    var result: [ContextSnippet] = []
    var covered: [String: [Range<Int>]] = [:]
    for (file, definition, _) in chosen {
      guard let fileLines = lines(of: file.path), definition.line < fileLines.count else { continue }
      let selected = definitionLines(definition, in: fileLines, file: file, spec: spec)
      guard !selected.isEmpty else { continue }
      let text = selected.map { String(fileLines[$0]) }.joined(separator: "\n") + "\n"
      let span = selected.first!..<(selected.last! + 1)
      covered[file.path, default: []].append(span)
      result.append(
        ContextSnippet(
          path: file.path, displayPath: displayPath(file.path), firstLine: span.lowerBound, lineCount: span.count,
          text: text, kind: .definition(name: definition.name)))
    }
    var signatures: [ContextSnippet] = []
    for (file, definitions) in signatureGroups {
      guard let fileLines = lines(of: file.path) else { continue }
      var selected: [Int] = []
      for definition in definitions.sorted(by: { $0.line < $1.line }) where definition.line < fileLines.count {
        for line in headerLines(definition, in: fileLines, file: file) where !selected.contains(line) {
          selected.append(line)
        }
      }
      guard !selected.isEmpty else { continue }
      selected.sort()
      signatures.append(
        ContextSnippet(
          path: file.path, displayPath: displayPath(file.path), firstLine: selected.first!,
          lineCount: selected.last! - selected.first! + 1,
          text: selected.map { String(fileLines[$0]) }.joined(separator: "\n") + "\n",
          kind: .signatures(names: definitions.map(\.name))))
    }
    result += signatures
    var similarCount = 0
    for (file, window, score) in similar {
      if similarCount >= query.maxSimilar { break }
      let span = Int(window.firstLine)..<Int(window.firstLine + window.lineCount)
      if covered[file.path, default: []].contains(where: { $0.overlaps(span) }) { continue }
      guard let fileLines = lines(of: file.path), span.lowerBound < fileLines.count else { continue }
      let clipped = span.lowerBound..<min(span.upperBound, fileLines.count)
      let text = fileLines[clipped].joined(separator: "\n") + "\n"
      if text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { continue }
      covered[file.path, default: []].append(span)
      result.append(
        ContextSnippet(
          path: file.path, displayPath: displayPath(file.path), firstLine: clipped.lowerBound,
          lineCount: clipped.count, text: text, kind: .similar(score: score)))
      similarCount += 1
    }
    return result
  }

  /// How well a file defining a wanted name fits the current one: the same language first, then a file whose
  /// name the current file mentions (an import), then the longest shared directory.
  func placement(of file: FileEntry, for currentPath: String, language: String, currentWords: Set<String>) -> Int {
    var score = 0
    if file.language == language { score += 1000 }
    let stem = ((file.path as NSString).lastPathComponent as NSString).deletingPathExtension
    if currentWords.contains(stem) { score += 500 }
    let a = file.path.split(separator: "/")
    let b = currentPath.split(separator: "/")
    var shared = 0
    while shared < min(a.count, b.count) - 1 && a[shared] == b[shared] { shared += 1 }
    return score + shared
  }

  /// The lines shown for a definition: a function's header and body (at most 12 lines); a type's header and the
  /// headers of its members (at most 16 lines); a value's line. Blocks end where the indentation returns to the
  /// definition's level (a closing `}` or `end` at that level is included).
  func definitionLines(_ definition: Definition, in lines: [Substring], file: FileEntry, spec: LanguageSpec) -> [Int] {
    let start = definition.line
    if definition.kind == .value { return [start] }
    let indent = Indentation.columns(of: lines[start])
    var end = start + 1
    while end < lines.count {
      let line = lines[end]
      let blank = line.allSatisfy { $0 == " " || $0 == "\t" || $0 == "\r" }
      if !blank && Indentation.columns(of: line) <= indent {
        let trimmed = line.drop { $0 == " " || $0 == "\t" }
        if trimmed.hasPrefix("}") || trimmed.hasPrefix("end") || trimmed.hasPrefix(")") { end += 1 }
        break
      }
      end += 1
    }
    while end > start + 1, lines[end - 1].allSatisfy({ $0 == " " || $0 == "\t" || $0 == "\r" }) { end -= 1 }
    if definition.kind == .function || end - start <= 16 { return Array(start..<min(end, start + 12)) }
    // A type: its header line, its members' header lines, and its closing line.
    var selected = [start]
    for member in file.definitions where member.line > start && member.line < end && member.indent > indent {
      if selected.last != member.line { selected.append(member.line) }
      if selected.count >= 15 { break }
    }
    if end - 1 > selected.last!, end - 1 < lines.count {
      let last = lines[end - 1].drop { $0 == " " || $0 == "\t" }
      if last.hasPrefix("}") || last.hasPrefix("end") { selected.append(end - 1) }
    }
    return selected
  }

  /// A definition's header: its line and the lines that continue it while brackets are open (at most 4); for a
  /// type, also the header of its constructor (`__init__`, `init`, `constructor`).
  func headerLines(_ definition: Definition, in lines: [Substring], file: FileEntry) -> [Int] {
    func header(from start: Int) -> [Int] {
      var depth = 0
      var result: [Int] = []
      var line = start
      while line < lines.count && result.count < 4 {
        result.append(line)
        for character in lines[line] {
          if character == "(" || character == "[" || character == "{" { depth += 1 }
          if character == ")" || character == "]" || character == "}" { depth -= 1 }
        }
        if depth <= 0 { break }
        line += 1
      }
      return result
    }
    var result = header(from: definition.line)
    if definition.kind == .type {
      let constructors: Set<String> = ["__init__", "init", "constructor", "new"]
      if let constructor = file.definitions.first(where: {
        $0.line > definition.line && $0.indent > definition.indent && constructors.contains($0.name)
          && $0.line < definition.line + 200
      }) {
        result += header(from: constructor.line)
      }
    }
    return result
  }

  /// Windows of other files most similar to the query terms (BM25 with binary term frequency). Call with `lock`.
  func bm25(terms: Set<String>, excluding: Int32?, limit: Int) -> [(FileEntry, Window, Double)] {
    guard aliveWindowCount > 0 else { return [] }
    let n = Double(aliveWindowCount)
    let averageLength = max(1, Double(totalWindowTerms) / n)
    let k1 = 1.2
    let b = 0.75
    var scores: [Int32: Double] = [:]
    for term in terms {
      guard let id = termIDs[term] else { continue }
      let df = Double(documentFrequency[Int(id)])
      // Terms in more than a quarter of the windows say little and cost the most.
      guard df > 0, df <= max(8, n / 4) else { continue }
      let idf = log(1 + (n - df + 0.5) / (df + 0.5))
      for w in postings[Int(id)] where windowAlive[Int(w)] {
        let window = windows[Int(w)]
        if window.file == excluding { continue }
        let length = Double(window.termCount)
        scores[w, default: 0] += idf * (k1 + 1) / (1 + k1 * (1 - b + b * length / averageLength))
      }
    }
    let top = scores.sorted { $0.value > $1.value || ($0.value == $1.value && $0.key < $1.key) }.prefix(limit)
    return top.map { (files[Int(windows[Int($0.key)].file)], windows[Int($0.key)], $0.value) }
  }

  /// The path shown to the model: relative to the root that holds it, else as given.
  func displayPath(_ path: String) -> String {
    lock.lock()
    let roots = self.roots
    lock.unlock()
    for root in roots where path.hasPrefix(root + "/") { return String(path.dropFirst(root.count + 1)) }
    return path
  }
}

/// The identifiers of `text` in code (two characters or more), in order, with repeats.
func identifiers(_ text: String, spec: LanguageSpec) -> [String] {
  var lexer = Lexer(spec: spec)
  lexer.append(text)
  var words: [String] = []
  while let event = lexer.next(final: true) {
    if case .word(let word, _) = event, word.utf8.count >= 2 { words.append(word) }
  }
  return words
}

func splitLines(_ text: String) -> [String] {
  text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
}

/// The last `count` lines of `text` (the last one possibly unfinished).
func lastLines(_ text: String, count: Int) -> String {
  var newlines = 0
  var index = text.utf8.endIndex
  while index != text.utf8.startIndex {
    let previous = text.utf8.index(before: index)
    if text.utf8[previous] == 10 {
      newlines += 1
      if newlines == count { return String(text[index...]) }
    }
    index = previous
  }
  return text
}

/// The first `count` lines of `text`.
func firstLines(_ text: String, count: Int) -> String {
  var newlines = 0
  var index = text.utf8.startIndex
  while index != text.utf8.endIndex {
    if text.utf8[index] == 10 {
      newlines += 1
      if newlines == count { return String(text[..<index]) }
    }
    index = text.utf8.index(after: index)
  }
  return text
}
