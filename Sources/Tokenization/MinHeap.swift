/// A binary min-heap of 64-bit keys (the BPE work queues pack priority and position into one key).
struct MinHeap {
  private(set) var keys: [UInt64] = []

  init(capacity: Int) { keys.reserveCapacity(capacity) }

  var isEmpty: Bool { keys.isEmpty }

  mutating func removeAll() { keys.removeAll(keepingCapacity: true) }

  mutating func push(_ key: UInt64) {
    keys.append(key)
    var i = keys.count - 1
    while i > 0 {
      let parent = (i - 1) >> 1
      if keys[parent] <= key { break }
      keys[i] = keys[parent]
      i = parent
    }
    keys[i] = key
  }

  mutating func pop() -> UInt64? {
    guard let last = keys.popLast() else { return nil }
    guard !keys.isEmpty else { return last }
    let top = keys[0]
    let n = keys.count
    var i = 0
    while true {
      let l = 2 * i + 1
      if l >= n { break }
      let r = l + 1
      let child = (r < n && keys[r] < keys[l]) ? r : l
      if keys[child] >= last { break }
      keys[i] = keys[child]
      i = child
    }
    keys[i] = last
    return top
  }
}
