import JSON

/// `initialize`: the first request; negotiates capabilities.
public struct InitializeRequest: LSPRequest, Hashable, Sendable {
  public static let method = "initialize"
  public typealias Response = InitializeResult

  public var processId: Int?
  public var clientName: String?
  public var clientVersion: String?
  public var rootUri: String?
  /// The deprecated `rootPath` (a path, not a URI).
  public var rootPath: String?
  /// `workspaceFolders`' URIs (nil when not sent).
  public var workspaceFolders: [String]?
  public var capabilities: ClientCapabilities
  /// Server-specific options (codegen-lsp settings; see `Protocol/configuration.schema.json`).
  public var initializationOptions: JSONValue?
  public var trace: TraceValue?

  public init(
    processId: Int? = nil, clientName: String? = nil, clientVersion: String? = nil, rootUri: String? = nil,
    capabilities: ClientCapabilities = ClientCapabilities(), initializationOptions: JSONValue? = nil,
    trace: TraceValue? = nil
  ) {
    self.processId = processId
    self.clientName = clientName
    self.clientVersion = clientVersion
    self.rootUri = rootUri
    self.capabilities = capabilities
    self.initializationOptions = initializationOptions
    self.trace = trace
  }

  public init(json: JSONValue, path: String) throws {
    let reader = try JSONObjectReader(json, path: path)
    processId = try reader.decodeIfPresent("processId")
    if let info = reader.raw("clientInfo") {
      let infoReader = try JSONObjectReader(info, path: reader.path(of: "clientInfo"))
      clientName = try infoReader.decodeIfPresent("name")
      clientVersion = try infoReader.decodeIfPresent("version")
    }
    rootUri = try reader.decodeIfPresent("rootUri")
    rootPath = try reader.decodeIfPresent("rootPath")
    if let folders = reader.raw("workspaceFolders")?.arrayValue {
      workspaceFolders = folders.compactMap { $0["uri"]?.stringValue }
    }
    capabilities = try reader.decodeIfPresent("capabilities") ?? ClientCapabilities()
    initializationOptions = reader.raw("initializationOptions")
    trace = try reader.decodeIfPresent("trace")
  }

  public var json: JSONValue {
    .fields([
      ("processId", processId.json),
      ("clientInfo", clientName.map { .fields([("name", .string($0)), ("version", clientVersion?.json)]) }),
      ("rootUri", rootUri.json),
      ("rootPath", rootPath?.json),
      ("workspaceFolders", workspaceFolders.map { .array($0.map { .fields([("uri", .string($0))]) }) }),
      ("capabilities", capabilities.json),
      ("initializationOptions", initializationOptions),
      ("trace", trace?.json),
    ])
  }
}

/// The server's capabilities as returned by `initialize`.
public struct ServerCapabilities: JSONConvertible, Hashable, Sendable {
  public var positionEncoding: PositionEncodingKind
  /// `TextDocumentSyncKind`: 1 full, 2 incremental.
  public var textDocumentSyncChange: Int
  public var saveIncludesText: Bool
  public var completionTriggerCharacters: [String]
  public var inlineCompletionProvider: Bool
  public var executeCommands: [String]

  public init(
    positionEncoding: PositionEncodingKind = .utf16, textDocumentSyncChange: Int = 2, saveIncludesText: Bool = false,
    completionTriggerCharacters: [String] = [], inlineCompletionProvider: Bool = true, executeCommands: [String] = []
  ) {
    self.positionEncoding = positionEncoding
    self.textDocumentSyncChange = textDocumentSyncChange
    self.saveIncludesText = saveIncludesText
    self.completionTriggerCharacters = completionTriggerCharacters
    self.inlineCompletionProvider = inlineCompletionProvider
    self.executeCommands = executeCommands
  }

  public init(json: JSONValue, path: String) throws {
    let reader = try JSONObjectReader(json, path: path)
    positionEncoding = try reader.decodeIfPresent("positionEncoding") ?? .utf16
    let sync = reader.raw("textDocumentSync")
    if let kind = sync?.intValue {
      textDocumentSyncChange = Int(kind)
      saveIncludesText = false
    } else if let sync {
      let syncReader = try JSONObjectReader(sync, path: reader.path(of: "textDocumentSync"))
      textDocumentSyncChange = try syncReader.decodeIfPresent("change") ?? 0
      saveIncludesText = syncReader.raw("save")?["includeText"]?.boolValue ?? false
    } else {
      textDocumentSyncChange = 0
      saveIncludesText = false
    }
    completionTriggerCharacters =
      try reader.raw("completionProvider").map {
        try JSONObjectReader($0, path: reader.path(of: "completionProvider")).decodeIfPresent(
          "triggerCharacters", as: [String].self) ?? []
      } ?? []
    inlineCompletionProvider = reader.raw("inlineCompletionProvider").map { $0.boolValue ?? true } ?? false
    executeCommands = reader.raw("executeCommandProvider")?["commands"]?.arrayValue?.compactMap(\.stringValue) ?? []
  }

  public var json: JSONValue {
    .fields([
      ("positionEncoding", positionEncoding.json),
      (
        "textDocumentSync",
        [
          "openClose": true, "change": .int(Int64(textDocumentSyncChange)),
          "save": ["includeText": .bool(saveIncludesText)],
        ]
      ),
      (
        "completionProvider",
        ["resolveProvider": false, "triggerCharacters": completionTriggerCharacters.json]
      ),
      ("inlineCompletionProvider", inlineCompletionProvider ? .object([:]) : nil),
      ("executeCommandProvider", ["commands": executeCommands.json]),
    ])
  }
}

/// The result of `initialize`.
public struct InitializeResult: JSONConvertible, Hashable, Sendable {
  public var capabilities: ServerCapabilities
  public var serverName: String
  public var serverVersion: String?

  public init(capabilities: ServerCapabilities, serverName: String, serverVersion: String?) {
    self.capabilities = capabilities
    self.serverName = serverName
    self.serverVersion = serverVersion
  }

  public init(json: JSONValue, path: String) throws {
    let reader = try JSONObjectReader(json, path: path)
    capabilities = try reader.decode("capabilities")
    let info = reader.raw("serverInfo")
    serverName = info?["name"]?.stringValue ?? ""
    serverVersion = info?["version"]?.stringValue
  }

  public var json: JSONValue {
    [
      "capabilities": capabilities.json,
      "serverInfo": .fields([("name", .string(serverName)), ("version", serverVersion?.json)]),
    ]
  }
}
