import CodeCompletion

/// A prompt ready for the model, with the facts the pipeline and `--explain` need.
public struct Prompt: Sendable, Equatable {
  /// The token ids, special tokens included.
  public var tokens: [Int32]
  /// Tokens of the prefix window / suffix window / other documents that made it in.
  public var prefixTokenCount: Int
  public var suffixTokenCount: Int
  public var contextTokenCount: Int
  /// The text of the prefix window (the last part of the text before the cursor that the model sees).
  public var prefixWindow: String
  /// The text of the suffix window.
  public var suffixWindow: String
  /// `psm`, `spm` or `prefix-only`.
  public var layout: String
  /// How many tokens at the end of `tokens` are plain text the user typed (candidates for token healing).
  public var plainTail: Int = 0
}

/// Builds fill-in-the-middle prompts within token budgets, moving the prefix window in coarse steps so that the
/// prompt of the next keystroke starts with the same tokens (and the KV cache stays valid).
///
/// The window start is remembered per document and kept while the text from it fits the budget; when it no
/// longer fits, the start jumps forward to a line boundary that leaves a quarter of the budget free, so the
/// window moves once every few hundred tokens of typing instead of once per line.
///
/// - Important: not thread-safe; the provider uses it from its worker queue only.
public final class PromptBuilder {
  let tokenizer: PromptTokenizer
  let template: FIMTemplate?
  let bos: Int32?
  /// Window start per document: a line index into the prefix, and how many tokens of that line's text (with the
  /// rest of the window after it) are left out.
  private var windowStarts: [String: (line: Int, firstLine: String, dropped: Int)] = [:]
  /// PSM anchor per document: the prefix offset after which typed text follows the middle token.
  private var anchors: [String: (offset: Int, head: String, suffix: String)] = [:]

  public init(tokenizer: PromptTokenizer, template: FIMTemplate?, bos: Int32?) {
    self.tokenizer = tokenizer
    self.template = template
    self.bos = bos
  }

  /// Builds the prompt of a completion request.
  /// - Parameters:
  ///   - order: the FIM order (ignored without a template).
  /// The largest token budget the builder uses, whatever the settings say (2^24, past any context window).
  static let largestBudget = 1 << 24

  ///   - partialLines: the prefix window may begin inside a line, so that it holds its budget (short windows);
  ///     otherwise it begins at a line start.
  ///   - trace: receives one line per decision.
  public func build(
    _ request: CompletionRequest, settings: CompletionSettings, order: FIMOrder, partialLines: Bool = false,
    trace: inout [String]
  ) -> Prompt {
    // Budgets past any context window are capped, so the window arithmetic below cannot overflow.
    var settings = settings
    for keyPath in [\CompletionSettings.prefixTokens, \.suffixTokens, \.middleTokens, \.contextDocumentTokens] {
      settings[keyPath: keyPath] = min(settings[keyPath: keyPath], Self.largestBudget)
    }
    let prefixBudget = max(16, settings.prefixTokens)
    var tokens: [Int32] = []
    if let bos { tokens.append(bos) }
    guard let template else {
      let (prefixText, prefixTokens) = prefixWindow(
        documentID: request.documentID, prefix: request.prefix, budget: prefixBudget, partialLines: partialLines,
        trace: &trace)
      tokens += prefixTokens
      trace.append("prompt: prefix only (\(prefixTokens.count) tokens): the model has no fill-in-the-middle tokens")
      return Prompt(
        tokens: tokens, prefixTokenCount: prefixTokens.count, suffixTokenCount: 0, contextTokenCount: 0,
        prefixWindow: prefixText, suffixWindow: "", layout: "prefix-only", plainTail: prefixTokens.count)
    }
    let (suffixText, suffixTokens) = suffixWindow(request.suffix, budget: max(0, settings.suffixTokens))
    let context = contextTokens(request, budget: settings.contextDocumentTokens, template: template, trace: &trace)
    tokens += context
    let prefixText: String
    let prefixCount: Int
    let plainTail: Int
    switch order {
    case .psm:
      // Text typed since the anchor goes after the middle token, as the start of the middle: typing then only
      // appends to the prompt, and the KV cache of the prefix and suffix stays valid.
      let anchor = middleAnchor(request, budget: settings.middleTokens)
      let head = String(decoding: request.prefix.utf8.prefix(anchor), as: UTF8.self)
      let tail = String(decoding: request.prefix.utf8.dropFirst(anchor), as: UTF8.self)
      // The head's budget leaves room for the typed tail, and stays the same while typing (a stable window).
      let headBudget = max(16, prefixBudget - max(0, settings.middleTokens))
      let (headText, headTokens) = prefixWindow(
        documentID: request.documentID, prefix: head, budget: headBudget, partialLines: partialLines, trace: &trace)
      let tailTokens = tail.isEmpty ? [] : tokenizer.encodePlain(tail)
      tokens.append(template.prefix)
      tokens += headTokens
      tokens.append(template.suffix)
      tokens += suffixTokens
      tokens.append(template.middle)
      tokens += tailTokens
      prefixText = headText + tail
      prefixCount = headTokens.count + tailTokens.count
      plainTail = tailTokens.count
      if !tail.isEmpty {
        trace.append("prompt: \(tailTokens.count) tokens typed since the anchor follow the middle token")
      }
    case .spm:
      let (text, prefixTokens) = prefixWindow(
        documentID: request.documentID, prefix: request.prefix, budget: prefixBudget, partialLines: partialLines,
        trace: &trace)
      tokens.append(template.prefix)
      tokens.append(template.suffix)
      tokens += suffixTokens
      tokens.append(template.middle)
      tokens += prefixTokens
      prefixText = text
      prefixCount = prefixTokens.count
      plainTail = prefixTokens.count
    }
    trace.append(
      "prompt: \(order.rawValue) (\(template.family)), prefix \(prefixCount) tokens, suffix "
        + "\(suffixTokens.count) tokens, other documents \(context.count) tokens, \(tokens.count) in all")
    return Prompt(
      tokens: tokens, prefixTokenCount: prefixCount, suffixTokenCount: suffixTokens.count,
      contextTokenCount: context.count, prefixWindow: prefixText, suffixWindow: suffixText, layout: order.rawValue,
      plainTail: plainTail)
  }

