import Foundation
import GGUF
import KernelsTestSupport
import Quantization

@testable import Kernels

/// Speed figures for the kernels (the real models for the per-layer figures). Run: Benchmarks/kernels/run.sh.
struct KernelBenchmarks {
  /// Memory bandwidth: a read-only sum over 1 GiB (the access pattern of a gemv) and memcpy, 1 and 2 threads.
  func memoryBandwidth() {
    let bytes = 1 << 30
    let floats = bytes / 4
    let a = UnsafeMutablePointer<Float>.allocate(capacity: floats)
    let b = UnsafeMutablePointer<Float>.allocate(capacity: floats)
    defer {
      a.deallocate()
      b.deallocate()
    }
    a.initialize(repeating: 1, count: floats)
    b.initialize(repeating: 0, count: floats)
    for threads in [1, 2] {
      let pool = ThreadPool(threads: threads)
      var sink: Float = 0
      let read = wallTime(iterations: 1, repeats: 5) {
        let partial = UnsafeMutablePointer<Float>.allocate(capacity: threads)
        pool.run { t, n in
          let r = ThreadPool.chunk(floats / 64, t, n)
          var acc = SIMD16<Float>()
          let base = UnsafeRawPointer(a)
          for i in r {
            acc += base.load(fromByteOffset: 256 * i, as: SIMD16<Float>.self)
            acc += base.load(fromByteOffset: 256 * i + 64, as: SIMD16<Float>.self)
            acc += base.load(fromByteOffset: 256 * i + 128, as: SIMD16<Float>.self)
            acc += base.load(fromByteOffset: 256 * i + 192, as: SIMD16<Float>.self)
          }
          partial[t] = acc.sum()
        }
        for t in 0..<threads { sink += partial[t] }
        partial.deallocate()
      }
      let copy = wallTime(iterations: 1, repeats: 5) {
        pool.parallelFor(floats) { r in
          (b + r.lowerBound).update(from: a + r.lowerBound, count: r.count)
        }
      }
      report(
        String(
          format: "bandwidth threads=%d read-sum %.1f GB/s  memcpy %.1f GB/s (read+write)  [%g]",
          threads, Double(bytes) / read / 1e9, 2 * Double(bytes) / copy / 1e9, sink))
      if threads == 1 {
        let readCPU = cpuTime(iterations: 1, repeats: 5) {
          var acc = SIMD16<Float>()
          let base = UnsafeRawPointer(a)
          for i in 0..<(floats / 16) { acc += base.load(fromByteOffset: 64 * i, as: SIMD16<Float>.self) }
          sink += acc.sum()
        }
        report(String(format: "bandwidth threads=1 read-sum by CPU time %.1f GB/s", Double(bytes) / readCPU / 1e9))
      }
    }
  }

  /// Cost of one empty dispatch: back-to-back (workers spinning) and after the workers parked.
  func dispatchOverhead() {
    for threads in [2, 3] {
      let pool = ThreadPool(threads: threads)
      let hot = wallTime(iterations: 100_000, repeats: 3) { pool.run { _, _ in } }
      let parked = ThreadPool(threads: threads, spinPolls: 0)
      let cold = wallTime(iterations: 20_000, repeats: 3) { parked.run { _, _ in } }
      report(String(format: "dispatch threads=%d spinning %.2f µs  parking %.2f µs", threads, hot * 1e6, cold * 1e6))
    }
  }

