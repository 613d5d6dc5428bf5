import CodeCompletion
import Foundation
import JSON
import LSPTransport
import LSPTypes
import Logging

extension LanguageServer {
  // MARK: Sending

  /// Sends a notification message.
  func sendNotification<N: LSPNotification>(_ notification: N) {
    connection.sendNotification(method: N.method, params: notification.json)
  }

  /// `window/showMessage`, also logged.
  func showMessage(_ type: MessageType, _ message: String) {
    currentLogger.log(level: LanguageServer.logLevel(of: type), "\(message)")
    sendNotification(ShowMessageNotification(type: type, message: message))
  }

  /// A copy of the logger (its level changes with the configuration).
  var currentLogger: Logger {
    lock.lock()
    defer { lock.unlock() }
    return logger
  }

  /// Logs to stderr (swift-log) and, at or above the configured level, to the client with `window/logMessage`.
  func log(_ level: Logger.Level, _ message: String) {
    lock.lock()
    let threshold = logLevel
    let logger = self.logger
    lock.unlock()
    logger.log(level: level, "\(message)")
    guard level >= threshold else { return }
    sendNotification(LogMessageNotification(type: LanguageServer.messageType(of: level), message: message))
  }

  /// `$/logTrace`, only while the trace is not `off`; `verbose` only with trace `verbose`.
  func logTrace(_ message: String, verbose: String? = nil) {
    lock.lock()
    let trace = self.trace
    lock.unlock()
    guard trace != .off else { return }
    sendNotification(LogTraceNotification(message: message, verbose: trace == .verbose ? verbose : nil))
  }

  static func messageType(of level: Logger.Level) -> MessageType {
    switch level {
    case .trace, .debug: return .log
    case .info, .notice: return .info
    case .warning: return .warning
    case .error, .critical: return .error
    }
  }

  static func logLevel(of type: MessageType) -> Logger.Level {
    switch type {
    case .error: return .error
    case .warning: return .warning
    case .info: return .info
    case .log, .debug: return .debug
    }
  }

  // MARK: Configuration

  /// Applies `initializationOptions` or `didChangeConfiguration.settings`: valid keys take effect, each rejected key
  /// is reported with `window/showMessage` (Warning). A changed `model` re-creates the provider on the worker.
  func applyConfiguration(_ json: JSONValue, creatingProvider: Bool = true) {
    settingsUpdateLock.lock()
    lock.lock()
    let update = Configuration.apply(json, to: settings, base: options.settings)
    let settingsChanged = update.settings != settings
    settings = update.settings
    let oldModel = configuredModel ?? options.modelSpec
    if let model = update.model { configuredModel = model }
    let modelChanged = (configuredModel ?? options.modelSpec) != oldModel
    if let level = update.logLevel {
      logLevel = level
      logger.logLevel = level
    }
    if let prefetch = update.prefetch {
      prefetchEnabled = prefetch
      if !prefetch { prefetchToken?.cancel(.cancelled) }
    }
    let provider = self.provider
    let newSettings = settings
    lock.unlock()
    if settingsChanged { provider?.updateSettings(newSettings) }
    settingsUpdateLock.unlock()

    for warning in update.warnings { showMessage(.warning, "codegen-lsp: \(warning)") }
    if modelChanged {
      log(.info, "model changed to \(configuredModel ?? options.modelSpec ?? "(default preset)")")
      if creatingProvider { worker.async { [self] in ensureProvider() } }
    }
  }
}
