import ArgumentParser
import CompletionServer

/// `codegen-lsp settings`: the settings reference, from the one settings table.
struct SettingsCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "settings",
    abstract: "Print every configuration key with its type, default, range and effect (Markdown), or the JSON schema.",
    discussion: """
      The editor's configuration, `--set KEY=VALUE` and the flags of complete, generate-code and lsp accept the \
      same keys. Protocol/settings.md and Protocol/configuration.schema.json are this command's output.
      """)

  @Flag(name: .long, help: "Print the JSON schema instead of the Markdown reference.")
  var schema = false

  func run() throws {
    print(schema ? Configuration.schemaText() : Configuration.markdownReference(), terminator: "")
  }
}
