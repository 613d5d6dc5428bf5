import Foundation
import SyntaxCheck

/// Limits of a workspace index. A repository larger than these is indexed in part (the files found first), and
/// `IndexStatistics` says so.
public struct IndexLimits: Sendable, Equatable {
  /// Files indexed at most.
  public var maxFiles = 50_000
  /// Files larger than this are skipped (generated or minified code, data).
  public var maxFileBytes = 512 * 1024
  /// Directories deeper than this below a root are not entered.
  public var maxDepth = 32
  /// Lines per retrieval window, and the step between windows (windows overlap by the difference).
  public var windowLines = 20
  public var windowStride = 10

  public init() {}
}

/// What an index holds and what building it cost.
public struct IndexStatistics: Sendable, Equatable {
  public var files = 0
  public var windows = 0
  public var definitions = 0
  public var identifiers = 0
  public var bytesRead = 0
  /// Files skipped: too large, binary, unreadable, or over `maxFiles`.
  public var skippedFiles = 0
  /// Whether `maxFiles` stopped the walk.
  public var truncated = false
  /// Seconds the last build took.
  public var buildSeconds = 0.0
}

/// A local, incremental index of a workspace's source files for repository context: the definitions each file holds
/// and its identifiers in overlapping windows of lines (an inverted index for BM25 retrieval). The files' text is
/// not kept: retrieval reads the few files it returns from disk, or from the editor's open documents.
///
/// Thread-safe: a build runs on a background thread while requests retrieve from what is indexed so far.
public final class WorkspaceIndex: @unchecked Sendable {
  public let limits: IndexLimits
  let lock = NSLock()

  struct FileEntry {
    var path: String
    var language: String
    var windows: Range<Int32>
    var definitions: [Definition]
    var lineCount: Int
    var alive: Bool
  }

  struct Window {
    var file: Int32
    var firstLine: Int32
    var lineCount: Int32
    var termCount: Int32
  }

  struct DefinitionRef {
    var file: Int32
    var index: Int32
  }

  var files: [FileEntry] = []
  var aliveFiles = 0
  var fileByPath: [String: Int32] = [:]
  var windows: [Window] = []
  var windowAlive: [Bool] = []
  var aliveWindowCount = 0
  var totalWindowTerms = 0
  var termIDs: [String: Int32] = [:]
  var postings: [[Int32]] = []
  var documentFrequency: [Int32] = []
  var definitionsByName: [String: [DefinitionRef]] = [:]
  var statistics = IndexStatistics()
  /// Roots (absolute directory paths) given to `build`.
  public private(set) var roots: [String] = []

  public init(limits: IndexLimits = IndexLimits()) {
    self.limits = limits
  }

  /// What the index holds now.
  public var stats: IndexStatistics {
    lock.lock()
    defer { lock.unlock() }
    var s = statistics
    s.files = aliveFiles
    s.windows = aliveWindowCount
    s.identifiers = termIDs.count
    s.definitions = definitionsByName.values.reduce(0) { $0 + $1.count }
    return s
  }

  /// Whether a file is indexed.
  public func contains(path: String) -> Bool {
    lock.lock()
    defer { lock.unlock() }
    return fileByPath[path].map { files[Int($0)].alive } ?? false
  }

  // MARK: Building