  /// Where the prefix is split for a PSM prompt (a UTF-8 offset): the remembered anchor while the user types
  /// forward from it (same text before it, same suffix, at most `budget` tokens typed since), else the end of the
  /// indentation of the cursor's line.
  func middleAnchor(_ request: CompletionRequest, budget: Int) -> Int {
    let prefixBytes = request.prefix.utf8
    if let anchor = anchors[request.documentID], anchor.offset <= prefixBytes.count, anchor.suffix == request.suffix,
      prefixBytes.starts(with: anchor.head.utf8)
    {
      let typed = String(decoding: prefixBytes.dropFirst(anchor.offset), as: UTF8.self)
      if typed.utf8.count <= budget * 2 || tokenizer.encodePlain(typed).count <= budget { return anchor.offset }
    }
    // Anchor after the indentation of the cursor's line: indentation stays in the prefix (where FIM training put
    // it), code typed on the line follows the middle token.
    var lineStart =
      prefixBytes.lastIndex(of: 10).map { prefixBytes.distance(from: prefixBytes.startIndex, to: $0) + 1 } ?? 0
    var index = prefixBytes.index(prefixBytes.startIndex, offsetBy: lineStart)
    while index != prefixBytes.endIndex, prefixBytes[index] == 32 || prefixBytes[index] == 9 {
      lineStart += 1
      index = prefixBytes.index(after: index)
    }
    let offset = budget > 0 ? lineStart : prefixBytes.count
    anchors[request.documentID] = (offset, String(decoding: prefixBytes.prefix(offset), as: UTF8.self), request.suffix)
    return offset
  }

  /// The prefix window: text from the remembered start when it fits `budget`, else from a new start that leaves a
  /// quarter of the budget free. The new start is a line start; with `partialLines`, the line before it is included
  /// too, without its first tokens, up to those three quarters (a long line would otherwise leave a short window
  /// nearly empty). A single line longer than the budget is cut to its last tokens.
  func prefixWindow(
    documentID: String, prefix: String, budget: Int, partialLines: Bool = false, trace: inout [String]
  ) -> (String, [Int32]) {
    let lines = splitLinesKeepingEnds(prefix)
    if let remembered = windowStarts[documentID], remembered.line < lines.count,
      lines[remembered.line] == remembered.firstLine
    {
      let text = lines[remembered.line...].joined()
      let tokens = Array(tokenizer.encodePlain(text).dropFirst(remembered.dropped))
      if tokens.count <= budget { return (remembered.dropped == 0 ? text : "", tokens) }
    }
    // Choose a new start: walk back from the cursor while the lines fit three quarters of the budget.
    let target = budget * 3 / 4
    var start = lines.count
    var used = 0
    var dropped = 0
    while start > 0 {
      let cost = tokenizer.encodePlain(lines[start - 1]).count
      if used + cost > target && start < lines.count {
        if partialLines && used < target {
          start -= 1
          dropped = max(0, tokenizer.encodePlain(lines[start...].joined()).count - target)
        }
        break
      }
      used += cost
      start -= 1
    }
    var text = lines[start...].joined()
    var tokens = Array(tokenizer.encodePlain(text).dropFirst(dropped))
    let whole = start == 0 && dropped == 0
    if tokens.count > budget {
      tokens = Array(tokens.suffix(budget))
      dropped = -1
    }
    if dropped != 0 {
      text = ""  // the exact text of a cut token sequence is not needed; the window is the tokens
    }
    if start < lines.count { windowStarts[documentID] = (start, lines[start], max(0, dropped)) }
    if !whole {
      trace.append(
        "prompt: prefix window moved to line \(start) of \(lines.count) before the cursor"
          + (dropped > 0 ? ", without its first \(dropped) tokens" : ""))
    }
    return (text, tokens)
  }

