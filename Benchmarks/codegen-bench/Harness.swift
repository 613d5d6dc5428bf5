import Dispatch
import Foundation

/// Thrown by a benchmark that cannot run on this machine (a model file missing); the runner prints the reason and
/// goes on with the next benchmark.
struct Skip: Error, CustomStringConvertible {
  let description: String
  init(_ reason: String) { description = reason }
}

/// One benchmark: a name to select it on the command line and the code that prints its `BENCH` lines.
struct Benchmark {
  let name: String
  let run: () throws -> Void
  init(_ name: String, _ run: @escaping () throws -> Void) {
    self.name = name
    self.run = run
  }
}

/// Prints one figure line; the scripts in Benchmarks/ read the lines that start with `BENCH`.
func report(_ line: String) {
  print("BENCH " + line)
  fflush(stdout)
}

/// The models folder: `$CODEGEN_LSP_MODELS_DIR` or `~/.cache/codegen-lsp/models`.
var modelsDirectory: String {
  if let dir = ProcessInfo.processInfo.environment["CODEGEN_LSP_MODELS_DIR"], !dir.isEmpty { return dir }
  return NSHomeDirectory() + "/.cache/codegen-lsp/models"
}

/// The repository's root, found from this file's place in it (fixtures of the test targets are read from there).
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
  .deletingLastPathComponent()

/// Seconds of wall-clock time `body` takes.
func seconds(_ body: () throws -> Void) rethrows -> Double {
  let start = DispatchTime.now().uptimeNanoseconds
  try body()
  return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

/// Seconds per call of `body`, the best of `repeats` timings of `iterations` calls.
func wallTime(iterations: Int, repeats: Int = 5, _ body: () -> Void) -> Double {
  var best = Double.infinity
  for _ in 0..<repeats {
    let elapsed = seconds { for _ in 0..<iterations { body() } }
    best = min(best, elapsed / Double(iterations))
  }
  return best
}

/// Seconds of this thread's CPU time per call (best of `repeats`): for single-threaded runs on a machine shared
/// with other work, this is the code's own speed, free of time spent descheduled.
func cpuTime(iterations: Int, repeats: Int = 5, _ body: () -> Void) -> Double {
  func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
  }
  var best = Double.infinity
  for _ in 0..<repeats {
    let start = now()
    for _ in 0..<iterations { body() }
    best = min(best, (now() - start) / Double(iterations))
  }
  return best
}

/// Stops the run when a benchmark's own result is wrong (the figures would mean nothing).
func check(_ condition: Bool, _ message: @autoclosure () -> String) {
  if !condition {
    FileHandle.standardError.write(Data("codegen-bench: check failed: \(message())\n".utf8))
    exit(1)
  }
}

/// The path of a model file in the models folder; a `Skip` when it is not there.
func modelFile(_ name: String) throws -> String {
  let path = modelsDirectory + "/" + name
  guard FileManager.default.fileExists(atPath: path) else { throw Skip("\(path) not found") }
  return path
}
