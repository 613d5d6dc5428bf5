import CodeCompletion
import JSON
import LSPTypes
import Logging

/// The editor-facing configuration: every `CompletionSettings` property by its Swift name, plus the server's own
/// keys (`model`, `logLevel`, `prefetch`). Documented by `Protocol/configuration.schema.json`.
public enum Configuration {
  /// The section name clients may wrap the settings in: `{"codegen-lsp": {...}}`.
  public static let section = "codegen-lsp"

  /// The JSON type a key accepts.
  public enum ValueType: String, Sendable {
    case number, integer, boolean, string

    /// The type's name in warnings ("a number").
    var phrase: String {
      switch self {
      case .number: return "a number"
      case .integer: return "an integer"
      case .boolean: return "a boolean"
      case .string: return "a string"
      }
    }
  }

  /// One `CompletionSettings` key.
  public struct SettingKey: Sendable {
    public let name: String
    public let type: ValueType
    /// Allowed strings (enumerations), nil for any.
    public let allowed: [String]?
    /// Smallest allowed number, nil for none.
    public let minimum: Double?
    /// Largest allowed number, nil for none.
    public let maximum: Double?
    /// What the setting does, for users: the schema's description, the CLI flag's help and the settings reference.
    public let help: String
    let read: @Sendable (CompletionSettings) -> JSONValue
    let write: @Sendable (inout CompletionSettings, JSONValue) -> Bool
  }

  static func double(
    _ name: String, _ keyPath: WritableKeyPath<CompletionSettings, Double> & Sendable, min: Double? = nil,
    max: Double? = nil, help: String
  ) -> SettingKey {
    SettingKey(
      name: name, type: .number, allowed: nil, minimum: min, maximum: max, help: help,
      read: { .double($0[keyPath: keyPath]) },
      write: { settings, value in
        guard let number = value.doubleValue, number.isFinite else { return false }
        settings[keyPath: keyPath] = number
        return true
      })
  }

  static func int(
    _ name: String, _ keyPath: WritableKeyPath<CompletionSettings, Int> & Sendable, min: Double? = nil,
    max: Double? = nil, help: String
  ) -> SettingKey {
    SettingKey(
      name: name, type: .integer, allowed: nil, minimum: min, maximum: max, help: help,
      read: { .int(Int64($0[keyPath: keyPath])) },
      write: { settings, value in
        guard let integer = integerValue(value), let exact = Int(exactly: integer) else { return false }
        settings[keyPath: keyPath] = exact
        return true
      })
  }

  static func bool(
    _ name: String, _ keyPath: WritableKeyPath<CompletionSettings, Bool> & Sendable, help: String
  ) -> SettingKey {
    SettingKey(
      name: name, type: .boolean, allowed: nil, minimum: nil, maximum: nil, help: help,
      read: { .bool($0[keyPath: keyPath]) },
      write: { settings, value in
        guard let flag = value.boolValue else { return false }
        settings[keyPath: keyPath] = flag
        return true
      })
  }

  static func string(
    _ name: String, _ keyPath: WritableKeyPath<CompletionSettings, String> & Sendable, allowed: [String]? = nil,
    help: String
  ) -> SettingKey {
    SettingKey(
      name: name, type: .string, allowed: allowed, minimum: nil, maximum: nil, help: help,
      read: { .string($0[keyPath: keyPath]) },
      write: { settings, value in
        guard let text = value.stringValue else { return false }
        settings[keyPath: keyPath] = text
        return true
      })
  }

  /// An integer from JSON, accepting integral doubles (`3.0`).
  static func integerValue(_ value: JSONValue) -> Int64? {
    switch value {
    case .int(let integer): return integer
    case .double(let number) where number.rounded() == number && abs(number) < 9.0e15: return Int64(number)
    default: return nil
    }
  }

  /// Largest duration a setting accepts, in milliseconds: one day.
  static let maximumMilliseconds: Double = 86_400_000
  /// Largest token count a setting accepts: 2^20, past any model's context window.
  static let maximumTokens: Double = 1_048_576

