import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Errors of the transport's own system calls.
public enum TransportError: Error, Equatable, CustomStringConvertible {
  /// `pipe()` failed with this `errno`.
  case pipeFailed(errno: Int32)

  /// A message that says what failed.
  public var description: String {
    switch self {
    case .pipeFailed(let code):
      return "could not create a pipe: \(String(cString: strerror(code))) (errno \(code))"
    }
  }
}

/// Creates a pipe whose descriptors are closed on `exec`.
/// - Returns: the read end and the write end.
/// - Throws: `TransportError.pipeFailed`.
public func makePipe() throws -> (read: Int32, write: Int32) {
  var fds: [Int32] = [-1, -1]
  guard pipe(&fds) == 0 else { throw TransportError.pipeFailed(errno: errno) }
  _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
  _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
  return (fds[0], fds[1])
}

/// Two connected connections over two pipes, for in-process tests: what `client` sends, `server` reads,
/// and the other way round. Neither is started; start both with their handlers.
///
/// - Important: `close()` (and `deinit`) closes both connections, waits for their reader threads unless called
///   from one of them, then closes the pipes.
public final class ConnectionPair: @unchecked Sendable {
  /// The editor's side.
  public let client: JSONRPCConnection
  /// The server's side.
  public let server: JSONRPCConnection

  private let clientToServer: (read: Int32, write: Int32)
  private let serverToClient: (read: Int32, write: Int32)
  private let lock = NSLock()
  private var clientToServerOpen = true
  private var isClosed = false

  /// Creates the pipes and both connections.
  /// - Parameter maxMessageSize: the body limit of both sides.
  /// - Throws: `TransportError.pipeFailed`.
  public init(maxMessageSize: Int = 64 << 20) throws {
    clientToServer = try makePipe()
    do {
      serverToClient = try makePipe()
    } catch {
      Glibc.close(clientToServer.read)
      Glibc.close(clientToServer.write)
      throw error
    }
    client = JSONRPCConnection(
      inputFD: serverToClient.read, outputFD: clientToServer.write, maxMessageSize: maxMessageSize)
    server = JSONRPCConnection(
      inputFD: clientToServer.read, outputFD: serverToClient.write, maxMessageSize: maxMessageSize)
  }

  deinit { close() }

  /// Writes bytes as they are into the server's input, for tests of malformed input.
  public func writeRawToServer(_ bytes: [UInt8]) {
    client.writeRaw(bytes)
  }

  /// Closes the client-to-server pipe, so the server reads end of input (as when the editor exits);
  /// the client sends nothing after this.
  public func closeClientToServer() {
    lock.lock()
    defer { lock.unlock() }
    guard clientToServerOpen else { return }
    clientToServerOpen = false
    client.disableOutput()
    Glibc.close(clientToServer.write)
  }

  /// Closes both connections and all pipes. Idempotent.
  public func close() {
    lock.lock()
    if isClosed {
      lock.unlock()
      return
    }
    isClosed = true
    lock.unlock()
    client.close()
    server.close()
    if !client.isOnReaderThread { client.waitForReaderExit() }
    if !server.isOnReaderThread { server.waitForReaderExit() }
    closeClientToServer()
    Glibc.close(clientToServer.read)
    Glibc.close(serverToClient.read)
    Glibc.close(serverToClient.write)
  }
}
