import Foundation

/// The logits a sampler step works on: the whole vocabulary at first (dense), fewer tokens after truncation.
///
/// Dense form: `logits[i]` is the logit of token `i`, `ids` is empty, and a penalty finds a token in O(1).
/// Sparse form (after top-k, top-p, min-p): `ids[i]` is the token whose logit is `logits[i]`.
/// The storage is reused between steps, so a step allocates nothing once warm.
public struct Candidates {
  /// Logits, one per candidate.  // (count)
  public var logits: [Float]
  /// Token ids parallel to `logits`; empty while the candidates are dense.  // (count) or (0)
  public private(set) var ids: [Int32]
  /// True while `logits[i]` belongs to token `i` (no truncation happened yet).
  public private(set) var isDense: Bool
  /// True when the entries are ordered by descending logit (ties: lower token id first).
  public private(set) var isSorted: Bool

  /// Dense candidates over a whole vocabulary.
  public init(logits: [Float]) {
    self.logits = logits
    self.ids = []
    self.isDense = true
    self.isSorted = false
  }

  /// Sparse candidates from explicit pairs (tests, custom processors).
  public init(ids: [Int32], logits: [Float]) {
    precondition(ids.count == logits.count, "ids and logits differ in length")
    self.logits = logits
    self.ids = ids
    self.isDense = false
    self.isSorted = false
  }

  /// Refills dense candidates from a model's logits, reusing the storage.
  public mutating func reset(from source: UnsafeBufferPointer<Float>) {
    logits.removeAll(keepingCapacity: true)
    logits.append(contentsOf: source)
    ids.removeAll(keepingCapacity: true)
    isDense = true
    isSorted = false
  }

  /// Number of candidates.
  @inlinable public var count: Int { logits.count }

  /// The token id of entry `i`.
  @inlinable public func id(at i: Int) -> Int32 { isDense ? Int32(truncatingIfNeeded: i) : ids[i] }

  /// The entry index of `token`, or nil when it is not a candidate (O(1) dense, O(count) sparse).
  public func index(of token: Int32) -> Int? {
    if isDense { return token >= 0 && Int(token) < logits.count ? Int(token) : nil }
    return ids.firstIndex(of: token)
  }

  /// The logit of `token`, or nil when it is not a candidate.
  public func logit(of token: Int32) -> Float? { index(of: token).map { logits[$0] } }

  /// Calls `body` on the logit of every candidate whose token is in `tokens` (tokens that are not candidates
  /// are skipped). O(tokens) when dense; O(count) with a set lookup when sparse.
  public mutating func modifyLogits<S: Sequence>(of tokens: S, _ body: (Int32, inout Float) -> Void)
  where S.Element == Int32 {
    if isDense {
      let n = logits.count
      logits.withUnsafeMutableBufferPointer { buf in
        for token in tokens where token >= 0 && Int(token) < n {
          body(token, &buf[Int(token)])
        }
      }
    } else {
      let wanted = Set(tokens)
      if wanted.isEmpty { return }
      for i in 0..<ids.count where wanted.contains(ids[i]) {
        body(ids[i], &logits[i])
      }
    }
  }

  /// Keeps only the given tokens, with the given logits; every other candidate gets -inf. O(count).
  public mutating func keepOnly(_ entries: [(token: Int32, logit: Float)]) {
    logits.withUnsafeMutableBufferPointer { $0.update(repeating: -.infinity) }
    for (token, logit) in entries {
      if let i = index(of: token) { logits[i] = logit }
    }
    isSorted = false
  }

  /// Index of the largest logit in one pass (the first one on ties); nil when empty or nothing is finite.
  ///
  /// NaN and -inf never win; +inf does.
  public func argmax() -> Int? {
    if isSorted, let first = logits.first { return first.isNaN || first == -.infinity ? nil : 0 }
    return logits.withUnsafeBufferPointer { buf -> Int? in
      var best = -Float.infinity
      var bestIndex = -1
      for i in 0..<buf.count where buf[i] > best {  // NaN compares false
        best = buf[i]
        bestIndex = i
      }
      return bestIndex >= 0 ? bestIndex : nil
    }
  }

