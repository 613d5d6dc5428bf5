import GGUF
import KernelsTestSupport
import Quantization
import XCTest

@testable import Kernels

final class MatVecTests: XCTestCase {
  static let quantTypes: [GGMLType] = [.q4_0, .q4_1, .q5_0, .q5_1, .q8_0, .q4_K, .q5_K, .q6_K, .q2_K, .q3_K]
  static let allTypes: [GGMLType] = [.f32, .f16, .bf16] + quantTypes

  func columns(for type: GGMLType) -> [Int] {
    type.blockSize == 256 ? [256, 768] : type.blockSize == 32 ? [32, 96, 416, 576, 896] : [7, 64, 131]
  }

  /// The fast path equals, up to float summation order, the float product of the dequantised weights with the
  /// dequantised 8-bit activations it actually uses.
  func testFastMatVecMatchesReferenceOnQuantisedActivations() {
    let pool = ThreadPool(threads: 3)
    let ws = KernelWorkspace()
    for type in Self.allTypes {
      for cols in columns(for: type) {
        let rows = 37
        let m = TestMatrix.random(type, rows: rows, cols: cols, seed: UInt64(cols) &* 31 &+ UInt64(type.rawValue))
        let x = randomVector(cols, seed: 7 &+ UInt64(cols))
        var y = [Float](repeating: .nan, count: rows)
        matvec(m.matrix, x, &y, pool: pool, workspace: ws)

        // What the kernel should see: x itself, or x after 8-bit block quantisation.
        var xSeen = x
        if let layout = QuantTraits.table[type]!.activationLayout {
          let other = KernelWorkspace()
          let a = other.activations(count: cols, layout: layout)
          quantizeActivations(x, count: cols, layout: layout, into: a)
          let block = layout == .q8 ? 32 : 256
          for i in 0..<cols { xSeen[i] = a.d[i / block] * Float(a.qs[i]) }
        }
        var expected = [Float](repeating: 0, count: rows)
        Reference.matvec(m.matrix, xSeen, &expected)
        assertClose(y, expected, scales: productScales(m.matrix, xSeen), atol: 1e-6, rtol: 2e-6, "\(type) \(cols)")

        // Against the true float product the 8-bit activations cost about 1/254 of each term, at most.
        var exact = [Float](repeating: 0, count: rows)
        Reference.matvec(m.matrix, x, &exact)
        assertClose(y, exact, scales: productScales(m.matrix, x), atol: 1e-6, rtol: 1.0 / 200, "\(type) \(cols) vs f32")
      }
    }
  }

  func testExactMatVecMatchesReference() {
    let pool = ThreadPool(threads: 2)
    let ws = KernelWorkspace()
    for type in Self.allTypes {
      for cols in columns(for: type) {
        let m = TestMatrix.random(type, rows: 19, cols: cols, seed: 99 &+ UInt64(type.rawValue))
        let x = randomVector(cols, seed: 3)
        var y = [Float](repeating: .nan, count: 19)
        matvec(m.matrix, x, &y, pool: pool, workspace: ws, precision: .exact)
        var expected = [Float](repeating: 0, count: 19)
        Reference.matvec(m.matrix, x, &expected)
        assertClose(y, expected, scales: productScales(m.matrix, x), rtol: 2e-6, "\(type) \(cols) exact")
      }
    }
  }

  func testThreadCountsAndRowCountsCoverEveryRow() {
    for threads in [1, 2, 3, 5] {
      let pool = ThreadPool(threads: threads)
      let ws = KernelWorkspace()
      for rows in [1, 2, 3, 4, 5, 9, 64, 129] {
        let m = TestMatrix.random(.q8_0, rows: rows, cols: 64, seed: UInt64(rows))
        let x = randomVector(64, seed: 1)
        var y = [Float](repeating: .nan, count: rows)
        matvec(m.matrix, x, &y, pool: pool, workspace: ws)
        var expected = [Float](repeating: 0, count: rows)
        Reference.matvec(m.matrix, x, &expected)
        assertClose(
          y, expected, scales: productScales(m.matrix, x), atol: 1e-6, rtol: 1.0 / 200, "\(threads)t \(rows)r")
      }
    }
  }

