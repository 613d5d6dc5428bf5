import JSON

/// An LSP message: a request or a notification, named after its method.
public protocol LSPMessage: JSONConvertible {
  /// The JSON-RPC method (`textDocument/inlineCompletion`).
  static var method: String { get }
}

/// A request: the receiver answers it with exactly one `Response` or an error.
public protocol LSPRequest: LSPMessage {
  /// The result type of the response.
  associatedtype Response: JSONConvertible
}

/// A notification: never answered.
public protocol LSPNotification: LSPMessage {}

/// Who sends a message.
public enum MessageDirection: String, Sendable {
  case clientToServer
  case serverToClient
  case both
}

/// Every message codegen-lsp sends or receives, in one list (sourcekit-lsp's `builtinRequests`).
public enum LSPMessageRegistry {
  /// All message types, with the direction they travel.
  public static let all: [(type: any LSPMessage.Type, direction: MessageDirection)] = [
    (InitializeRequest.self, .clientToServer),
    (InitializedNotification.self, .clientToServer),
    (ShutdownRequest.self, .clientToServer),
    (ExitNotification.self, .clientToServer),
    (DidOpenTextDocumentNotification.self, .clientToServer),
    (DidChangeTextDocumentNotification.self, .clientToServer),
    (DidSaveTextDocumentNotification.self, .clientToServer),
    (DidCloseTextDocumentNotification.self, .clientToServer),
    (InlineCompletionRequest.self, .clientToServer),
    (TextDocumentCompletionRequest.self, .clientToServer),
    (ExecuteCommandRequest.self, .clientToServer),
    (DidChangeConfigurationNotification.self, .clientToServer),
    (CancelRequestNotification.self, .both),
    (SetTraceNotification.self, .clientToServer),
    (LogTraceNotification.self, .serverToClient),
    (LogMessageNotification.self, .serverToClient),
    (ShowMessageNotification.self, .serverToClient),
    (WorkDoneProgressCreateRequest.self, .serverToClient),
    (WorkDoneProgressCancelNotification.self, .clientToServer),
    (ProgressNotification.self, .both),
    (ApplyWorkspaceEditRequest.self, .serverToClient),
    (DidChangeWatchedFilesNotification.self, .clientToServer),
    (RegisterCapabilityRequest.self, .serverToClient),
  ]

  /// The message type of a method, nil for a method codegen-lsp does not know.
  public static func messageType(forMethod method: String) -> (any LSPMessage.Type)? {
    all.first { $0.type.method == method }?.type
  }

  /// True when the method is a request (not a notification) that codegen-lsp knows.
  public static func isRequest(_ method: String) -> Bool {
    messageType(forMethod: method) is any LSPRequest.Type
  }
}
