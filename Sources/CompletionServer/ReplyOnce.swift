import Foundation
import JSON
import LSPTransport

/// Sends exactly one reply to one request; later attempts are ignored and reported as false.
///
/// A request may be answered by several parties that race: the worker when the provider returns, the reader thread on
/// `$/cancelRequest`, a `didChange` (ContentModified), a newer request (superseded) or `shutdown`. Whoever comes first
/// answers (sourcekit-lsp's `RequestAndReply`).
/// - Important: thread-safe.
public final class ReplyOnce: @unchecked Sendable {
  /// The request answered.
  public let id: RequestID
  private let connection: JSONRPCConnection
  private let lock = NSLock()
  private var done = false

  public init(id: RequestID, connection: JSONRPCConnection) {
    self.id = id
    self.connection = connection
  }

  /// True once a reply was sent.
  public var isAnswered: Bool {
    lock.lock()
    defer { lock.unlock() }
    return done
  }

  private func claim() -> Bool {
    lock.lock()
    defer { lock.unlock() }
    if done { return false }
    done = true
    return true
  }

  /// Sends a result; returns false when the request was already answered.
  @discardableResult
  public func succeed(_ result: JSONValue) -> Bool {
    guard claim() else { return false }
    connection.sendResponse(id: id, result: result)
    return true
  }

  /// Sends an error; returns false when the request was already answered.
  @discardableResult
  public func fail(_ error: ResponseError) -> Bool {
    guard claim() else { return false }
    connection.sendError(id: id, error: error)
    return true
  }
}
