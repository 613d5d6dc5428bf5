import Foundation
import GGUF
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
    guard let json = Bundle.module.url(forResource: "tiny-\(variant).logits", withExtension: "json", subdirectory: "Fixtures"),
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

  func testF16CacheStaysClose() throws {
    let ref = try TinyReference("qwen2")
    let session = InferenceSession(model: try load(ref, kv: .f16))
    let result = try session.evaluate(ref.tokens)
    XCTAssertLessThan(maxDiff(result.logits[...], ref.logits.last!), 2e-2)
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

  func testStopBetweenChunksKeepsComputedPrefix() throws {
    let ref = try TinyReference("llama")
    let session = InferenceSession(model: try load(ref, chunk: 4))
    var polls = 0
    let result = try session.evaluate(ref.tokens) {
      polls += 1
      return polls >= 2
    }
    XCTAssertFalse(result.completed)
    XCTAssertEqual(result.computedTokens, 8)
    XCTAssertEqual(session.tokens, Array(ref.tokens[0..<8]))
    let resumed = try session.evaluate(ref.tokens)
    XCTAssertEqual(resumed.reusedTokens, 8)
    XCTAssertLessThan(maxDiff(resumed.logits[...], ref.logits.last!), 1e-3)
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
