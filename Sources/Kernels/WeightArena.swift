// Anonymous memory for the weight copies made at load, asked for in 2 MiB transparent huge pages.
//
// A decode token streams every weight once: hundreds of MB in 4 KiB pages is one TLB miss (and a page walk) per
// 4 KiB, and the hardware prefetchers stop at each page boundary. In 2 MiB pages both happen 512 times less
// often. The file mapping cannot have them (the page cache of an ordinary file system is in 4 KiB pages), so
// matrices copied at load (the regrouped ones, and with `WeightMemory.hugePagesAll` every matrix) go into one
// arena: one `mmap` aligned to 2 MiB with `madvise(MADV_HUGEPAGE)`, filled in the order decode reads it. Where
// the kernel gives no huge pages (transparent huge pages set to `never`, another OS), the arena is ordinary
// anonymous memory and nothing else changes.
#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Where the weight matrices of a loaded model live.
public enum WeightMemory: Sendable, Equatable {
  /// Regrouped copies in ordinary heap memory; every other matrix a view into the file mapping.
  case heap
  /// Regrouped copies in a huge-page arena (`WeightArena`); every other matrix a view into the file mapping.
  case hugePages
  /// Every matrix copied into a huge-page arena, the file's pages released (same resident size).
  case hugePagesAll
}

/// A bump allocator over one anonymous mapping, 2 MiB aligned, advised for transparent huge pages. Pages are
/// faulted in only when written, so capacity that is never used costs address space, not memory.
public final class WeightArena: @unchecked Sendable {
  public static let hugePageBytes = 2 << 20
  /// Start of the usable, 2 MiB aligned region.
  public let base: UnsafeMutableRawPointer
  public let capacity: Int
  public private(set) var used = 0
  private let mapping: UnsafeMutableRawPointer
  private let mappingBytes: Int

  /// Nil when the mapping fails (the caller falls back to heap copies).
  public init?(capacity: Int) {
    let huge = Self.hugePageBytes
    let size = (max(capacity, 1) + huge - 1) / huge * huge
    let total = size + huge
    let p = mmap(nil, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
    guard let p, p != MAP_FAILED else { return nil }
    mapping = p
    mappingBytes = total
    let aligned = (Int(bitPattern: p) + huge - 1) / huge * huge
    base = UnsafeMutableRawPointer(bitPattern: aligned)!
    self.capacity = size
    #if os(Linux)
      _ = madvise(base, size, MADV_HUGEPAGE)
    #endif
  }

  deinit { munmap(mapping, mappingBytes) }

  /// `bytes` of memory aligned to 64, or nil when the arena is full.
  public func allocate(_ bytes: Int) -> UnsafeMutableRawPointer? {
    let start = (used + 63) / 64 * 64
    guard start + bytes <= capacity else { return nil }
    used = start + bytes
    return base + start
  }

  /// Bytes of this process's anonymous memory in transparent huge pages (`AnonHugePages` of /proc/self/smaps_rollup),
  /// nil where that file cannot be read.
  public static func residentHugePageBytes() -> Int? {
    guard let f = fopen("/proc/self/smaps_rollup", "r") else { return nil }
    defer { fclose(f) }
    var line = [CChar](repeating: 0, count: 256)
    while fgets(&line, Int32(line.count), f) != nil {
      let s = String(cString: line)
      guard s.hasPrefix("AnonHugePages:") else { continue }
      let kb = s.dropFirst("AnonHugePages:".count).split(separator: " ").first.flatMap { Int($0) }
      return kb.map { $0 * 1024 }
    }
    return nil
  }
}