  /// Several products in one dispatch, mixing activation layouts, give the same results as separate calls.
  func testMatVecsEqualsSeparateCalls() {
    let pool = ThreadPool(threads: 2)
    let ws = KernelWorkspace()
    let cols = 512
    let mats = [
      TestMatrix.random(.q5_0, rows: 13, cols: cols, seed: 1), TestMatrix.random(.q6_K, rows: 7, cols: cols, seed: 2),
      TestMatrix.random(.f32, rows: 5, cols: cols, seed: 3), TestMatrix.random(.q4_K, rows: 22, cols: cols, seed: 4),
    ]
    let x = randomVector(cols, seed: 5)
    var outs = mats.map { [Float](repeating: .nan, count: $0.matrix.rows) }
    outs.withUnsafeMutableBufferPointer { outs in
      let pointers = (0..<mats.count).map { i in outs[i].withUnsafeMutableBufferPointer { $0.baseAddress! } }
      matvecs(zip(mats.map(\.matrix), pointers).map { ($0, $1) }, x, pool: pool, workspace: ws)
    }
    for (i, m) in mats.enumerated() {
      var single = [Float](repeating: .nan, count: m.matrix.rows)
      matvec(m.matrix, x, &single, pool: pool, workspace: ws)
      XCTAssertEqual(outs[i], single, "\(m.matrix.type)")
    }
  }

  func testMatmulMatchesReference() {
    let pool = ThreadPool(threads: 2)
    let ws = KernelWorkspace()
    for type: GGMLType in [.f32, .f16, .q4_0, .q4_1, .q5_0, .q5_1, .q8_0, .q4_K, .q5_K, .q6_K, .q3_K] {
      let cols = type.blockSize == 256 ? 512 : 96
      let rows = 70
      let m = TestMatrix.random(type, rows: rows, cols: cols, seed: 11 &+ UInt64(type.rawValue))
      for batch in [1, 2, 17, MatmulTuning.minimumBatchForGEMM] {
        let x = randomVector(batch * cols, seed: UInt64(batch))
        var expected = [Float](repeating: 0, count: batch * rows)
        Reference.matmul(m.matrix, x, batch: batch, &expected)
        var scales = [Double]()
        for b in 0..<batch { scales += productScales(m.matrix, Array(x[(b * cols)..<((b + 1) * cols)])) }
        // From minimumBatchForGEMM on, the tuner's trials take the multi-token kernels first, then GEMM: both paths.
        let large = batch >= MatmulTuning.minimumBatchForGEMM
        for call in 0..<(large ? 2 : 1) {
          var y = [Float](repeating: .nan, count: batch * rows)
          matmul(m.matrix, x, batch: batch, &y, pool: pool, workspace: ws)
          // Small batches and the multi-token trial go through the 8-bit activation path; GEMM is float throughout.
          let eightBit = type != .f32 && type != .f16 && (!large || call == 0)
          let rtol = eightBit ? 1.0 / 200 : 1e-5
          assertClose(y, expected, scales: scales, atol: 1e-6, rtol: rtol, "\(type) batch \(batch) call \(call)")
        }
      }
    }
  }

  /// The path tuner times each path `trialsPerPath` times, alternately, then keeps the faster one for that matrix and
  /// batch size class only.
  func testPathTunerKeepsTheFasterPathPerMatrixAndSizeClass() {
    let tuner = MatmulPathTuner()
    let m = TestMatrix.random(.q5_0, rows: 8, cols: 64, seed: 1)
    let key = MatmulPathTuner.Key(m.matrix, batch: 40)
    XCTAssertEqual(key, MatmulPathTuner.Key(m.matrix, batch: 63), "the same size class")
    XCTAssertNotEqual(key, MatmulPathTuner.Key(m.matrix, batch: 64))
    var order: [MatmulPathTuner.Path] = []
    for _ in 0..<(2 * MatmulPathTuner.trialsPerPath) {
      let (path, timed) = tuner.path(for: key)
      XCTAssertTrue(timed)
      order.append(path)
      tuner.record(key, path, seconds: path == .gemm ? 0.002 : 0.003)
    }
    XCTAssertEqual(order, [.multiToken, .gemm, .multiToken, .gemm])
    XCTAssertEqual(tuner.path(for: key).0, .gemm)
    XCTAssertFalse(tuner.path(for: key).timed)
    XCTAssertEqual(tuner.choices, [key: .gemm])
    XCTAssertTrue(tuner.path(for: MatmulPathTuner.Key(m.matrix, batch: 64)).timed, "another size class is tried anew")
  }