  /// Every `CompletionSettings` property, in declaration order. Every number has a range: a value outside it is
  /// refused with a warning like a wrong type, so no setting can overflow the arithmetic or allocations it feeds.
  public static let settingKeys: [SettingKey] = [
    double(
      "temperature", \.temperature, min: 0, max: 100,
      help: "Softmax temperature of the first candidate; 0 means greedy (argmax)."),
    double(
      "candidateTemperature", \.candidateTemperature, min: 0, max: 100,
      help: "Temperature of the extra candidates of an invoked completion (they must differ from the first)."),
    int(
      "topK", \.topK, min: 0, max: maximumTokens,
      help: "Keep the k most likely tokens (0 disables)."),
    double(
      "topP", \.topP, min: 0, max: 1,
      help: "Keep the smallest set of tokens whose probability reaches p (1 disables)."),
    double(
      "minP", \.minP, min: 0, max: 1,
      help: "Drop tokens less likely than minP times the most likely one (0 disables)."),
    SettingKey(
      name: "seed", type: .integer, allowed: nil, minimum: 0, maximum: nil,
      help: "Seed of every random choice.",
      read: { .int(Int64(bitPattern: $0.seed)) },
      write: { settings, value in
        guard let integer = integerValue(value), integer >= 0 else { return false }
        settings.seed = UInt64(integer)
        return true
      }),
    bool(
      "penalties", \.penalties,
      help: "Master switch for all penalties and blockers below (the quality benchmark turns it off to compare)."),
    double(
      "repetitionPenalty", \.repetitionPenalty, min: 0.01, max: 100,
      help: "Divides positive logits and multiplies negative ones of recently generated tokens (1 disables)."),
    int(
      "repetitionWindow", \.repetitionWindow, min: 1, max: maximumTokens,
      help: "How many recent tokens the repetition, frequency and presence penalties look at."),
    double(
      "frequencyPenalty", \.frequencyPenalty, min: -100, max: 100,
      help: "Subtracted once per earlier occurrence of a token in the window."),
    double(
      "presencePenalty", \.presencePenalty, min: -100, max: 100,
      help: "Subtracted once if the token occurred in the window."),
    string(
      "penaltyExemptCharacters", \.penaltyExemptCharacters,
      help: "Tokens made only of these characters (and whitespace) are never penalised: code repeats them legitimately."
    ),
    int(
      "noRepeatNgramSize", \.noRepeatNgramSize, min: 0, max: 1024,
      help: "Forbid generating an n-gram of this many tokens a second time (0 disables)."),
    bool(
      "blockRepeatedLines", \.blockRepeatedLines,
      help: "Stop a completion that starts a non-trivial line it already produced."),
    int(
      "lengthPenaltyStartLine", \.lengthPenaltyStartLine, min: 0, max: maximumTokens,
      help: "Soft budget in tokens for a single-line completion; past it newline and end-of-sequence are favoured."),
    int(
      "lengthPenaltyStartBlock", \.lengthPenaltyStartBlock, min: 0, max: maximumTokens,
      help: "Soft budget in tokens for a block completion."),
    double(
      "lengthPenaltyDecay", \.lengthPenaltyDecay, min: 1, max: 10,
      help: "Growth factor per token past the soft budget (transformers' exponential_decay_length_penalty)."),
    double(
      "lengthNormalizationAlpha", \.lengthNormalizationAlpha, min: 0, max: 10,
      help: "Candidates are ranked by sum(log p) / length^alpha."),
    int(
      "maxTokensLine", \.maxTokensLine, min: 1, max: maximumTokens,
      help: "Hard limit of generated tokens in single-line mode."),
    int(
      "maxTokensBlock", \.maxTokensBlock, min: 1, max: maximumTokens,
      help: "Hard limit of generated tokens in block mode."),
    int(
      "maxTokensGenerate", \.maxTokensGenerate, min: 1, max: maximumTokens,
      help: "Hard limit of generated tokens for generate-code."),
    int(
      "deadlineMilliseconds", \.deadlineMilliseconds, min: 1, max: maximumMilliseconds,
      help: "Per-request deadline in milliseconds; the best partial completion is returned when it passes."),
    int(
      "latencyTargetMilliseconds", \.latencyTargetMilliseconds, min: 1, max: maximumMilliseconds,
      help:
        "The time a suggestion should take, in milliseconds: a request whose full context the measured speed of this machine cannot prefill in time is answered from a shorter window around the cursor, while the full context is prefilled in the background. Applies under a deadline (the editor's), not offline."
    ),
    int(
      "typingLatencyTargetMilliseconds", \.typingLatencyTargetMilliseconds, min: 1, max: maximumMilliseconds,
      help:
        "The time a suggestion should take while typing (a request whose prompt is nearly all in the KV cache), in milliseconds: generation stops then, the suggestion shows what was generated, and the server generates the rest in the background for the completion cache. Applies under a deadline (the editor's), not offline."
    ),
    int(
      "prefillDeadlineMilliseconds", \.prefillDeadlineMilliseconds, min: 1, max: maximumMilliseconds,
      help:
        "A cold prompt (nothing of it in the KV cache) may be prefilled for this long from the request's start even past deadlineMilliseconds: stopping it would return nothing, and the work is kept for the next request."
    ),
    int(
      "minimumGenerationMilliseconds", \.minimumGenerationMilliseconds, min: 0, max: maximumMilliseconds,
      help: "After a prefill that ran past deadlineMilliseconds, generation still gets this long."),
    int(
      "generateDeadlineMilliseconds", \.generateDeadlineMilliseconds, min: 1, max: maximumMilliseconds,
      help: "Deadline for generate-code, in milliseconds."),
    int(
      "prefixTokens", \.prefixTokens, min: 0, max: maximumTokens,
      help: "Token budget for text before the cursor."),
    int(
      "suffixTokens", \.suffixTokens, min: 0, max: maximumTokens,
      help: "Token budget for text after the cursor."),
    int(
      "contextDocumentTokens", \.contextDocumentTokens, min: 0, max: maximumTokens,
      help:
        "Token budget for context from other files: the repository context chosen for the cursor, then other open documents of the same language (0 disables both)."
    ),
    bool(
      "repositoryContext", \.repositoryContext,
      help:
        "Repository context: the server indexes the editor's workspace folders and gives the model the definitions of names used near the cursor, the signatures of imported names and similar code from other files (off by default: on the cross-file evaluation it does not yet improve Qwen2.5-Coder-0.5B's answers; the CLI's --workspace turns it on)."
    ),
    int(
      "contextLength", \.contextLength, min: 16, max: maximumTokens,
      help: "Upper bound on the model's context window in tokens (the model's own limit applies when lower)."),
    int(
      "middleTokens", \.middleTokens, min: 0, max: maximumTokens,
      help:
        "In PSM prompts, up to this many tokens typed since the last anchor (the start of the line where typing began) are placed after the middle token, so typing only appends to the prompt and reuses the KV cache (0: never)."
    ),
    bool(
      "tokenHealing", \.tokenHealing,
      help:
        "Token healing: the last token of the text before the cursor is regenerated, constrained to spell it again, so completions of a partial word start at a natural token boundary."
    ),
    string(
      "fimOrder", \.fimOrder, allowed: ["auto", "psm", "spm"],
      help: "Fill-in-the-middle order: auto, psm (prefix-suffix-middle) or spm (suffix-prefix-middle)."),
    bool(
      "syntaxCheck", \.syntaxCheck,
      help: "Syntax middleware on or off (off only for measurement)."),
    string(
      "multiline", \.multiline, allowed: ["auto", "line", "block"],
      help: "auto decides single-line or block from the cursor's context; line and block force it."),
    int(
      "invokedCandidates", \.invokedCandidates, min: 1, max: 10,
      help: "Candidates returned for an invoked completion."),
    string(
      "generateCodePrompt", \.generateCodePrompt, allowed: ["auto", "fillInTheMiddle", "continuation"],
      help:
        "The prompt of generate-code without an instruction: fillInTheMiddle (the text before and after the cursor with the model's FIM tokens), continuation (the text before the cursor as plain text), or auto (continuation when nothing but whitespace follows the cursor, else fill-in-the-middle)."
    ),
    string(
      "invokedModel", \.invokedModel,
      help:
        "The model of invoked completions (the user asked for one): auto (the larger preset of the main model's family, qwen2.5-coder-1.5b for qwen2.5-coder-0.5b, when it is downloaded and the measured speed of this machine lets it answer within latencyTargetMilliseconds), same (the main model), or a preset name or GGUF path. Loaded on first use and kept."
    ),
    string(
      "generateModel", \.generateModel,
      help:
        "The model of generate-code: auto (the larger preset of the main model's family when it is downloaded and the measured speed of this machine lets it finish a typical answer within a quarter of generateDeadlineMilliseconds), same (the main model), or a preset name or GGUF path. Loaded on first use and kept."
    ),
    int(
      "threads", \.threads, min: 0, max: 1024,
      help: "Worker threads for the engine (0: one per core)."),
  ]

