import ArgumentParser
import CodeCompletion
import CompletionServer
import Foundation
import JSON
import Logging
import ModelCompletionProvider

/// Log verbosity, shared by every command.
enum LogLevelOption: String, ExpressibleByArgument, CaseIterable {
  case trace, debug, info, warning, error

  var level: Logger.Level {
    switch self {
    case .trace: return .trace
    case .debug: return .debug
    case .info: return .info
    case .warning: return .warning
    case .error: return .error
    }
  }
}

/// Options every model-running command shares: the model and logging.
struct ModelOptions: ParsableArguments {
  @Option(
    name: .long,
    help:
      "A model preset (qwen2.5-coder-0.5b, qwen2.5-coder-1.5b, smollm2-135m) or a GGUF path. Default: CODEGEN_LSP_MODEL, else qwen2.5-coder-0.5b."
  )
  var model: String?

  @Option(
    name: .long,
    help: "Log level on stderr: trace, debug, info, warning, error (default: info for lsp, warning otherwise).")
  var logLevel: LogLevelOption?

  @Option(name: .long, help: "Engine threads (0: one per core).")
  var threads: Int = 0

  @Option(
    name: .long,
    help: ArgumentHelp(
      "Run the engine this many times slower, to measure a slower machine (benchmarks).", visibility: .hidden))
  var slowdown: Double = 1

  /// Sends swift-log output to stderr at the chosen level (stdout is reserved for results and protocol messages).
  func bootstrapLogging(default fallback: LogLevelOption = .warning) {
    let level = (logLevel ?? fallback).level
    LoggingSystem.bootstrap { label in
      var handler = StreamLogHandler.standardError(label: label)
      handler.logLevel = level
      return handler
    }
  }
}

/// The completion pipeline's knobs on the command line: any configuration key as `--set KEY=VALUE`, and flags for
/// the common ones, each the configuration key of the same name (help from `Configuration.settingKeys`).
struct PipelineOptions: ParsableArguments {
  @Option(
    name: .customLong("set"),
    help: ArgumentHelp(
      "Any configuration key (Protocol/settings.md), as KEY=VALUE; VALUE is JSON or plain text. Repeatable.",
      valueName: "key=value"))
  var assignments: [String] = []
  @Option(name: .long, help: ArgumentHelp(Configuration.help(for: "temperature") + " (temperature)"))
  var temperature: Double?
  @Option(name: .long, help: ArgumentHelp(Configuration.help(for: "topK") + " (topK)"))
  var topK: Int?
  @Option(name: .long, help: ArgumentHelp(Configuration.help(for: "topP") + " (topP)"))
  var topP: Double?
  @Option(name: .long, help: ArgumentHelp(Configuration.help(for: "minP") + " (minP)"))
  var minP: Double?
  @Option(name: .long, help: ArgumentHelp(Configuration.help(for: "seed") + " (seed)"))
  var seed: UInt64?
  @Option(name: .long, help: ArgumentHelp(Configuration.help(for: "repetitionPenalty") + " (repetitionPenalty)"))
  var repetitionPenalty: Double?
  @Option(name: .long, help: ArgumentHelp(Configuration.help(for: "frequencyPenalty") + " (frequencyPenalty)"))
  var frequencyPenalty: Double?
  @Option(name: .long, help: ArgumentHelp(Configuration.help(for: "presencePenalty") + " (presencePenalty)"))
  var presencePenalty: Double?
  @Option(name: .long, help: ArgumentHelp(Configuration.help(for: "noRepeatNgramSize") + " (noRepeatNgramSize)"))
  var noRepeatNgramSize: Int?
  @Option(
    name: .long, help: ArgumentHelp(Configuration.help(for: "lengthPenaltyStartLine") + " (lengthPenaltyStartLine)"))
  var lengthPenaltyStartLine: Int?
  @Option(
    name: .long, help: ArgumentHelp(Configuration.help(for: "lengthPenaltyStartBlock") + " (lengthPenaltyStartBlock)"))
  var lengthPenaltyStartBlock: Int?
  @Option(name: .long, help: ArgumentHelp(Configuration.help(for: "lengthPenaltyDecay") + " (lengthPenaltyDecay)"))
  var lengthPenaltyDecay: Double?
  @Option(name: .long, help: ArgumentHelp(Configuration.help(for: "deadlineMilliseconds") + " (deadlineMilliseconds)"))
  var deadlineMs: Int?
  @Option(
    name: .long,
    help: ArgumentHelp(Configuration.help(for: "latencyTargetMilliseconds") + " (latencyTargetMilliseconds)"))
  var latencyTargetMs: Int?
  @Option(name: .long, help: ArgumentHelp(Configuration.help(for: "prefixTokens") + " (prefixTokens)"))
  var prefixTokens: Int?
  @Option(name: .long, help: ArgumentHelp(Configuration.help(for: "suffixTokens") + " (suffixTokens)"))
  var suffixTokens: Int?
  @Option(name: .long, help: ArgumentHelp(Configuration.help(for: "middleTokens") + " (middleTokens)"))
  var middleTokens: Int?
  @Option(name: .long, help: ArgumentHelp(Configuration.help(for: "fimOrder") + " (fimOrder)"))
  var fimOrder: String?
  @Option(name: .long, help: ArgumentHelp(Configuration.help(for: "multiline") + " (multiline)"))
  var multiline: String?
  @Option(name: .long, help: ArgumentHelp(Configuration.help(for: "generateCodePrompt") + " (generateCodePrompt)"))
  var generateCodePrompt: String?
  @Option(name: .long, help: ArgumentHelp(Configuration.help(for: "maxTokensLine") + " (maxTokensLine)"))
  var maxTokensLine: Int?
  @Option(name: .long, help: ArgumentHelp(Configuration.help(for: "maxTokensBlock") + " (maxTokensBlock)"))
  var maxTokensBlock: Int?
  @Flag(name: .long, help: "Turn tokenHealing off (for measurement): tokenHealing=false.")
  var noTokenHealing = false
  @Flag(name: .long, help: "Turn syntaxCheck off (for measurement): syntaxCheck=false.")
  var noSyntaxCheck = false
  @Flag(name: .long, help: "Turn penalties off (for measurement): penalties=false.")
  var noPenalties = false

