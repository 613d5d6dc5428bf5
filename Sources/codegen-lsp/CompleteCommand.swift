import ArgumentParser
import CodeCompletion
import CompletionServer
import Foundation
import JSON
import LSPTypes
import ModelCompletionProvider
import RepositoryContext

/// `codegen-lsp complete`: one completion from stdin, or a batch of JSON lines, through the server's pipeline.
struct CompleteCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "complete",
    abstract: "Complete the document on stdin at the cursor and print the completion.",
    discussion: """
      The cursor is given by --line/--column (0-based; the column counts UTF-16 code units, like LSP) or by a \
      marker in the text (--cursor-marker, default <|cursor|>), which is removed before completing. \
      With --jsonl, every line of stdin is one request, {"text": ..., "line": N, "column": N, "language": ...} \
      (or with the marker in "text"; optional "fileName", "trigger": "invoked", "id"), and every line of stdout \
      the result in the same order: {"text": completion or "", "ms": milliseconds, "candidates": [...], \
      "fromCache": bool, "promptTokens": N, "computedTokens": N, "generatedTokens": N, "stopReason": ..., \
      "trace": [...] with --explain, "id": echoed}, or {"error": message} for a bad request, which does not stop \
      the batch. Without --deadline-ms a completion has no deadline: the whole prompt is computed and generation \
      runs until a stop rule ends it, so the answer is the model's, however slow the machine; --deadline-ms N \
      applies the editor's deadline policy (for simulating an editor). The exit code is 0 unless the model cannot \
      be loaded.
      """)

  @OptionGroup var modelOptions: ModelOptions
  @OptionGroup var pipeline: PipelineOptions

  @OptionGroup var document: DocumentOptions
  @Flag(name: .long, help: "Read one JSON request per line and write one JSON result per line.")
  var jsonl = false
  @Flag(name: .long, help: "Act as a manual (invoked) trigger: up to 3 ranked candidates.")
  var invoked = false
  @Flag(name: .long, help: "Explain every decision of the pipeline (on stderr, or in \"trace\" with --jsonl).")
  var explain = false
  @Option(
    name: .long,
    help: """
      A workspace directory: it is indexed first (the time is printed on stderr), and completions get repository \
      context from it (definitions of names used near the cursor, similar code of other files), as in the editor. \
      The file name (--file-name or "fileName") locates the document, relative to the workspace or absolute.
      """)
  var workspace: String?

  func validate() throws {
    if !jsonl, document.languageId == nil {
      throw ValidationError("name the language with --language or --file-name")
    }
  }

  func run() throws {
    modelOptions.bootstrapLogging()
    let settings = try pipeline.settings(threads: modelOptions.threads)
    let spec = ModelPresets.choose(configuration: nil, commandLine: modelOptions.model)
    let provider = ModelProvider.make(modelSpec: spec, settings: settings, slowdown: modelOptions.slowdown)
    if case .unavailable(let reason) = provider.status {
      FileHandle.standardError.write(Data("codegen-lsp: \(reason)\n".utf8))
      throw ExitCode(2)
    }
    if case .degraded(_, let warning) = provider.status {
      FileHandle.standardError.write(Data("codegen-lsp: \(warning)\n".utf8))
    }
    let context = workspace.map { WorkspaceIndexing.open($0, settings: settings) }
    if jsonl {
      while let rawLine = readLine(strippingNewline: true) {
        if rawLine.trimmingCharacters(in: .whitespaces).isEmpty { continue }
        let output = runJSONLine(rawLine, provider: provider, settings: settings, context: context)
        print(output.serialized())
        fflush(stdout)
      }
      return
    }
    let text = readAllStandardInput()
    var request = try StdinRequest.make(
      text: text, line: document.line, column: document.column, marker: document.cursorMarker,
      language: document.language, fileName: document.fileName, invoked: invoked, explain: explain)
    let notes = context.map { WorkspaceIndexing.addContext(to: &request, context: $0, settings: settings) } ?? []
    let result = try provider.complete(
      request, cancellation: CancellationToken(deadlineMilliseconds: pipeline.deadlineMs))
    if explain {
      for entry in notes + result.trace { FileHandle.standardError.write(Data("explain: \(entry)\n".utf8)) }
    }
    if let notice = result.notice { FileHandle.standardError.write(Data("codegen-lsp: \(notice)\n".utf8)) }
    if invoked {
      for (index, candidate) in result.candidates.enumerated() {
        if index > 0 { print("\n---") }
        print(candidate.text, terminator: "")
      }
      print()
    } else {
      print(result.candidates.first?.text ?? "")
    }
  }

  private func runJSONLine(
    _ rawLine: String, provider: CompletionProvider, settings: CompletionSettings, context: WorkspaceContext?
  ) -> JSONValue {
    let start = DispatchTime.now().uptimeNanoseconds
    var id: JSONValue?
    do {
      let object = try JSONValue.parse(rawLine)
      guard object.objectValue != nil else { throw ValidationError("each line must be a JSON object") }
      id = object["id"]
      guard let text = object["text"]?.stringValue else { throw ValidationError("\"text\" (a string) is required") }
      var request = try StdinRequest.make(
        text: text, line: object["line"]?.intValue.map(Int.init), column: object["column"]?.intValue.map(Int.init),
        marker: object["cursorMarker"]?.stringValue ?? document.cursorMarker,
        language: object["language"]?.stringValue ?? document.language,
        fileName: object["fileName"]?.stringValue ?? document.fileName,
        invoked: object["trigger"]?.stringValue == "invoked" || invoked, explain: explain)
      let notes = context.map { WorkspaceIndexing.addContext(to: &request, context: $0, settings: settings) } ?? []
      let result = try provider.complete(
        request, cancellation: CancellationToken(deadlineMilliseconds: pipeline.deadlineMs))
      let ms = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
      var out: [String: JSONValue] = [
        "text": .string(result.candidates.first?.text ?? ""),
        "ms": .double((ms * 100).rounded() / 100),
        "candidates": .array(
          result.candidates.map { .object(["text": .string($0.text), "score": .double($0.score)]) }),
        "fromCache": .bool(result.fromCache),
        "promptTokens": .int(Int64(result.promptTokens)),
        "computedTokens": .int(Int64(result.promptTokensComputed)),
        "generatedTokens": .int(Int64(result.generatedTokens)),
        "stopReason": .string(result.candidates.first?.stopReason ?? ""),
      ]
      if explain { out["trace"] = .array((notes + result.trace).map { .string($0) }) }
      if let notice = result.notice {
        out["notice"] = .string(notice)
        FileHandle.standardError.write(Data("codegen-lsp: \(notice)\n".utf8))
      }
      if let id { out["id"] = id }
      return .object(out)
    } catch {
      var out: [String: JSONValue] = ["error": .string(String(describing: error))]
      if let id { out["id"] = id }
      return .object(out)
    }
  }
}

