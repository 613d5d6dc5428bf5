/// An open-addressing hash map from byte strings to `Int32`, with the keys stored in one arena.
///
/// Used for token text → id lookups on slices of a UTF-8 buffer without allocating a key (Swift `String` keys would
/// also compare canonically equivalent spellings as equal, which tokenizers must not do).
struct ByteStringTable: Sendable {
  private var arena: [UInt8] = []
  /// Per slot: start offset in `arena`, length, value; `length == -1` marks an empty slot.
  private var starts: [Int32]
  private var lengths: [Int32]
  private var values: [Int32]
  private var mask: Int
  private(set) var count = 0

  /// - Parameter capacity: the expected number of keys (the table never grows past twice this without rehashing).
  init(capacity: Int) {
    var size = 16
    while size < capacity * 2 { size <<= 1 }
    starts = [Int32](repeating: 0, count: size)
    lengths = [Int32](repeating: -1, count: size)
    values = [Int32](repeating: 0, count: size)
    mask = size - 1
  }

  @inline(__always)
  private static func hash(_ key: UnsafeBufferPointer<UInt8>) -> Int {
    var h: UInt64 = 0xcbf2_9ce4_8422_2325  // FNV-1a
    for b in key {
      h ^= UInt64(b)
      h &*= 0x0000_0100_0000_01B3
    }
    return Int(truncatingIfNeeded: h ^ (h >> 29))
  }

  @inline(__always)
  private func keyEquals(slot: Int, _ key: UnsafeBufferPointer<UInt8>) -> Bool {
    let length = Int(lengths[slot])
    guard length == key.count else { return false }
    let start = Int(starts[slot])
    return arena.withUnsafeBufferPointer { a in
      for i in 0..<length where a[start + i] != key[i] { return false }
      return true
    }
  }

  /// The value stored for `key`, or nil.
  @inline(__always)
  func get(_ key: UnsafeBufferPointer<UInt8>) -> Int32? {
    var slot = Self.hash(key) & mask
    while lengths[slot] >= 0 {
      if keyEquals(slot: slot, key) { return values[slot] }
      slot = (slot + 1) & mask
    }
    return nil
  }

  /// The value stored for `key`, or nil.
  func get(_ key: [UInt8]) -> Int32? { key.withUnsafeBufferPointer { get($0) } }

  /// Stores `value` for `key` unless the key is already present (the first value wins).
  mutating func insertIfAbsent(_ key: [UInt8], _ value: Int32) {
    key.withUnsafeBufferPointer { insertIfAbsent($0, value) }
  }

  /// Stores `value` for `key` unless the key is already present.
  mutating func insertIfAbsent(_ k: UnsafeBufferPointer<UInt8>, _ value: Int32) {
    if (count + 1) * 2 > lengths.count { grow() }
    var slot = Self.hash(k) & mask
    while lengths[slot] >= 0 {
      if keyEquals(slot: slot, k) { return }
      slot = (slot + 1) & mask
    }
    starts[slot] = Int32(arena.count)
    lengths[slot] = Int32(k.count)
    values[slot] = value
    arena.append(contentsOf: k)
    count += 1
  }

  private mutating func grow() {
    let old = (starts, lengths, values, arena)
    let newSize = lengths.count * 2
    starts = [Int32](repeating: 0, count: newSize)
    lengths = [Int32](repeating: -1, count: newSize)
    values = [Int32](repeating: 0, count: newSize)
    mask = newSize - 1
    arena = []
    count = 0
    for slot in 0..<old.1.count where old.1[slot] >= 0 {
      let start = Int(old.0[slot])
      insertIfAbsent(Array(old.3[start..<(start + Int(old.1[slot]))]), old.2[slot])
    }
  }
}
