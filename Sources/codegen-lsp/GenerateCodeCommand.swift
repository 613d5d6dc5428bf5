import ArgumentParser
import CodeCompletion
import CompletionServer
import Foundation
import LSPTypes
import ModelCompletionProvider

/// `codegen-lsp generate-code`: the generate-code command from the shell.
struct GenerateCodeCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "generate-code",
    abstract: "Generate code at the cursor (or for a range) of the document on stdin.",
    discussion: """
      With --instruction, the model's chat template is used with the surrounding code as context (models without \
      a chat template complete the block instead). Without one, the function, class or block at the cursor is \
      completed from its signature, docstring or comment. The cursor is a marker (--cursor-marker, default \
      <|cursor|>) or --line/--column; a range is --line/--column to --end-line/--end-column, or the text between \
      two markers. Partial text streams to stderr with --stream; the result goes to stdout, or the whole document \
      with the result applied when --apply is given. There is no deadline unless --deadline-ms gives one.
      """)

  @OptionGroup var modelOptions: ModelOptions
  @OptionGroup var pipeline: PipelineOptions

  @Option(name: .long, help: "What to do, in your words.")
  var instruction: String?
  @OptionGroup var document: DocumentOptions
  @Option(name: .long, help: "0-based line of the range end.")
  var endLine: Int?
  @Option(name: .long, help: "0-based column of the range end.")
  var endColumn: Int?
  @Flag(name: .long, help: "Print the partial text to stderr as it is generated.")
  var stream = false
  @Flag(name: .long, help: "Print the whole document with the result applied instead of the result alone.")
  var apply = false
  @Flag(name: .long, help: "Explain the pipeline's decisions on stderr.")
  var explain = false

  func run() throws {
    modelOptions.bootstrapLogging()
    let settings = try pipeline.settings(threads: modelOptions.threads)
    let provider = ModelProvider.make(
      modelSpec: ModelPresets.choose(configuration: nil, commandLine: modelOptions.model), settings: settings)
    if case .unavailable(let reason) = provider.status {
      FileHandle.standardError.write(Data("codegen-lsp: \(reason)\n".utf8))
      throw ExitCode(2)
    }
    let text = readAllStandardInput()
    guard let languageId = document.languageId else {
      throw ValidationError("name the language with --language or --file-name")
    }
    let (prefix, selection, suffix) = try split(text)
    let request = GenerateRequest(
      documentID: document.fileName ?? "stdin", fileName: document.fileName, languageId: languageId, prefix: prefix,
      selection: selection, suffix: suffix, instruction: instruction)
    var shown = 0
    let result = try provider.generate(
      request, cancellation: CancellationToken(deadlineMilliseconds: pipeline.deadlineMs)
    ) { partial in
      guard stream else { return }
      let bytes = Array(partial.utf8)
      if bytes.count > shown {
        FileHandle.standardError.write(Data(bytes[shown...]))
        shown = bytes.count
      }
    }
    if stream { FileHandle.standardError.write(Data("\n".utf8)) }
    if explain {
      for entry in result.trace { FileHandle.standardError.write(Data("explain: \(entry)\n".utf8)) }
    }
    print(apply ? prefix + result.text + suffix : result.text, terminator: apply ? "" : "\n")
  }

  /// Splits the document into text before, the selected text, and text after.
  private func split(_ text: String) throws -> (String, String, String) {
    if let line = document.line, let column = document.column {
      let document = TextDocument(text: text)
      let start = document.offset(of: Position(line: line, character: column), encoding: .utf16)
      var end = start
      if let endLine, let endColumn {
        end = max(start, document.offset(of: Position(line: endLine, character: endColumn), encoding: .utf16))
      }
      return (
        document.prefix(upToOffset: start), document.text(inOffsets: start, end), document.suffix(fromOffset: end)
      )
    }
    let marker = document.cursorMarker
    guard let first = text.range(of: marker) else {
      throw ValidationError("no cursor: give --line and --column, or put \(marker) in the text")
    }
    let rest = text[first.upperBound...]
    if let second = rest.range(of: marker) {
      return (String(text[..<first.lowerBound]), String(rest[..<second.lowerBound]), String(rest[second.upperBound...]))
    }
    return (String(text[..<first.lowerBound]), "", String(rest))
  }
}