  /// One of the server's own keys (not a `CompletionSettings` property).
  public struct ServerKey: Sendable {
    public let name: String
    public let type: ValueType
    /// Whether null is a value of its own (`model`: back to the command line's model).
    public let nullable: Bool
    public let allowed: [String]?
    public let defaultValue: JSONValue
    public let help: String
  }

  /// The server's own keys: `model` (string or null), `logLevel`, `prefetch`.
  public static let serverKeys: [ServerKey] = [
    ServerKey(
      name: "model", type: .string, nullable: true, allowed: nil, defaultValue: .null,
      help:
        "The model: a path to a GGUF file or a preset name. Overrides --model and CODEGEN_LSP_MODEL; a change re-creates the provider on the worker queue (between requests). null or \"\" goes back to the command line's model or the default preset."
    ),
    ServerKey(
      name: "logLevel", type: .string, nullable: false, allowed: logLevelNames, defaultValue: .string("info"),
      help: "Lowest level of the logs sent to the editor with window/logMessage (and to stderr). Overrides --log-level."
    ),
    ServerKey(
      name: "prefetch", type: .boolean, nullable: false, allowed: nil, defaultValue: .bool(ServerOptions().prefetch),
      help:
        "Background prefill of the prompt (provider.prepare) when a document is opened and after a pause in typing, so the next completion starts from a warm cache. Cancelled as soon as a request arrives."
    ),
  ]

