import Foundation
import GGUF
import InferenceTestSupport
import Kernels
import XCTest

@testable import Inference

/// transformers' fp32 logits for a tiny random-weight model (see Scripts/inference_make_tiny_models.py).
struct TinyReference {
  let variant: String
  let tokens: [Int32]
  let vocab: Int
  let logits: [[Float]]  // (tokens, vocab)
  let modelPath: String

  init(_ variant: String) throws {
    guard
      let json = Bundle.module.url(
        forResource: "tiny-\(variant).logits", withExtension: "json", subdirectory: "Fixtures"),
      let model = Bundle.module.url(forResource: "tiny-\(variant)", withExtension: "gguf", subdirectory: "Fixtures")
    else { throw XCTSkip("fixture tiny-\(variant) missing") }
    let object = try JSONSerialization.jsonObject(with: Data(contentsOf: json)) as! [String: Any]
    self.variant = variant
    tokens = (object["tokens"] as! [NSNumber]).map { Int32($0.intValue) }
    vocab = (object["vocab_size"] as! NSNumber).intValue
    logits = (object["logits"] as! [[NSNumber]]).map { $0.map { $0.floatValue } }
    modelPath = model.path
  }
}

final class TinyModelTests: XCTestCase {
  static let variants = ["llama", "llama-tied", "llama-gqa", "llama-rope-linear", "qwen2"]

  func load(_ ref: TinyReference, chunk: Int = 64, kv: KVCacheType = .f32) throws -> LanguageModel {
    try LanguageModel(
      path: ref.modelPath, options: ModelOptions(contextLimit: 64, threads: 2, kvCacheType: kv, prefillChunk: chunk))
  }

  func maxDiff(_ a: ArraySlice<Float>, _ b: [Float]) -> Float {
    zip(a, b).map { abs($0 - $1) }.max() ?? .infinity
  }

  func testConfigOfEveryVariant() throws {
    let expectations: [String: (Architecture, Bool, Int, Int, Bool, Float)] = [
      "llama": (.llama, false, 4, 4, false, 1),
      "llama-tied": (.llama, false, 4, 4, true, 1),
      "llama-gqa": (.llama, false, 8, 2, false, 1),
      "llama-rope-linear": (.llama, false, 4, 2, false, 0.25),
      "qwen2": (.qwen2, true, 4, 2, true, 1),
    ]
    for variant in Self.variants {
      let ref = try TinyReference(variant)
      let model = try load(ref)
      let (arch, neox, heads, kvHeads, tied, scale) = expectations[variant]!
      let c = model.config
      XCTAssertEqual(c.architecture, arch, variant)
      XCTAssertEqual(c.ropeStyle == .neox, neox, variant)
      XCTAssertEqual(c.headCount, heads, variant)
      XCTAssertEqual(c.headCountKV, kvHeads, variant)
      XCTAssertEqual(model.weights.tiedOutput, tied, variant)
      XCTAssertEqual(c.ropeFrequencyScale, scale, variant)
      XCTAssertEqual(c.vocabularySize, ref.vocab, variant)
      XCTAssertEqual(c.contextLength, 64, "the limit caps the trained 256")
      XCTAssertEqual(model.weights.layers[0].bq != nil, arch == .qwen2, variant)
    }
  }

  /// Every position's logits, computed in one batched chunk, match transformers within 1e-3.
  func testLogitsMatchTransformersBatched() throws {
    for variant in Self.variants {
      let ref = try TinyReference(variant)
      let session = InferenceSession(model: try load(ref))
      let result = try session.evaluate(ref.tokens, allLogits: true)
      let all = try XCTUnwrap(result.allLogits)
      var worst: Float = 0
      for (i, row) in ref.logits.enumerated() {
        worst = max(worst, maxDiff(all[(i * ref.vocab)..<((i + 1) * ref.vocab)], row))
      }
      XCTAssertLessThan(worst, 1e-3, "\(variant): max |diff| \(worst)")
      XCTAssertLessThan(maxDiff(result.logits[...], ref.logits.last!), 1e-3, variant)
    }
  }

