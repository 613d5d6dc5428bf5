import Foundation

/// Remembers the completions shown per document, so that typing the characters of a suggestion returns the rest
/// of it at once, without running the model.
///
/// An entry matches a new request when its suffix is the same and the new prefix is the old prefix followed by
/// text the suggestion starts with: the answer is the rest of the suggestion. An identical request returns the
/// same candidates.
///
/// - Important: not thread-safe; used from the provider's worker queue only.
public struct CompletionCache {
  struct Entry {
    var documentID: String
    var prefix: String
    var suffix: String
    var candidates: [String]
  }

  private var entries: [Entry] = []
  /// Entries kept (least recently used dropped first).
  public let capacity: Int

  public init(capacity: Int = 32) {
    self.capacity = capacity
  }

  /// Stores the candidates shown for a prefix and suffix.
  public mutating func store(documentID: String, prefix: String, suffix: String, candidates: [String]) {
    guard !candidates.isEmpty else { return }
    entries.removeAll { $0.documentID == documentID && $0.prefix == prefix && $0.suffix == suffix }
    entries.append(Entry(documentID: documentID, prefix: prefix, suffix: suffix, candidates: candidates))
    if entries.count > capacity { entries.removeFirst(entries.count - capacity) }
  }

  /// The rest of a stored suggestion that the user is typing through, if any.
  /// - Returns: candidates with the typed part removed (only those that still have text left), or nil.
  public mutating func lookup(documentID: String, prefix: String, suffix: String) -> [String]? {
    for index in entries.indices.reversed() {
      let entry = entries[index]
      guard entry.documentID == documentID, entry.suffix == suffix, prefix.utf8.starts(with: entry.prefix.utf8),
        let typed = String(prefix.utf8.dropFirst(entry.prefix.utf8.count))
      else { continue }
      let rest = entry.candidates.compactMap { candidate -> String? in
        guard candidate.utf8.starts(with: typed.utf8),
          let remainder = String(candidate.utf8.dropFirst(typed.utf8.count))
        else { return nil }
        return remainder.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ? nil : remainder
      }
      if rest.isEmpty { continue }
      // Most recent first.
      let hit = entries.remove(at: index)
      entries.append(hit)
      return rest
    }
    return nil
  }

  /// Forgets a document's entries.
  public mutating func forget(documentID: String) {
    entries.removeAll { $0.documentID == documentID }
  }
}
