import Foundation
import InferenceTestSupport
import Kernels
import XCTest

@testable import Inference

/// Compares the engine with transformers' fp32 logits on the real preset models over 832 positions of real code
/// (fixtures from Scripts/inference_reference_logits.py). Runs only with CODEGEN_LSP_MODEL_TESTS=1.
final class RealModelLogitTests: XCTestCase {
  struct Segment {
    let source: String
    let tokens: [Int32]
    let top1: [Int32]
    let top5Ids: [[Int32]]
    let top5Logits: [[Float]]
  }

  struct Reference {
    let vocab: Int
    let sampleIds: [Int]
    let segments: [Segment]
    let samples: [Float]  // (positions, sampleIds.count)
  }

  func loadReference(_ preset: String) throws -> Reference {
    guard
      let json = Bundle.module.url(forResource: "ref-\(preset)", withExtension: "json", subdirectory: "Fixtures"),
      let bin = Bundle.module.url(forResource: "ref-\(preset).sample", withExtension: "f32", subdirectory: "Fixtures")
    else { throw XCTSkip("reference fixture for \(preset) missing") }
    let object = try JSONSerialization.jsonObject(with: Data(contentsOf: json)) as! [String: Any]
    let ints = { (v: Any?) in (v as! [NSNumber]).map { Int32($0.intValue) } }
    let segments = (object["segments"] as! [[String: Any]]).map { s in
      Segment(
        source: s["source"] as! String, tokens: ints(s["tokens"]), top1: ints(s["top1"]),
        top5Ids: (s["top5_ids"] as! [[NSNumber]]).map { $0.map { Int32($0.intValue) } },
        top5Logits: (s["top5_logits"] as! [[NSNumber]]).map { $0.map { $0.floatValue } })
    }
    let data = try Data(contentsOf: bin)
    let samples = data.withUnsafeBytes { raw in
      (0..<(data.count / 4)).map { raw.loadUnaligned(fromByteOffset: $0 * 4, as: Float.self) }
    }
    return Reference(
      vocab: (object["vocab_size"] as! NSNumber).intValue,
      sampleIds: (object["sample_ids"] as! [NSNumber]).map(\.intValue), segments: segments, samples: samples)
  }

  /// - Parameter decode: compute every position as a decode step (matrix-vector products, 8-bit activations
  ///   unless `exact`) instead of batched prefill chunks (dequantised weights through sgemm).
  ///   - minimumAgreement: required share of positions whose top-1 token equals transformers'.
  func check(
    _ preset: String, kvCacheType: KVCacheType = .f32, exact: Bool = false, decode: Bool = false,
    minimumAgreement: Double = 0.99
  ) throws {
    guard let path = ModelFixtures.realModelPath(preset) else {
      throw XCTSkip("set CODEGEN_LSP_MODEL_TESTS=1 and put \(preset).gguf in \(ModelFixtures.modelsDirectory)")
    }
    let ref = try loadReference(preset)
    let model = try LanguageModel(
      path: path,
      options: ModelOptions(
        contextLimit: 1024, kvCacheType: kvCacheType, exactProducts: exact, loadTokenizer: false))
    XCTAssertEqual(model.config.vocabularySize, ref.vocab)
    let session = InferenceSession(model: model)
    var positions = 0
    var agree = 0
    var maxDiff: Float = 0
    var sumDiff: Double = 0
    var diffCount = 0
    var maxTop5: Float = 0
    let k = ref.sampleIds.count
    for segment in ref.segments {
      session.reset()
      var all: [Float]
      if decode {
        all = try session.evaluate([segment.tokens[0]]).logits
        for t in segment.tokens.dropFirst() { all += try session.append(t) }
      } else {
        all = try XCTUnwrap(session.evaluate(segment.tokens, allLogits: true).allLogits)
      }
      for i in 0..<segment.tokens.count {
        let row = all[(i * ref.vocab)..<((i + 1) * ref.vocab)]
        let best = row.indices.max { row[$0] < row[$1] }! - i * ref.vocab
        if Int32(best) == segment.top1[i] { agree += 1 }
        for (id, logit) in zip(segment.top5Ids[i], segment.top5Logits[i]) {
          maxTop5 = max(maxTop5, abs(row[i * ref.vocab + Int(id)] - logit))
        }
        for (j, id) in ref.sampleIds.enumerated() {
          let d = abs(row[i * ref.vocab + id] - ref.samples[(positions + i) * k + j])
          maxDiff = max(maxDiff, d)
          sumDiff += Double(d)
          diffCount += 1
        }
      }
      positions += segment.tokens.count
    }
    let rate = Double(agree) / Double(positions)
    let line = String(
      format:
        "%@ (%@, kv %@, %@ products): top-1 agreement %d/%d = %.2f%%; sampled logits max |diff| %.2e mean %.2e; top-5 max |diff| %.2e",
      preset, decode ? "decode steps" : "batched prefill", kvCacheType.rawValue,
      exact ? "F32" : decode ? "8-bit activation" : "tuned (8-bit activation or F32)", agree, positions, rate * 100,
      maxDiff, sumDiff / Double(diffCount),
      maxTop5)
    print(line)
    XCTAssertGreaterThanOrEqual(positions, 500)
    XCTAssertGreaterThanOrEqual(rate, minimumAgreement, line)
  }