  /// Chunks of 5 tokens (chunk boundaries inside the sequence) and single-token decode steps give the same logits.
  func testLogitsMatchInChunksAndTokenByToken() throws {
    for variant in Self.variants {
      let ref = try TinyReference(variant)
      let chunked = InferenceSession(model: try load(ref, chunk: 5))
      let all = try XCTUnwrap(chunked.evaluate(ref.tokens, allLogits: true).allLogits)
      for (i, row) in ref.logits.enumerated() {
        XCTAssertLessThan(maxDiff(all[(i * ref.vocab)..<((i + 1) * ref.vocab)], row), 1e-3, "\(variant) pos \(i)")
      }
      let stepwise = InferenceSession(model: try load(ref))
      var logits = try stepwise.evaluate([ref.tokens[0]]).logits
      XCTAssertLessThan(maxDiff(logits[...], ref.logits[0]), 1e-3, variant)
      for i in 1..<ref.tokens.count {
        logits = try stepwise.append(ref.tokens[i])
        XCTAssertLessThan(maxDiff(logits[...], ref.logits[i]), 1e-3, "\(variant) decode pos \(i)")
      }
    }
  }

  /// Every matrix copied into the huge-page arena (`WeightMemory.hugePagesAll`) gives exactly the logits of views into
  /// the mapping, and the matrices do live in the arena.
  func testWeightsCopiedIntoHugePagesGiveTheSameLogits() throws {
    for variant in Self.variants {
      let ref = try TinyReference(variant)
      func session(_ memory: WeightMemory) throws -> InferenceSession {
        var o = ModelOptions(contextLimit: 64, threads: 2, kvCacheType: .f32, prefillChunk: 4)
        o.weightMemory = memory
        return InferenceSession(model: try LanguageModel(path: ref.modelPath, options: o))
      }
      let mapped = try session(.heap), copied = try session(.hugePagesAll)
      // F32 weights are never regrouped: with `.heap` no arena is made, with `.hugePagesAll` every matrix is in one.
      XCTAssertNil(mapped.model.weights.arena)
      let arena = try XCTUnwrap(copied.model.weights.arena, variant)
      let inside = { (w: WeightMatrix) in
        w.data >= UnsafeRawPointer(arena.base) && w.data + w.byteCount <= UnsafeRawPointer(arena.base + arena.used)
      }
      for l in copied.model.weights.layers {
        for w in [l.wq, l.wk, l.wv, l.wo, l.wGate, l.wUp, l.wDown] { XCTAssertTrue(inside(w), variant) }
      }
      XCTAssertTrue(inside(copied.model.weights.output), variant)
      let prompt = Array(ref.tokens[0..<5])
      XCTAssertEqual(try copied.evaluate(prompt).logits, try mapped.evaluate(prompt).logits, variant)
      for i in 5..<ref.tokens.count {
        XCTAssertEqual(try copied.append(ref.tokens[i]), try mapped.append(ref.tokens[i]), "\(variant) pos \(i)")
      }
    }
  }

  /// Keys and values rounded to F16 keep the logits within 2e-2 (batched chunks and decode steps).
  func testF16CacheStaysClose() throws {
    for variant in ["qwen2", "llama-gqa"] {
      let ref = try TinyReference(variant)
      let session = InferenceSession(model: try load(ref, chunk: 5, kv: .f16))
      let half = ref.tokens.count / 2
      let result = try session.evaluate(Array(ref.tokens[..<half]))
      XCTAssertLessThan(maxDiff(result.logits[...], ref.logits[half - 1]), 2e-2, variant)
      for i in half..<ref.tokens.count {
        let logits = try session.append(ref.tokens[i])
        XCTAssertLessThan(maxDiff(logits[...], ref.logits[i]), 2e-2, "\(variant) pos \(i)")
      }
    }
  }

