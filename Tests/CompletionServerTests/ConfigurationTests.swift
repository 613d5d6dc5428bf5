import CodeCompletion
import CompletionServer
import Foundation
import JSON
import LSPTestSupport
import LSPTransport
import LSPTypes
import XCTest

final class ConfigurationTests: XCTestCase {
  // MARK: Parsing

  func testWrappedAndFlatFormsApply() {
    let base = CompletionSettings()
    let wrapped = Configuration.apply(["codegen-lsp": ["temperature": 0.4, "topK": 7]], to: base, base: base)
    let flat = Configuration.apply(["temperature": 0.4, "topK": 7], to: base, base: base)
    XCTAssertEqual(wrapped.settings.temperature, 0.4)
    XCTAssertEqual(wrapped.settings.topK, 7)
    XCTAssertEqual(wrapped.settings, flat.settings)
    XCTAssertEqual(wrapped.warnings, [])
  }

  /// The key table follows `CompletionSettings`: a property added there without a key fails here.
  func testKeysCoverEveryCompletionSettingsProperty() {
    let properties = Mirror(reflecting: CompletionSettings()).children.compactMap(\.label)
    XCTAssertEqual(Configuration.settingKeys.map(\.name), properties)
  }

  /// Values that crashed the server on the next completion when only a minimum was checked are refused.
  func testEveryNumberHasARangeAndHugeValuesAreRefused() {
    for key in Configuration.settingKeys where key.type == .number || key.type == .integer {
      XCTAssertNotNil(key.minimum, key.name)
      if key.name != "seed" { XCTAssertNotNil(key.maximum, key.name) }
    }
    let base = CompletionSettings()
    let hostile: [(String, JSONValue)] = [
      ("deadlineMilliseconds", .double(1.85e13)), ("generateDeadlineMilliseconds", .double(1.85e13)),
      ("prefillDeadlineMilliseconds", .int(1 << 53 + 1)), ("minimumGenerationMilliseconds", .int(1 << 53 + 1)),
      ("prefixTokens", .int(1 << 62)), ("repetitionWindow", .int(1 << 53 + 1)), ("repetitionPenalty", .int(0)),
      ("repetitionWindow", .int(0)), ("threads", .int(1 << 40)), ("temperature", .double(1e308)),
    ]
    for (name, value) in hostile {
      let update = Configuration.apply(.object([name: value]), to: base, base: base)
      XCTAssertEqual(update.settings, base, name)
      XCTAssertEqual(update.warnings.count, 1, name)
      XCTAssertTrue(update.warnings.first?.contains("'\(name)'") ?? false, "\(update.warnings)")
    }
  }

  func testEveryKeyRoundTripsThroughJSON() {
    var changed = CompletionSettings()
    changed.temperature = 0.3
    changed.seed = 9
    changed.fimOrder = "spm"
    changed.penalties = false
    changed.maxTokensLine = 12
    let json = Configuration.json(of: changed)
    let update = Configuration.apply(json, to: CompletionSettings(), base: CompletionSettings())
    XCTAssertEqual(update.warnings, [])
    XCTAssertEqual(update.settings, changed)
    XCTAssertEqual(json.objectValue?.count, Configuration.settingKeys.count)
  }

  func testInvalidKeysAreReportedAndTheRestApplies() {
    let base = CompletionSettings()
    let update = Configuration.apply(
      [
        "bogus": 1, "topK": "many", "temperature": 0.2, "topP": 3, "fimOrder": "middle", "seed": -1,
        "syntaxCheck": "yes", "maxTokensLine": 1.5, "model": 5, "logLevel": "loud", "prefetch": 1,
      ], to: base, base: base)
    XCTAssertEqual(update.settings.temperature, 0.2)
    XCTAssertEqual(update.settings.topK, base.topK)
    XCTAssertEqual(update.settings.topP, base.topP)
    XCTAssertEqual(update.settings.fimOrder, base.fimOrder)
    XCTAssertEqual(update.warnings.count, 10, "\(update.warnings)")
    let joined = update.warnings.joined(separator: "\n")
    for expected in [
      "unknown configuration key 'bogus'", "'topK' must be an integer, not string", "'topP' must be at most 1",
      "'fimOrder' must be one of 'auto', 'psm', 'spm'", "'seed' must be an integer", "'syntaxCheck' must be a boolean",
      "'maxTokensLine' must be an integer, not number", "'model' must be a string", "'logLevel' must be one of",
      "'prefetch' must be a boolean",
    ] {
      XCTAssertTrue(joined.contains(expected), "missing \(expected) in \(joined)")
    }
  }