  /// Sorts all entries by descending logit (ties: lower token id first), making them sparse.
  ///
  /// O(count log count): the default chain avoids it by running top-k (a partial selection) first.
  public mutating func sortDescending() {
    if isSorted { return }
    materializeIDs()
    var order = Array(0..<logits.count)
    let l = logits
    let t = ids
    order.sort { a, b in
      let la = l[a].isNaN ? -Float.infinity : l[a]
      let lb = l[b].isNaN ? -Float.infinity : l[b]
      return la != lb ? la > lb : t[a] < t[b]
    }
    logits = order.map { l[$0] }
    ids = order.map { t[$0] }
    isSorted = true
  }

  /// Keeps the `k` largest logits, sorted descending (ties: lower id first), by partial selection with a
  /// size-k min-heap: O(count log k) and no full sort.
  public mutating func keepTop(_ k: Int) {
    precondition(k > 0, "keepTop needs k > 0")
    if isSorted {
      if k < logits.count { truncate(to: k) }
      return
    }
    if k >= logits.count {
      sortDescending()
      return
    }
    // Min-heap ordered by (logit ascending, id descending): the root is the entry to evict first.
    var heapLogits = [Float](repeating: 0, count: k)
    var heapIDs = [Int32](repeating: 0, count: k)
    var size = 0
    @inline(__always) func less(_ la: Float, _ ia: Int32, _ lb: Float, _ ib: Int32) -> Bool {
      la != lb ? la < lb : ia > ib
    }
    let n = logits.count
    logits.withUnsafeBufferPointer { buf in
      for i in 0..<n {
        var value = buf[i]
        if value.isNaN { value = -.infinity }
        let token = isDense ? Int32(truncatingIfNeeded: i) : ids[i]
        if size < k {
          // Sift up.
          var c = size
          size += 1
          while c > 0 {
            let p = (c - 1) / 2
            if less(value, token, heapLogits[p], heapIDs[p]) {
              heapLogits[c] = heapLogits[p]
              heapIDs[c] = heapIDs[p]
              c = p
            } else {
              break
            }
          }
          heapLogits[c] = value
          heapIDs[c] = token
        } else if less(heapLogits[0], heapIDs[0], value, token) {
          // Replace the root and sift down.
          var c = 0
          while true {
            let l = 2 * c + 1
            if l >= k { break }
            var m = l
            if l + 1 < k && less(heapLogits[l + 1], heapIDs[l + 1], heapLogits[l], heapIDs[l]) { m = l + 1 }
            if less(heapLogits[m], heapIDs[m], value, token) {
              heapLogits[c] = heapLogits[m]
              heapIDs[c] = heapIDs[m]
              c = m
            } else {
              break
            }
          }
          heapLogits[c] = value
          heapIDs[c] = token
        }
      }
    }
    var order = Array(0..<k)
    order.sort { less(heapLogits[$1], heapIDs[$1], heapLogits[$0], heapIDs[$0]) }
    logits = order.map { heapLogits[$0] }
    ids = order.map { heapIDs[$0] }
    isDense = false
    isSorted = true
  }

  /// Keeps the first `n` entries (meaningful on sorted candidates).
  public mutating func truncate(to n: Int) {
    precondition(n >= 0, "truncate needs n >= 0")
    if n >= logits.count { return }
    materializeIDs()
    logits.removeSubrange(n...)
    ids.removeSubrange(n...)
  }

  /// Keeps the entries for which `keep(logit)` is true, preserving order.
  public mutating func retain(where keep: (Float) -> Bool) {
    materializeIDs()
    var w = 0
    for r in 0..<logits.count where keep(logits[r]) {
      logits[w] = logits[r]
      ids[w] = ids[r]
      w += 1
    }
    logits.removeSubrange(w...)
    ids.removeSubrange(w...)
  }

  /// Probabilities of the entries (softmax, computed in Double for stability). -inf and NaN get 0.
  public func probabilities() -> [Double] {
    guard let top = argmax() else { return [Double](repeating: 0, count: logits.count) }
    let m = Double(logits[top])
    var p = logits.map { $0.isNaN || $0 == -.infinity ? 0 : exp(Double($0) - m) }
    let sum = p.reduce(0, +)
    for i in 0..<p.count { p[i] /= sum }
    return p
  }

  private mutating func materializeIDs() {
    if !isDense { return }
    ids.removeAll(keepingCapacity: true)
    ids.reserveCapacity(logits.count)
    for i in 0..<logits.count { ids.append(Int32(truncatingIfNeeded: i)) }
    isDense = false
  }
}
