import CodeCompletion
import Logging

/// How a `LanguageServer` starts: what the command line and environment decided.
public struct ServerOptions: Sendable {
  /// Settings before any editor configuration (the command line's flags over the defaults).
  public var settings: CompletionSettings
  /// The model from `--model` or `CODEGEN_LSP_MODEL`; nil for the default preset. The configuration's `model` key
  /// overrides it.
  public var modelSpec: String?
  /// Logs below this level are not sent as `window/logMessage` (the `logLevel` configuration key changes it).
  public var logLevel: Logger.Level
  /// Largest accepted message body in bytes; the executable passes it to `JSONRPCConnection`.
  public var maxMessageSize: Int
  /// Background prefill (`CompletionProvider.prepare`) on `didOpen` and typing pauses; the `prefetch` key changes it.
  public var prefetch: Bool
  /// Pause after the last `didChange` before a prefetch is started, in milliseconds.
  public var prefetchPauseMilliseconds: Int
  /// Reported in `initialize`'s `serverInfo.version`.
  public var serverVersion: String
  /// At the end of a session, how long `run()` waits for the worker to stop what it was doing, in seconds.
  public var shutdownWaitSeconds: Double = 10
  /// Repository context (a workspace index of the editor's workspace folders); nil for none. The
  /// `repositoryContext` setting turns it off.
  public var contextSource: ContextSource?

  public init(
    settings: CompletionSettings = CompletionSettings(), modelSpec: String? = nil, logLevel: Logger.Level = .info,
    maxMessageSize: Int = 64 << 20, prefetch: Bool = true, prefetchPauseMilliseconds: Int = 400,
    serverVersion: String = "0.1.0"
  ) {
    self.settings = settings
    self.modelSpec = modelSpec
    self.logLevel = logLevel
    self.maxMessageSize = maxMessageSize
    self.prefetch = prefetch
    self.prefetchPauseMilliseconds = prefetchPauseMilliseconds
    self.serverVersion = serverVersion
  }
}
