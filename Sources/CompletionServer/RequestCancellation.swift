import CodeCompletion
import Foundation

/// The cancellation state of one request, from its arrival to its answer.
///
/// A request can be cancelled while it is still queued, but its deadline must only start when the worker begins it
/// (after the requests before it and after a model load), so the provider's `CancellationToken` is made late, by
/// `startToken`, and every cancellation is forwarded to it.
/// - Important: thread-safe.
final class RequestCancellation: @unchecked Sendable {
  private let lock = NSLock()
  private var reasonStorage: CancellationReason?
  private var tokens: [CancellationToken] = []

  /// Cancels the request (the first reason wins) and every token handed out.
  func cancel(_ reason: CancellationReason) {
    lock.lock()
    if reasonStorage == nil { reasonStorage = reason }
    let current = tokens
    lock.unlock()
    for token in current { token.cancel(reason) }
  }

  /// The reason it was cancelled, nil while it runs.
  var reason: CancellationReason? {
    lock.lock()
    defer { lock.unlock() }
    return reasonStorage
  }

  var isCancelled: Bool { reason != nil }

  /// A token for the provider whose deadline counts from now; already cancelled when the request was.
  /// - Parameter milliseconds: the deadline.
  func startToken(deadlineMilliseconds milliseconds: Int) -> CancellationToken {
    let token = CancellationToken(deadline: Double(max(1, milliseconds)) / 1000)
    lock.lock()
    tokens.append(token)
    let reason = reasonStorage
    lock.unlock()
    if let reason { token.cancel(reason) }
    return token
  }
}
