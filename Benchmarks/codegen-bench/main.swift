import Foundation

// codegen-bench SUITE [NAME ...]: runs the named benchmarks of a suite, or all of them, and prints one `BENCH`
// line per figure. Speed is printed, never asserted. Built only with CODEGEN_LSP_BENCH=1 (see Package.swift):
//   CODEGEN_LSP_BENCH=1 swift build -c release -Xswiftc -enable-testing --product codegen-bench
// The scripts under Benchmarks/ (engine/run.sh, kernels/run.sh, transport/README.md) build and run it.

let suites: [(name: String, about: String, benchmarks: [Benchmark])] = [
  (
    "engine", "prefill, decode, memory and the bandwidth bound per model; decode A/Bs of engine options",
    EngineBenchmarks().all
  ),
  ("kernels", "bandwidth, dispatch, gemv of every layer shape, decode sweep, prefill matmul", KernelBenchmarks().all),
  (
    "stream", "decode products against a pure read of the same bytes",
    [
      Benchmark("decode-against-pure-read", StreamCeilingBenchmark().run)
    ]
  ),
  ("transport", "framing, parsing and serialising LSP messages; round trips over pipes", TransportBenchmarks().all),
  ("document", "edits to large documents, alone and through the server", DocumentBenchmarks().all),
]

func usage() -> String {
  var text = "usage: codegen-bench SUITE [NAME ...]\n"
  for suite in suites {
    text += "  \(suite.name): \(suite.about)\n    \(suite.benchmarks.map(\.name).joined(separator: " "))\n"
  }
  return text
}

let arguments = Array(CommandLine.arguments.dropFirst())
guard let suiteName = arguments.first, let suite = suites.first(where: { $0.name == suiteName }) else {
  if arguments.first == "--help" || arguments.first == "-h" {
    print(usage(), terminator: "")
    exit(0)
  }
  FileHandle.standardError.write(Data(usage().utf8))
  exit(64)
}
let names = Array(arguments.dropFirst())
if let unknown = names.first(where: { name in !suite.benchmarks.contains { $0.name == name } }) {
  FileHandle.standardError.write(Data("codegen-bench: no benchmark '\(unknown)' in \(suiteName)\n\(usage())".utf8))
  exit(64)
}
for benchmark in suite.benchmarks where names.isEmpty || names.contains(benchmark.name) {
  do {
    try benchmark.run()
  } catch let skip as Skip {
    print("skipped \(benchmark.name): \(skip)")
  } catch {
    FileHandle.standardError.write(Data("codegen-bench: \(benchmark.name) failed: \(error)\n".utf8))
    exit(1)
  }
}