  func testNullResetsToTheBaseAndModelNull() {
    var base = CompletionSettings()
    base.maxTokensLine = 50
    var current = base
    current.maxTokensLine = 5
    let update = Configuration.apply(["maxTokensLine": nil, "model": nil], to: current, base: base)
    XCTAssertEqual(update.settings.maxTokensLine, 50)
    XCTAssertNotNil(update.model)
    XCTAssertNil(update.model!)
  }

  func testNonObjectConfigurationIsAWarning() {
    let update = Configuration.apply([1, 2], to: CompletionSettings(), base: CompletionSettings())
    XCTAssertEqual(update.warnings.count, 1)
    let wrapped = Configuration.apply(["codegen-lsp": "x"], to: CompletionSettings(), base: CompletionSettings())
    XCTAssertEqual(wrapped.warnings.count, 1)
  }

  // MARK: Through the server

  func testInitializationOptionsApplyAndWarn() throws {
    let provider = BracketClosingProvider()
    let client = try TestClient(provider: provider, options: testOptions())
    try client.initialize(initializationOptions: ["codegen-lsp": ["temperature": 0.5, "bogus": 1, "topK": "x"]])
    let warnings = try client.waitFor(ShowMessageNotification.method, count: 2)
    XCTAssertTrue(warnings.allSatisfy { $0["type"] == 2 })
    let text = warnings.compactMap { $0["message"]?.stringValue }.joined(separator: "\n")
    XCTAssertTrue(text.contains("'bogus'"), text)
    XCTAssertTrue(text.contains("'topK' must be an integer"), text)
    client.open(uri: "file:///a.py", text: "(")
    _ = try client.inlineCompletion(uri: "file:///a.py", position: Position(line: 0, character: 1))
    XCTAssertEqual(provider.settings.temperature, 0.5)
    XCTAssertEqual(provider.settings.topK, CompletionSettings().topK)
  }

  func testDidChangeConfigurationUpdatesTheProvider() throws {
    let provider = BracketClosingProvider()
    let client = try TestClient(provider: provider, options: testOptions())
    try client.initialize()
    client.notify(DidChangeConfigurationNotification(settings: ["maxTokensLine": 10, "invokedCandidates": 2]))
    client.open(uri: "file:///a.py", text: "[")
    let list = try client.inlineCompletion(
      uri: "file:///a.py", position: Position(line: 0, character: 1), trigger: .invoked)
    XCTAssertEqual(provider.settings.maxTokensLine, 10)
    XCTAssertEqual(list.items.count, 2)
    XCTAssertEqual(client.received(ShowMessageNotification.method).count, 0)
  }

  func testModelKeyRecreatesTheProviderOnTheWorker() throws {
    let lock = NSLock()
    var specs: [String?] = []
    let created = DispatchSemaphore(value: 0)
    let client = try TestClient(options: testOptions(modelSpec: "cli.gguf")) { spec in
      lock.lock()
      specs.append(spec)
      lock.unlock()
      created.signal()
      return BracketClosingProvider(status: .ready(description: spec ?? "default"))
    }
    try client.initialize()
    waitFor(created, "the first provider")
    client.notify(DidChangeConfigurationNotification(settings: ["codegen-lsp": ["model": "other.gguf"]]))
    waitFor(created, "the provider of the configured model")
    client.notify(DidChangeConfigurationNotification(settings: ["codegen-lsp": ["model": "other.gguf", "topK": 3]]))
    client.notify(DidChangeConfigurationNotification(settings: ["codegen-lsp": ["model": nil]]))
    waitFor(created, "the provider of the command-line model")
    client.open(uri: "file:///m.py", text: "(")
    _ = try client.inlineCompletion(uri: "file:///m.py", position: Position(line: 0, character: 1))
    lock.lock()
    XCTAssertEqual(specs, ["cli.gguf", "other.gguf", "cli.gguf"])
    lock.unlock()
  }

  func testInitializationOptionsModelIsUsedForTheFirstProvider() throws {
    let lock = NSLock()
    var specs: [String?] = []
    let client = try TestClient(options: testOptions(modelSpec: "cli.gguf")) { spec in
      lock.lock()
      specs.append(spec)
      lock.unlock()
      return BracketClosingProvider()
    }
    try client.initialize(initializationOptions: ["model": "init.gguf"])
    client.open(uri: "file:///m.py", text: "(")
    _ = try client.inlineCompletion(uri: "file:///m.py", position: Position(line: 0, character: 1))
    lock.lock()
    XCTAssertEqual(specs, ["init.gguf"])
    lock.unlock()
  }

