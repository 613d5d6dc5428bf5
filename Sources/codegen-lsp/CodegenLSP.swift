import ArgumentParser

/// The `codegen-lsp` executable: argument parsing and wiring only; every behaviour lives in the libraries.
@main
struct CodegenLSP: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "codegen-lsp",
    abstract: "A local AI code-completion language server running a small code model on the CPU.",
    discussion: """
      Editors start `codegen-lsp lsp` and talk LSP over stdio. The other commands run the same completion \
      pipeline from the shell. Models are GGUF files: a preset name (see `codegen-lsp model list`) or a path. \
      The model is chosen by, first to last: the editor's `model` setting, --model, the CODEGEN_LSP_MODEL \
      environment variable, the default preset (qwen2.5-coder-0.5b).
      """,
    subcommands: [
      LSPCommand.self, CompleteCommand.self, GenerateCodeCommand.self, GenerateCommand.self, ModelCommand.self,
      SettingsCommand.self, IndexCommand.self,
    ]
  )
}