  /// On the real files (their mix of quantised types, regrouped rows, the tied head), the one-dispatch decode step
  /// gives exactly the logits of one dispatch per product, with every schedule and 2 or 3 threads, over 48 decode
  /// steps of real code.
  func testFusedDecodeEqualsDispatchPerProduct() throws {
    for preset in [ModelFixtures.smollm, ModelFixtures.qwenCoder] {
      guard let path = ModelFixtures.realModelPath(preset) else {
        throw XCTSkip("set CODEGEN_LSP_MODEL_TESTS=1 and put \(preset).gguf in \(ModelFixtures.modelsDirectory)")
      }
      let tokens = try loadReference(preset).segments[0].tokens.prefix(56)
      let variants: [(fused: Bool, schedule: RowSchedule, threads: Int)] = [
        (false, .stealing, 2), (true, .stealing, 2), (true, .dynamicChunks, 2), (true, .staticShares, 2),
        (true, .stealing, 3),
      ]
      let sessions = try variants.map {
        var o = ModelOptions(contextLimit: 256, threads: $0.threads, loadTokenizer: false)
        o.fusedDecode = $0.fused
        o.decodeSchedule = $0.schedule
        return InferenceSession(model: try LanguageModel(path: path, options: o))
      }
      for s in sessions { _ = try s.evaluate(Array(tokens.prefix(8))) }
      for t in tokens.dropFirst(8) {
        let logits = try sessions.map { try $0.append(t) }
        for i in 1..<variants.count {
          XCTAssertEqual(
            logits[i], logits[0],
            "\(preset) \(variants[i].schedule) \(variants[i].threads) threads, position \(sessions[0].tokens.count)")
        }
      }
    }
  }