  /// The multi-token kernels (small batches) give what one matvec per token gives, up to float summation order.
  func testSmallBatchMatmulEqualsMatVecPerToken() {
    let pool = ThreadPool(threads: 2)
    let ws = KernelWorkspace()
    for type: GGMLType in [.q4_0, .q4_1, .q5_0, .q5_1, .q8_0, .q4_K, .q5_K, .q6_K] {
      let cols = type.blockSize == 256 ? 768 : 160
      let rows = 45
      let m = TestMatrix.random(type, rows: rows, cols: cols, seed: 21 &+ UInt64(type.rawValue))
      for batch in [2, 5, AVX2MultiTokenGroup.size + 3] where batch < MatmulTuning.minimumBatchForGEMM {
        let x = randomVector(batch * cols, seed: UInt64(batch) &+ 100)
        var y = [Float](repeating: .nan, count: batch * rows)
        matmul(m.matrix, x, batch: batch, &y, pool: pool, workspace: ws)
        var expected = [Float](repeating: .nan, count: batch * rows)
        var scales = [Double]()
        for b in 0..<batch {
          expected.withUnsafeMutableBufferPointer { e in
            x.withUnsafeBufferPointer { xb in
              matvec(m.matrix, xb.baseAddress! + b * cols, e.baseAddress! + b * rows, pool: pool, workspace: ws)
            }
          }
          scales += productScales(m.matrix, Array(x[(b * cols)..<((b + 1) * cols)]))
        }
        assertClose(y, expected, scales: scales, atol: 1e-6, rtol: 1e-6, "\(type) batch \(batch)")
      }
    }
  }

  func testActivationQuantisation() {
    let ws = KernelWorkspace()
    let x = randomVector(512, seed: 42, range: -3...3)
    for layout in [QuantizedActivations.Layout.q8, .q8K] {
      let a = ws.activations(count: 512, layout: layout)
      quantizeActivations(x, count: 512, layout: layout, into: a)
      let block = layout == .q8 ? 32 : 256
      for i in 0..<512 {
        let d = a.d[i / block]
        XCTAssertLessThanOrEqual(abs(d * Float(a.qs[i]) - x[i]), d / 2 * 1.0001, "\(layout) \(i)")
      }
      if layout == .q8 {
        for b in 0..<16 {
          let sum = (0..<32).reduce(Int32(0)) { $0 + Int32(a.qs[b * 32 + $1]) }
          XCTAssertEqual(a.s[b], a.d[b] * Float(sum))
        }
      } else {
        for g in 0..<32 {
          let sum = (0..<16).reduce(Int16(0)) { $0 + Int16(a.qs[g * 16 + $1]) }
          XCTAssertEqual(a.bsums[g], sum)
        }
      }
    }
    // The SIMD and portable versions agree exactly.
    for layout in [QuantizedActivations.Layout.q8, .q8K] {
      let a = ws.activations(count: 512, layout: layout)
      let other = KernelWorkspace()
      let b = other.activations(count: 512, layout: layout)
      quantizeActivations(x, count: 512, layout: layout, into: a)
      quantizeActivationsScalar(x, count: 512, layout: layout, into: b)
      XCTAssertEqual((0..<512).map { a.qs[$0] }, (0..<512).map { b.qs[$0] }, "\(layout)")
      let blocks = layout == .q8 ? 16 : 2
      XCTAssertEqual((0..<blocks).map { a.d[$0] }, (0..<blocks).map { b.d[$0] })
      if layout == .q8 {
        XCTAssertEqual((0..<16).map { a.s[$0] }, (0..<16).map { b.s[$0] })
      } else {
        XCTAssertEqual((0..<32).map { a.bsums[$0] }, (0..<32).map { b.bsums[$0] })
      }
    }
    // An all-zero block quantises to zeros with a zero scale (no division by zero).
    let zeros = [Float](repeating: 0, count: 256)
    let a = ws.activations(count: 256, layout: .q8K)
    quantizeActivations(zeros, count: 256, layout: .q8K, into: a)
    XCTAssertEqual(a.d[0], 0)
    XCTAssertTrue((0..<256).allSatisfy { a.qs[$0] == 0 })
  }

