import CodeCompletion
import Foundation

/// The `ContextSource` the server uses: a `WorkspaceIndex` of the editor's workspace folders, built on a background
/// thread of low priority (a completion never waits for it; it retrieves from what is indexed so far), kept current
/// from the documents the editor opens, changes and saves and from watched files, and a `ContextSelector`.
public final class WorkspaceContext: ContextSource, @unchecked Sendable {
  public let index: WorkspaceIndex
  public let selector: ContextSelector
  private let queue = DispatchQueue(label: "codegen-lsp.workspace-index", qos: .utility)
  private let lock = NSLock()
  private var generation = 0
  /// Open documents changed since they were last indexed: re-indexed before the next retrieval (a keystroke does not
  /// re-index; a request does, once, for the other open documents).
  private var dirty: [String: (languageId: String, text: String)] = [:]
  /// The last text of each open document the source was told about (an open document may not be on disk).
  private var openTexts: [String: String] = [:]

  public init(limits: IndexLimits = IndexLimits()) {
    index = WorkspaceIndex(limits: limits)
    selector = ContextSelector(index: index)
  }

  public func setWorkspaceFolders(_ paths: [String]) {
    lock.lock()
    generation += 1
    let current = generation
    lock.unlock()
    queue.async { [self] in
      for path in paths {
        index.build(root: path) {
          lock.lock()
          defer { lock.unlock() }
          return generation != current
        }
      }
    }
  }

  public func documentChanged(path: String, languageId: String, text: String) {
    lock.lock()
    dirty[path] = (languageId, text)
    openTexts[path] = text
    lock.unlock()
  }

  public func fileChanged(path: String) {
    queue.async { [self] in
      lock.lock()
      let open = dirty[path] != nil
      lock.unlock()
      if !open { index.refresh(path: path) }
    }
  }

  public func documentClosed(path: String, documentID: String) {
    selector.forget(documentID: documentID)
    lock.lock()
    let pending = dirty.removeValue(forKey: path)
    openTexts[path] = nil
    lock.unlock()
    if let pending { index.update(path: path, text: pending.text, languageId: pending.languageId) }
  }

  public func addContext(to request: inout CompletionRequest, path: String, openText: (String) -> String?) -> [String] {
    lock.lock()
    let changed = dirty.filter { $0.key != path }
    for key in changed.keys { dirty[key] = nil }
    lock.unlock()
    for (changedPath, document) in changed {
      index.update(path: changedPath, text: document.text, languageId: document.languageId)
    }
    lock.lock()
    let known = openTexts
    lock.unlock()
    let (snippets, kept) = selector.addContext(to: &request, path: path) { openText($0) ?? known[$0] }
    var lines = ["repository context: \(snippets.count) snippets\(kept ? ", kept from the previous request" : "")"]
    lines += snippets.map { "repository context: \($0.reason)" }
    return lines
  }

  public var summary: String {
    let stats = index.stats
    return "workspace index: \(stats.files) files, \(stats.definitions) definitions, \(stats.windows) windows"
      + (stats.truncated ? " (stopped at \(index.limits.maxFiles) files)" : "")
  }
}