  // MARK: Documents derived from the table

  /// The JSON schema of the configuration (`Protocol/configuration.schema.json`, which a test keeps equal to it),
  /// with the keys in table order; `codegen-lsp settings --schema` prints it.
  public static func schemaText() -> String {
    func quoted(_ text: String) -> String { JSONValue.string(text).serialized() }
    func property(
      _ name: String, type: String, defaultValue: JSONValue, help: String, allowed: [String]?, minimum: Double?,
      maximum: Double?
    ) -> String {
      var fields = [
        "\"type\": \(type)", "\"default\": \(defaultValue.serialized())", "\"description\": \(quoted(help))",
      ]
      if let allowed { fields.append("\"enum\": [\(allowed.map(quoted).joined(separator: ", "))]") }
      if let minimum { fields.append("\"minimum\": \(format(minimum))") }
      if let maximum { fields.append("\"maximum\": \(format(maximum))") }
      return "    \(quoted(name)): {\n" + fields.map { "      " + $0 }.joined(separator: ",\n") + "\n    }"
    }
    let defaults = CompletionSettings()
    var properties = settingKeys.map { key in
      property(
        key.name, type: quoted(key.type.rawValue), defaultValue: key.read(defaults), help: key.help,
        allowed: key.allowed, minimum: key.minimum, maximum: key.maximum)
    }
    properties += serverKeys.map { key in
      property(
        key.name, type: key.nullable ? "[\(quoted(key.type.rawValue)), \"null\"]" : quoted(key.type.rawValue),
        defaultValue: key.defaultValue, help: key.help, allowed: key.allowed, minimum: nil, maximum: nil)
    }
    let header: [(String, String)] = [
      ("$schema", quoted("https://json-schema.org/draft/2020-12/schema")),
      ("$id", quoted("https://github.com/codegen-lsp/codegen-lsp/Protocol/configuration.schema.json")),
      ("title", quoted("codegen-lsp configuration")),
      ("description", quoted(schemaDescription)),
      ("type", quoted("object")),
      ("additionalProperties", "false"),
    ]
    return "{\n" + header.map { "  \(quoted($0.0)): \($0.1),\n" }.joined() + "  \"properties\": {\n"
      + properties.joined(separator: ",\n") + "\n  }\n}\n"
  }