  func testWeightMatrixFromGGUFRejectsUnsupportedTypes() throws {
    XCTAssertTrue(QuantTraits.isSupported(.q4_K))
    XCTAssertFalse(QuantTraits.isSupported(.iq2_XXS))
    XCTAssertEqual(QuantTraits.table[.q5_0]?.activationLayout, QuantTraits.cpuHasAVX2FMA ? .q8 : nil)
    XCTAssertEqual(
      KernelError.unsupportedType(tensor: "w", type: .iq2_XXS).description,
      "tensor 'w' has type IQ2_XXS, which the kernels do not support")
  }

  // MARK: Real models

  /// A gemv of every weight type of the real models against the reference.
  func testRealModelLayers() throws {
    let env = ProcessInfo.processInfo.environment
    guard env["CODEGEN_LSP_MODEL_TESTS"] == "1" else { throw XCTSkip("set CODEGEN_LSP_MODEL_TESTS=1") }
    let dir = env["CODEGEN_LSP_MODELS_DIR"] ?? (NSHomeDirectory() + "/.cache/codegen-lsp/models")
    let pool = ThreadPool(threads: 2)
    let ws = KernelWorkspace()
    for (file, names) in [
      (
        "qwen2.5-coder-0.5b.gguf",
        ["blk.0.attn_q.weight", "blk.2.ffn_down.weight", "blk.3.ffn_down.weight", "blk.3.attn_v.weight"]
      ),
      ("smollm2-135m.gguf", ["blk.0.ffn_down.weight", "blk.0.attn_k.weight"]),
    ] {
      let gguf = try GGUFFile(path: dir + "/" + file)
      for name in names {
        let w = try WeightMatrix(gguf.requireTensor(named: name), in: gguf)
        let x = randomVector(w.cols, seed: 17)
        var y = [Float](repeating: .nan, count: w.rows)
        matvec(w, x, &y, pool: pool, workspace: ws)
        var expected = [Float](repeating: 0, count: w.rows)
        Reference.matvec(w, x, &expected)
        assertClose(y, expected, scales: productScales(w, x), atol: 1e-6, rtol: 1.0 / 200, "\(file) \(name)")
      }
    }
  }
}

final class FastDequantizeTests: XCTestCase {
  /// The SIMD dequantiser gives the reference's values bit for bit.
  func testBitIdenticalToReference() {
    for type in MatVecTests.allTypes {
      let cols = type.blockSize == 256 ? 1024 : type.blockSize == 32 ? 320 : 77
      let m = TestMatrix.random(type, rows: 3, cols: cols, seed: 5 &+ UInt64(type.rawValue))
      var fast = [Float](repeating: .nan, count: 3 * cols)
      var reference = [Float](repeating: .nan, count: 3 * cols)
      QuantTraits.fastDequantize(type, m.matrix.data, count: 3 * cols, into: &fast)
      type.dequantize(m.matrix.data, count: 3 * cols, into: &reference)
      XCTAssertEqual(fast.map(\.bitPattern), reference.map(\.bitPattern), "\(type)")
      var row = [Float](repeating: .nan, count: cols)
      m.matrix.dequantizeRow(2, into: &row)
      XCTAssertEqual(row.map(\.bitPattern), reference[(2 * cols)...].map(\.bitPattern), "\(type) row")
    }
  }
}
