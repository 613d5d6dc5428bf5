import Foundation
import GGUF
import Kernels
import Quantization

/// The transformer forward pass of the llama family over a chunk of tokens, writing keys and values into the KV
/// cache (after llama2.c `forward()` and llama.cpp `llm_build_llama` / `llm_build_qwen2`).
///
/// Per block, for the n tokens of the chunk at positions start..<start+n:
/// ```
/// h = rmsnorm(x) * attn_norm                         // (n, embd)
/// q = h Wq^T + bq, k = h Wk^T + bk, v = h Wv^T + bv   // (n, qDim), (n, kvDim), (n, kvDim)
/// q, k = rope(q, k, positions)                        // normal (llama) or NeoX (qwen2) pairing
/// cache[layer, kvHead, start..<start+n] = k, v
/// a_h = softmax(q_h K_g^T / sqrt(hd) + causal mask) V_g   // head h reads kv head g = h / (heads / kvHeads)
/// x += a Wo^T
/// h = rmsnorm(x) * ffn_norm
/// x += (silu(h Wgate^T) * (h Wup^T)) Wdown^T
/// ```
/// then `logits = rmsnorm(x) * output_norm Wout^T` for the rows asked for.
///
/// - Important: owned by one session; not thread-safe. Internally it fans work out to its worker pool.
final class ForwardPass {
  let config: ModelConfig
  let weights: ModelWeights
  let cache: KVCache
  /// Most tokens per forward call (scratch buffers are sized for it).
  let chunk: Int
  /// Persistent workers (the caller is worker 0); owned by this pass, so sessions never share one.
  let pool: ThreadPool
  let workspace = KernelWorkspace()
  /// Activation precision of the decode products.
  let precision: MatVecPrecision
  /// Kernel choices of the decode products.
  let matVecOptions: MatVecOptions
  /// Chunks of at least this many tokens use dequantised tiles and sgemm; smaller ones one matrix-vector product
  /// per token (tests and measurements change it).
  /// Measured on the preset models (2 threads): dequantising a whole model costs about as much as 2 (SmolLM2) to
  /// 12 (Qwen2.5-Coder-0.5B) quantised matrix-vector passes.
  var batchedMinimumRows = 8
  let workers: Int
  /// Decode a single token as one pool dispatch whose threads meet at spin barriers between dependent steps
  /// (`decodeStep`), instead of one dispatch per product.
  let fusedDecode: Bool
  /// The meeting point of the pool's threads inside `decodeStep`.
  private let barrier: SpinBarrier
  /// How `decodeStep` hands out the rows of each product.
  let decodeSchedule: RowSchedule
  /// The counters behind `decodeSchedule`.
  private let rowState: PhaseRowState
  /// Per pool thread: the normed input of a sub-block (embd), and the activations quantised from it.
  private let threadInput: [UnsafeMutablePointer<Float>]
  private let threadActivations: [ThreadActivations]
  /// Per layer, the decode products with their outputs (built once: `decodeStep` allocates nothing per token).
  private var decodeProducts: [DecodeProducts] = []
  private let headMatrices: [WeightMatrix]

  // Scratch, sized for `chunk` rows.
  private let x: UnsafeMutablePointer<Float>  // (chunk, embd) residual stream
  private let xb: UnsafeMutablePointer<Float>  // (chunk, embd) normed input of a sub-block
  private let xb2: UnsafeMutablePointer<Float>  // (chunk, embd) output of a sub-block
  private let q: UnsafeMutablePointer<Float>  // (chunk, qDim)
  private let k: UnsafeMutablePointer<Float>  // (chunk, kvDim)
  private let v: UnsafeMutablePointer<Float>  // (chunk, kvDim)
  private let att: UnsafeMutablePointer<Float>  // (chunk, qDim) attention output
  private let hb: UnsafeMutablePointer<Float>  // (chunk, ffn)
  private let hb2: UnsafeMutablePointer<Float>  // (chunk, ffn)
  private let scores: UnsafeMutablePointer<Float>  // (workers, chunk, capacity)
  private let kv32: UnsafeMutablePointer<Float>?  // (workers, 2, capacity, headDim) F16 cache rows as F32
  private let ropeCos: UnsafeMutablePointer<Float>  // (chunk, rot/2)
  private let ropeSin: UnsafeMutablePointer<Float>  // (chunk, rot/2)
  /// Inverse frequencies of the rotated pairs, times the linear scaling factor.  // (rot/2)
  private let invFreq: [Double]

