/// The chat prompt formats of the supported models, recognised from the GGUF `tokenizer.chat_template` text.
///
/// The Jinja template itself is not interpreted: each supported family has a fixed layout for one system and one
/// user message followed by the assistant's turn, which is all generate-code needs.
public enum ChatFormat: String, Sendable, Equatable {
  /// `<|im_start|>role\n…<|im_end|>\n` (Qwen2.5, SmolLM2 and other ChatML models).
  case chatML
  /// `<|start_header_id|>role<|end_header_id|>\n\n…<|eot_id|>` (Llama 3).
  case llama3
  /// `<｜User｜>…<｜Assistant｜>` (DeepSeek-R1 distills).
  case deepSeekR1
  /// `### Instruction:\n…\n### Response:\n` (DeepSeek-Coder instruct).
  case deepSeekCoder

  /// The format named by a chat template, or nil when the model has none we know.
  public static func detect(template: String?) -> ChatFormat? {
    guard let template else { return nil }
    if template.contains("<|im_start|>") { return .chatML }
    if template.contains("<|start_header_id|>") { return .llama3 }
    if template.contains("<｜User｜>") || template.contains("<｜Assistant｜>") { return .deepSeekR1 }
    if template.contains("### Instruction") { return .deepSeekCoder }
    return nil
  }

  /// The prompt text (to be encoded with special-token parsing) for one system and one user message, ending
  /// where the assistant's answer starts.
  public func render(system: String, user: String) -> String {
    switch self {
    case .chatML:
      return "<|im_start|>system\n\(system)<|im_end|>\n<|im_start|>user\n\(user)<|im_end|>\n<|im_start|>assistant\n"
    case .llama3:
      return "<|start_header_id|>system<|end_header_id|>\n\n\(system)<|eot_id|>"
        + "<|start_header_id|>user<|end_header_id|>\n\n\(user)<|eot_id|>"
        + "<|start_header_id|>assistant<|end_header_id|>\n\n"
    case .deepSeekR1:
      return "\(system)<｜User｜>\(user)<｜Assistant｜>"
    case .deepSeekCoder:
      return "\(system)\n### Instruction:\n\(user)\n### Response:\n"
    }
  }

  /// Texts that end the assistant's turn.
  public var stopStrings: [String] {
    switch self {
    case .chatML: return ["<|im_end|>", "<|im_start|>"]
    case .llama3: return ["<|eot_id|>"]
    case .deepSeekR1: return ["<｜end▁of▁sentence｜>", "<｜User｜>"]
    case .deepSeekCoder: return ["<|EOT|>", "### Instruction"]
    }
  }
}

/// Pulls the code out of a chat answer: the first fenced block when there is one (an unterminated block is
/// taken to the end), else the whole answer. A DeepSeek-R1 `<think>…</think>` preamble is dropped.
public func extractCode(fromChatAnswer answer: String) -> String {
  var text = Substring(answer)
  if let thinkEnd = text.range(of: "</think>") { text = text[thinkEnd.upperBound...] }
  guard let fence = text.range(of: "```") else { return String(text).trimmingTrailingNewlines() }
  var body = text[fence.upperBound...]
  // Skip the info string (language name) on the fence line.
  if let newline = body.firstIndex(where: { $0 == "\n" || $0 == "\r\n" }) {
    body = body[body.index(after: newline)...]
  } else {
    return ""
  }
  if let close = body.range(of: "```") { body = body[..<close.lowerBound] }
  return String(body).trimmingTrailingNewlines()
}

extension String {
  /// The string without trailing line breaks.
  func trimmingTrailingNewlines() -> String {
    var copy = self
    while let last = copy.last, last == "\n" || last == "\r\n" || last == "\r" { copy.removeLast() }
    return copy
  }
}