/// Turns stdin text plus a cursor (line/column or marker) into a completion request.
enum StdinRequest {
  struct Located {
    var prefix: String
    var suffix: String
  }

  /// Splits `text` at the cursor: `line`/`column` (UTF-16, 0-based, clamped like LSP) or the first `marker`.
  static func locate(text: String, line: Int?, column: Int?, marker: String) throws -> Located {
    if let line, let column {
      guard line >= 0, column >= 0 else { throw ValidationError("line and column must not be negative") }
      let document = TextDocument(text: text)
      let offset = document.offset(of: Position(line: line, character: column), encoding: .utf16)
      return Located(prefix: document.prefix(upToOffset: offset), suffix: document.suffix(fromOffset: offset))
    }
    guard !marker.isEmpty, let range = text.range(of: marker) else {
      throw ValidationError(
        "no cursor: give --line and --column, or put \(marker.isEmpty ? "a marker" : marker) in the text")
    }
    let suffix = String(text[range.upperBound...])
    if suffix.contains(marker) { throw ValidationError("the cursor marker \(marker) occurs more than once") }
    return Located(prefix: String(text[..<range.lowerBound]), suffix: suffix)
  }

  static func make(
    text: String, line: Int?, column: Int?, marker: String, language: String?, fileName: String?, invoked: Bool,
    explain: Bool
  ) throws -> CompletionRequest {
    let located = try locate(text: text, line: line, column: column, marker: marker)
    guard let languageId = language ?? fileName.flatMap(LanguageIdentifiers.languageId(forFileName:)) else {
      throw ValidationError(
        "unknown language: give \"language\" (an LSP language id) or a file name with a known extension")
    }
    return CompletionRequest(
      documentID: fileName ?? "stdin", fileName: fileName, languageId: languageId, prefix: located.prefix,
      suffix: located.suffix, trigger: invoked ? .invoked : .automatic, explain: explain)
  }
}