  init(
    config: ModelConfig, weights: ModelWeights, cache: KVCache, chunk: Int, threads: Int, precision: MatVecPrecision,
    matVecOptions: MatVecOptions = MatVecOptions(), fusedDecode: Bool = true,
    decodeSchedule: RowSchedule = .stealing, spinPause: Bool = true
  ) {
    self.decodeSchedule = decodeSchedule
    self.matVecOptions = matVecOptions
    self.config = config
    self.weights = weights
    self.cache = cache
    self.chunk = chunk
    self.pool = ThreadPool(threads: threads > 0 ? threads : ThreadPool.defaultThreadCount)
    self.workers = pool.threadCount
    self.fusedDecode = fusedDecode && config.headDimension % 8 == 0
    barrier = SpinBarrier(parties: pool.threadCount, pauses: spinPause)
    rowState = PhaseRowState(threads: pool.threadCount)
    threadInput = (0..<pool.threadCount).map { _ in
      .allocate(capacity: config.embeddingLength)
    }
    threadActivations = (0..<pool.threadCount).map { _ in ThreadActivations() }
    headMatrices = [weights.output]
    self.precision = precision
    let embd = config.embeddingLength
    x = .allocate(capacity: chunk * embd)
    xb = .allocate(capacity: chunk * embd)
    xb2 = .allocate(capacity: chunk * embd)
    q = .allocate(capacity: chunk * config.queryDimension)
    k = .allocate(capacity: chunk * config.kvDimension)
    v = .allocate(capacity: chunk * config.kvDimension)
    att = .allocate(capacity: chunk * config.queryDimension)
    hb = .allocate(capacity: chunk * config.feedForwardLength)
    hb2 = .allocate(capacity: chunk * config.feedForwardLength)
    scores = .allocate(capacity: workers * chunk * cache.capacity)
    kv32 = cache.type == .f16 ? .allocate(capacity: workers * 2 * cache.capacity * config.headDimension) : nil
    let half = config.ropeDimensionCount / 2
    ropeCos = .allocate(capacity: chunk * max(1, half))
    ropeSin = .allocate(capacity: chunk * max(1, half))
    let base = Double(config.ropeFrequencyBase)
    let rot = Double(config.ropeDimensionCount)
    invFreq = (0..<half).map { Double(config.ropeFrequencyScale) / pow(base, Double(2 * $0) / rot) }
    decodeProducts = weights.layers.map { w in
      DecodeProducts(
        qkv: [(w.wq, q), (w.wk, k), (w.wv, v)], wo: [w.wo], gateUp: [w.wGate, w.wUp], down: [w.wDown])
    }
  }

  deinit {
    for p in [x, xb, xb2, q, k, v, att, hb, hb2, scores, ropeCos, ropeSin] + threadInput { p.deallocate() }
    kv32?.deallocate()
  }

