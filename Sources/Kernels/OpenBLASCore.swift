import COpenBLAS

// Which kernel table OpenBLAS uses for the prefill GEMMs.
//
// A DYNAMIC_ARCH build of OpenBLAS (Debian's libopenblas0) picks its kernels by CPU model when the library loads.
// Builds older than the CPU do not know it and fall back: Debian bookworm's 0.3.21 runs AMD Zen 5 (family 0x1A)
// with its Haswell (AVX2) kernels although the CPU has AVX-512, and Intel Xeon Emerald Rapids (family 6 model 0xCF)
// with its Prescott (SSE3) kernels, several times slower than the SkylakeX ones (Benchmarks/RESULTS.md, "Prefill").
// `OPENBLAS_CORETYPE` chooses the table, but it is read when the library loads, before our code runs; so the
// loaded library is told again through its exported `gotoblas_dynamic_quit` and `gotoblas_dynamic_init`, which
// read the variable as at load. Only a fallback below what the CPU runs is changed (an AVX2 table on an AVX-512
// CPU, a pre-AVX2 table on an AVX2 + FMA CPU); a build without those entry points (no DYNAMIC_ARCH), a table that
// fits the CPU, and `CODEGEN_LSP_OPENBLAS_KEEP=1` leave OpenBLAS as it loaded. (Whether the user set
// `OPENBLAS_CORETYPE` cannot be told: OpenBLAS sets it to its own choice when it loads, and processes started
// from one that loaded OpenBLAS inherit it; hence the separate switch.)
#if canImport(Glibc)
  import Glibc
#endif

public enum OpenBLASCore {
  /// The kernel table OpenBLAS uses now ("Haswell", "SkylakeX", ...).
  public static var current: String { String(cString: openblas_get_corename()) }

  /// OpenBLAS's kernel tables with AVX-512 kernels, and those with AVX2 + FMA ones (lower-cased).
  static let avx512Tables: Set<String> = ["skylakex", "cooperlake", "sapphirerapids"]
  static let avx2Tables: Set<String> = ["haswell", "zen", "excavator"]

  /// The table to switch to on a CPU with these /proc/cpuinfo `flags` while OpenBLAS runs `core`: "SkylakeX" when
  /// OpenBLAS runs a table without AVX-512 (its AVX2 ones, or an older fallback such as "Prescott") on a CPU with
  /// the AVX-512 subsets those kernels use; "Haswell" when it runs a table older than AVX2 on a CPU with AVX2 and
  /// FMA; nil otherwise.
  static func better(than core: String, flags: Set<String>) -> String? {
    let table = core.lowercased()
    guard !avx512Tables.contains(table) else { return nil }
    if ["avx512f", "avx512bw", "avx512dq", "avx512vl", "avx512cd"].allSatisfy(flags.contains) { return "SkylakeX" }
    guard !avx2Tables.contains(table) else { return nil }
    return flags.contains("avx2") && flags.contains("fma") ? "Haswell" : nil
  }

  /// What `selectForCPU` did: (from, to) when it switched, nil when it left OpenBLAS as loaded.
  nonisolated(unsafe) public private(set) static var switched: (from: String, to: String)?

  /// Switches OpenBLAS to `better(than:flags:)` where that applies. Called once,
  /// before the first BLAS call (`OpenBLASThreads`).
  static func selectForCPU() {
    #if canImport(Glibc) && arch(x86_64)
      let from = current
      guard getenv("CODEGEN_LSP_OPENBLAS_KEEP").map({ String(cString: $0) }) != "1",
        let target = better(than: from, flags: QuantTraits.cpuFlags)
      else { return }
      // The loaded OpenBLAS itself, by its soname (it may have come with a test bundle, outside the global scope).
      guard
        let handle = dlopen("libopenblas.so.0", RTLD_NOW | RTLD_NOLOAD)
          ?? dlopen("libopenblas.so", RTLD_NOW | RTLD_NOLOAD)
      else { return }
      defer { dlclose(handle) }
      guard let quit = dlsym(handle, "gotoblas_dynamic_quit"), let initialise = dlsym(handle, "gotoblas_dynamic_init")
      else { return }
      typealias Entry = @convention(c) () -> Void
      setenv("OPENBLAS_CORETYPE", target, 1)
      unsafeBitCast(quit, to: Entry.self)()
      unsafeBitCast(initialise, to: Entry.self)()
      // OpenBLAS itself leaves the variable set to the table it chose at load (for processes started from this one).
      setenv("OPENBLAS_CORETYPE", current, 1)
      switched = (from, current)
    #endif
  }
}
