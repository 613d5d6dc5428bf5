import Dispatch
import Foundation
import InferenceTestSupport

@testable import Inference
@testable import Kernels

/// Engine benchmark (`codegen-bench engine`, models in the models folder): prefill of 512 tokens and decode of 64
/// tokens with 2 threads (CODEGEN_LSP_BENCH_THREADS) for the preset models, resident memory, and decode speed against
/// the memory-bandwidth bound; decode A/Bs of engine options. Prints figures; asserts nothing about speed.
/// Run with Benchmarks/engine/run.sh.
struct EngineBenchmarks {
  static let threads = Int(ProcessInfo.processInfo.environment["CODEGEN_LSP_BENCH_THREADS"] ?? "") ?? 2

  func promptTokens(_ preset: String, count: Int) throws -> [Int32] {
    let json = repositoryRoot.appendingPathComponent("Tests/InferenceTests/Fixtures/ref-\(preset).json")
    guard FileManager.default.fileExists(atPath: json.path) else { throw Skip("\(json.path) not found") }
    let object = try JSONSerialization.jsonObject(with: Data(contentsOf: json)) as! [String: Any]
    let segments = object["segments"] as! [[String: Any]]
    let tokens = (segments[0]["tokens"] as! [NSNumber]).map { Int32($0.intValue) }
    check(tokens.count >= count, "\(json.path) holds \(count) prompt tokens")
    return Array(tokens.prefix(count))
  }

  /// Read bandwidth of main memory: `threads` threads sum a 512 MiB buffer of floats (far larger than any cache
  /// level), best of `passes` passes, in bytes per second. The buffer is allocated once, so that a probe between two
  /// decode runs costs only its passes (about 10 ms each); resident memory is read before the first probe.
  final class BandwidthProbe {
    let threads: Int
    private let vectors = (512 << 20) / 32
    private let buffer: UnsafeMutablePointer<SIMD8<Float>>

    init(threads: Int) {
      self.threads = threads
      buffer = .allocate(capacity: vectors)
      buffer.initialize(repeating: SIMD8<Float>(repeating: 1), count: vectors)
    }

    deinit { buffer.deallocate() }

    func measure(passes: Int) -> Double {
      var best = 0.0
      let sums = UnsafeMutablePointer<Float>.allocate(capacity: threads)
      defer { sums.deallocate() }
      for _ in 0..<passes {
        let start = DispatchTime.now().uptimeNanoseconds
        DispatchQueue.concurrentPerform(iterations: threads) { [buffer, vectors, threads] t in
          let lo = vectors * t / threads
          let hi = vectors * (t + 1) / threads
          var a = SIMD8<Float>(), b = SIMD8<Float>(), c = SIMD8<Float>(), d = SIMD8<Float>()
          var i = lo
          while i + 4 <= hi {
            a += buffer[i]
            b += buffer[i + 1]
            c += buffer[i + 2]
            d += buffer[i + 3]
            i += 4
          }
          sums[t] = (a + b + c + d).sum()
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        precondition(sums[0] > 0)
        best = max(best, Double(vectors * 32) / seconds)
      }
      return best
    }
  }