  /// Runs `tokens` at positions `start..<start + tokens.count` (at most `chunk` tokens), filling the cache.
  ///
  /// - Parameters:
  ///   - logitsOut: receives the logits of the last row (`allRows == false`), or of every row `(n, vocab)`; nil
  ///     skips the output head (a prefill chunk that is not the last).
  ///   - shouldStop: polled between layers (before the step for a single token with `fusedDecode`, which runs as one
  ///     dispatch and takes milliseconds); true abandons the chunk (its cache entries are then garbage past the
  ///     session's length, overwritten later).
  /// - Returns: false when `shouldStop` abandoned the chunk.
  @discardableResult
  func forward(
    tokens: [Int32], start: Int, logitsOut: UnsafeMutablePointer<Float>?, allRows: Bool,
    shouldStop: () -> Bool = { false }
  ) -> Bool {
    let n = tokens.count
    precondition(n >= 1 && n <= chunk && start + n <= cache.capacity, "forward: bad chunk")
    if n == 1 && fusedDecode {
      if shouldStop() { return false }
      decodeStep(token: tokens[0], position: start, logitsOut: logitsOut)
      return true
    }
    let c = config
    let embd = c.embeddingLength
    let qDim = c.queryDimension
    let kvDim = c.kvDimension
    let ffn = c.feedForwardLength

    for (i, t) in tokens.enumerated() {
      weights.tokenEmbedding.dequantizeRow(Int(t), into: x + i * embd)
    }
    prepareRope(start: start, count: n)

    for (l, w) in weights.layers.enumerated() {
      if l > 0 && shouldStop() { return false }
      // Attention.
      for i in 0..<n {
        rmsNorm(x + i * embd, weight: w.attentionNorm.pointer, eps: c.rmsNormEpsilon, count: embd, out: xb + i * embd)
      }
      products([(w.wq, q), (w.wk, k), (w.wv, v)], input: xb, rows: n)
      if let b = w.bq { addBias(q, b.pointer, n, qDim) }
      if let b = w.bk { addBias(k, b.pointer, n, kvDim) }
      if let b = w.bv { addBias(v, b.pointer, n, kvDim) }
      for i in 0..<n {
        applyRope(q + i * qDim, heads: c.headCount, row: i)
        applyRope(k + i * kvDim, heads: c.headCountKV, row: i)
      }
      storeKV(layer: l, start: start, count: n)
      attention(layer: l, start: start, count: n)
      products([(w.wo, xb2)], input: att, rows: n)
      addInPlace(x, xb2, count: n * embd)

      // Feed-forward (SwiGLU).
      for i in 0..<n {
        rmsNorm(x + i * embd, weight: w.ffnNorm.pointer, eps: c.rmsNormEpsilon, count: embd, out: xb + i * embd)
      }
      products([(w.wGate, hb), (w.wUp, hb2)], input: xb, rows: n)
      swiglu(gate: hb, up: hb2, out: hb, count: n * ffn)
      products([(w.wDown, xb2)], input: hb, rows: n)
      addInPlace(x, xb2, count: n * embd)
    }

    guard let logitsOut else { return true }
    let first = allRows ? 0 : n - 1
    let rows = n - first
    for i in 0..<rows {
      rmsNorm(
        x + (first + i) * embd, weight: weights.outputNorm.pointer, eps: c.rmsNormEpsilon, count: embd,
        out: xb + i * embd)
    }
    products([(weights.output, logitsOut)], input: xb, rows: rows)
    return true
  }

  /// `y_i (rows, w_i.rows) = input (rows, cols) · w_iᵀ` for each pair: quantised matrix-vector products for one row
  /// (all pairs in one dispatch), dequantised tiles through sgemm for a batch.
  private func products(
    _ pairs: [(WeightMatrix, UnsafeMutablePointer<Float>)], input: UnsafePointer<Float>, rows n: Int
  ) {
    if n == 1 {
      matvecs(pairs, input, pool: pool, workspace: workspace, precision: precision, options: matVecOptions)
    } else if n < batchedMinimumRows {
      for (w, y) in pairs {
        for i in 0..<n {
          matvec(
            w, input + i * w.cols, y + i * w.rows, pool: pool, workspace: workspace, precision: precision,
            options: matVecOptions)
        }
      }
    } else {
      for (w, y) in pairs { matmul(w, input, batch: n, y, pool: pool, workspace: workspace, precision: precision) }
    }
  }

  // MARK: RoPE

  /// Fills the cos/sin tables for positions start..<start+count.
  private func prepareRope(start: Int, count: Int) {
    let half = invFreq.count
    for i in 0..<count {
      let pos = Double(start + i)
      for j in 0..<half {
        let theta = pos * invFreq[j]
        ropeCos[i * half + j] = Float(cos(theta))
        ropeSin[i * half + j] = Float(sin(theta))
      }
    }
  }

  /// Rotates the first `ropeDimensionCount` dimensions of every head of one row.
  private func applyRope(_ vec: UnsafeMutablePointer<Float>, heads: Int, row: Int) {
    applyRope(vec, heads: 0..<heads, row: row)
  }