  /// The one-dispatch decode step (every schedule, 1 to 3 threads, F32 and F16 caches) gives exactly the logits of
  /// one dispatch per product at every decode position.
  func testFusedDecodeEqualsDispatchPerProduct() throws {
    var fusedVariants = Set<String>()
    defer { XCTAssertGreaterThanOrEqual(fusedVariants.count, 4, "variants that took the fused path: \(fusedVariants)") }
    for variant in Self.variants {
      let ref = try TinyReference(variant)
      for kv in [KVCacheType.f32, .f16] {
        for threads in [1, 2, 3] {
          func session(_ fused: Bool, _ schedule: RowSchedule) throws -> InferenceSession {
            var o = ModelOptions(contextLimit: 64, threads: threads, kvCacheType: kv, prefillChunk: 4)
            o.fusedDecode = fused
            o.decodeSchedule = schedule
            return InferenceSession(model: try LanguageModel(path: ref.modelPath, options: o))
          }
          let schedules: [RowSchedule] = [.stealing, .dynamicChunks, .staticShares]
          let unfused = try session(false, .stealing)
          let fused = try schedules.map { try session(true, $0) }
          // 5 prompt tokens in chunks of 4: the last chunk is a single token, a fused step too.
          let prompt = Array(ref.tokens[0..<5])
          let expected = try unfused.evaluate(prompt).logits
          for f in fused { XCTAssertEqual(try f.evaluate(prompt).logits, expected, "\(variant) prompt") }
          XCTAssertFalse(unfused.engine.fusedDecode)
          for f in fused {
            XCTAssertEqual(f.engine.fusedDecode, f.model.config.headDimension % 8 == 0, "\(variant): fused path taken")
          }
          if fused[0].engine.fusedDecode { fusedVariants.insert(variant) }
          for i in 5..<ref.tokens.count {
            let expected = try unfused.append(ref.tokens[i])
            for (f, schedule) in zip(fused, schedules) {
              XCTAssertEqual(
                try f.append(ref.tokens[i]), expected, "\(variant) kv \(kv) \(threads) threads \(schedule) pos \(i)")
            }
          }
        }
      }
    }
  }

  /// A second call that shares a prefix computes only the rest; rollback recomputes from the given length.
  func testPrefixReuseAndRollback() throws {
    let ref = try TinyReference("llama-gqa")
    let session = InferenceSession(model: try load(ref, chunk: 4))
    let n = ref.tokens.count
    let first = try session.evaluate(Array(ref.tokens[0..<10]))
    XCTAssertEqual(first.reusedTokens, 0)
    XCTAssertEqual(first.computedTokens, 10)
    let second = try session.evaluate(ref.tokens)
    XCTAssertEqual(second.reusedTokens, 10)
    XCTAssertEqual(second.computedTokens, n - 10)
    XCTAssertLessThan(maxDiff(second.logits[...], ref.logits[n - 1]), 1e-3)

    // A diverging sequence keeps only the common prefix.
    var other = ref.tokens
    other[15] = (other[15] + 1) % Int32(ref.vocab)
    let third = try session.evaluate(other)
    XCTAssertEqual(third.reusedTokens, 15)
    XCTAssertEqual(session.tokens, other)

    // Back to the reference: recomputes from position 15 and matches again.
    let fourth = try session.evaluate(ref.tokens)
    XCTAssertEqual(fourth.reusedTokens, 15)
    XCTAssertLessThan(maxDiff(fourth.logits[...], ref.logits[n - 1]), 1e-3)

    // The same sequence again: nothing to compute.
    let again = try session.evaluate(ref.tokens)
    XCTAssertEqual(again.computedTokens, 0)
    XCTAssertEqual(again.logits, fourth.logits)

    // A strict prefix recomputes its last position.
    let prefix = try session.evaluate(Array(ref.tokens[0..<12]))
    XCTAssertEqual(prefix.reusedTokens, 11)
    XCTAssertLessThan(maxDiff(prefix.logits[...], ref.logits[11]), 1e-3)

    try session.rollback(to: 3)
    XCTAssertEqual(session.tokens, Array(ref.tokens[0..<3]))
    let logits = try session.append(ref.tokens[3])
    XCTAssertLessThan(maxDiff(logits[...], ref.logits[3]), 1e-3)
    XCTAssertThrowsError(try session.rollback(to: 5))
  }