  func testLogLevelControlsLogMessages() throws {
    let client = try TestClient(provider: BracketClosingProvider(), options: testOptions())
    try client.initialize(initializationOptions: ["logLevel": "debug"])
    client.notify(method: "custom/unknownNotification", params: nil)
    XCTAssertEqual(try errorCode(client.sendRequest(method: "custom/barrier", params: nil)), -32601)
    let debug = client.received(LogMessageNotification.method).filter {
      $0["message"]?.stringValue?.contains("custom/unknownNotification") ?? false
    }
    XCTAssertEqual(debug.count, 1)
    XCTAssertEqual(debug.first?["type"], 4)
    client.notify(DidChangeConfigurationNotification(settings: ["logLevel": "error"]))
    client.notify(method: "custom/secondUnknown", params: nil)
    XCTAssertEqual(try errorCode(client.sendRequest(method: "custom/barrier", params: nil)), -32601)
    XCTAssertFalse(
      client.received(LogMessageNotification.method).contains {
        $0["message"]?.stringValue?.contains("custom/secondUnknown") ?? false
      })
  }

  func testPrefetchPreparesOnOpenWhenEnabled() throws {
    let provider = BracketClosingProvider()
    var options = testOptions()
    options.prefetch = true
    let client = try TestClient(provider: provider, options: options)
    try client.initialize()
    client.open(uri: "file:///p.py", text: "import os\n")
    waitFor(provider.prepared, "the prefetch")
    XCTAssertEqual(provider.log.preparations.first?.prefix, "import os\n")
    XCTAssertEqual(provider.log.preparations.first?.documentID, "file:///p.py")
    client.notify(DidChangeConfigurationNotification(settings: ["prefetch": false]))
    client.open(uri: "file:///q.py", text: "x")
    _ = try client.inlineCompletion(uri: "file:///q.py", position: Position(line: 0, character: 1))
    XCTAssertEqual(provider.log.preparations.count, 1)
  }

  // MARK: Schema

  func protocolFile(_ name: String) throws -> String {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent().appendingPathComponent("Protocol/" + name)
    return try String(contentsOf: url, encoding: .utf8)
  }

  /// The schema and the settings reference in `Protocol/` are the settings table's output, byte for byte
  /// (regenerate with `codegen-lsp settings --schema > Protocol/configuration.schema.json` and
  /// `codegen-lsp settings > Protocol/settings.md`).
  func testProtocolDocumentsAreGeneratedFromTheSettingsTable() throws {
    XCTAssertEqual(try protocolFile("configuration.schema.json"), Configuration.schemaText())
    XCTAssertEqual(try protocolFile("settings.md"), Configuration.markdownReference())
    for key in Configuration.settingKeys {
      XCTAssertFalse(key.help.isEmpty, key.name)
      XCTAssertEqual(Configuration.help(for: key.name), key.help)
      XCTAssertTrue(Configuration.markdownReference().contains("| `\(key.name)` |"), key.name)
    }
  }

  /// `Protocol/configuration.schema.json` documents exactly the keys the server accepts, with the Swift defaults.
  func testSchemaMatchesTheSwiftDefaults() throws {
    let schema = try JSONValue.parse(try protocolFile("configuration.schema.json"))
    let properties = try XCTUnwrap(schema["properties"]?.objectValue)
    let defaults = try XCTUnwrap(Configuration.json(of: CompletionSettings()).objectValue)
    let serverKeys = Configuration.serverKeys.map(\.name)
    XCTAssertEqual(Set(properties.keys), Set(defaults.keys).union(serverKeys))
    for key in Configuration.settingKeys {
      let property = try XCTUnwrap(properties[key.name], key.name)
      XCTAssertEqual(property["type"]?.stringValue, key.type.rawValue, key.name)
      let documented = try XCTUnwrap(property["default"], key.name)
      let actual = defaults[key.name]!
      if let number = actual.doubleValue, let given = documented.doubleValue {
        XCTAssertEqual(number, given, key.name)
      } else {
        XCTAssertEqual(documented, actual, key.name)
      }
      XCTAssertFalse((property["description"]?.stringValue ?? "").isEmpty, key.name)
      if let allowed = key.allowed {
        XCTAssertEqual(property["enum"]?.arrayValue?.compactMap(\.stringValue), allowed, key.name)
      }
      if let minimum = key.minimum { XCTAssertEqual(property["minimum"]?.doubleValue, minimum, key.name) }
      if let maximum = key.maximum { XCTAssertEqual(property["maximum"]?.doubleValue, maximum, key.name) }
    }
    XCTAssertEqual(
      properties["logLevel"]?["enum"]?.arrayValue?.compactMap(\.stringValue), Configuration.logLevelNames)
    XCTAssertEqual(properties["prefetch"]?["default"], .bool(ServerOptions().prefetch))
  }
}