  /// Rotates the first `ropeDimensionCount` dimensions of heads `heads` of one row.
  fileprivate func applyRope(_ vec: UnsafeMutablePointer<Float>, heads: Range<Int>, row: Int) {
    let hd = config.headDimension
    let half = invFreq.count
    let cs = ropeCos + row * half
    let sn = ropeSin + row * half
    switch config.ropeStyle {
    case .normal:
      for h in heads {
        let p = vec + h * hd
        for j in 0..<half {
          let a = p[2 * j]
          let b = p[2 * j + 1]
          p[2 * j] = a * cs[j] - b * sn[j]
          p[2 * j + 1] = a * sn[j] + b * cs[j]
        }
      }
    case .neox:
      for h in heads {
        let p = vec + h * hd
        for j in 0..<half {
          let a = p[j]
          let b = p[j + half]
          p[j] = a * cs[j] - b * sn[j]
          p[j + half] = a * sn[j] + b * cs[j]
        }
      }
    }
  }

  // MARK: Attention

  /// Copies the chunk's keys and values of KV heads `heads` (all by default) into the cache at their positions.
  fileprivate func storeKV(layer: Int, start: Int, count n: Int, heads: Range<Int>? = nil) {
    let hd = config.headDimension
    let kvDim = config.kvDimension
    for h in heads ?? 0..<config.headCountKV {
      let base = cache.offset(layer: layer, head: h) + start * hd
      for i in 0..<n {
        let srcK = k + i * kvDim + h * hd
        let srcV = v + i * kvDim + h * hd
        switch cache.type {
        case .f32:
          (cache.keys! + base + i * hd).update(from: srcK, count: hd)
          (cache.values! + base + i * hd).update(from: srcV, count: hd)
        case .f16:
          floatToHalf(srcK, cache.keys16! + base + i * hd, hd)
          floatToHalf(srcV, cache.values16! + base + i * hd, hd)
        }
      }
    }
  }

  /// Causal attention of the chunk's queries over cache positions 0..<start+n, one head per task.
  private func attention(layer: Int, start: Int, count n: Int) {
    if n == 1 && config.headDimension % 8 == 0 {
      decodeAttention(layer: layer, position: start)
      return
    }
    let c = config
    let hd = c.headDimension
    let qDim = c.queryDimension
    let total = start + n
    let group = c.headCount / c.headCountKV
    let scale = 1 / Float(hd).squareRoot()
    let capacity = cache.capacity
    let heads = c.headCount
    // Each worker takes a contiguous range of query heads, so consecutive heads mostly share a kv head and an
    // F16 cache is converted once per kv head and worker.
    pool.run { worker, workers in
      let s = self.scores + worker * self.chunk * capacity  // (n, total), leading dimension `total`
      let kb = self.kv32.map { $0 + worker * 2 * capacity * hd }  // (total, hd) keys as F32
      let vb = kb.map { $0 + capacity * hd }  // (total, hd) values as F32
      var converted = -1
      for h in ThreadPool.chunk(heads, worker, workers) {
        let g = h / group
        let off = self.cache.offset(layer: layer, head: g)
        let keys: UnsafePointer<Float>
        let values: UnsafePointer<Float>
        switch self.cache.type {
        case .f32:
          keys = UnsafePointer(self.cache.keys! + off)
          values = UnsafePointer(self.cache.values! + off)
        case .f16:
          if converted != g {
            halfToFloat(self.cache.keys16! + off, kb!, count: total * hd)
            halfToFloat(self.cache.values16! + off, vb!, count: total * hd)
            converted = g
          }
          keys = UnsafePointer(kb!)
          values = UnsafePointer(vb!)
        }
        let qh = self.q + h * hd
        // S = scale * Q_h K^T   (n, total)
        sgemm(
          transB: true, m: n, n: total, k: hd, alpha: scale, a: qh, lda: qDim, b: keys, ldb: hd, c: s, ldc: total)
        for i in 0..<n {
          let row = s + i * total
          let visible = start + i + 1
          softmax(row, count: visible)
          if visible < total { (row + visible).update(repeating: 0, count: total - visible) }
        }
        // A_h = S V   (n, hd) into columns h*hd of att
        sgemm(m: n, n: hd, k: total, a: s, lda: total, b: values, ldb: hd, c: self.att + h * hd, ldc: qDim)
      }
    }
  }
}