  static let schemaDescription =
    "Settings accepted in initializationOptions and workspace/didChangeConfiguration, flat or wrapped as {\"codegen-lsp\": {...}}. Absent keys keep their value; null resets a key to the value the server started with (command line over defaults). An unknown key, a wrong type or a value out of range is reported with window/showMessage (Warning) and ignored; the other keys still apply. Every key except model, logLevel and prefetch is the CompletionSettings property of the same name, with the same default."

  /// The settings reference in Markdown (`Protocol/settings.md`, which a test keeps equal to it): one row per key
  /// with its type, default, range and help; `codegen-lsp settings` prints it.
  public static func markdownReference() -> String {
    func cell(_ text: String) -> String { text.replacingOccurrences(of: "|", with: "\\|") }
    func code(_ value: JSONValue) -> String { "`" + value.serialized() + "`" }
    func range(_ minimum: Double?, _ maximum: Double?, _ allowed: [String]?) -> String {
      if let allowed { return allowed.map { "`\($0)`" }.joined(separator: ", ") }
      switch (minimum, maximum) {
      case (let low?, let high?): return "\(format(low)) to \(format(high))"
      case (let low?, nil): return "at least \(format(low))"
      case (nil, let high?): return "at most \(format(high))"
      default: return ""
      }
    }
    let defaults = CompletionSettings()
    var lines = [
      "# codegen-lsp settings",
      "",
      "Generated from the settings table (`Configuration.settingKeys` in `Sources/CompletionServer/Configuration.swift`) by",
      "`codegen-lsp settings`; a test keeps this file, [`configuration.schema.json`](configuration.schema.json) and the",
      "command-line help equal to it. " + schemaDescription,
      "",
      "On the command line, `codegen-lsp complete`, `generate-code` and `lsp` take any key as `--set KEY=VALUE`; their",
      "`--help` lists shorter flags for the common keys (`--top-k`, `--no-syntax-check`, ...).",
      "",
      "| key | type | default | range | effect |",
      "|---|---|---|---|---|",
    ]
    for key in settingKeys {
      lines.append(
        "| `\(key.name)` | \(key.type.rawValue) | \(code(key.read(defaults))) | \(range(key.minimum, key.maximum, key.allowed)) | "
          + "\(cell(key.help)) |")
    }
    for key in serverKeys {
      lines.append(
        "| `\(key.name)` | \(key.type.rawValue)\(key.nullable ? " or null" : "") | \(code(key.defaultValue)) | "
          + "\(range(nil, nil, key.allowed)) | \(cell(key.help)) |")
    }
    return lines.joined(separator: "\n") + "\n"
  }

  /// The help of a `CompletionSettings` key (the command line's flags take their help from here).
  /// - Precondition: `name` is a key of `settingKeys`.
  public static func help(for name: String) -> String {
    guard let key = settingKeys.first(where: { $0.name == name }) else {
      preconditionFailure("no setting named \(name)")
    }
    return key.help
  }

  /// Accepted `logLevel` values.
  public static let logLevelNames = ["trace", "debug", "info", "warning", "error"]

  /// The `logLevel` value as a swift-log level.
  public static func logLevel(named name: String) -> Logger.Level? {
    switch name {
    case "trace": return .trace
    case "debug": return .debug
    case "info": return .info
    case "warning": return .warning
    case "error": return .error
    default: return nil
    }
  }