  /// gemv of every distinct (type, shape) of the real models: time, GB/s of weights read, fast vs exact, 1 vs 2 threads.
  func realLayerGemv() throws {
    let pools = [1: ThreadPool(threads: 1), 2: ThreadPool(threads: 2)]
    let ws = KernelWorkspace()
    for file in ["qwen2.5-coder-0.5b.gguf", "smollm2-135m.gguf"] {
      guard FileManager.default.fileExists(atPath: modelsDirectory + "/" + file) else { continue }
      let gguf = try GGUFFile(path: modelsDirectory + "/" + file)
      var seen = Set<String>()
      for info in gguf.tensors where info.dimensions.count == 2 && info.name != "token_embd.weight" {
        let key = "\(info.type) \(info.dimensions)"
        if !seen.insert(key).inserted { continue }
        let w = try WeightMatrix(info, in: gguf)
        let x = randomVector(w.cols, seed: 1)
        var y = [Float](repeating: 0, count: w.rows)
        // Touch the weights once so that page faults are not timed.
        matvec(w, x, &y, pool: pools[2]!, workspace: ws)
        let iterations = max(3, 200_000_000 / max(w.byteCount, 1))
        var line = "gemv \(file.prefix(4)) \(info.name) \(w.type) (\(w.rows)x\(w.cols)) \(w.byteCount / 1024) KiB:"
        for threads in [1, 2] {
          let t = wallTime(iterations: iterations) { matvec(w, x, &y, pool: pools[threads]!, workspace: ws) }
          line += String(format: " %dT %.1f µs %.1f GB/s;", threads, t * 1e6, Double(w.byteCount) / t / 1e9)
        }
        let tc = cpuTime(iterations: iterations) { matvec(w, x, &y, pool: pools[1]!, workspace: ws) }
        line += String(format: " 1T-cpu-time %.1f µs %.1f GB/s;", tc * 1e6, Double(w.byteCount) / tc / 1e9)
        let te = wallTime(iterations: max(1, iterations / 4), repeats: 3) {
          matvec(w, x, &y, pool: pools[2]!, workspace: ws, precision: .exact)
        }
        line += String(format: " exact-2T %.1f GB/s", Double(w.byteCount) / te / 1e9)
        report(line)
      }
    }
  }

  /// Q4_1 / Q5_0 rows of the real layer shapes, two rows per call, 1 thread, CPU time: the one-block-per-step
  /// kernels (DotAVX2.swift) against the two-blocks-per-step kernels (DotPairsAVX2.swift) that `matvec` uses.
  func pairKernelsAgainstOneBlockKernels() throws {
    #if arch(x86_64)
      let ws = KernelWorkspace()
      for file in ["qwen2.5-coder-0.5b.gguf", "smollm2-135m.gguf"] {
        guard FileManager.default.fileExists(atPath: modelsDirectory + "/" + file) else { continue }
        let gguf = try GGUFFile(path: modelsDirectory + "/" + file)
        var seen = Set<String>()
        for info in gguf.tensors where info.dimensions.count == 2 && (info.type == .q4_1 || info.type == .q5_0) {
          let key = "\(info.type) \(info.dimensions)"
          if !seen.insert(key).inserted { continue }
          let w = try WeightMatrix(info, in: gguf)
          let x = randomVector(w.cols, seed: 1)
          let a = ws.activations(count: w.cols, layout: .q8)
          quantizeActivations(x, count: w.cols, layout: .q8, into: a)
          let blocks = w.cols / 32
          var y = [Float](repeating: 0, count: w.rows + 1)
          let (g, owner) = BlockGroups.regrouped(w)
          func sweepGroups() {
            var r = 0
            while r + 1 < w.rows {
              (y[r], y[r + 1]) = AVX2Groups.dot2(g.row(r), g.row(r + 1), a, blocks: blocks, q5: w.type == .q5_0)
              r += 2
            }
          }
          func sweep(pairs: Bool) {
            var r = 0
            while r + 1 < w.rows {
              switch (w.type, pairs) {
              case (.q4_1, false): (y[r], y[r + 1]) = AVX2Dot.q4_1x2(w.row(r), w.row(r + 1), a, blocks: blocks)
              case (.q4_1, true): (y[r], y[r + 1]) = AVX2PairDot.q4_1x2(w.row(r), w.row(r + 1), a, blocks: blocks)
              case (_, false): (y[r], y[r + 1]) = AVX2Dot.q5_0x2(w.row(r), w.row(r + 1), a, blocks: blocks)
              case (_, true): (y[r], y[r + 1]) = AVX2PairDot.q5_0x2(w.row(r), w.row(r + 1), a, blocks: blocks)
              }
              r += 2
            }
          }
          let iterations = max(3, 100_000_000 / max(w.byteCount, 1))
          sweep(pairs: true)
          // Interleaved repeats so that both see the same machine load.
          var one = Double.infinity, two = Double.infinity, four = Double.infinity
          for _ in 0..<5 {
            one = min(one, cpuTime(iterations: iterations, repeats: 1) { sweep(pairs: false) })
            two = min(two, cpuTime(iterations: iterations, repeats: 1) { sweep(pairs: true) })
            four = min(four, cpuTime(iterations: iterations, repeats: 1) { sweepGroups() })
          }
          withExtendedLifetime(owner) {}
          report(
            String(
              format:
                "pair-kernels %@ %@ %@ (%dx%d): one block/step %.1f µs %.1f GB/s; two blocks/step %.1f µs %.1f GB/s"
                + " (%.2fx); regrouped %.1f µs %.1f GB/s (%.2fx)",
              String(file.prefix(4)), info.name, "\(w.type)", w.rows, w.cols, one * 1e6,
              Double(w.byteCount) / one / 1e9, two * 1e6, Double(w.byteCount) / two / 1e9, one / two,
              four * 1e6, Double(w.byteCount) / four / 1e9, one / four))
        }
      }
    #endif
  }

