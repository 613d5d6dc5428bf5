import Foundation

/// Why a running request was stopped.
public enum CancellationReason: String, Sendable, Equatable {
  /// `$/cancelRequest` from the client, or the user cancelled progress.
  case cancelled
  /// The document changed under the request (answered with ContentModified).
  case contentModified
  /// A newer request for the same document replaced this one.
  case superseded
  /// The server is shutting down.
  case shutdown
}

/// A thread-safe, one-way flag that tells a running request to stop, with an optional deadline.
///
/// - Important: `cancel` may be called from any thread; the token loop polls `isCancelled` after every token.
public final class CancellationToken: @unchecked Sendable {
  private let lock = NSLock()
  private var reasonStorage: CancellationReason?
  /// A token whose cancellation this one follows.
  private let parent: CancellationToken?
  /// When set, `isExpired` turns true at this uptime (nanoseconds, `DispatchTime.now().uptimeNanoseconds`).
  public let deadlineNanoseconds: UInt64?

  /// - Parameter deadline: seconds from now after which `isExpired` is true; nil for none. Any value is accepted:
  ///   negative or NaN is now, one too large for the clock saturates at the end of time.
  public init(deadline: Double? = nil) {
    parent = nil
    if let deadline {
      deadlineNanoseconds = SaturatingTime.uptime(after: SaturatingTime.nanoseconds(seconds: deadline))
    } else {
      deadlineNanoseconds = nil
    }
  }

  /// A token with its own deadline, `milliseconds` from now (none for nil), that is also cancelled whenever `parent`
  /// is (with its reason).
  public init(deadlineMilliseconds milliseconds: Int?, following parent: CancellationToken) {
    self.parent = parent
    deadlineNanoseconds = milliseconds.map {
      SaturatingTime.uptime(after: SaturatingTime.nanoseconds(seconds: Double($0) / 1000))
    }
  }

  /// A token whose deadline is `milliseconds` from now, or without one for nil.
  public convenience init(deadlineMilliseconds milliseconds: Int?) {
    self.init(deadline: milliseconds.map { Double($0) / 1000 })
  }

  /// A token that is never cancelled.
  public static var none: CancellationToken { CancellationToken() }

  /// Cancels with a reason; the first reason wins.
  public func cancel(_ reason: CancellationReason = .cancelled) {
    lock.lock()
    if reasonStorage == nil { reasonStorage = reason }
    lock.unlock()
  }

  /// The reason it was cancelled, or nil while it runs.
  public var reason: CancellationReason? {
    lock.lock()
    let own = reasonStorage
    lock.unlock()
    return own ?? parent?.reason
  }

  /// True once `cancel` was called.
  public var isCancelled: Bool { reason != nil }

  /// True once the deadline passed (never for a token without one).
  public var isExpired: Bool {
    guard let deadlineNanoseconds else { return false }
    return DispatchTime.now().uptimeNanoseconds >= deadlineNanoseconds
  }

  /// True when the work should stop now: cancelled or past the deadline.
  public var shouldStop: Bool { isCancelled || isExpired }
}