extension ForwardPass {
  /// Attention of one query (decode) with SIMD dot products straight on the cache rows (F32, or F16 converted
  /// 8 lanes at a time): avoids two BLAS calls per head and the F16 conversion buffer.
  ///
  /// Per head h (kv head g): s[t] = q_h · K_g[t] / sqrt(hd) for t ≤ position, p = softmax(s), a_h = Σ p[t] V_g[t].
  fileprivate func decodeAttention(layer: Int, position: Int) {
    pool.run { worker, workers in
      self.decodeAttention(layer: layer, position: position, worker: worker, workers: workers)
    }
  }

  /// The query heads of `worker` (a contiguous share of all heads) in the attention of one query.
  fileprivate func decodeAttention(layer: Int, position: Int, worker: Int, workers: Int) {
    let c = config
    let hd = c.headDimension
    let total = position + 1
    let group = c.headCount / c.headCountKV
    let scale = 1 / Float(hd).squareRoot()
    let capacity = cache.capacity
    let heads = c.headCount
    let rowsPerWorker = max(1, chunk)
    do {
      let s = self.scores + worker * self.chunk * capacity  // (run, total), leading dimension `capacity`
      // The query heads of this worker, in runs that share one KV head (grouped-query attention): each run reads
      // its keys and values once for all its heads instead of once per head.
      let mine = ThreadPool.chunk(heads, worker, workers)
      var h0 = mine.lowerBound
      while h0 < mine.upperBound {
        let kv = h0 / group
        let h1 = min(mine.upperBound, (kv + 1) * group, h0 + rowsPerWorker)
        let off = self.cache.offset(layer: layer, head: kv)
        switch self.cache.type {
        case .f32:
          self.attendRun(
            F32Rows.self, h0..<h1, total: total, scale: scale, scores: s, stride: capacity,
            keys: UnsafeRawPointer(self.cache.keys! + off), values: UnsafeRawPointer(self.cache.values! + off))
        case .f16:
          self.attendRun(
            F16Rows.self, h0..<h1, total: total, scale: scale, scores: s, stride: capacity,
            keys: UnsafeRawPointer(self.cache.keys16! + off), values: UnsafeRawPointer(self.cache.values16! + off))
        }
        h0 = h1
      }
    }
  }

