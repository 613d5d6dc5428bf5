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

/// Fits a chat answer to a cursor below a definition whose body is still to be written (indentation languages: the
/// cursor on a blank line after `def f(...):` and its docstring). An answer that repeats the definition
/// (`def f(...):`, its docstring, its body) gives its body; an answer that is only a body written at column 0 is
/// indented to the body's column. Anything else is returned as it is.
/// - Parameters:
///   - code: the code of the answer.
///   - prefix: the document before the cursor.
///   - bodyIndent: the column of the definition's body (the docstring's).
func fitAnswerToEmptyBody(_ code: String, prefix: String, bodyIndent: Int) -> String {
  func indentation(_ line: Substring) -> Int { line.prefix { $0 == " " || $0 == "\t" }.count }
  let lines = code.split(separator: "\n", omittingEmptySubsequences: false)
  // The name of the definition at the cursor: the last `def NAME(` before it.
  let name = prefix.components(separatedBy: "\n").reversed().lazy.compactMap { line -> String? in
    let trimmed = line.drop { $0 == " " || $0 == "\t" }
    let rest =
      trimmed.hasPrefix("async def ") ? trimmed.dropFirst(10) : trimmed.hasPrefix("def ") ? trimmed.dropFirst(4) : nil
    return rest.map { String($0.prefix { $0.isLetter || $0.isNumber || $0 == "_" }) }
  }.first
  var body: [Substring] = lines.map { $0 }
  if let name, !name.isEmpty,
    let header = lines.firstIndex(where: { $0.drop { $0 == " " || $0 == "\t" }.hasPrefix("def \(name)(") })
  {
    // The signature may span lines up to the one ending with `:`; then an optional docstring.
    var index = header
    while index < lines.count, !lines[index].trimmingCharacters(in: .whitespaces).hasSuffix(":") { index += 1 }
    index += 1
    while index < lines.count, lines[index].trimmingCharacters(in: .whitespaces).isEmpty { index += 1 }
    if index < lines.count {
      let first = lines[index].trimmingCharacters(in: .whitespaces)
      if let quote = ["\"\"\"", "'''"].first(where: { first.hasPrefix($0) }) {
        if first.count >= 6 && first.hasSuffix(quote) {
          index += 1
        } else {
          index += 1
          while index < lines.count, !lines[index].contains(quote) { index += 1 }
          index += 1
        }
      }
    }
    // The body: the lines indented deeper than the header, up to the first one that is not.
    let headerIndent = indentation(lines[header])
    var end = index
    while end < lines.count,
      lines[end].trimmingCharacters(in: .whitespaces).isEmpty || indentation(lines[end]) > headerIndent
    {
      end += 1
    }
    guard index < end else { return code }
    body = Array(lines[index..<end])
    while let last = body.last, last.trimmingCharacters(in: .whitespaces).isEmpty { body.removeLast() }
  }
  let written = body.filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }.map(indentation).min() ?? 0
  let shift = bodyIndent - written
  let fitted = body.map { line -> String in
    if line.trimmingCharacters(in: .whitespaces).isEmpty { return "" }
    return shift >= 0
      ? String(repeating: " ", count: shift) + line : String(line.dropFirst(min(-shift, indentation(line))))
  }
  return fitted.joined(separator: "\n")
}