  /// Tokens per second of 64 greedy decode steps from an emptied cache after the one prompt token `first`.
  func decode64(_ session: InferenceSession, after first: Int32) throws -> Double {
    session.reset()
    var logits = try session.evaluate([first]).logits
    let start = DispatchTime.now().uptimeNanoseconds
    for _ in 0..<64 {
      let best = Int32(logits.indices.max { logits[$0] < logits[$1] }!)
      logits = try session.append(best)
    }
    return 64 / (Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
  }

  /// - Parameter promptPreset: the preset whose fixture tokens form the prompt (the same tokenizer as `preset`).
  /// - Parameter regroup: `ModelOptions.repackWeights` (false: every matrix in the file layout, for the A/B).
  func bench(
    _ preset: String, kv: KVCacheType = ModelOptions().kvCacheType, exact: Bool = false, promptPreset: String? = nil,
    regroup: Bool = true
  ) throws {
    let path = try modelFile(preset + ".gguf")
    let model = try LanguageModel(
      path: path,
      options: ModelOptions(
        contextLimit: 1024, threads: Self.threads, kvCacheType: kv, exactProducts: exact, loadTokenizer: false,
        repackWeights: regroup))
    let prompt = try promptTokens(promptPreset ?? preset, count: 512)
    let session = InferenceSession(model: model)
    // Warm-up: page the weights in and start the workers.
    _ = try session.evaluate(Array(prompt.prefix(80)))
    for t in prompt.prefix(4) { _ = try session.append(t) }

    var prefillBest = 0.0
    for _ in 0..<2 {
      session.reset()
      let start = DispatchTime.now().uptimeNanoseconds
      _ = try session.evaluate(prompt)
      let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
      prefillBest = max(prefillBest, Double(prompt.count) / seconds)
    }
    // Fill the cache to 512 + 64 positions for the memory figure (read before the bandwidth probe's buffer exists).
    session.reset()
    _ = try session.evaluate(prompt)
    for t in prompt.prefix(64) { _ = try session.append(t) }
    let memory = ModelFixtures.residentMemory()
    let kvBytes = session.tokens.count * session.kvBytesPerToken
    let bytesPerToken = model.weights.bytesPerToken
    // Decode 64 tokens greedily after a short prompt (llama-bench's tg64 starts from an empty context), 4 times,
    // with a bandwidth probe before the first and after each: the host's bandwidth drifts (shared machines), so
    // each run is also set against the higher of the two probes around it ("paired"), and the headline fraction
    // takes the best decode against the highest probe of the process (the stricter reading).
    let probe = BandwidthProbe(threads: Self.threads)
    var probes = [probe.measure(passes: 5)]
    var decodeBest = 0.0
    var paired = [Double]()
    for _ in 0..<4 {
      let speed = try decode64(session, after: prompt[0])
      probes.append(probe.measure(passes: 3))
      decodeBest = max(decodeBest, speed)
      paired.append(speed * Double(bytesPerToken) / max(probes[probes.count - 2], probes[probes.count - 1]))
    }
    let bandwidth = probes.max()!
    let bound = bandwidth / Double(bytesPerToken)
    let pairedMedian = paired.sorted()[paired.count / 2]
    let mib = { (b: Int) in String(format: "%.1f MiB", Double(b) / 1048576) }
    print(
      String(
        format:
          "BENCH %@ threads=%d kv=%@ products=%@%@ blas=%@: prefill(512) %.1f tok/s, decode(64) %.1f tok/s; weights read per token %@, memory bandwidth %.2f GB/s -> bound %.1f tok/s, decode at %.0f%% of bound (paired with the probes around each run: median %.0f%%, probes %.0f-%.0f GB/s); VmRSS %@ VmHWM %@ vs file %@ + KV(%d tok) %@",
        preset, Self.threads, kv.rawValue, exact ? "exact" : "q8-activations", regroup ? "" : " file-layout",
        OpenBLASCore.current, prefillBest, decodeBest,
        mib(bytesPerToken), bandwidth / 1e9, bound, 100 * decodeBest / bound, 100 * pairedMedian, probes.min()! / 1e9,
        bandwidth / 1e9, mib(memory?.current ?? 0),
        mib(memory?.peak ?? 0), mib(model.fileSize), session.tokens.count, mib(kvBytes)))
  }

  /// Decode of 64 tokens (after one prompt token) with two engine variants of the same model, alternated `rounds`
  /// times in one process so that both see the same machine load; prints the median and best of each and the
  /// median of the per-round ratios B/A.
  func decodeAB(_ preset: String, _ a: (String, ModelOptions), _ b: (String, ModelOptions), rounds: Int = 12) throws {
    let path = try modelFile(preset + ".gguf")
    let prompt = try promptTokens(preset.hasSuffix("-q8_0") ? String(preset.dropLast(5)) : preset, count: 16)
    let sessions = try [a.1, b.1].map { options -> InferenceSession in
      var o = options
      o.contextLimit = 1024
      o.threads = Self.threads
      o.loadTokenizer = false
      let session = InferenceSession(model: try LanguageModel(path: path, options: o))
      _ = try session.evaluate(prompt)
      for t in prompt.prefix(8) { _ = try session.append(t) }
      return session
    }
    print("BENCH both variants loaded: AnonHugePages \((WeightArena.residentHugePageBytes() ?? -1) >> 20) MiB")
    var ra = [Double](), rb = [Double](), ratio = [Double]()
    for round in 0..<rounds {
      // Alternate which variant goes first.
      var x = 0.0, y = 0.0
      func run(_ v: Int) throws -> Double { try decode64(sessions[v], after: prompt[0]) }
      if round % 2 == 0 {
        x = try run(0)
        y = try run(1)
      } else {
        y = try run(1)
        x = try run(0)
      }
      ra.append(x)
      rb.append(y)
      ratio.append(y / x)
    }
    let median = { (v: [Double]) in v.sorted()[v.count / 2] }
    print(
      String(
        format:
          "BENCH decode A/B %@ (%d rounds, tok/s): A %@ median %.1f best %.1f; B %@ median %.1f best %.1f; B/A median %.3f",
        preset, rounds, a.0, median(ra), ra.max()!, b.0, median(rb), rb.max()!, median(ratio)))
  }

  /// The A/B of the one-dispatch decode step (ModelOptions.fusedDecode) and of its row schedules
  /// (ModelOptions.decodeSchedule; CODEGEN_LSP_AB_SCHEDULES=1 adds the schedules).
  func decodeABFused() throws {
    let schedules = ProcessInfo.processInfo.environment["CODEGEN_LSP_AB_SCHEDULES"] == "1"
    for preset in [ModelFixtures.smollm, ModelFixtures.qwenCoder, ModelFixtures.qwenCoder + "-q8_0"] {
      try decodeAB(
        preset, ("one dispatch per product", ModelOptions(fusedDecode: false)),
        ("one dispatch per token", ModelOptions()))
      if !schedules { continue }
      for other in [RowSchedule.dynamicChunks, .staticShares] {
        var o = ModelOptions()
        o.decodeSchedule = other
        try decodeAB(preset, ("one dispatch per token, stealing", ModelOptions()), ("same, \(other)", o))
      }
    }
  }

  /// The A/B of the look-ahead's prefetch instruction (MatVecOptions.prefetchHint, default
  /// MatVecOptions.defaultPrefetchHint; CODEGEN_LSP_AB_HINT = t0, t1, t2 or nta, default the other of t0 and t1;
  /// CODEGEN_LSP_AB_LOOKAHEAD = bytes ahead for the variant, default MatVecOptions.defaultLookAheadBytes). The
  /// baseline is the engine's default unless CODEGEN_LSP_AB_HINT_A / CODEGEN_LSP_AB_LOOKAHEAD_A set it.
  func decodeABPrefetchHint() throws {
    let env = ProcessInfo.processInfo.environment
    let hints: [String: MatVecOptions.PrefetchHint] = ["t0": .t0, "t1": .t1, "t2": .t2, "nta": .nta]
    let other: MatVecOptions.PrefetchHint = MatVecOptions.defaultPrefetchHint == .t0 ? .t1 : .t0
    func variant(_ suffix: String, hint fallbackHint: MatVecOptions.PrefetchHint) -> (String, ModelOptions) {
      let hint = hints[env["CODEGEN_LSP_AB_HINT" + suffix] ?? ""] ?? fallbackHint
      let bytes = Int(env["CODEGEN_LSP_AB_LOOKAHEAD" + suffix] ?? "") ?? MatVecOptions.defaultLookAheadBytes
      var options = MatVecOptions(lookAhead: .prefetch(bytes: bytes))
      options.prefetchHint = hint
      return ("\(hint) \(bytes) B ahead", ModelOptions(matVecOptions: options))
    }
    for preset in [ModelFixtures.smollm, ModelFixtures.qwenCoder, ModelFixtures.qwenCoder + "-q8_0"] {
      try decodeAB(preset, variant("_A", hint: MatVecOptions.defaultPrefetchHint), variant("", hint: other))
    }
  }

  /// The A/B of the regrouped Q8_0 layout (ModelOptions.repackQ8_0).
  func decodeABQ8_0Groups() throws {
    var fileLayout = ModelOptions()
    fileLayout.repackQ8_0 = false
    for preset in [ModelFixtures.smollm, ModelFixtures.qwenCoder, ModelFixtures.qwenCoder + "-q8_0"] {
      try decodeAB(preset, ("Q8_0 file layout", fileLayout), ("Q8_0 regrouped", ModelOptions()))
    }
  }

  /// The A/B of where the weights live (ModelOptions.weightMemory): heap copies of the regrouped matrices (views into
  /// the file mapping for the rest) against huge-page copies of them (the default), and that against every matrix
  /// copied into huge pages.
  func decodeABHugePages() throws {
    func options(_ m: WeightMemory) -> ModelOptions {
      var o = ModelOptions()
      o.weightMemory = m
      return o
    }
    for preset in [ModelFixtures.smollm, ModelFixtures.qwenCoder, ModelFixtures.qwenCoder + "-q8_0"] {
      try decodeAB(preset, ("heap copies", options(.heap)), ("regrouped copies in huge pages", options(.hugePages)))
      try decodeAB(
        preset, ("regrouped copies in huge pages", options(.hugePages)),
        ("every matrix in huge pages", options(.hugePagesAll)))
    }
  }

  /// `decodeAB` of two kernel option sets on the three benchmark models.
  func decodeABOnBenchmarkModels(_ a: (String, MatVecOptions), _ b: (String, MatVecOptions)) throws {
    for preset in [ModelFixtures.smollm, ModelFixtures.qwenCoder, ModelFixtures.qwenCoder + "-q8_0"] {
      try decodeAB(preset, (a.0, ModelOptions(matVecOptions: a.1)), (b.0, ModelOptions(matVecOptions: b.1)))
    }
  }

  /// The A/B of a second, short look-ahead into L1 (MatVecOptions.nearPrefetchBytes): none against
  /// CODEGEN_LSP_AB_NEAR bytes (default 512), beside the default main look-ahead.
  func decodeABNearPrefetch() throws {
    let near = Int(ProcessInfo.processInfo.environment["CODEGEN_LSP_AB_NEAR"] ?? "") ?? 512
    var a = MatVecOptions(), b = MatVecOptions()
    a.nearPrefetchBytes = 0
    b.nearPrefetchBytes = near
    try decodeABOnBenchmarkModels(("main look-ahead only", a), ("plus t0 \(near) B ahead", b))
  }

  /// The A/B of the look-ahead spread over the kernels' loops (MatVecOptions.spreadPrefetch) against one burst per
  /// row pair.
  func decodeABSpreadPrefetch() throws {
    var a = MatVecOptions(), b = MatVecOptions()
    a.spreadPrefetch = false
    b.spreadPrefetch = true
    try decodeABOnBenchmarkModels(("burst per row pair", a), ("spread over the kernel", b))
  }

  /// The A/B of `pause` in the spin loop of the decode step's barriers (ModelOptions.spinPause).
  func decodeABBarrierPause() throws {
    var plain = ModelOptions()
    plain.spinPause = false
    for preset in [ModelFixtures.smollm, ModelFixtures.qwenCoder] {
      try decodeAB(preset, ("plain spin", plain), ("spin with pause", ModelOptions()))
    }
  }

  /// The A/B of the chunk-head prefetch of `matvec` (MatVecOptions.prefetchChunkHead).
  func decodeABChunkHead() throws {
    for preset in [ModelFixtures.smollm, ModelFixtures.qwenCoder] {
      try decodeAB(
        preset, ("no chunk-head prefetch", ModelOptions(matVecOptions: MatVecOptions(prefetchChunkHead: false))),
        ("chunk-head prefetch", ModelOptions()))
    }
  }

  /// The A/B of the number of row chunks per thread in `matvec` (MatVecOptions.chunksPerThread, default 8).
  func decodeABChunks() throws {
    for preset in [ModelFixtures.smollm, ModelFixtures.qwenCoder] {
      for other in [4, 16] {
        try decodeAB(
          preset, ("8 chunks/thread", ModelOptions()),
          ("\(other) chunks/thread", ModelOptions(matVecOptions: MatVecOptions(chunksPerThread: other))))
      }
    }
  }

  /// The A/B of the look-ahead distance of `matvec`: `CODEGEN_LSP_AB_LOOKAHEAD_A` bytes (default 2048) against
  /// `CODEGEN_LSP_AB_LOOKAHEAD` bytes (default 8192), on the three benchmark models. (The default of the engine is
  /// `MatVecOptions.defaultLookAheadBytes`.)
  func decodeABLookAhead() throws {
    let env = ProcessInfo.processInfo.environment
    let a = Int(env["CODEGEN_LSP_AB_LOOKAHEAD_A"] ?? "") ?? 2048
    let b = Int(env["CODEGEN_LSP_AB_LOOKAHEAD"] ?? "") ?? 8192
    func options(_ bytes: Int) -> ModelOptions {
      ModelOptions(matVecOptions: MatVecOptions(lookAhead: .prefetch(bytes: bytes)))
    }
    for preset in [ModelFixtures.smollm, ModelFixtures.qwenCoder, ModelFixtures.qwenCoder + "-q8_0"] {
      try decodeAB(preset, ("prefetch \(a) B ahead", options(a)), ("prefetch \(b) B ahead", options(b)))
    }
  }

  func benchSmolLM2() throws { try bench(ModelFixtures.smollm) }
  func benchSmolLM2Exact() throws { try bench(ModelFixtures.smollm, exact: true) }
  func benchQwenCoderExact() throws { try bench(ModelFixtures.qwenCoder, exact: true) }
  func benchQwenCoder() throws { try bench(ModelFixtures.qwenCoder) }
  func benchQwenCoderF32Cache() throws { try bench(ModelFixtures.qwenCoder, kv: .f32) }
  func benchSmolLM2F32Cache() throws { try bench(ModelFixtures.smollm, kv: .f32) }
  /// Without the load-time regrouping of Q5_0 / Q4_1 rows (BlockGroups.swift): the A/B of that choice.
  func benchQwenCoderFileLayout() throws { try bench(ModelFixtures.qwenCoder, regroup: false) }
  func benchSmolLM2FileLayout() throws { try bench(ModelFixtures.smollm, regroup: false) }
  /// The Q8_0 re-quantisation made by Benchmarks/engine/requantize_q8_0.py (skipped when absent).
  func benchQwenCoderQ8() throws {
    try bench(ModelFixtures.qwenCoder + "-q8_0", promptPreset: ModelFixtures.qwenCoder)
  }

  var all: [Benchmark] {
    [
      Benchmark("smollm2", benchSmolLM2),
      Benchmark("smollm2-exact", benchSmolLM2Exact),
      Benchmark("smollm2-f32-cache", benchSmolLM2F32Cache),
      Benchmark("smollm2-file-layout", benchSmolLM2FileLayout),
      Benchmark("qwen-coder", benchQwenCoder),
      Benchmark("qwen-coder-exact", benchQwenCoderExact),
      Benchmark("qwen-coder-f32-cache", benchQwenCoderF32Cache),
      Benchmark("qwen-coder-file-layout", benchQwenCoderFileLayout),
      Benchmark("qwen-coder-q8_0", benchQwenCoderQ8),
      Benchmark("ab-fused", decodeABFused),
      Benchmark("ab-prefetch-hint", decodeABPrefetchHint),
      Benchmark("ab-q8_0-groups", decodeABQ8_0Groups),
      Benchmark("ab-huge-pages", decodeABHugePages),
      Benchmark("ab-near-prefetch", decodeABNearPrefetch),
      Benchmark("ab-spread-prefetch", decodeABSpreadPrefetch),
      Benchmark("ab-barrier-pause", decodeABBarrierPause),
      Benchmark("ab-chunk-head", decodeABChunkHead),
      Benchmark("ab-chunks", decodeABChunks),
      Benchmark("ab-look-ahead", decodeABLookAhead),
    ]
  }
}