  /// Walks `root` and indexes every source file of a known language, respecting `.gitignore` files (and skipping
  /// `.git`, hidden directories, files over `maxFileBytes`, binary files). Stops early when `shouldStop` says so
  /// (checked between files). Files already indexed from an open document are not read again.
  public func build(root: String, shouldStop: () -> Bool = { false }) {
    let start = Date()
    let rootPath = URL(fileURLWithPath: root).standardizedFileURL.path
    lock.lock()
    if !roots.contains(rootPath) { roots.append(rootPath) }
    lock.unlock()
    var stack: [(path: String, depth: Int, rules: [(base: String, rules: IgnoreRules)])] = [(rootPath, 0, [])]
    let manager = FileManager.default
    while let (directory, depth, inherited) = stack.popLast() {
      if shouldStop() { break }
      var rules = inherited
      let ignoreFile = directory + "/.gitignore"
      if let text = try? String(contentsOfFile: ignoreFile, encoding: .utf8) {
        rules.append((directory, IgnoreRules(text: text)))
      }
      guard let names = try? manager.contentsOfDirectory(atPath: directory) else { continue }
      var subdirectories: [String] = []
      for name in names.sorted() {
        if shouldStop() { break }
        if name.hasPrefix(".") { continue }
        let path = directory + "/" + name
        var isDirectory: ObjCBool = false
        guard manager.fileExists(atPath: path, isDirectory: &isDirectory) else { continue }
        // Symbolic links to directories are not followed (cycles, and paths outside the workspace).
        if isDirectory.boolValue,
          (try? manager.destinationOfSymbolicLink(atPath: path)) != nil
        {
          continue
        }
        if Self.ignored(path: path, isDirectory: isDirectory.boolValue, rules: rules) { continue }
        if isDirectory.boolValue {
          if depth + 1 <= limits.maxDepth && !Self.skippedDirectories.contains(name) {
            subdirectories.append(path)
          }
          continue
        }
        let ext = (name as NSString).pathExtension.lowercased()
        guard !ext.isEmpty, let spec = Self.spec(forExtension: ext) else { continue }
        lock.lock()
        let known = fileByPath[path].map { files[Int($0)].alive } ?? false
        let full = aliveFiles >= limits.maxFiles && !known
        if full { statistics.truncated = true }
        lock.unlock()
        if full { return finish(start) }
        if known { continue }
        guard let text = Self.readSource(path: path, maxBytes: limits.maxFileBytes) else {
          lock.lock()
          statistics.skippedFiles += 1
          lock.unlock()
          continue
        }
        insert(path: path, analysis: FileAnalysis(text: text, spec: spec), language: spec.name, bytes: text.utf8.count)
      }
      for subdirectory in subdirectories.reversed() { stack.append((subdirectory, depth + 1, rules)) }
    }
    finish(start)
  }

  private func finish(_ start: Date) {
    lock.lock()
    statistics.buildSeconds += Date().timeIntervalSince(start)
    lock.unlock()
  }

  /// Directories never entered (dependencies and build output of common toolchains).
  static let skippedDirectories: Set<String> = [
    "node_modules", "__pycache__", "build", "dist", "target", "DerivedData", "Pods", "venv", "site-packages",
  ]

  static func ignored(path: String, isDirectory: Bool, rules: [(base: String, rules: IgnoreRules)]) -> Bool {
    var result = false
    for (base, rule) in rules where path.hasPrefix(base + "/") {
      if let decision = rule.decision(relativePath: String(path.dropFirst(base.count + 1)), isDirectory: isDirectory) {
        result = decision
      }
    }
    return result
  }

  /// The language of a file extension, or nil when the index does not read it (JSON and unknown extensions).
  public static func spec(forExtension ext: String) -> LanguageSpec? {
    guard ext != "json", ext != "jsonc", ext != "jsonl", ext != "json5" else { return nil }
    guard let spec = try? Languages.spec(languageId: "", fileName: "x." + ext) else { return nil }
    return spec
  }

  /// The text of a source file: nil when it is larger than `maxBytes`, not UTF-8, or has a NUL byte in its first
  /// 8 KiB (binary).
  static func readSource(path: String, maxBytes: Int) -> String? {
    guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
      (attributes[.type] as? FileAttributeType) == .typeRegular,
      let size = attributes[.size] as? Int, size <= maxBytes,
      let data = FileManager.default.contents(atPath: path)
    else { return nil }
    if data.prefix(8192).contains(0) { return nil }
    return String(data: data, encoding: .utf8)
  }

  // MARK: Updating

  /// Indexes (or re-indexes) one file from its text: an open document's current text, or a file that changed on
  /// disk. `language` is an LSP language id or a file name's extension decides.
  public func update(path: String, text: String, languageId: String? = nil) {
    let ext = (path as NSString).pathExtension.lowercased()
    let spec: LanguageSpec?
    if let languageId, let found = try? Languages.spec(languageId: languageId, fileName: path), found.name != "json" {
      spec = found
    } else {
      spec = Self.spec(forExtension: ext)
    }
    guard let spec, text.utf8.count <= limits.maxFileBytes else {
      remove(path: path)
      return
    }
    insert(path: path, analysis: FileAnalysis(text: text, spec: spec), language: spec.name, bytes: text.utf8.count)
  }

