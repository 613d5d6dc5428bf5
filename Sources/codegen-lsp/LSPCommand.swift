import ArgumentParser
import CodeCompletion
import CompletionServer
import Foundation
import LSPTransport
import ModelCompletionProvider
import RepositoryContext

/// `codegen-lsp lsp`: serve LSP on stdio.
struct LSPCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "lsp",
    abstract: "Serve the Language Server Protocol on stdin/stdout (what editors start).",
    discussion: """
      Only protocol messages are written to stdout; logs go to stderr and to window/logMessage. The model named \
      by the editor's `model` setting (initializationOptions or workspace/didChangeConfiguration) overrides \
      --model, which overrides CODEGEN_LSP_MODEL. Without a usable model the server still runs, answers \
      completions with empty results and says once (window/showMessage) what is missing and how to get it. \
      Exit code: 0 after shutdown + exit, 1 for exit without shutdown or end of input. At the end of a session \
      the running work is cancelled and the server waits for the engine to stop before the process ends.
      """)

  @OptionGroup var modelOptions: ModelOptions
  @OptionGroup var pipeline: PipelineOptions

  @Flag(name: .long, help: "Use stdio (the default and only transport; accepted because editors pass it).")
  var stdio = false

  @Option(name: .long, help: "Largest accepted message body in bytes.")
  var maxMessageSize: Int = 64 << 20

  func run() throws {
    modelOptions.bootstrapLogging(default: .info)
    // Keep the real stdout for the protocol and point fd 1 at stderr, so a stray print can never corrupt it.
    let protocolOut = dup(STDOUT_FILENO)
    guard protocolOut >= 0, dup2(STDERR_FILENO, STDOUT_FILENO) >= 0 else {
      throw ValidationError("cannot set up stdout: \(String(cString: strerror(errno)))")
    }
    let connection = JSONRPCConnection(inputFD: STDIN_FILENO, outputFD: protocolOut, maxMessageSize: maxMessageSize)
    var options = ServerOptions()
    options.settings = try pipeline.settings(threads: modelOptions.threads)
    options.modelSpec = modelOptions.model
    options.logLevel = (modelOptions.logLevel ?? .info).level
    options.maxMessageSize = maxMessageSize
    options.contextSource = WorkspaceContext()
    let server = LanguageServer(connection: connection, options: options) { configured in
      let spec = ModelPresets.choose(configuration: configured, commandLine: modelOptions.model)
      return ModelProvider.make(modelSpec: spec, settings: options.settings, slowdown: modelOptions.slowdown)
    }
    let code = server.run()
    if !server.workerStopped {
      // The engine is still computing: end without running library destructors (OpenBLAS's would free buffers its
      // threads are using).
      fflush(nil)
      _exit(code)
    }
    throw ExitCode(code)
  }
}