  /// The stop closure is polled between chunks (finished chunks stay cached) and between layers (the chunk in
  /// progress is abandoned). The tiny models have 2 layers: one poll inside each chunk, one between chunks.
  func testStopBetweenChunksKeepsComputedPrefix() throws {
    let ref = try TinyReference("llama")
    for (stopAtPoll, cached) in [(4, 8), (3, 4), (1, 0)] {
      let session = InferenceSession(model: try load(ref, chunk: 4))
      var polls = 0
      let result = try session.evaluate(ref.tokens) {
        polls += 1
        return polls >= stopAtPoll
      }
      XCTAssertFalse(result.completed)
      XCTAssertTrue(result.logits.isEmpty)
      XCTAssertEqual(result.computedTokens, cached, "stop at poll \(stopAtPoll)")
      XCTAssertEqual(session.tokens, Array(ref.tokens[0..<cached]))
      let resumed = try session.evaluate(ref.tokens)
      XCTAssertEqual(resumed.reusedTokens, cached)
      XCTAssertLessThan(maxDiff(resumed.logits[...], ref.logits.last!), 1e-3)
    }
  }

  func testBadInputsAreErrors() throws {
    let ref = try TinyReference("llama")
    let session = InferenceSession(model: try load(ref))
    XCTAssertThrowsError(try session.evaluate([])) { error in
      guard case InferenceError.invalidArgument = error else { return XCTFail("\(error)") }
    }
    XCTAssertThrowsError(try session.evaluate([Int32(ref.vocab)])) { error in
      XCTAssertEqual(error as? InferenceError, .invalidToken(id: Int32(ref.vocab), vocabularySize: ref.vocab))
    }
    XCTAssertThrowsError(try session.evaluate(Array(repeating: 1, count: 65))) { error in
      XCTAssertEqual(error as? InferenceError, .contextOverflow(needed: 65, capacity: 64))
    }
    XCTAssertTrue(session.tokens.isEmpty)
  }
}

/// Loader errors on files built inside the test: each names the file and what is wrong.
final class ModelLoadingErrorTests: XCTestCase {
  func loadError(_ spec: TinyModel.Spec) throws -> (InferenceError, String) {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("bad-\(UUID().uuidString).gguf").path
    defer { try? FileManager.default.removeItem(atPath: path) }
    try TinyModel.write(spec, to: path)
    do {
      _ = try LanguageModel(path: path)
    } catch {
      XCTAssertTrue(error.description.contains(path), "\(error) names the file")
      return (error, path)
    }
    XCTFail("loaded a broken model")
    throw XCTSkip("no error")
  }

  func testUnsupportedArchitecture() throws {
    var spec = TinyModel.Spec()
    spec.architecture = "gpt2"
    let (error, path) = try loadError(spec)
    XCTAssertEqual(error, .unsupportedArchitecture(path: path, architecture: "gpt2"))
  }

  func testMissingTensor() throws {
    var spec = TinyModel.Spec()
    spec.omitTensors = ["blk.1.ffn_up.weight"]
    let (error, path) = try loadError(spec)
    XCTAssertEqual(error, .missingTensor(path: path, name: "blk.1.ffn_up.weight"))
  }

  func testWrongShape() throws {
    var spec = TinyModel.Spec()
    spec.metadataOverrides = ["qwen2.feed_forward_length": 48]
    let (error, path) = try loadError(spec)
    XCTAssertEqual(error, .wrongShape(path: path, name: "blk.0.ffn_gate.weight", expected: [32, 48], found: [32, 64]))
  }

  func testHeadCountThatDoesNotDivide() throws {
    var spec = TinyModel.Spec()
    spec.metadataOverrides = ["qwen2.attention.head_count_kv": 3]
    let (error, _) = try loadError(spec)
    guard case .invalidMetadata(_, let key, _) = error else { return XCTFail("\(error)") }
    XCTAssertEqual(key, "qwen2.attention.head_count_kv")
  }

  func testMissingBlockCount() throws {
    var spec = TinyModel.Spec()
    spec.metadataOverrides = ["qwen2.block_count": 0]
    let (error, _) = try loadError(spec)
    guard case .invalidMetadata(_, let key, _) = error else { return XCTFail("\(error)") }
    XCTAssertEqual(key, "qwen2.block_count")
  }

  func testNotAGGUFFile() throws {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("bad-\(UUID().uuidString).gguf").path
    defer { try? FileManager.default.removeItem(atPath: path) }
    try Data("not a model at all".utf8).write(to: URL(fileURLWithPath: path))
    XCTAssertThrowsError(try LanguageModel(path: path)) { error in
      guard case InferenceError.file = error else { return XCTFail("\(error)") }
      XCTAssertTrue("\(error)".contains(path))
    }
  }
}
