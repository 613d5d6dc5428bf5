/// An open-addressing hash map from 64-bit keys to 64-bit values (BPE merges: a packed pair of token ids to a
/// packed rank and merged id), faster than `Dictionary` for this hot lookup.
struct PairTable: Sendable {
  private static let empty = UInt64.max
  private var keys: [UInt64]
  private var values: [UInt64]
  private let shift: UInt64
  private let mask: Int
  private(set) var count = 0

  /// - Parameter capacity: the most keys that will be inserted.
  init(capacity: Int) {
    var bits = 4
    while (1 << bits) < capacity * 2 { bits += 1 }
    keys = [UInt64](repeating: Self.empty, count: 1 << bits)
    values = [UInt64](repeating: 0, count: 1 << bits)
    shift = UInt64(64 - bits)
    mask = (1 << bits) - 1
  }

  @inline(__always)
  private func slot(_ key: UInt64) -> Int { Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> shift) }

  /// The value for `key`, or nil.
  @inline(__always)
  func get(_ key: UInt64) -> UInt64? {
    var i = slot(key)
    while true {
      let k = keys[i]
      if k == key { return values[i] }
      if k == Self.empty { return nil }
      i = (i + 1) & mask
    }
  }

  /// Stores `value` for `key` unless the key is present (the first value wins). `key` must not be `UInt64.max`.
  mutating func insertIfAbsent(_ key: UInt64, _ value: UInt64) {
    precondition(key != Self.empty && (count + 1) * 2 <= keys.count, "PairTable overfilled")
    var i = slot(key)
    while keys[i] != Self.empty {
      if keys[i] == key { return }
      i = (i + 1) & mask
    }
    keys[i] = key
    values[i] = value
    count += 1
  }
}
