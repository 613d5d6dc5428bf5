import JSON
import LSPTransport

/// `$/cancelRequest`: cancel the request with this id (it answers RequestCancelled, -32800).
public struct CancelRequestNotification: LSPNotification, Hashable, Sendable {
  public static let method = "$/cancelRequest"
  public var id: RequestID
  public init(id: RequestID) { self.id = id }
  public init(json: JSONValue, path: String) throws { id = try JSONObjectReader(json, path: path).decode("id") }
  public var json: JSONValue { ["id": id.json] }
}
