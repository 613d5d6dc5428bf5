import Foundation
import GGUF
import KernelsTestSupport

@testable import Kernels

/// How close the decode products come to a pure read of the same bytes: every weight matrix of one token, once
/// through `matvec` and once summed as floats with the same thread pool, the same chunks of rows and the same
/// look-ahead, interleaved. The difference is the cost of the arithmetic on top of the memory traffic.
/// Prints figures, asserts nothing about speed.
struct StreamCeilingBenchmark {
  func run() throws {
    let dir = modelsDirectory
    let pool = ThreadPool(threads: 2)
    let ws = KernelWorkspace()
    func wall(_ body: () -> Void) -> Double {
      let s = DispatchTime.now().uptimeNanoseconds
      body()
      return Double(DispatchTime.now().uptimeNanoseconds - s) / 1e9
    }
    // The denominator of the engine benchmark's bound: a read-sum over 512 MiB of anonymous memory, halves per thread.
    let anonBytes = 512 << 20
    let anon = UnsafeMutableRawPointer.allocate(byteCount: anonBytes, alignment: 64)
    anon.initializeMemory(as: UInt8.self, repeating: 1, count: anonBytes)
    defer { anon.deallocate() }
    let anonSums = UnsafeMutablePointer<Float>.allocate(capacity: 64)
    defer { anonSums.deallocate() }
    func anonymousRead() -> Double {
      wall {
        pool.run { t, n in
          let r = ThreadPool.chunk(anonBytes / 256, t, n)
          var acc = SIMD16<Float>()
          for i in r {
            acc += anon.load(fromByteOffset: 256 * i, as: SIMD16<Float>.self)
            acc += anon.load(fromByteOffset: 256 * i + 64, as: SIMD16<Float>.self)
            acc += anon.load(fromByteOffset: 256 * i + 128, as: SIMD16<Float>.self)
            acc += anon.load(fromByteOffset: 256 * i + 192, as: SIMD16<Float>.self)
          }
          anonSums[8 * t] += acc.sum()
        }
      }
    }
    for file in ["smollm2-135m.gguf", "qwen2.5-coder-0.5b.gguf"] {
      guard FileManager.default.fileExists(atPath: dir + "/" + file) else { continue }
      let gguf = try GGUFFile(path: dir + "/" + file)
      let mats = try decodeStepMatrices(gguf)
      let total = mats.reduce(0) { $0 + $1.byteCount }
      let maxCols = mats.map(\.cols).max()!, maxRows = mats.map(\.rows).max()!
      let x = (0..<maxCols).map { Float(sin(Double($0))) }
      var y = [Float](repeating: 0, count: maxRows)
      let sums = UnsafeMutablePointer<Float>.allocate(capacity: 64)
      defer { sums.deallocate() }
      /// The same schedule as `matvecs`, with a float sum of each chunk's bytes instead of the products.
      func pureRead(_ w: WeightMatrix, prefetch: Bool) {
        let chunkRows = MatmulTuning.chunkRows(w.rows, threads: pool.threadCount)
        pool.runDynamic(chunks: (w.rows + chunkRows - 1) / chunkRows) { chunk, thread in
          let lo = chunk * chunkRows, hi = min(w.rows, lo + chunkRows)
          var ahead = LookAhead(w, prefetch ? .prefetch(bytes: MatVecOptions.defaultLookAheadBytes) : .none)
          ahead.touchHead(row: lo)
          let p = w.row(lo)
          let bytes = (hi - lo) * w.rowBytes
          var acc = SIMD16<Float>()
          var i = 0
          var r = lo
          while i + 64 <= bytes {
            if (i + 64) / w.rowBytes != i / w.rowBytes, r < hi {
              ahead.touch(rows: r..<(r + 1))
              r += 1
            }
            acc += p.loadUnaligned(fromByteOffset: i, as: SIMD16<Float>.self)
            i += 64
          }
          sums[thread * 8] += acc.sum()
        }
      }
      /// Thread t reads its half of the rows of every matrix in turn, with no barrier between matrices.
      func oneDispatch(_ mats: [WeightMatrix]) {
        pool.run { t, n in
          var acc = SIMD16<Float>()
          for w in mats {
            let r = ThreadPool.chunk(w.rows, t, n)
            if r.isEmpty { continue }
            var ahead = LookAhead(w, .prefetch(bytes: MatVecOptions.defaultLookAheadBytes))
            ahead.touchHead(row: r.lowerBound)
            let p = w.row(r.lowerBound)
            let bytes = r.count * w.rowBytes
            var i = 0
            var row = r.lowerBound
            while i + 64 <= bytes {
              if (i + 64) / w.rowBytes != i / w.rowBytes, row < r.upperBound {
                ahead.touch(rows: row..<(row + 1))
                row += 1
              }
              acc += p.loadUnaligned(fromByteOffset: i, as: SIMD16<Float>.self)
              i += 64
            }
          }
          sums[t * 8] += acc.sum()
        }
      }
      // Quantised activations for every column count, made once (the fused variants below reuse them).
      var q8 = [Int: QuantizedActivations](), q8K = [Int: QuantizedActivations]()
      var keep = [KernelWorkspace]()
      for cols in Set(mats.map(\.cols)) {
        let a = KernelWorkspace(), b = KernelWorkspace()
        keep += [a, b]
        q8[cols] = a.activations(count: cols, layout: .q8)
        quantizeActivations(x, count: cols, layout: .q8, into: q8[cols]!)
        if cols % 256 == 0 {
          q8K[cols] = b.activations(count: cols, layout: .q8K)
          quantizeActivations(x, count: cols, layout: .q8K, into: q8K[cols]!)
        }
      }
      let barrier = SpinBarrier(parties: pool.threadCount)
      let options = MatVecOptions()
      /// Even row shares of `rows` (the kernels take rows in pairs).
      func share(_ rows: Int, _ t: Int, _ n: Int) -> Range<Int> { alignedShare(rows, t, n, multiple: 2) }
      /// Every product of the token in one dispatch: static halves, a spin barrier after each matrix (as the
      /// dependencies of a forward pass need), and the head of the thread's next share prefetched before it waits.
      func productsFused(barriers: Bool, nextHead: Bool, _ mats: [WeightMatrix]) {
        pool.run { t, n in
          for (i, w) in mats.enumerated() {
            y.withUnsafeMutableBufferPointer { yb in
              matvecRows(
                w, x, yb.baseAddress!, rows: share(w.rows, t, n), q8: q8[w.cols], q8K: q8K[w.cols], precision: .fast,
                rowBuffer: nil, options: options)
            }
            if nextHead && i + 1 < mats.count {
              let next = mats[i + 1]
              var ahead = LookAhead(next, options.lookAhead)
              ahead.touchHead(row: share(next.rows, t, n).lowerBound)
            }
            if barriers { barrier.wait() }
          }
        }
      }
      /// One dispatch per matrix with static halves (no dynamic chunks).
      func productsStatic() {
        for w in mats {
          pool.run { t, n in
            y.withUnsafeMutableBufferPointer { yb in
              matvecRows(
                w, x, yb.baseAddress!, rows: share(w.rows, t, n), q8: q8[w.cols], q8K: q8K[w.cols], precision: .fast,
                rowBuffer: nil, options: options)
            }
          }
        }
      }
      var fused = [Double](), fusedNoHead = [Double](), fusedFree = [Double](), staticPer = [Double]()
      var single = [Double](), anonymous = [Double](), singleHuge = [Double](), fusedHuge = [Double]()
      // The same matrices copied into one huge-page arena (WeightArena), in the same order.
      let arena = WeightArena(capacity: mats.reduce(0) { $0 + $1.byteCount + 64 })!
      let huge = mats.map { w -> WeightMatrix in
        let dst = arena.allocate(w.byteCount)!
        dst.copyMemory(from: w.data, byteCount: w.byteCount)
        return WeightMatrix(rows: w.rows, cols: w.cols, type: w.type, data: dst, packing: w.packing)
      }
      for w in mats { matvec(w, x, &y, pool: pool, workspace: ws) }
      var products = [Double](), read = [Double](), readNoPrefetch = [Double]()
      for _ in 0..<9 {
        products.append(wall { for _ in 0..<3 { for w in mats { matvec(w, x, &y, pool: pool, workspace: ws) } } } / 3)
        read.append(wall { for _ in 0..<3 { for w in mats { pureRead(w, prefetch: true) } } } / 3)
        single.append(wall { for _ in 0..<3 { oneDispatch(mats) } } / 3)
        singleHuge.append(wall { for _ in 0..<3 { oneDispatch(huge) } } / 3)
        fusedHuge.append(wall { for _ in 0..<3 { productsFused(barriers: true, nextHead: false, huge) } } / 3)
        anonymous.append(Double(anonBytes) / anonymousRead() / 1e9)
        fused.append(wall { for _ in 0..<3 { productsFused(barriers: true, nextHead: true, mats) } } / 3)
        fusedNoHead.append(wall { for _ in 0..<3 { productsFused(barriers: true, nextHead: false, mats) } } / 3)
        fusedFree.append(wall { for _ in 0..<3 { productsFused(barriers: false, nextHead: true, mats) } } / 3)
        staticPer.append(wall { for _ in 0..<3 { productsStatic() } } / 3)
        readNoPrefetch.append(wall { for _ in 0..<3 { for w in mats { pureRead(w, prefetch: false) } } } / 3)
      }
      let median = { (v: [Double]) in v.sorted()[v.count / 2] }
      let gb = { (t: Double) in Double(total) / t / 1e9 }
      print(
        String(
          format:
            "BENCH stream-ceiling %@ %.1f MB, 2T medians: products %.2f ms (%.1f GB/s), pure read with look-ahead %.2f ms (%.1f GB/s), without %.2f ms (%.1f GB/s)",
          file, Double(total) / 1e6, median(products) * 1e3, gb(median(products)), median(read) * 1e3, gb(median(read)),
          median(readNoPrefetch) * 1e3, gb(median(readNoPrefetch))))
      print(
        String(
          format:
            "BENCH stream-ceiling %@: pure read, one dispatch for the whole token, halves of each matrix %.2f ms (%.1f GB/s); read-sum of 512 MiB of anonymous memory %.1f GB/s",
          file, median(single) * 1e3, gb(median(single)), median(anonymous)))
      print(
        String(
          format:
            "BENCH stream-ceiling %@: products in one dispatch, static halves: barriers + next head %.2f ms (%.1f GB/s), barriers only %.2f ms (%.1f GB/s), no barriers %.2f ms (%.1f GB/s); one static dispatch per matrix %.2f ms (%.1f GB/s)",
          file, median(fused) * 1e3, gb(median(fused)), median(fusedNoHead) * 1e3, gb(median(fusedNoHead)),
          median(fusedFree) * 1e3, gb(median(fusedFree)), median(staticPer) * 1e3, gb(median(staticPer))))
      print(
        String(
          format:
            "BENCH stream-ceiling %@: copied into huge pages (AnonHugePages %d MiB): pure read in one dispatch %.2f ms (%.1f GB/s), products in one dispatch with barriers %.2f ms (%.1f GB/s)",
          file, (WeightArena.residentHugePageBytes() ?? -1) >> 20, median(singleHuge) * 1e3, gb(median(singleHuge)),
          median(fusedHuge) * 1e3, gb(median(fusedHuge))))
      withExtendedLifetime(arena) {}
    }
  }
}
