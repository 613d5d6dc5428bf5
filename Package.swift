// swift-tools-version:6.0
// codegen-lsp: a local AI code-completion language server. One section per target, followed by its tests.
import Foundation
import PackageDescription

/// The numeric targets are compiled for the build machine's vector unit: AVX2 + FMA when /proc/cpuinfo has
/// them (x86-64), and in addition AVX-512 with VNNI (the CPU model `cascadelake`, whose features every AVX-512 VNNI
/// CPU has, Intel Cascade Lake and later, AMD Zen 4 and later) when it has those; the baseline otherwise. The
/// package is built from source on the machine that runs it. `CODEGEN_LSP_AVX512VNNI` is defined for the second
/// so that the kernels can use the wider instructions (Kernels/DotAVX512.swift).
let hostFlags: Set<String> = {
  #if arch(x86_64)
    guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return [] }
    guard let flags = info.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return [] }
    return Set(flags.split(separator: " ").map(String.init))
  #else
    return []
  #endif
}()
let hostHasAVX2 = hostFlags.isSuperset(of: ["avx2", "fma", "f16c"])
let hostHasAVX512VNNI =
  hostHasAVX2 && hostFlags.isSuperset(of: ["avx512f", "avx512bw", "avx512dq", "avx512vl", "avx512cd", "avx512_vnni"])
  && ProcessInfo.processInfo.environment["CODEGEN_LSP_NO_AVX512"] == nil

let numericSettings: [SwiftSetting] =
  (hostHasAVX512VNNI
    ? [.unsafeFlags(["-target-cpu", "cascadelake"]), .define("CODEGEN_LSP_AVX512VNNI")]
    : hostHasAVX2 ? [.unsafeFlags(["-target-cpu", "haswell"])] : [])
  + [.unsafeFlags(["-Ounchecked"], .when(configuration: .release))]

let package = Package(
  name: "codegen-lsp",
  platforms: [.macOS(.v15)],
  products: [
    .executable(name: "codegen-lsp", targets: ["codegen-lsp"])
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
  ],
  targets: [
    // MARK: System libraries
    .systemLibrary(
      name: "CJSONC", pkgConfig: "json-c",
      providers: [.apt(["libjson-c-dev"]), .brew(["json-c"])]),
    .systemLibrary(
      name: "COpenBLAS", pkgConfig: "openblas",
      providers: [.apt(["libopenblas-dev"]), .brew(["openblas"])]),

    // MARK: JSON
    .target(name: "JSON", dependencies: ["CJSONC"]),
    .testTarget(name: "JSONTests", dependencies: ["JSON"]),

    // MARK: LSP wire
    .target(name: "LSPTypes", dependencies: ["JSON", "LSPTransport"]),
    .target(name: "LSPTransport", dependencies: ["JSON"]),
    .testTarget(name: "LSPTransportTests", dependencies: ["LSPTransport", "JSON"]),

    // MARK: Provider boundary
    .target(name: "CodeCompletion"),

    // MARK: Server
    .target(
      name: "CompletionServer",
      dependencies: [
        "JSON", "LSPTypes", "LSPTransport", "CodeCompletion",
        .product(name: "Logging", package: "swift-log"),
      ]),
    .target(
      name: "LSPTestSupport",
      dependencies: ["JSON", "LSPTypes", "LSPTransport", "CodeCompletion", "CompletionServer"]),
    .testTarget(
      name: "CompletionServerTests",
      dependencies: ["CompletionServer", "LSPTestSupport", "LSPTypes", "LSPTransport", "JSON", "CodeCompletion"],
      resources: [.copy("Transcripts")]),

    // MARK: Syntax middleware
    .target(name: "SyntaxCheck"),
    .testTarget(name: "SyntaxCheckTests", dependencies: ["SyntaxCheck"]),

    // MARK: Engine
    // The tensor element types and their reference dequantisers: numeric code, compiled for speed.
    .target(name: "Quantization", swiftSettings: numericSettings),
    // The file reader parses untrusted input: compiled with every check on (no -Ounchecked).
    .target(name: "GGUF", dependencies: ["Quantization"]),
    .testTarget(name: "GGUFTests", dependencies: ["GGUF", "Quantization"], resources: [.copy("Fixtures")]),
    .target(name: "CPrefetch"),
    .target(name: "Kernels", dependencies: ["Quantization", "COpenBLAS", "CPrefetch"], swiftSettings: numericSettings),
    .target(name: "KernelsTestSupport", dependencies: ["Kernels", "Quantization", "GGUF", "Sampling"]),
    .testTarget(
      name: "KernelsTests", dependencies: ["Kernels", "KernelsTestSupport", "Quantization", "GGUF"],
      swiftSettings: numericSettings),
    .target(name: "Tokenization", dependencies: ["GGUF"]),
    .testTarget(name: "TokenizationTests", dependencies: ["Tokenization", "GGUF"], resources: [.copy("Fixtures")]),
    .target(name: "Sampling", swiftSettings: numericSettings),
    .testTarget(name: "SamplingTests", dependencies: ["Sampling"]),
    .target(
      name: "Inference", dependencies: ["GGUF", "Quantization", "Kernels", "Tokenization", "Sampling"],
      swiftSettings: numericSettings),
    .target(name: "InferenceTestSupport"),
    .testTarget(
      name: "InferenceTests",
      dependencies: ["Inference", "InferenceTestSupport", "GGUF", "Kernels", "Tokenization", "Sampling"],
      resources: [.copy("Fixtures")]),

    // MARK: Product pipeline
    .target(
      name: "ModelCompletionProvider",
      dependencies: [
        "CodeCompletion", "Inference", "Tokenization", "Sampling", "SyntaxCheck", "GGUF", "Kernels",
        .product(name: "Logging", package: "swift-log"),
      ]),
    .target(name: "RepositoryContext", dependencies: ["CodeCompletion", "SyntaxCheck"]),
    .testTarget(name: "RepositoryContextTests", dependencies: ["RepositoryContext", "CodeCompletion"]),
    .testTarget(
      name: "ModelCompletionProviderTests",
      dependencies: ["ModelCompletionProvider", "CodeCompletion", "InferenceTestSupport", "Inference"]),

    // MARK: Executable
    .executableTarget(
      name: "codegen-lsp",
      dependencies: [
        "CompletionServer", "ModelCompletionProvider", "RepositoryContext", "CodeCompletion", "Inference", "GGUF",
        "Quantization",
        "Tokenization", "Kernels", "Sampling", "JSON", "LSPTypes", "LSPTransport",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
        .product(name: "Logging", package: "swift-log"),
      ]),
    .testTarget(name: "CodegenLSPTests", dependencies: ["JSON", "LSPTransport"]),
  ],
  swiftLanguageModes: [.v5]
)