  /// Attention of one token for query heads `run`, which share one KV head: scores against every cached key
  /// (blocks of 8 positions outer, heads inner, so each key row is read from memory once for the run), softmax,
  /// and the weighted sum of the values into `att` (with 64-dimensional heads one head at a time, its outputs in
  /// registers; the value rows come from memory for the first head and from cache for the others).
  /// - Parameters:
  ///   - scores: (run.count, stride) scratch.
  ///   - keys, values: the cache rows of the run's KV head from position 0, in the layout of `R`. They are also
  ///     prefetched ahead (the cache is read once per token, and at long contexts it is as large as the weights).
  @inline(__always)
  fileprivate func attendRun<R: CacheRows>(
    _: R.Type, _ run: Range<Int>, total: Int, scale: Float, scores: UnsafeMutablePointer<Float>, stride: Int,
    keys: UnsafeRawPointer, values: UnsafeRawPointer
  ) {
    let hd = config.headDimension
    let rows = (keys: keys, values: values, bytes: R.elementBytes * hd)
    @inline(__always) func key(_ t: Int, _ d: Int) -> SIMD8<Float> { R.load(keys, t * hd + d) }
    @inline(__always) func value(_ t: Int, _ d: Int) -> SIMD8<Float> { R.load(values, t * hd + d) }
    /// Starts the reads of rows t ..< t + 8 of `base`, `ahead` rows on, within the `total` rows.
    let ahead = max(8, 8192 / rows.bytes)
    @inline(__always) func prefetchRows(_ base: UnsafeRawPointer, _ t: Int) {
      let from = t + ahead
      if from < total { prefetchForRead(base + from * rows.bytes, bytes: min(8, total - from) * rows.bytes) }
    }
    let q = UnsafeRawPointer(self.q)
    let out = UnsafeMutableRawPointer(self.att)
    // Scores, 8 positions at a time: 8 accumulators per head, reduced together (`totals8`); the 8 key rows stay
    // in L1 for the other heads of the run.
    var t0 = 0
    for t in Swift.stride(from: 0, to: min(total, ahead), by: 8) { prefetchRows(rows.keys, t - ahead) }
    while t0 + 8 <= total {
      prefetchRows(rows.keys, t0)
      for (i, h) in run.enumerated() {
        var a0 = SIMD8<Float>(), a1 = SIMD8<Float>(), a2 = SIMD8<Float>(), a3 = SIMD8<Float>()
        var a4 = SIMD8<Float>(), a5 = SIMD8<Float>(), a6 = SIMD8<Float>(), a7 = SIMD8<Float>()
        for d in Swift.stride(from: 0, to: hd, by: 8) {
          let qd = q.loadUnaligned(fromByteOffset: 4 * (h * hd + d), as: SIMD8<Float>.self)
          a0.addProduct(qd, key(t0, d))
          a1.addProduct(qd, key(t0 + 1, d))
          a2.addProduct(qd, key(t0 + 2, d))
          a3.addProduct(qd, key(t0 + 3, d))
          a4.addProduct(qd, key(t0 + 4, d))
          a5.addProduct(qd, key(t0 + 5, d))
          a6.addProduct(qd, key(t0 + 6, d))
          a7.addProduct(qd, key(t0 + 7, d))
        }
        UnsafeMutableRawPointer(scores + i * stride + t0).storeBytes(
          of: totals8(a0, a1, a2, a3, a4, a5, a6, a7) * scale, as: SIMD8<Float>.self)
      }
      t0 += 8
    }
    for t in t0..<total {
      for (i, h) in run.enumerated() {
        var acc = SIMD8<Float>()
        for d in Swift.stride(from: 0, to: hd, by: 8) {
          acc.addProduct(q.loadUnaligned(fromByteOffset: 4 * (h * hd + d), as: SIMD8<Float>.self), key(t, d))
        }
        scores[i * stride + t] = acc.sum() * scale
      }
    }
    for i in 0..<run.count { softmax(scores + i * stride, count: total) }
    if hd == 64 {
      // The weighted sum of the values with each head's 64 outputs in 8 registers for the whole sweep.
      for (i, h) in run.enumerated() {
        var o0 = SIMD8<Float>(), o1 = SIMD8<Float>(), o2 = SIMD8<Float>(), o3 = SIMD8<Float>()
        var o4 = SIMD8<Float>(), o5 = SIMD8<Float>(), o6 = SIMD8<Float>(), o7 = SIMD8<Float>()
        let p = scores + i * stride
        if i == 0 {
          for t in Swift.stride(from: 0, to: min(total, ahead), by: 8) { prefetchRows(rows.values, t - ahead) }
        }
        for t in 0..<total {
          if i == 0 && t & 7 == 0 { prefetchRows(rows.values, t) }
          let s = SIMD8<Float>(repeating: p[t])
          o0.addProduct(s, value(t, 0))
          o1.addProduct(s, value(t, 8))
          o2.addProduct(s, value(t, 16))
          o3.addProduct(s, value(t, 24))
          o4.addProduct(s, value(t, 32))
          o5.addProduct(s, value(t, 40))
          o6.addProduct(s, value(t, 48))
          o7.addProduct(s, value(t, 56))
        }
        let o = out + 4 * h * hd
        o.storeBytes(of: o0, toByteOffset: 0, as: SIMD8<Float>.self)
        o.storeBytes(of: o1, toByteOffset: 32, as: SIMD8<Float>.self)
        o.storeBytes(of: o2, toByteOffset: 64, as: SIMD8<Float>.self)
        o.storeBytes(of: o3, toByteOffset: 96, as: SIMD8<Float>.self)
        o.storeBytes(of: o4, toByteOffset: 128, as: SIMD8<Float>.self)
        o.storeBytes(of: o5, toByteOffset: 160, as: SIMD8<Float>.self)
        o.storeBytes(of: o6, toByteOffset: 192, as: SIMD8<Float>.self)
        o.storeBytes(of: o7, toByteOffset: 224, as: SIMD8<Float>.self)
      }
      return
    }
    (self.att + run.lowerBound * hd).update(repeating: 0, count: run.count * hd)
    for t in 0..<total {
      for d in Swift.stride(from: 0, to: hd, by: 8) {
        let v = value(t, d)
        for (i, h) in run.enumerated() {
          var o = out.loadUnaligned(fromByteOffset: 4 * (h * hd + d), as: SIMD8<Float>.self)
          o.addProduct(SIMD8<Float>(repeating: scores[i * stride + t]), v)
          out.storeBytes(of: o, toByteOffset: 4 * (h * hd + d), as: SIMD8<Float>.self)
        }
      }
    }
  }
}

