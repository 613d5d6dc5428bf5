// Which kernel table OpenBLAS uses for the prefill GEMMs.
//
// A DYNAMIC_ARCH build of OpenBLAS (Debian's libopenblas0) picks its kernels by CPU model when the library loads.
// Builds older than the CPU do not know it and fall back by family: Debian bookworm's 0.3.21 runs AMD Zen 5
// (family 0x1A) with its Haswell (AVX2) kernels although the CPU has AVX-512, and its Cooperlake/SkylakeX
// kernels make the prefill of Qwen2.5-Coder-0.5B about 1.65x faster there (Benchmarks/RESULTS.md, sixth session).
// `OPENBLAS_CORETYPE` chooses the table, but it is read when the library loads, before our code runs; so the
// loaded library is told again through its exported `gotoblas_dynamic_quit` and `gotoblas_dynamic_init`, which
// read the variable as at load. Only a fallback to the AVX2 tables on an AVX-512 CPU is changed: a build without
// those entry points (no DYNAMIC_ARCH), a CPU whose model OpenBLAS knows, and any other table named by
// `OPENBLAS_CORETYPE` are left as they are. (Whether the user set the variable cannot be told: OpenBLAS sets it
// to its own choice when it loads, and processes started from one that loaded OpenBLAS inherit it.)
#if canImport(Glibc)
  import Glibc
#endif
import COpenBLAS

public enum OpenBLASCore {
  /// The kernel table OpenBLAS uses now ("Haswell", "SkylakeX", ...).
  public static var current: String { String(cString: openblas_get_corename()) }

  /// The table to switch to on a CPU with these /proc/cpuinfo `flags` while OpenBLAS runs `core`: "SkylakeX" when
  /// OpenBLAS fell back to its AVX2 kernels ("Haswell" or "Zen") on a CPU with the AVX-512 subsets those kernels
  /// use; nil otherwise.
  static func better(than core: String, flags: Set<String>) -> String? {
    let avx2Tables: Set<String> = ["haswell", "zen"]
    guard avx2Tables.contains(core.lowercased()) else { return nil }
    let needed = ["avx512f", "avx512bw", "avx512dq", "avx512vl", "avx512cd"]
    return needed.allSatisfy(flags.contains) ? "SkylakeX" : nil
  }

  /// What `selectForCPU` did: (from, to) when it switched, nil when it left OpenBLAS as loaded.
  nonisolated(unsafe) public private(set) static var switched: (from: String, to: String)?

  /// Switches OpenBLAS to `better(than:flags:)` where that applies. Called once,
  /// before the first BLAS call (`OpenBLASThreads`).
  static func selectForCPU() {
    #if canImport(Glibc) && arch(x86_64)
      let from = current
      guard let target = better(than: from, flags: QuantTraits.cpuFlags) else { return }
      // The loaded OpenBLAS itself, by its soname (it may have come with a test bundle, outside the global scope).
      guard let handle = dlopen("libopenblas.so.0", RTLD_NOW | RTLD_NOLOAD) ?? dlopen("libopenblas.so", RTLD_NOW | RTLD_NOLOAD)
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
