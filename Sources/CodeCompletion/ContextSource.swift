/// Where repository context comes from: the server tells it about the workspace and the files the editor opens and
/// changes, and asks it to add context to each completion request. The executable wires the workspace index
/// (`RepositoryContext`) in; the server knows only this protocol.
///
/// Calls come from any thread; implementations are thread-safe and never block for long (indexing a workspace runs
/// in the background).
public protocol ContextSource: AnyObject, Sendable {
  /// The editor's workspace folders (absolute paths): indexed in the background, replacing earlier ones.
  func setWorkspaceFolders(_ paths: [String])
  /// An open document's text changed (or was opened or saved).
  func documentChanged(path: String, languageId: String, text: String)
  /// A file changed, was created or deleted on disk (`workspace/didChangeWatchedFiles`).
  func fileChanged(path: String)
  /// A document was closed.
  func documentClosed(path: String, documentID: String)
  /// Adds repository context to a request of the file at `path`; `openText` gives open documents' current text.
  /// Returns lines for the debug log and `--explain`.
  func addContext(to request: inout CompletionRequest, path: String, openText: (String) -> String?) -> [String]
  /// One line on what is indexed (for logs).
  var summary: String { get }
}
