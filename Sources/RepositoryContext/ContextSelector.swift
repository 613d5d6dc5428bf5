import CodeCompletion
import Foundation

/// Chooses the repository context of each completion request from a `WorkspaceIndex`, and keeps it stable while it
/// is still relevant: the context comes first in the prompt, so a context that changes with every keystroke would
/// make every keystroke recompute the whole prompt.
///
/// The previous choice for a document is kept while the cursor stays within `stableLines` lines of where it was
/// made and the new retrieval finds no definition that the previous choice lacks (a name just typed).
///
/// Thread-safe.
public final class ContextSelector: @unchecked Sendable {
  public let index: WorkspaceIndex
  public var stableLines = 12
  private let lock = NSLock()
  private var previous: [String: (line: Int, snippets: [ContextSnippet])] = [:]

  public init(index: WorkspaceIndex) {
    self.index = index
  }

  /// Fills `request.contextDocuments` (repository snippets first, then the open documents it had),
  /// `repositoryName` and `contextFileName` for a request whose file is at `path` (absolute).
  /// - Returns: the snippets chosen, and whether they were kept from the previous request of the document.
  @discardableResult
  public func addContext(
    to request: inout CompletionRequest, path: String, openText: (String) -> String? = { _ in nil }
  ) -> (snippets: [ContextSnippet], kept: Bool) {
    let line = request.prefix.utf8.reduce(0) { $0 + ($1 == 10 ? 1 : 0) }
    let fresh = index.retrieve(
      RetrievalQuery(path: path, languageId: request.languageId, prefix: request.prefix, suffix: request.suffix),
      openText: openText)
    lock.lock()
    var chosen = fresh
    var kept = false
    if let old = previous[request.documentID], abs(old.line - line) <= stableLines {
      let oldNames = Set(old.snippets.compactMap { if case .definition(let name) = $0.kind { name } else { nil } })
      let newNames = fresh.compactMap { if case .definition(let name) = $0.kind { name } else { nil } }
      if newNames.allSatisfy(oldNames.contains) {
        chosen = old.snippets
        kept = true
      }
    }
    if !kept { previous[request.documentID] = (line, chosen) }
    lock.unlock()
    let documents = chosen.map {
      ContextDocument(name: $0.displayPath, languageId: request.languageId, text: $0.text, reason: $0.reason)
    }
    request.contextDocuments = documents + request.contextDocuments
    if let root = index.root(containing: path) {
      request.repositoryName = (root as NSString).lastPathComponent
      request.contextFileName = String(path.dropFirst(root.count + 1))
    }
    return (chosen, kept)
  }

  /// Forgets the choice of a closed document.
  public func forget(documentID: String) {
    lock.lock()
    previous[documentID] = nil
    lock.unlock()
  }
}

extension WorkspaceIndex {
  /// The root given to `build` that holds `path`, if any.
  public func root(containing path: String) -> String? {
    lock.lock()
    defer { lock.unlock() }
    return roots.filter { path.hasPrefix($0 + "/") }.max { $0.count < $1.count }
  }
}
