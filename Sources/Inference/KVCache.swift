/// Element type of the key/value cache.
public enum KVCacheType: String, Sendable, CaseIterable {
  /// 4 bytes per element; exact.
  case f32
  /// 2 bytes per element; half the memory, rounding of keys and values to 11 significant bits.
  case f16

  /// Bytes of one element.
  public var bytesPerElement: Int { self == .f32 ? 4 : 2 }
}

/// Keys and values of every layer for positions `0..<capacity`, laid out per head so that one head's keys are a
/// contiguous (position, headDim) matrix for the attention products.
///
/// Layout of `keys` and `values`: `(layer, kvHead, capacity, headDim)` in F32, or the same in F16 bits in
/// `keys16`/`values16`. Memory is reserved for the whole capacity at once but the kernel commits pages only when
/// positions are first written, so resident size grows with the tokens actually cached.
///
/// - Important: not thread-safe; owned by one `InferenceSession`.
final class KVCache {
  let type: KVCacheType
  let layers: Int
  let kvHeads: Int
  let headDim: Int
  let capacity: Int
  private let elements: Int
  /// F32 storage (nil for F16).
  let keys: UnsafeMutablePointer<Float>?
  let values: UnsafeMutablePointer<Float>?
  /// F16 storage (nil for F32).
  let keys16: UnsafeMutablePointer<UInt16>?
  let values16: UnsafeMutablePointer<UInt16>?

  init(type: KVCacheType, layers: Int, kvHeads: Int, headDim: Int, capacity: Int) {
    self.type = type
    self.layers = layers
    self.kvHeads = kvHeads
    self.headDim = headDim
    self.capacity = capacity
    elements = layers * kvHeads * capacity * headDim
    switch type {
    case .f32:
      keys = .allocate(capacity: elements)
      values = .allocate(capacity: elements)
      keys16 = nil
      values16 = nil
    case .f16:
      keys = nil
      values = nil
      keys16 = .allocate(capacity: elements)
      values16 = .allocate(capacity: elements)
    }
  }

  deinit {
    keys?.deallocate()
    values?.deallocate()
    keys16?.deallocate()
    values16?.deallocate()
  }

  /// Bytes reserved for the whole capacity.
  var byteCount: Int { 2 * elements * type.bytesPerElement }

  /// Bytes per cached token (keys and values of every layer).
  var bytesPerToken: Int { 2 * layers * kvHeads * headDim * type.bytesPerElement }

  /// Element offset of (layer, head, position 0).
  @inline(__always) func offset(layer: Int, head: Int) -> Int {
    (layer * kvHeads + head) * capacity * headDim
  }
}
