import ArgumentParser
import CodeCompletion
import Foundation
import ModelCompletionProvider
import RepositoryContext

/// The workspace index from the command line: `complete --workspace` and `codegen-lsp index`.
enum WorkspaceIndexing {
  /// Indexes `directory` now (the CLI has no background), printing what it took on stderr.
  static func open(_ directory: String, settings: CompletionSettings) -> WorkspaceContext {
    let context = WorkspaceContext()
    let root = URL(fileURLWithPath: directory).standardizedFileURL.path
    context.index.build(root: root)
    let stats = context.index.stats
    FileHandle.standardError.write(
      Data(
        "codegen-lsp: \(context.summary) in \(String(format: "%.2f", stats.buildSeconds)) s\n".utf8))
    return context
  }

  /// Adds repository context to a CLI request (`--workspace` turns it on whatever `repositoryContext` says;
  /// `contextDocumentTokens` 0 turns it off); the document is located by its file name, relative to the workspace
  /// (or the working directory) or absolute.
  static func addContext(to request: inout CompletionRequest, context: WorkspaceContext, settings: CompletionSettings)
    -> [String]
  {
    guard settings.contextDocumentTokens > 0, let name = request.fileName else { return [] }
    let path: String
    if name.hasPrefix("/") {
      path = URL(fileURLWithPath: name).standardizedFileURL.path
    } else if let root = context.index.roots.first,
      FileManager.default.fileExists(atPath: root + "/" + name)
    {
      path = URL(fileURLWithPath: root + "/" + name).standardizedFileURL.path
    } else {
      path = URL(fileURLWithPath: name).standardizedFileURL.path
    }
    return context.addContext(to: &request, path: path) { _ in nil }
  }
}

/// `codegen-lsp index DIR`: builds the workspace index the server would build and prints what it holds, and with
/// --file and --line what repository context a completion there would get.
struct IndexCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "index",
    abstract: "Index a workspace as the server does and print what it holds (and the context at a line).",
    discussion: """
      Prints the files, definitions and retrieval windows indexed, the time and the process's peak resident \
      memory. With --file (relative to DIR or absolute) and --line (0-based), also the repository context a \
      completion at the start of that line would get, and why.
      """)

  @Argument(help: "The workspace directory.")
  var directory: String
  @Option(name: .long, help: "A file of the workspace to show the context of a completion in.")
  var file: String?
  @Option(name: .long, help: "0-based line of --file where the cursor is (at its first non-blank character).")
  var line: Int = 0
  @Option(name: .long, help: "Files indexed at most.")
  var maxFiles: Int = IndexLimits().maxFiles

  func run() throws {
    var limits = IndexLimits()
    limits.maxFiles = maxFiles
    let context = WorkspaceContext(limits: limits)
    let root = URL(fileURLWithPath: directory).standardizedFileURL.path
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: root, isDirectory: &isDirectory), isDirectory.boolValue else {
      throw ValidationError("not a directory: \(directory)")
    }
    context.index.build(root: root)
    let stats = context.index.stats
    print(
      "\(stats.files) files, \(stats.definitions) definitions, \(stats.windows) windows, \(stats.identifiers) "
        + "identifiers, \(stats.bytesRead / 1024) KiB read, \(stats.skippedFiles) skipped"
        + (stats.truncated ? ", stopped at \(limits.maxFiles) files" : ""))
    print(
      "built in \(String(format: "%.2f", stats.buildSeconds)) s, peak resident memory "
        + "\(peakResidentKiB() / 1024) MiB")
    guard let file else { return }
    let path = file.hasPrefix("/") ? file : root + "/" + file
    let text = try String(contentsOfFile: path, encoding: .utf8)
    let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
    guard line >= 0, line < lines.count else { throw ValidationError("--line is past the end of \(file)") }
    let indentation = lines[line].prefix { $0 == " " || $0 == "\t" }
    let prefix = lines[..<line].map { $0 + "\n" }.joined() + indentation
    let suffix = String(lines[line].dropFirst(indentation.count)) + "\n" + lines[(line + 1)...].joined(separator: "\n")
    var request = CompletionRequest(
      documentID: path, fileName: path,
      languageId: LanguageIdentifiers.languageId(forFileName: path) ?? "plaintext", prefix: prefix, suffix: suffix)
    for note in context.addContext(
      to: &request, path: URL(fileURLWithPath: path).standardizedFileURL.path, openText: { _ in nil })
    {
      print(note)
    }
    for document in request.contextDocuments {
      print("--- \(document.name)")
      print(document.text, terminator: "")
    }
  }

  /// The peak resident set size of this process in KiB (`VmHWM` of /proc/self/status), 0 where unknown.
  func peakResidentKiB() -> Int {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
    for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
      return Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0
    }
    return 0
  }
}