  /// All weight matrices of a decode step (every layer's matrices and the output head, once each) with 2 threads:
  /// the kernels' share of a token's time, and the bound it implies.
  func decodeWeightSweep() throws {
    let pool = ThreadPool(threads: 2)
    let ws = KernelWorkspace()
    for file in ["qwen2.5-coder-0.5b.gguf", "smollm2-135m.gguf"] {
      guard FileManager.default.fileExists(atPath: modelsDirectory + "/" + file) else { continue }
      let gguf = try GGUFFile(path: modelsDirectory + "/" + file)
      let mats = try decodeStepMatrices(gguf)
      let maxCols = mats.map(\.cols).max()!
      let maxRows = mats.map(\.rows).max()!
      let x = randomVector(maxCols, seed: 3)
      var y = [Float](repeating: 0, count: maxRows)
      let bytes = mats.reduce(0) { $0 + $1.byteCount }
      for w in mats { matvec(w, x, &y, pool: pool, workspace: ws) }
      let t = wallTime(iterations: 10, repeats: 5) {
        for w in mats { matvec(w, x, &y, pool: pool, workspace: ws) }
      }
      report(
        String(
          format: "decode-sweep %@: %d matrices, %.1f MB/token, 2T %.2f ms/token = %.1f tok/s, %.1f GB/s",
          file, mats.count, Double(bytes) / 1e6, t * 1e3, 1 / t, Double(bytes) / t / 1e9))
      let single = ThreadPool(threads: 1)
      let tc = cpuTime(iterations: 5, repeats: 3) {
        for w in mats { matvec(w, x, &y, pool: single, workspace: ws) }
      }
      report(
        String(
          format: "decode-sweep %@: 1T CPU time %.2f ms/token (%.1f GB/s per core)",
          file, tc * 1e3, Double(bytes) / tc / 1e9))
      // Per weight type: the share of the token's bytes and the speed of its kernel (1 thread, CPU time).
      for type in Set(mats.map(\.type)).sorted(by: { $0.rawValue < $1.rawValue }) {
        let group = mats.filter { $0.type == type }
        let groupBytes = group.reduce(0) { $0 + $1.byteCount }
        let tt = cpuTime(iterations: 3, repeats: 3) {
          for w in group { matvec(w, x, &y, pool: single, workspace: ws) }
        }
        report(
          String(
            format: "decode-sweep %@ type %@: %d matrices, %.1f MB (%.0f%%), 1T CPU %.2f ms/token, %.1f GB/s",
            file, "\(type)", group.count, Double(groupBytes) / 1e6, 100 * Double(groupBytes) / Double(bytes),
            tt * 1e3, Double(groupBytes) / tt / 1e9))
      }
      // Q5_0 and Q4_1 regrouped at load as the engine does (BlockGroups.swift) against the file layout.
      var owners = [PackedWeightStorage]()
      let regrouped = mats.map { w -> WeightMatrix in
        guard let (p, o) = BlockGroups.repack(w) else { return w }
        owners.append(o)
        return p
      }
      if !owners.isEmpty {
        let kind = mats.contains { $0.type == .q5_0 } ? GGMLType.q5_0 : .q4_1
        let q5 = mats.filter { $0.type == kind }, q5g = regrouped.filter { $0.type == kind }
        let q5Bytes = q5.reduce(0) { $0 + $1.byteCount }
        var plain = Double.infinity, grouped = Double.infinity, wallPlain = Double.infinity,
          wallGrouped = Double.infinity
        for _ in 0..<3 {
          plain = min(
            plain, cpuTime(iterations: 3, repeats: 1) { for w in q5 { matvec(w, x, &y, pool: single, workspace: ws) } })
          grouped = min(
            grouped,
            cpuTime(iterations: 3, repeats: 1) { for w in q5g { matvec(w, x, &y, pool: single, workspace: ws) } })
          wallPlain = min(
            wallPlain,
            wallTime(iterations: 5, repeats: 1) { for w in mats { matvec(w, x, &y, pool: pool, workspace: ws) } }
          )
          wallGrouped = min(
            wallGrouped,
            wallTime(iterations: 5, repeats: 1) { for w in regrouped { matvec(w, x, &y, pool: pool, workspace: ws) } })
        }
        report(
          String(
            format:
              "decode-sweep %@ %@ file layout: 1T CPU %.2f ms/token (%.1f GB/s); regrouped: %.2f ms/token (%.1f GB/s)",
            file, "\(kind)", plain * 1e3, Double(q5Bytes) / plain / 1e9, grouped * 1e3, Double(q5Bytes) / grouped / 1e9)
        )
        report(
          String(
            format:
              "decode-sweep %@ whole sweep 2T wall: file layout %.2f ms/token, regrouped %.2f ms/token (%.1f GB/s)",
            file, wallPlain * 1e3, wallGrouped * 1e3, Double(bytes) / wallGrouped / 1e9))
      }
      withExtendedLifetime(owners) {}
      // A/B of the decode kernel choices on the whole sweep, interleaved so that every variant sees the same
      // machine load: the one- vs two-blocks-per-step Q4_1 / Q5_0 kernels, and the look-ahead modes.
      let variants: [(String, MatVecOptions)] = [
        ("one block/step, no look-ahead", MatVecOptions(lookAhead: .none, pairKernels: false)),
        ("two blocks/step, no look-ahead", MatVecOptions(lookAhead: .none)),
        ("two blocks/step, load 2 KiB ahead", MatVecOptions(lookAhead: .load(bytes: 2048))),
        ("two blocks/step, prefetch 1 KiB ahead", MatVecOptions(lookAhead: .prefetch(bytes: 1024))),
        ("two blocks/step, prefetch 2 KiB ahead", MatVecOptions(lookAhead: .prefetch(bytes: 2048))),
        ("two blocks/step, prefetch 4 KiB ahead", MatVecOptions(lookAhead: .prefetch(bytes: 4096))),
        ("two blocks/step, prefetch 8 KiB ahead", MatVecOptions(lookAhead: .prefetch(bytes: 8192))),
      ]
      var cpu = [Double](repeating: .infinity, count: variants.count)
      var wall = [Double](repeating: .infinity, count: variants.count)
      for _ in 0..<3 {
        for (i, v) in variants.enumerated() {
          cpu[i] = min(
            cpu[i],
            cpuTime(iterations: 3, repeats: 1) {
              for w in mats { matvec(w, x, &y, pool: single, workspace: ws, options: v.1) }
            })
          wall[i] = min(
            wall[i],
            wallTime(iterations: 5, repeats: 1) {
              for w in mats { matvec(w, x, &y, pool: pool, workspace: ws, options: v.1) }
            })
        }
      }
      for (i, v) in variants.enumerated() {
        report(
          String(
            format: "decode-sweep %@ %@: 1T CPU %.2f ms/token, 2T wall %.2f ms/token (%.1f GB/s)",
            file, v.0, cpu[i] * 1e3, wall[i] * 1e3, Double(bytes) / wall[i] / 1e9))
      }
    }
  }