/// How a KV cache type stores its rows: bytes per element, and 8 elements from element `index` as floats.
protocol CacheRows {
  static var elementBytes: Int { get }
  static func load(_ base: UnsafeRawPointer, _ index: Int) -> SIMD8<Float>
}

enum F32Rows: CacheRows {
  static var elementBytes: Int { 4 }
  @inline(__always) static func load(_ base: UnsafeRawPointer, _ index: Int) -> SIMD8<Float> {
    base.loadUnaligned(fromByteOffset: 4 * index, as: SIMD8<Float>.self)
  }
}

enum F16Rows: CacheRows {
  static var elementBytes: Int { 2 }
  @inline(__always) static func load(_ base: UnsafeRawPointer, _ index: Int) -> SIMD8<Float> {
    SIMD8<Float>(base.loadUnaligned(fromByteOffset: 2 * index, as: SIMD8<Float16>.self))
  }
}

/// The decode products of one layer as `decodeStep` runs them.
struct DecodeProducts {
  let qkv: [(WeightMatrix, UnsafeMutablePointer<Float>)]  // wq → q, wk → k, wv → v
  let wo: [WeightMatrix]
  let gateUp: [WeightMatrix]
  let down: [WeightMatrix]
  /// The matrices of `qkv`, and their rows together.
  let qkvMatrices: [WeightMatrix]
  let qkvRows: Int

  init(
    qkv: [(WeightMatrix, UnsafeMutablePointer<Float>)], wo: [WeightMatrix], gateUp: [WeightMatrix], down: [WeightMatrix]
  ) {
    self.qkv = qkv
    self.wo = wo
    self.gateUp = gateUp
    self.down = down
    qkvMatrices = qkv.map(\.0)
    qkvRows = qkv.reduce(0) { $0 + $1.0.rows }
  }
}