  /// Where the weights live (heap copies, huge-page copies of the regrouped matrices, every matrix in huge pages)
  /// changes no logit: the same bytes go through the same kernels.
  func testWeightMemoryDoesNotChangeLogits() throws {
    for preset in [ModelFixtures.smollm, ModelFixtures.qwenCoder] {
      guard let path = ModelFixtures.realModelPath(preset) else {
        throw XCTSkip("set CODEGEN_LSP_MODEL_TESTS=1 and put \(preset).gguf in \(ModelFixtures.modelsDirectory)")
      }
      let tokens = try loadReference(preset).segments[0].tokens.prefix(24)
      let sessions = try [WeightMemory.heap, .hugePages, .hugePagesAll].map { memory in
        var o = ModelOptions(contextLimit: 256, threads: 2, loadTokenizer: false)
        o.weightMemory = memory
        return InferenceSession(model: try LanguageModel(path: path, options: o))
      }
      XCTAssertNil(sessions[0].model.weights.arena, "heap copies only")
      XCTAssertNotNil(sessions[1].model.weights.arena, "\(preset) has regrouped matrices")
      // With `.hugePages` exactly the regrouped matrices are in the arena; with `.hugePagesAll` every matrix but an
      // untied embedding table. (Where every matrix is regrouped, as SmolLM2's are in the AVX-512 build, the two
      // arenas hold the same bytes.)
      for (session, all) in [(sessions[1], false), (sessions[2], true)] {
        let weights = session.model.weights, arena = weights.arena!
        let matrices =
          [weights.output] + weights.layers.flatMap { [$0.wq, $0.wk, $0.wv, $0.wo, $0.wGate, $0.wUp, $0.wDown] }
        for m in matrices {
          let inside = m.data >= UnsafeRawPointer(arena.base) && m.data < UnsafeRawPointer(arena.base + arena.used)
          XCTAssertEqual(inside, all || m.packing == .groupsOf4, "\(preset) \(m.type) \(m.rows)x\(m.cols), all: \(all)")
        }
      }
      XCTAssertGreaterThanOrEqual(sessions[2].model.weights.arena!.used, sessions[1].model.weights.arena!.used)
      let prompt = Array(tokens.prefix(8))
      let first = try sessions.map { try $0.evaluate(prompt).logits }
      XCTAssertEqual(first[1], first[0], preset)
      XCTAssertEqual(first[2], first[0], preset)
      for t in tokens.dropFirst(8) {
        let logits = try sessions.map { try $0.append(t) }
        XCTAssertEqual(logits[1], logits[0], "\(preset) position \(sessions[0].tokens.count)")
        XCTAssertEqual(logits[2], logits[0], "\(preset) position \(sessions[0].tokens.count)")
      }
    }
  }

  // Batched prefill takes, per matrix, the path the engine measured faster (Kernels.MatmulPathTuner): the 8-bit
  // multi-token kernels or float GEMM, so its agreement sits between the decode steps' and the float products'.
  func testSmolLM2MatchesTransformers() throws { try check(ModelFixtures.smollm, minimumAgreement: 0.97) }
  func testQwenCoderMatchesTransformers() throws { try check(ModelFixtures.qwenCoder, minimumAgreement: 0.97) }
  func testQwenCoderWithF16Cache() throws {
    try check(ModelFixtures.qwenCoder, kvCacheType: .f16, minimumAgreement: 0.97)
  }
  func testSmolLM2WithF16Cache() throws { try check(ModelFixtures.smollm, kvCacheType: .f16, minimumAgreement: 0.97) }
  func testSmolLM2PrefillExact() throws { try check(ModelFixtures.smollm, exact: true) }
  func testQwenCoderPrefillExact() throws { try check(ModelFixtures.qwenCoder, exact: true) }
  /// The server's default decode path (8-bit activations) with the F16 cache: held to the bar of its F32-cache
  /// counterpart (`testSmolLM2DecodeSteps`).
  func testSmolLM2DecodeStepsWithF16Cache() throws {
    try check(ModelFixtures.smollm, kvCacheType: .f16, decode: true, minimumAgreement: 0.95)
  }
  /// Decode steps quantise activations to 8-bit blocks (as llama.cpp does): SmolLM2's activation outliers cost
  /// precision there (measured 97.7% top-1 agreement), so this variant is held to a lower bar and reported.
  func testSmolLM2DecodeSteps() throws { try check(ModelFixtures.smollm, decode: true, minimumAgreement: 0.95) }
  func testSmolLM2DecodeStepsExact() throws { try check(ModelFixtures.smollm, exact: true, decode: true) }
  func testQwenCoderDecodeSteps() throws {
    try check(ModelFixtures.qwenCoder, decode: true, minimumAgreement: 0.95)
  }
}