  /// Prefill: matmul of a 512-token batch through each distinct layer shape (dequantised tiles + sgemm), GFLOP/s.
  func prefillMatmul() throws {
    let pool = ThreadPool(threads: 2)
    let ws = KernelWorkspace()
    let batch = Int(ProcessInfo.processInfo.environment["CODEGEN_LSP_BENCH_BATCH"] ?? "512")!
    for file in ["qwen2.5-coder-0.5b.gguf", "smollm2-135m.gguf"] {
      guard FileManager.default.fileExists(atPath: modelsDirectory + "/" + file) else { continue }
      let gguf = try GGUFFile(path: modelsDirectory + "/" + file)
      var seen = Set<String>()
      var totalFlops = 0.0
      var totalTime = 0.0
      for info in gguf.tensors where info.dimensions.count == 2 && info.name.hasPrefix("blk.") {
        let w = try WeightMatrix(info, in: gguf)
        let key = "\(info.type) \(info.dimensions)"
        let x = randomVector(batch * w.cols, seed: 5)
        var y = [Float](repeating: 0, count: batch * w.rows)
        let t: Double
        if seen.insert(key).inserted {
          t = wallTime(iterations: 1, repeats: 3) { matmul(w, x, batch: batch, &y, pool: pool, workspace: ws) }
          let flops = 2.0 * Double(batch) * Double(w.rows) * Double(w.cols)
          report(
            String(
              format:
                "prefill \(file.prefix(4)) \(info.name) \(w.type) (\(w.rows)x\(w.cols)) batch %d: %.1f ms %.1f GFLOP/s",
              batch, t * 1e3, flops / t / 1e9))
          totalFlops += flops
          totalTime += t
        }
      }
      report(
        String(format: "prefill \(file.prefix(4)) distinct shapes: %.1f GFLOP/s overall", totalFlops / totalTime / 1e9))
    }
  }