  /// The suffix window: whole lines after the cursor while they fit `budget` (the rest of the cursor's line
  /// always, cut to the budget).
  func suffixWindow(_ suffix: String, budget: Int) -> (String, [Int32]) {
    guard budget > 0, !suffix.isEmpty else { return ("", []) }
    var text = ""
    var tokens: [Int32] = []
    for line in splitLinesKeepingEnds(suffix) {
      let lineTokens = tokenizer.encodePlain(line)
      if tokens.count + lineTokens.count > budget {
        if tokens.isEmpty {
          tokens = Array(lineTokens.prefix(budget))
          text = line
        }
        break
      }
      tokens += lineTokens
      text += line
    }
    // Re-encode the joined text so the boundary between lines is tokenized as the model would see it.
    if !text.isEmpty, tokens.count < budget { tokens = tokenizer.encodePlain(text) }
    return (text, tokens)
  }

  /// Context from other files, most relevant first in `request.contextDocuments`: each of the request's language
  /// introduced by the file separator and its name, cut at a line boundary to fit `budget` in all (one that does not
  /// fit at all is skipped). In the prompt the most relevant comes last, next to the current file; the repository
  /// name goes first where the model has a token for it (Qwen2.5-Coder's repository-level format), then the current
  /// file's name. Empty when the model has no file separator or the budget is 0.
  func contextTokens(_ request: CompletionRequest, budget: Int, template: FIMTemplate, trace: inout [String])
    -> [Int32]
  {
    guard budget > 0, let separator = template.fileSeparator, !request.contextDocuments.isEmpty else { return [] }
    var header: [Int32] = []
    if let repo = template.repoName, let name = request.repositoryName, !name.isEmpty {
      header = [repo] + tokenizer.encodePlain(name + "\n")
    }
    var used = header.count
    var pieces: [[Int32]] = []
    for document in request.contextDocuments where document.languageId == request.languageId {
      let name = tokenizer.encodePlain(displayName(document.name) + "\n")
      if used + 1 + name.count >= budget { break }
      var body: [Int32] = []
      for line in splitLinesKeepingEnds(document.text) {
        let lineTokens = tokenizer.encodePlain(line)
        if used + 1 + name.count + body.count + lineTokens.count > budget { break }
        body += lineTokens
      }
      if body.isEmpty { continue }
      pieces.append([separator] + name + body)
      used += 1 + name.count + body.count
      if let reason = document.reason {
        trace.append("context: \(reason) (\(1 + name.count + body.count) tokens)")
      } else {
        trace.append("context: open document \(displayName(document.name)) (\(1 + name.count + body.count) tokens)")
      }
    }
    guard !pieces.isEmpty else { return [] }
    var tokens = header
    for piece in pieces.reversed() { tokens += piece }
    tokens.append(separator)
    tokens += tokenizer.encodePlain(
      displayName(request.contextFileName ?? request.fileName ?? request.documentID) + "\n")
    return tokens
  }

  /// Forgets the window of a closed document.
  public func forget(documentID: String) {
    windowStarts[documentID] = nil
    anchors[documentID] = nil
  }

  private func displayName(_ name: String) -> String {
    if name.hasPrefix("file://") { return String(name.dropFirst("file://".count)) }
    return name
  }
}

/// Splits text into lines that keep their `\n` (the last line may have none). Works on UTF-8 bytes, so `\r\n`
/// (a single `Character` in Swift) splits after its `\n` too.
func splitLinesKeepingEnds(_ text: String) -> [String] {
  var lines: [String] = []
  let utf8 = text.utf8
  var lineStart = utf8.startIndex
  var index = utf8.startIndex
  while index != utf8.endIndex {
    let next = utf8.index(after: index)
    if utf8[index] == 10 {
      lines.append(String(text[lineStart..<next]))
      lineStart = next
    }
    index = next
  }
  if lineStart != utf8.endIndex || lines.isEmpty { lines.append(String(text[lineStart...])) }
  return lines
}
