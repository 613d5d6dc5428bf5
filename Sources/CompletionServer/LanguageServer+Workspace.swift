import CodeCompletion
import Foundation
import LSPTypes

extension LanguageServer {
  /// Glob patterns of the files the workspace index reads, for the client's file watcher.
  static let watchedFilePatterns = ["**/*"]

  /// Remembers the workspace folders of `initialize` (or its root) and starts indexing them in the background when
  /// repository context is on (else when a later configuration turns it on).
  func startWorkspaceIndex(_ request: InitializeRequest) {
    guard options.contextSource != nil else { return }
    var folders = (request.workspaceFolders ?? []).compactMap(LanguageServer.filePath(fromURI:))
    if folders.isEmpty, let root = request.rootUri.flatMap(LanguageServer.filePath(fromURI:)) { folders = [root] }
    if folders.isEmpty, let rootPath = request.rootPath, !rootPath.isEmpty {
      folders = [URL(fileURLWithPath: rootPath).standardizedFileURL.path]
    }
    // A workspace at the file system's root or the home directory is not a project: indexing it would read
    // everything.
    let home = FileManager.default.homeDirectoryForCurrentUser.standardizedFileURL.path
    folders = folders.filter { $0 != "/" && $0 != home }
    lock.lock()
    workspaceFolderPaths = folders
    lock.unlock()
    startWorkspaceIndexIfEnabled()
  }

  /// Gives the context source the workspace folders, once, when repository context is on.
  func startWorkspaceIndexIfEnabled() {
    guard let source = options.contextSource else { return }
    lock.lock()
    let start = settings.repositoryContext && !workspaceIndexStarted && !workspaceFolderPaths.isEmpty
    if start { workspaceIndexStarted = true }
    let folders = workspaceFolderPaths
    lock.unlock()
    guard start else { return }
    source.setWorkspaceFolders(folders)
    log(.info, "indexing the workspace in the background: \(folders.joined(separator: ", "))")
  }

  /// Asks the client to report file changes (`workspace/didChangeWatchedFiles`) when it allows dynamic
  /// registration and the workspace is indexed.
  func registerFileWatchers() {
    guard options.contextSource != nil else { return }
    lock.lock()
    let allowed = clientCapabilities.watchedFilesRegistration && settings.repositoryContext
    lock.unlock()
    guard allowed else { return }
    let request = RegisterCapabilityRequest(
      id: "codegen-lsp/watched-files", method: DidChangeWatchedFilesNotification.method,
      globPatterns: LanguageServer.watchedFilePatterns)
    _ = connection.sendRequest(method: RegisterCapabilityRequest.method, params: request.json) { [self] result in
      if case .failure(let error) = result {
        log(.warning, "the client did not register the file watcher: \(error.message)")
      }
    }
  }

  func didChangeWatchedFiles(_ notification: DidChangeWatchedFilesNotification) {
    guard let source = options.contextSource else { return }
    for change in notification.changes {
      guard let path = LanguageServer.filePath(fromURI: change.uri) else { continue }
      source.fileChanged(path: path)
    }
  }

  /// Adds repository context to a completion request, when it is on and the document is a local file.
  func addRepositoryContext(to request: inout CompletionRequest, uri: String) -> [String] {
    guard let source = options.contextSource, let path = LanguageServer.filePath(fromURI: uri) else { return [] }
    lock.lock()
    let enabled = settings.repositoryContext && settings.contextDocumentTokens > 0
    let open = documents
    lock.unlock()
    guard enabled else { return [] }
    startWorkspaceIndexIfEnabled()
    let byPath = Dictionary(
      open.compactMap { entry in LanguageServer.filePath(fromURI: entry.key).map { ($0, entry.value.document) } },
      uniquingKeysWith: { first, _ in first })
    return source.addContext(to: &request, path: path) { byPath[$0]?.text }
  }
}