  /// The flags given, as the configuration object the editor would send (keys of `Configuration.settingKeys`).
  func configurationObject(threads: Int) throws -> [String: JSONValue] {
    var object: [String: JSONValue] = [:]
    for assignment in assignments {
      guard let equals = assignment.firstIndex(of: "="), equals != assignment.startIndex else {
        throw ValidationError("--set takes KEY=VALUE, not '\(assignment)'")
      }
      let text = String(assignment[assignment.index(after: equals)...])
      object[String(assignment[..<equals])] = (try? JSONValue.parse(text)) ?? .string(text)
    }
    func put(_ key: String, _ value: Double?) { if let value { object[key] = .double(value) } }
    func put(_ key: String, _ value: Int?) { if let value { object[key] = .int(Int64(value)) } }
    func put(_ key: String, _ value: String?) { if let value { object[key] = .string(value) } }
    put("temperature", temperature)
    put("topK", topK)
    put("topP", topP)
    put("minP", minP)
    put("repetitionPenalty", repetitionPenalty)
    put("frequencyPenalty", frequencyPenalty)
    put("presencePenalty", presencePenalty)
    put("noRepeatNgramSize", noRepeatNgramSize)
    put("lengthPenaltyStartLine", lengthPenaltyStartLine)
    put("lengthPenaltyStartBlock", lengthPenaltyStartBlock)
    put("lengthPenaltyDecay", lengthPenaltyDecay)
    put("deadlineMilliseconds", deadlineMs)
    put("latencyTargetMilliseconds", latencyTargetMs)
    put("prefixTokens", prefixTokens)
    put("suffixTokens", suffixTokens)
    put("middleTokens", middleTokens)
    put("fimOrder", fimOrder)
    put("multiline", multiline)
    put("generateCodePrompt", generateCodePrompt)
    put("maxTokensLine", maxTokensLine)
    put("maxTokensBlock", maxTokensBlock)
    if noSyntaxCheck { object["syntaxCheck"] = .bool(false) }
    if noTokenHealing { object["tokenHealing"] = .bool(false) }
    if noPenalties { object["penalties"] = .bool(false) }
    put("threads", threads)
    return object
  }

  /// The settings these flags describe, starting from the defaults, checked against the same types and ranges as
  /// the editor's configuration.
  /// - Throws: `ValidationError` naming every flag whose value is out of range.
  func settings(threads: Int) throws -> CompletionSettings {
    let defaults = CompletionSettings()
    let update = Configuration.apply(.object(try configurationObject(threads: threads)), to: defaults, base: defaults)
    if !update.warnings.isEmpty {
      let messages = update.warnings.map {
        $0.replacingOccurrences(of: "configuration key", with: "the setting")
          .replacingOccurrences(of: "; it was ignored", with: "")
      }
      throw ValidationError(messages.joined(separator: "\n"))
    }
    var s = update.settings
    if let seed { s.seed = seed }
    return s
  }
}

/// Where the document on stdin comes from and what language it is: shared by `complete` and `generate-code`.
struct DocumentOptions: ParsableArguments {
  @Option(name: .long, help: "0-based line of the cursor (or of the range start).")
  var line: Int?
  @Option(name: .long, help: "0-based column of the cursor (or of the range start) in UTF-16 code units, like LSP.")
  var column: Int?
  @Option(name: .long, help: "Marker that stands for the cursor in the text when --line/--column are not given.")
  var cursorMarker: String = "<|cursor|>"
  @Option(name: .long, help: "LSP language id (python, swift, c, …).")
  var language: String?
  @Option(name: .long, help: "File name, used for the language when --language is not given, and in prompts.")
  var fileName: String?

  func validate() throws {
    if (line == nil) != (column == nil) { throw ValidationError("--line and --column go together") }
  }

  /// The language id from --language, else from the file name's extension.
  var languageId: String? { language ?? fileName.flatMap(LanguageIdentifiers.languageId(forFileName:)) }
}