extension ForwardPass {
  /// One decode token (at `position`) as a single pool dispatch: every thread runs the whole layer loop on its
  /// share of each step, and the threads meet at a spin barrier wherever a step needs what the others wrote. Same
  /// arithmetic as `forward` with one token (the same kernels on the same rows and activations), without a dispatch
  /// and a return to the caller for each product, and each thread reads the same rows of every matrix every token.
  ///
  /// Per layer, with thread t of n:
  /// ```
  /// xn_t = rmsnorm(x) * attn_norm; quantise xn_t              // every thread for itself
  /// q, k, v rows of share t = W xn_t                          // barrier
  /// bias + RoPE of t's query heads and KV heads; store t's KV heads   // barrier
  /// attention of t's query heads → att                         // barrier
  /// x[rows_t] += (Wo att)[rows_t]                               // barrier
  /// xn_t = rmsnorm(x) * ffn_norm; hb[ffn_t] = silu(Wgate xn_t) * (Wup xn_t)   // barrier
  /// x[rows_t] += (Wdown hb)[rows_t]                             // barrier
  /// ```
  /// then logits rows of share t = Wout (rmsnorm(x) * output_norm).
  func decodeStep(token: Int32, position: Int, logitsOut: UnsafeMutablePointer<Float>?) {
    let c = config
    let embd = c.embeddingLength
    let ffn = c.feedForwardLength
    let hd = c.headDimension
    let eps = c.rmsNormEpsilon
    weights.tokenEmbedding.dequantizeRow(Int(token), into: x)
    prepareRope(start: position, count: 1)
    let x = self.x
    rowState.begin()
    pool.run { t, n in
      let xn = self.threadInput[t]
      let acts = self.threadActivations[t]
      let options = self.matVecOptions
      let precision = self.precision
      let heads = ThreadPool.chunk(c.headCount, t, n)
      let kvHeads = ThreadPool.chunk(c.headCountKV, t, n)
      var rows = PhaseRows(
        self.decodeSchedule, state: self.rowState, thread: t, threads: n, chunksPerThread: options.chunksPerThread)
      /// x += w · input on this thread's rows (the residual adds of wo and down); `matrices` is `[w]`, built once.
      func addProduct(_ w: WeightMatrix, _ matrices: [WeightMatrix], _ input: UnsafeMutablePointer<Float>) {
        acts.prepare(input, count: w.cols, for: matrices, precision: precision)
        rows.forEach(embd, multiple: 4) { r in
          matvecRange(w, input, self.xb2, rows: r, activations: acts, options: options)
          addInPlace(x + r.lowerBound, self.xb2 + r.lowerBound, count: r.count)
        }
      }
      for (l, w) in self.weights.layers.enumerated() {
        let p = self.decodeProducts[l]
        // Attention.
        rmsNorm(x, weight: w.attentionNorm.pointer, eps: eps, count: embd, out: xn)
        acts.prepare(xn, count: embd, for: p.qkvMatrices, precision: precision)
        rows.forEach(p.qkvRows, multiple: 4) { r in
          matvecRange(p.qkv, xn, rows: r, activations: acts, options: options)
        }
        self.barrier.wait()
        for h in heads {
          if let b = w.bq { addInPlace(self.q + h * hd, b.pointer + h * hd, count: hd) }
        }
        self.applyRope(self.q, heads: heads, row: 0)
        for h in kvHeads {
          if let b = w.bk { addInPlace(self.k + h * hd, b.pointer + h * hd, count: hd) }
          if let b = w.bv { addInPlace(self.v + h * hd, b.pointer + h * hd, count: hd) }
        }
        self.applyRope(self.k, heads: kvHeads, row: 0)
        self.storeKV(layer: l, start: position, count: 1, heads: kvHeads)
        self.barrier.wait()
        self.decodeAttention(layer: l, position: position, worker: t, workers: n)
        self.barrier.wait()
        addProduct(w.wo, p.wo, self.att)
        self.barrier.wait()

        // Feed-forward (SwiGLU); chunks of multiples of 8 rows, so that swiglu's SIMD lanes split as in one call.
        rmsNorm(x, weight: w.ffnNorm.pointer, eps: eps, count: embd, out: xn)
        acts.prepare(xn, count: embd, for: p.gateUp, precision: precision)
        rows.forEach(ffn, multiple: 8) { r in
          matvecRange(w.wGate, xn, self.hb, rows: r, activations: acts, options: options)
          matvecRange(w.wUp, xn, self.hb2, rows: r, activations: acts, options: options)
          swiglu(gate: self.hb + r.lowerBound, up: self.hb2 + r.lowerBound, out: self.hb + r.lowerBound, count: r.count)
        }
        self.barrier.wait()
        addProduct(w.wDown, p.down, self.hb)
        self.barrier.wait()
      }
      guard let logitsOut else { return }
      let head = self.weights.output
      rmsNorm(x, weight: self.weights.outputNorm.pointer, eps: eps, count: embd, out: xn)
      acts.prepare(xn, count: embd, for: self.headMatrices, precision: precision)
      rows.forEach(head.rows, multiple: 4) { r in
        matvecRange(head, xn, logitsOut, rows: r, activations: acts, options: options)
      }
    }
  }
}

// MARK: - Element-wise helpers

/// Converts `n` Floats to IEEE half precision (round to nearest even).
@inline(__always)
func floatToHalf(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<UInt16>, _ n: Int) {
  for i in 0..<n { dst[i] = Float16(src[i]).bitPattern }
}

/// Adds `bias` (cols) to each of `rows` rows.
@inline(__always)
func addBias(_ x: UnsafeMutablePointer<Float>, _ bias: UnsafePointer<Float>, _ rows: Int, _ cols: Int) {
  for r in 0..<rows { addInPlace(x + r * cols, bias, count: cols) }
}