  /// Prefill threading: (A) the pool splits rows and OpenBLAS runs single-threaded in each share (what `matmul`
  /// does) against (B) the pool dequantises the whole matrix and one sgemm runs on OpenBLAS's 2 threads.
  func prefillThreadingChoice() throws {
    let gguf = try GGUFFile(path: modelFile("qwen2.5-coder-0.5b.gguf"))
    let batch = 512
    let ws = KernelWorkspace()
    for name in ["blk.0.ffn_gate.weight", "blk.0.ffn_down.weight", "blk.0.attn_q.weight"] {
      let w = try WeightMatrix(gguf.requireTensor(named: name), in: gguf)
      let x = randomVector(batch * w.cols, seed: 5)
      var y = [Float](repeating: 0, count: batch * w.rows)
      let flops = 2.0 * Double(batch) * Double(w.rows) * Double(w.cols)
      let poolA = ThreadPool(threads: 2)
      let a = wallTime(iterations: 1, repeats: 3) { matmul(w, x, batch: batch, &y, pool: poolA, workspace: ws) }
      let poolB = ThreadPool(threads: 2, spinPolls: 0)
      let full = UnsafeMutablePointer<Float>.allocate(capacity: w.rows * w.cols)
      defer { full.deallocate() }
      let b = wallTime(iterations: 1, repeats: 3) {
        poolB.parallelFor(w.rows) { r in
          QuantTraits.fastDequantize(
            w.type, w.row(r.lowerBound), count: r.count * w.cols, into: full + r.lowerBound * w.cols)
        }
        setOpenBLASThreads(2)
        sgemm(transB: true, m: batch, n: w.rows, k: w.cols, a: x, b: full, c: &y)
        setOpenBLASThreads(1)
      }
      let dq = wallTime(iterations: 1, repeats: 3) {
        poolB.parallelFor(w.rows) { r in
          QuantTraits.fastDequantize(
            w.type, w.row(r.lowerBound), count: r.count * w.cols, into: full + r.lowerBound * w.cols)
        }
      }
      setOpenBLASThreads(1)
      let g1 = cpuTime(iterations: 1, repeats: 3) {
        sgemm(transB: true, m: batch, n: w.rows, k: w.cols, a: x, b: full, c: &y)
      }
      let single = ThreadPool(threads: 1)
      let m1 = cpuTime(iterations: 1, repeats: 3) { matmul(w, x, batch: batch, &y, pool: single, workspace: ws) }
      report(
        String(
          format: "prefill-threading %@ %@ (%dx%d) batch %d: pool+1-thread BLAS %.1f GFLOP/s; "
            + "2-thread BLAS %.1f GFLOP/s; dequant alone %.2f ms (2T); 1T CPU time: sgemm %.1f GFLOP/s, matmul %.1f GFLOP/s",
          name, "\(w.type)", w.rows, w.cols, batch, flops / a / 1e9, flops / b / 1e9, dq * 1e3, flops / g1 / 1e9,
          flops / m1 / 1e9))
    }
  }

