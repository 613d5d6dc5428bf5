import Foundation
import GGUF
import Quantization

/// Renders `codegen-lsp model info`: what a GGUF file holds, read from its header only.
enum ModelInfo {
  /// A multi-line description of the file: architecture, sizes, tokenizer, special and FIM tokens, tensor types.
  static func describe(_ file: GGUFFile) -> String {
    var lines: [String] = []
    let arch = file.string("general.architecture") ?? "(none)"
    lines.append("file:          \(file.path)")
    lines.append("size:          \(file.fileSize) bytes, GGUF v\(file.version), alignment \(file.alignment)")
    if let name = file.string("general.name") { lines.append("name:          \(name)") }
    lines.append("architecture:  \(arch)")
    let sizeKeys: [(String, String)] = [
      ("context length", "context_length"), ("embedding", "embedding_length"), ("layers", "block_count"),
      ("feed-forward", "feed_forward_length"), ("heads", "attention.head_count"),
      ("kv heads", "attention.head_count_kv"), ("rope base", "rope.freq_base"),
      ("rope dimensions", "rope.dimension_count"), ("rope scaling", "rope.scaling.type"),
      ("rope scale factor", "rope.scaling.factor"), ("rms epsilon", "attention.layer_norm_rms_epsilon"),
    ]
    for (label, key) in sizeKeys {
      if let value = file.metadata["\(arch).\(key)"] {
        lines.append(pad(label + ":", 15) + " \(value)")
      }
    }
    let parameters = file.tensors.reduce(0) { $0 + $1.elementCount }
    lines.append("parameters:    \(parameters) (\(String(format: "%.1f", Double(parameters) / 1e6)) M)")

    let tokens = file.stringArray("tokenizer.ggml.tokens") ?? []
    lines.append(
      "tokenizer:     \(file.string("tokenizer.ggml.model") ?? "(none)"), pre-tokenizer "
        + "\(file.string("tokenizer.ggml.pre") ?? "default"), \(tokens.count) tokens, "
        + "\(file.stringArray("tokenizer.ggml.merges")?.count ?? 0) merges")
    func token(_ id: Int?) -> String {
      guard let id else { return "-" }
      let text = id >= 0 && id < tokens.count ? tokens[id] : "?"
      return "\(id) \(text.debugDescription)"
    }
    for (label, key) in [
      ("bos", "bos_token_id"), ("eos", "eos_token_id"), ("eot", "eot_token_id"), ("pad", "padding_token_id"),
      ("unk", "unknown_token_id"), ("fim prefix", "fim_pre_token_id"), ("fim suffix", "fim_suf_token_id"),
      ("fim middle", "fim_mid_token_id"), ("fim pad", "fim_pad_token_id"), ("fim repo", "fim_rep_token_id"),
      ("fim file sep", "fim_sep_token_id"),
    ] {
      if let id = file.int("tokenizer.ggml.\(key)") {
        lines.append("  " + pad(label + ":", 15) + " " + token(id))
      }
    }
    if let types = file.intArray("tokenizer.ggml.token_type") {
      let control = types.enumerated().filter { $0.element == 3 }.map(\.offset)
      let shown = control.prefix(24).map { token($0) }.joined(separator: ", ")
      lines.append("  control tokens (\(control.count)): \(shown)\(control.count > 24 ? ", …" : "")")
    }
    lines.append("  chat template: \(file.string("tokenizer.chat_template") != nil ? "yes" : "no")")

    var counts: [GGMLType: (tensors: Int, bytes: Int)] = [:]
    for tensor in file.tensors {
      let previous = counts[tensor.type] ?? (0, 0)
      counts[tensor.type] = (previous.tensors + 1, previous.bytes + tensor.byteCount)
    }
    lines.append("tensors:       \(file.tensors.count)")
    for (type, count) in counts.sorted(by: { $0.value.bytes > $1.value.bytes }) {
      lines.append(
        "  \(type.description.padding(toLength: 8, withPad: " ", startingAt: 0)) \(count.tensors) tensors, \(count.bytes) bytes"
      )
    }
    return lines.joined(separator: "\n")
  }

  private static func pad(_ text: String, _ width: Int) -> String {
    text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
  }
}