  /// Re-reads a file from disk (a watched file changed or was created); removes it when it is gone or unreadable.
  public func refresh(path: String) {
    let ext = (path as NSString).pathExtension.lowercased()
    guard let spec = Self.spec(forExtension: ext),
      let text = Self.readSource(path: path, maxBytes: limits.maxFileBytes)
    else {
      remove(path: path)
      return
    }
    insert(path: path, analysis: FileAnalysis(text: text, spec: spec), language: spec.name, bytes: text.utf8.count)
  }

  /// Forgets a file.
  public func remove(path: String) {
    lock.lock()
    defer { lock.unlock() }
    removeLocked(path: path)
  }

  private func removeLocked(path: String) {
    guard let index = fileByPath[path], files[Int(index)].alive else { return }
    files[Int(index)].alive = false
    aliveFiles -= 1
    for w in files[Int(index)].windows {
      windowAlive[Int(w)] = false
      aliveWindowCount -= 1
      totalWindowTerms -= Int(windows[Int(w)].termCount)
    }
    for definition in files[Int(index)].definitions {
      definitionsByName[definition.name]?.removeAll { $0.file == index }
      if definitionsByName[definition.name]?.isEmpty == true { definitionsByName[definition.name] = nil }
    }
    files[Int(index)].definitions = []
    // Postings of dead windows are dropped lazily, when a term's list is read (see `compactLocked`).
    deadPostings += files[Int(index)].windows.count
    if deadPostings > max(10_000, windows.count / 2) { compactLocked() }
  }

  var deadPostings = 0

  /// Drops dead windows from every posting list and recomputes document frequencies.
  private func compactLocked() {
    for t in postings.indices {
      postings[t].removeAll { !windowAlive[Int($0)] }
      documentFrequency[t] = Int32(postings[t].count)
    }
    deadPostings = 0
  }

  private func insert(path: String, analysis: FileAnalysis, language: String, bytes: Int) {
    lock.lock()
    defer { lock.unlock() }
    removeLocked(path: path)
    let fileIndex: Int32
    if let existing = fileByPath[path] {
      fileIndex = existing
    } else {
      fileIndex = Int32(files.count)
      files.append(
        FileEntry(path: path, language: language, windows: 0..<0, definitions: [], lineCount: 0, alive: false))
      fileByPath[path] = fileIndex
    }
    let firstWindow = Int32(windows.count)
    var line = 0
    repeat {
      let end = min(analysis.lineCount, line + limits.windowLines)
      var terms: Set<Int32> = []
      for l in line..<end {
        for word in analysis.lineIdentifiers[l] { terms.insert(intern(word)) }
      }
      let windowIndex = Int32(windows.count)
      windows.append(
        Window(file: fileIndex, firstLine: Int32(line), lineCount: Int32(end - line), termCount: Int32(terms.count)))
      windowAlive.append(true)
      aliveWindowCount += 1
      totalWindowTerms += terms.count
      for term in terms {
        postings[Int(term)].append(windowIndex)
        documentFrequency[Int(term)] += 1
      }
      if end >= analysis.lineCount { break }
      line += limits.windowStride
    } while line < analysis.lineCount
    files[Int(fileIndex)] = FileEntry(
      path: path, language: language, windows: firstWindow..<Int32(windows.count), definitions: analysis.definitions,
      lineCount: analysis.lineCount, alive: true)
    aliveFiles += 1
    for (k, definition) in analysis.definitions.enumerated() {
      definitionsByName[definition.name, default: []].append(DefinitionRef(file: fileIndex, index: Int32(k)))
    }
    statistics.bytesRead += bytes
  }

  private func intern(_ word: String) -> Int32 {
    if let id = termIDs[word] { return id }
    let id = Int32(postings.count)
    termIDs[word] = id
    postings.append([])
    documentFrequency.append(0)
    return id
  }
}