// MARK: Benchmarks
// The benchmark executable (Benchmarks/codegen-bench) is declared only when CODEGEN_LSP_BENCH=1: it reaches into the
// engine's internals (`@testable import`, so it is built with -Xswiftc -enable-testing), and the product and test
// builds never carry it. Benchmarks/engine/run.sh and Benchmarks/kernels/run.sh build and run it.
if ProcessInfo.processInfo.environment["CODEGEN_LSP_BENCH"] == "1" {
  package.targets.append(
    .executableTarget(
      name: "codegen-bench",
      dependencies: [
        "Inference", "InferenceTestSupport", "Kernels", "KernelsTestSupport", "GGUF", "Quantization", "JSON",
        "LSPTransport", "LSPTypes", "CodeCompletion", "CompletionServer", "LSPTestSupport",
      ],
      path: "Benchmarks/codegen-bench",
      swiftSettings: numericSettings))
}

// The fuzz targets (Tests/Fuzz) are declared only when CODEGEN_LSP_FUZZ=1: each is a libFuzzer test function whose
// entry point (`<target>_main`, the name SwiftPM links an executable's main under) runs libFuzzer's driver; built by
// Scripts/fuzz.sh with -sanitize=fuzzer,address. The product and test builds never carry them.
if ProcessInfo.processInfo.environment["CODEGEN_LSP_FUZZ"] == "1" {
  let fuzzSettings: [SwiftSetting] = [.unsafeFlags(["-parse-as-library"])]
  package.targets.append(.target(name: "CFuzzer", path: "Tests/Fuzz/CFuzzer"))
  package.targets.append(.target(name: "FuzzSupport", dependencies: ["CFuzzer"], path: "Tests/Fuzz/FuzzSupport"))
  let fuzzTargets: [(String, [Target.Dependency])] = [
    ("FuzzFramer", ["LSPTransport"]),
    ("FuzzJSON", ["JSON", "LSPTypes"]),
    ("FuzzGGUF", ["GGUF", "Tokenization"]),
    ("FuzzTokenizer", ["GGUF", "Tokenization"]),
    ("FuzzSyntax", ["SyntaxCheck"]),
    ("FuzzTextDocument", ["CompletionServer", "LSPTypes"]),
  ]
  for (name, dependencies) in fuzzTargets {
    package.targets.append(
      .executableTarget(
        name: name, dependencies: ["FuzzSupport"] + dependencies, path: "Tests/Fuzz/\(name)",
        swiftSettings: fuzzSettings))
  }
}