  /// The settings as a JSON object keyed by property name (the same keys the configuration accepts).
  public static func json(of settings: CompletionSettings) -> JSONValue {
    var object: [String: JSONValue] = [:]
    for key in settingKeys { object[key.name] = key.read(settings) }
    return .object(object)
  }

  /// The result of reading one configuration object.
  public struct Update: Sendable {
    /// The settings after the update.
    public var settings: CompletionSettings
    /// `model`: nil when absent; `.some(nil)` when null (back to the command line's / default model).
    public var model: String??
    public var logLevel: Logger.Level?
    public var prefetch: Bool?
    /// One message per rejected key, naming it and the expected type; the other keys still apply.
    public var warnings: [String]
  }

  /// Applies a configuration object onto `current`.
  ///
  /// Accepts `{"codegen-lsp": {...}}` or the flat object. Keys absent keep their current value; a key set to null goes
  /// back to its value in `base` (the command line's settings). Unknown keys and wrong types become warnings.
  /// - Parameters:
  ///   - json: `initializationOptions` or `didChangeConfiguration.settings`.
  ///   - current: the settings now in force.
  ///   - base: the settings the server started with.
  public static func apply(_ json: JSONValue, to current: CompletionSettings, base: CompletionSettings) -> Update {
    var update = Update(settings: current, model: nil, logLevel: nil, prefetch: nil, warnings: [])
    var object: [String: JSONValue]
    switch json {
    case .null:
      return update
    case .object(let members):
      if let wrapped = members[section] {
        guard case .object(let inner) = wrapped else {
          update.warnings.append("configuration '\(section)' must be an object, not \(wrapped.typeName)")
          return update
        }
        object = inner
      } else {
        object = members
      }
    default:
      update.warnings.append("configuration must be an object, not \(json.typeName); it was ignored")
      return update
    }
    let keysByName = Dictionary(uniqueKeysWithValues: settingKeys.map { ($0.name, $0) })
    for name in object.keys.sorted() {
      let value = object[name]!
      if let key = keysByName[name] {
        if value.isNull {
          _ = key.write(&update.settings, key.read(base))
          continue
        }
        var candidate = update.settings
        guard key.write(&candidate, value) else {
          update.warnings.append(
            "configuration key '\(name)' must be \(key.type.phrase), not \(value.typeName); it was ignored")
          continue
        }
        if let allowed = key.allowed, let text = value.stringValue, !allowed.contains(text) {
          update.warnings.append(
            "configuration key '\(name)' must be one of \(allowed.map { "'\($0)'" }.joined(separator: ", ")), "
              + "not '\(text)'; it was ignored")
          continue
        }
        if let number = value.doubleValue {
          if let minimum = key.minimum, number < minimum {
            update.warnings.append("configuration key '\(name)' must be at least \(format(minimum)); it was ignored")
            continue
          }
          if let maximum = key.maximum, number > maximum {
            update.warnings.append("configuration key '\(name)' must be at most \(format(maximum)); it was ignored")
            continue
          }
        }
        update.settings = candidate
        continue
      }
      switch name {
      case "model":
        if value.isNull {
          update.model = .some(nil)
        } else if let text = value.stringValue {
          update.model = .some(text.isEmpty ? nil : text)
        } else {
          update.warnings.append("configuration key 'model' must be a string, not \(value.typeName); it was ignored")
        }
      case "logLevel":
        if let text = value.stringValue, let level = logLevel(named: text) {
          update.logLevel = level
        } else {
          update.warnings.append(
            "configuration key 'logLevel' must be one of \(logLevelNames.joined(separator: ", ")); it was ignored")
        }
      case "prefetch":
        if let flag = value.boolValue {
          update.prefetch = flag
        } else {
          update.warnings.append(
            "configuration key 'prefetch' must be a boolean, not \(value.typeName); it was ignored")
        }
      default:
        update.warnings.append("unknown configuration key '\(name)'; it was ignored")
      }
    }
    return update
  }

  static func format(_ number: Double) -> String {
    number.rounded() == number ? String(Int64(number)) : String(number)
  }
}
