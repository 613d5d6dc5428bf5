import Quantization

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// What the kernels know about each weight type, described once per type (after llama.cpp's `ggml_type_traits`):
/// block size and bytes (from `GGMLType`), the dequantiser (`GGMLType.dequantize`, the exact reference), the
/// activation layout of its integer dot product, and the dot product itself.
public struct QuantTraits: Sendable {
  /// The weight type.
  public let type: GGMLType
  /// Elements per block.
  public var blockSize: Int { type.blockSize }
  /// Bytes per block.
  public var bytesPerBlock: Int { type.bytesPerBlock }
  /// The activation layout of the integer dot product (nil: float activations).
  public let activationLayout: QuantizedActivations.Layout?
  /// Whether a SIMD kernel exists for this type on this machine (otherwise rows go through dequantisation).
  public let hasFastKernel: Bool

  /// The traits of every type the kernels support: every type with a reference dequantiser
  /// (`GGMLType.canDequantize`), which is the fallback of any type without a SIMD kernel.
  public static let table: [GGMLType: QuantTraits] = {
    var t = [GGMLType: QuantTraits]()
    let fast = cpuHasAVX2FMA
    for type in GGMLType.allCases where type.canDequantize {
      let layout = QuantizedActivations.Layout(for: type)
      let kernel = type == .f32 || (fast && (layout != nil || type == .f16 || type == .bf16))
      t[type] = QuantTraits(type: type, activationLayout: fast ? layout : nil, hasFastKernel: kernel)
    }
    return t
  }()

  /// Whether `type` can be multiplied by the kernels.
  public static func isSupported(_ type: GGMLType) -> Bool { table[type] != nil }

  /// Dequantises `count` elements of `type` (the `gguf`-package-exact reference).
  @inline(__always)
  public static func dequantize(
    _ type: GGMLType, _ src: UnsafeRawPointer, count: Int, into dst: UnsafeMutablePointer<Float>
  ) {
    type.dequantize(src, count: count, into: dst)
  }

  /// The `key: value` fields of the first CPU's block of /proc/cpuinfo, keys and values trimmed (empty where there
  /// is none); read once.
  static let firstCPUFields: [String: String] = {
    guard let f = fopen("/proc/cpuinfo", "r") else { return [:] }
    defer { fclose(f) }
    var fields = [String: String]()
    var line = [CChar](repeating: 0, count: 16384)
    while fgets(&line, Int32(line.count), f) != nil {
      let s = String(cString: line)
      if s == "\n" { break }  // end of the first CPU's block
      let parts = s.split(separator: ":", maxSplits: 1).map {
        String($0.drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
      }
      if parts.count == 2 { fields[parts[0]] = parts[1] }
    }
    return fields
  }()

  /// The `model name` of the first CPU in /proc/cpuinfo ("" where there is none).
  public static let cpuModelName: String = firstCPUFields["model name"] ?? ""

  /// The `flags` of the first CPU in /proc/cpuinfo (empty where there is none).
  public static let cpuFlags: Set<String> = Set((firstCPUFields["flags"] ?? "").split(separator: " ").map(String.init))

  /// The `vendor_id` and `cpu family` of the first CPU in /proc/cpuinfo ("", 0 where there is none).
  public static let cpuVendorFamily: (vendor: String, family: Int) = (
    firstCPUFields["vendor_id"] ?? "", Int(firstCPUFields["cpu family"] ?? "") ?? 0
  )

  /// Whether the CPU running us has AVX2 and FMA (the SIMD kernels' instructions); read once from the CPU flags.
  public static let cpuHasAVX2FMA: Bool = {
    #if arch(x86_64)
      return cpuFlags.isSuperset(of: ["avx2", "fma", "f16c"])
    #else
      return false
    #endif
  }()
}
