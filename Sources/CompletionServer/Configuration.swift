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
    let read: @Sendable (CompletionSettings) -> JSONValue
    let write: @Sendable (inout CompletionSettings, JSONValue) -> Bool
  }

  static func double(
    _ name: String, _ keyPath: WritableKeyPath<CompletionSettings, Double> & Sendable, min: Double? = nil,
    max: Double? = nil
  ) -> SettingKey {
    SettingKey(
      name: name, type: .number, allowed: nil, minimum: min, maximum: max,
      read: { .double($0[keyPath: keyPath]) },
      write: { settings, value in
        guard let number = value.doubleValue, number.isFinite else { return false }
        settings[keyPath: keyPath] = number
        return true
      })
  }

  static func int(
    _ name: String, _ keyPath: WritableKeyPath<CompletionSettings, Int> & Sendable, min: Double? = nil,
    max: Double? = nil
  ) -> SettingKey {
    SettingKey(
      name: name, type: .integer, allowed: nil, minimum: min, maximum: max,
      read: { .int(Int64($0[keyPath: keyPath])) },
      write: { settings, value in
        guard let integer = integerValue(value), let exact = Int(exactly: integer) else { return false }
        settings[keyPath: keyPath] = exact
        return true
      })
  }

  static func bool(_ name: String, _ keyPath: WritableKeyPath<CompletionSettings, Bool> & Sendable) -> SettingKey {
    SettingKey(
      name: name, type: .boolean, allowed: nil, minimum: nil, maximum: nil,
      read: { .bool($0[keyPath: keyPath]) },
      write: { settings, value in
        guard let flag = value.boolValue else { return false }
        settings[keyPath: keyPath] = flag
        return true
      })
  }

  static func string(
    _ name: String, _ keyPath: WritableKeyPath<CompletionSettings, String> & Sendable, allowed: [String]? = nil
  ) -> SettingKey {
    SettingKey(
      name: name, type: .string, allowed: allowed, minimum: nil, maximum: nil,
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
    double("temperature", \.temperature, min: 0, max: 100),
    double("candidateTemperature", \.candidateTemperature, min: 0, max: 100),
    int("topK", \.topK, min: 0, max: maximumTokens),
    double("topP", \.topP, min: 0, max: 1),
    double("minP", \.minP, min: 0, max: 1),
    SettingKey(
      name: "seed", type: .integer, allowed: nil, minimum: 0, maximum: nil,
      read: { .int(Int64(bitPattern: $0.seed)) },
      write: { settings, value in
        guard let integer = integerValue(value), integer >= 0 else { return false }
        settings.seed = UInt64(integer)
        return true
      }),
    bool("penalties", \.penalties),
    double("repetitionPenalty", \.repetitionPenalty, min: 0.01, max: 100),
    int("repetitionWindow", \.repetitionWindow, min: 1, max: maximumTokens),
    double("frequencyPenalty", \.frequencyPenalty, min: -100, max: 100),
    double("presencePenalty", \.presencePenalty, min: -100, max: 100),
    string("penaltyExemptCharacters", \.penaltyExemptCharacters),
    int("noRepeatNgramSize", \.noRepeatNgramSize, min: 0, max: 1024),
    bool("blockRepeatedLines", \.blockRepeatedLines),
    int("lengthPenaltyStartLine", \.lengthPenaltyStartLine, min: 0, max: maximumTokens),
    int("lengthPenaltyStartBlock", \.lengthPenaltyStartBlock, min: 0, max: maximumTokens),
    double("lengthPenaltyDecay", \.lengthPenaltyDecay, min: 1, max: 10),
    double("lengthNormalizationAlpha", \.lengthNormalizationAlpha, min: 0, max: 10),
    int("maxTokensLine", \.maxTokensLine, min: 1, max: maximumTokens),
    int("maxTokensBlock", \.maxTokensBlock, min: 1, max: maximumTokens),
    int("maxTokensGenerate", \.maxTokensGenerate, min: 1, max: maximumTokens),
    int("deadlineMilliseconds", \.deadlineMilliseconds, min: 1, max: maximumMilliseconds),
    int("latencyTargetMilliseconds", \.latencyTargetMilliseconds, min: 1, max: maximumMilliseconds),
    int("prefillDeadlineMilliseconds", \.prefillDeadlineMilliseconds, min: 1, max: maximumMilliseconds),
    int("minimumGenerationMilliseconds", \.minimumGenerationMilliseconds, min: 0, max: maximumMilliseconds),
    int("generateDeadlineMilliseconds", \.generateDeadlineMilliseconds, min: 1, max: maximumMilliseconds),
    int("prefixTokens", \.prefixTokens, min: 0, max: maximumTokens),
    int("suffixTokens", \.suffixTokens, min: 0, max: maximumTokens),
    int("contextDocumentTokens", \.contextDocumentTokens, min: 0, max: maximumTokens),
    int("contextLength", \.contextLength, min: 16, max: maximumTokens),
    int("middleTokens", \.middleTokens, min: 0, max: maximumTokens),
    bool("tokenHealing", \.tokenHealing),
    string("fimOrder", \.fimOrder, allowed: ["auto", "psm", "spm"]),
    bool("syntaxCheck", \.syntaxCheck),
    string("multiline", \.multiline, allowed: ["auto", "line", "block"]),
    int("invokedCandidates", \.invokedCandidates, min: 1, max: 10),
    string("generateCodePrompt", \.generateCodePrompt, allowed: ["auto", "fillInTheMiddle", "continuation"]),
    int("threads", \.threads, min: 0, max: 1024),
  ]

  /// The server's own keys with their types: `model` (string or null), `logLevel`, `prefetch`.
  public static let serverKeys: [(name: String, type: ValueType, allowed: [String]?)] = [
    ("model", .string, nil),
    ("logLevel", .string, logLevelNames),
    ("prefetch", .boolean, nil),
  ]

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