  /// Fixed cost of one matvec call: tiny matrices, 1 thread, CPU time.
  func callOverhead() {
    let ws = KernelWorkspace()
    let pool = ThreadPool(threads: 1)
    for (type, rows, cols) in [
      (GGMLType.q5_0, 1, 896), (.q5_0, 128, 896), (.q8_0, 1, 896), (.q4_K, 1, 4864), (.f32, 1, 896),
    ] {
      let m = TestMatrix.random(type, rows: rows, cols: cols, seed: 1)
      let x = randomVector(cols, seed: 2)
      var y = [Float](repeating: 0, count: rows)
      let t = cpuTime(iterations: 20000) { matvec(m.matrix, x, &y, pool: pool, workspace: ws) }
      report(String(format: "call %@ %dx%d: %.2f µs", "\(type)", rows, cols, t * 1e6))
    }
    let x = randomVector(896, seed: 2)
    let a = ws.activations(count: 896, layout: .q8)
    let tq = cpuTime(iterations: 20000) { quantizeActivations(x, count: 896, layout: .q8, into: a) }
    report(String(format: "quantize 896 q8: %.2f µs", tq * 1e6))
    let n = 512 * 4864
    let g = randomVector(n, seed: 3, range: -8...8)
    let u = randomVector(n, seed: 4)
    var out = [Float](repeating: 0, count: n)
    let ts = cpuTime(iterations: 3) { swiglu(gate: g, up: u, out: &out, count: n) }
    report(String(format: "swiglu 512x4864: %.2f ms (%.2f ns/element)", ts * 1e3, ts / Double(n) * 1e9))
    var row = randomVector(512, seed: 5, range: -10...10)
    let tsm = cpuTime(iterations: 10000) { softmax(&row, count: 512) }
    report(String(format: "softmax 512: %.2f µs", tsm * 1e6))
  }

  /// Opening a model: mapping and parsing the header, metadata (incl. the vocabulary arrays) and tensor directory.
  func ggufOpen() throws {
    for file in ["qwen2.5-coder-0.5b.gguf", "smollm2-135m.gguf"] {
      let path = modelsDirectory + "/" + file
      guard FileManager.default.fileExists(atPath: path) else { continue }
      var tensors = 0
      let t = cpuTime(iterations: 3, repeats: 3) { tensors = (try? GGUFFile(path: path))?.tensors.count ?? -1 }
      report(String(format: "gguf-open %@: %.1f ms CPU (%d tensors)", file, t * 1e3, tensors))
    }
  }

  /// Small batches: multi-token quantised kernels vs dequantise + sgemm vs one matvec per token (1 thread, CPU time).
  func smallBatchCrossover() throws {
    let gguf = try GGUFFile(path: modelFile("qwen2.5-coder-0.5b.gguf"))
    let ws = KernelWorkspace()
    let pool = ThreadPool(threads: 1)
    for name in ["blk.0.ffn_gate.weight", "blk.0.ffn_down.weight", "blk.2.ffn_down.weight"] {
      let w = try WeightMatrix(gguf.requireTensor(named: name), in: gguf)
      for batch in [2, 4, 8, 16, 32, 64, 128] {
        let x = randomVector(batch * w.cols, seed: 9)
        var y = [Float](repeating: 0, count: batch * w.rows)
        let iterations = max(2, 64 / batch)
        let multi = cpuTime(iterations: iterations, repeats: 3) {
          _ = matmulMultiToken(w, x, batch: batch, &y, pool: pool, workspace: ws)
        }
        let gemm = cpuTime(iterations: iterations, repeats: 3) {
          matmulGEMM(w, x, batch: batch, &y, pool: pool, workspace: ws)
        }
        let perToken = cpuTime(iterations: iterations, repeats: 3) {
          x.withUnsafeBufferPointer { xb in
            y.withUnsafeMutableBufferPointer { yb in
              for b in 0..<batch {
                matvec(w, xb.baseAddress! + b * w.cols, yb.baseAddress! + b * w.rows, pool: pool, workspace: ws)
              }
            }
          }
        }
        report(
          String(
            format:
              "small-batch %@ %@ batch %d: multi-token %.2f ms, dequant+sgemm %.2f ms, matvec/token %.2f ms (1T CPU)",
            name, "\(w.type)", batch, multi * 1e3, gemm * 1e3, perToken * 1e3))
      }
    }
  }

  var all: [Benchmark] {
    [
      Benchmark("memory-bandwidth", memoryBandwidth),
      Benchmark("dispatch-overhead", dispatchOverhead),
      Benchmark("real-layer-gemv", realLayerGemv),
      Benchmark("pair-kernels-against-one-block-kernels", pairKernelsAgainstOneBlockKernels),
      Benchmark("decode-weight-sweep", decodeWeightSweep),
      Benchmark("prefill-matmul", prefillMatmul),
      Benchmark("prefill-threading-choice", prefillThreadingChoice),
      Benchmark("call-overhead", callOverhead),
      Benchmark("gguf-open", ggufOpen),
      Benchmark("small-batch-crossover", smallBatchCrossover),
    ]
  }
}
