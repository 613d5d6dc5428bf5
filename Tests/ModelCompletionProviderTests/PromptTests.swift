import CodeCompletion
import XCTest

@testable import ModelCompletionProvider

/// A tokenizer with one token per UTF-8 byte (ids 0…255) and named special tokens from 1000 on.
final class ByteTokenizer: PromptTokenizer {
  var specials: [String: Int32]
  var fim: (prefix: Int32?, suffix: Int32?, middle: Int32?, pad: Int32?, repo: Int32?, separator: Int32?) = (
    nil, nil, nil, nil, nil, nil
  )
  private(set) var encodeCalls = 0

  init(specials: [String]) {
    var table: [String: Int32] = [:]
    for (index, text) in specials.enumerated() { table[text] = 1000 + Int32(index) }
    self.specials = table
  }

  func encodePlain(_ text: String) -> [Int32] {
    encodeCalls += 1
    return text.utf8.map { Int32($0) }
  }

  func tokenID(forText text: String) -> Int32? { specials[text] }

  var metadataFIM: (prefix: Int32?, suffix: Int32?, middle: Int32?, pad: Int32?, repo: Int32?, separator: Int32?) {
    fim
  }

  func text(_ tokens: [Int32]) -> String {
    var out = ""
    var bytes: [UInt8] = []
    for token in tokens {
      if token < 256 {
        bytes.append(UInt8(token))
      } else {
        out += String(decoding: bytes, as: UTF8.self)
        bytes = []
        out += specials.first { $0.value == token }?.key ?? "?"
      }
    }
    return out + String(decoding: bytes, as: UTF8.self)
  }
}

final class FIMTemplateTests: XCTestCase {
  func testDetectsQwenByTextWithSeparatorAndPadAsStops() throws {
    let tokenizer = ByteTokenizer(specials: [
      "<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>", "<|file_sep|>", "<|fim_pad|>", "<|repo_name|>",
    ])
    let template = try XCTUnwrap(FIMTemplate.detect(tokenizer))
    XCTAssertEqual(template.family, "qwen")
    XCTAssertEqual(template.prefix, 1000)
    XCTAssertEqual(template.suffix, 1001)
    XCTAssertEqual(template.middle, 1002)
    XCTAssertEqual(template.fileSeparator, 1003)
    XCTAssertEqual(template.stopTokens, [1003, 1004])
    XCTAssertEqual(template.order(for: "auto"), .psm, "Qwen was trained on PSM only")
    XCTAssertEqual(template.order(for: "spm"), .spm)
  }

  func testDetectsStarCoderWhichPrefersSPM() throws {
    let tokenizer = ByteTokenizer(specials: ["<fim_prefix>", "<fim_suffix>", "<fim_middle>", "<file_sep>"])
    let template = try XCTUnwrap(FIMTemplate.detect(tokenizer))
    XCTAssertEqual(template.family, "starcoder")
    XCTAssertEqual(template.order(for: "auto"), .spm)
    XCTAssertEqual(template.order(for: "psm"), .psm)
  }

  func testDetectsDeepSeekCoder() throws {
    let tokenizer = ByteTokenizer(specials: ["<｜fim▁begin｜>", "<｜fim▁hole｜>", "<｜fim▁end｜>"])
    let template = try XCTUnwrap(FIMTemplate.detect(tokenizer))
    XCTAssertEqual(template.family, "deepseek")
    XCTAssertEqual(template.prefix, 1000)
    XCTAssertEqual(template.suffix, 1001)
    XCTAssertEqual(template.middle, 1002)
  }

  func testMetadataIdsWinOverTexts() throws {
    let tokenizer = ByteTokenizer(specials: ["<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>"])
    tokenizer.fim = (prefix: 7, suffix: 8, middle: 9, pad: 10, repo: nil, separator: 11)
    let template = try XCTUnwrap(FIMTemplate.detect(tokenizer))
    XCTAssertEqual([template.prefix, template.suffix, template.middle], [7, 8, 9])
    XCTAssertEqual(template.fileSeparator, 11)
    XCTAssertTrue(template.stopTokens.isSuperset(of: [10, 11]))
  }

  func testModelWithoutFIMTokensHasNoTemplate() {
    XCTAssertNil(FIMTemplate.detect(ByteTokenizer(specials: ["<|im_start|>", "<|im_end|>"])))
  }
}

final class PromptBuilderTests: XCTestCase {
  let specials = ["<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>", "<|file_sep|>"]

  func request(_ prefix: String, _ suffix: String, documents: [ContextDocument] = []) -> CompletionRequest {
    CompletionRequest(
      documentID: "file:///a.py", fileName: "a.py", languageId: "python", prefix: prefix, suffix: suffix,
      contextDocuments: documents)
  }

  func testPSMAndSPMLayouts() throws {
    let tokenizer = ByteTokenizer(specials: specials)
    let builder = PromptBuilder(tokenizer: tokenizer, template: FIMTemplate.detect(tokenizer), bos: nil)
    var trace: [String] = []
    let psm = builder.build(
      request("def f():\n    ", "\nprint(f())\n"), settings: CompletionSettings(), order: .psm, trace: &trace)
    XCTAssertEqual(tokenizer.text(psm.tokens), "<|fim_prefix|>def f():\n    <|fim_suffix|>\nprint(f())\n<|fim_middle|>")
    let spm = builder.build(
      request("def f():\n    ", "\nprint(f())\n"), settings: CompletionSettings(), order: .spm, trace: &trace)
    XCTAssertEqual(tokenizer.text(spm.tokens), "<|fim_prefix|><|fim_suffix|>\nprint(f())\n<|fim_middle|>def f():\n    ")
  }

  func testSPMPromptOfAKeystrokeExtendsThePreviousPrompt() {
    let tokenizer = ByteTokenizer(specials: specials)
    let builder = PromptBuilder(tokenizer: tokenizer, template: FIMTemplate.detect(tokenizer), bos: nil)
    var trace: [String] = []
    let body = (0..<40).map { "line \($0) = \($0)\n" }.joined()
    let first = builder.build(
      request(body + "x = ", "\ny = 2\n"), settings: CompletionSettings(), order: .spm, trace: &trace)
    let second = builder.build(
      request(body + "x = 4", "\ny = 2\n"), settings: CompletionSettings(), order: .spm, trace: &trace)
    XCTAssertEqual(Array(second.tokens.prefix(first.tokens.count)), first.tokens)
    XCTAssertEqual(second.tokens.count, first.tokens.count + 1)
  }

  func testPSMPromptOfKeystrokesExtendsThePreviousPromptUntilTheAnchorIsFar() throws {
    let tokenizer = ByteTokenizer(specials: specials)
    let builder = PromptBuilder(tokenizer: tokenizer, template: FIMTemplate.detect(tokenizer), bos: nil)
    var settings = CompletionSettings()
    settings.middleTokens = 16
    var trace: [String] = []
    let body = "import os\n\ndef f(x):\n    "
    var previous = builder.build(request(body, "\n\nprint(f(1))\n"), settings: settings, order: .psm, trace: &trace)
    XCTAssertTrue(
      tokenizer.text(previous.tokens).hasSuffix("    <|fim_suffix|>\n\nprint(f(1))\n<|fim_middle|>"),
      tokenizer.text(previous.tokens))
    var typed = ""
    for character in "return x + 1\n    y = 2\n    z = 3\n    w = 4" {
      typed.append(character)
      let next = builder.build(
        request(body + typed, "\n\nprint(f(1))\n"), settings: settings, order: .psm, trace: &trace)
      if typed.utf8.count + 4 <= 16 {
        XCTAssertEqual(
          Array(next.tokens.prefix(previous.tokens.count)), previous.tokens, "after typing \(typed.debugDescription)")
      }
      previous = next
    }
    // Past the budget the anchor moves to the start of the cursor's line: the typed line is in the prefix now.
    let text = tokenizer.text(previous.tokens)
    let head = try XCTUnwrap(text.components(separatedBy: "<|fim_suffix|>").first)
    let tail = try XCTUnwrap(text.components(separatedBy: "<|fim_middle|>").last)
    XCTAssertTrue(head.contains("return x + 1\n"), text)
    XCTAssertTrue(tail.hasSuffix("w = 4"), text)
    XCTAssertLessThanOrEqual(tail.utf8.count, 32, "the anchor follows once the typed text outgrows the budget")
    // A changed suffix (the cursor moved) re-anchors too.
    let moved = builder.build(request(body + typed, "\nother\n"), settings: settings, order: .psm, trace: &trace)
    XCTAssertTrue(tokenizer.text(moved.tokens).hasSuffix("<|fim_middle|>w = 4"))
    XCTAssertTrue(tokenizer.text(moved.tokens).contains("<|fim_suffix|>\nother\n<|fim_middle|>"))
  }

  func testPrefixWindowMovesInCoarseSteps() {
    let tokenizer = ByteTokenizer(specials: specials)
    let builder = PromptBuilder(tokenizer: tokenizer, template: FIMTemplate.detect(tokenizer), bos: nil)
    var settings = CompletionSettings()
    settings.prefixTokens = 200
    settings.middleTokens = 0
    var trace: [String] = []
    // Lines of 10 bytes each; type one more line at a time and record where the window starts.
    var starts: [String] = []
    var text = ""
    for index in 0..<60 {
      text += String(format: "v%03d = %02d\n", index, index % 100)
      let prompt = builder.build(request(text, ""), settings: settings, order: .psm, trace: &trace)
      XCTAssertLessThanOrEqual(prompt.prefixTokenCount, 200)
      starts.append(String(prompt.prefixWindow.prefix(4)))
    }
    // The window start changes rarely: far fewer distinct starts than keystrokes of whole lines.
    let changes = zip(starts, starts.dropFirst()).filter { $0 != $1 }.count
    XCTAssertGreaterThan(changes, 0, "the window must move when the prefix outgrows the budget")
    XCTAssertLessThanOrEqual(changes, 10, "the window moved \(changes) times in 60 lines: \(starts)")
  }

  func testShortWindowBeginsInsideALongLineToHoldItsBudget() {
    let tokenizer = ByteTokenizer(specials: specials)
    let builder = PromptBuilder(tokenizer: tokenizer, template: FIMTemplate.detect(tokenizer), bos: nil)
    var trace: [String] = []
    // A 60-byte line, then two short ones: whole lines give 8 of the 30 tokens a budget of 40 aims at.
    let prefix = "result = compute(first_argument, second_argument, third)\nx = 1\ny = 2\n"
    let (_, whole) = builder.prefixWindow(documentID: "a", prefix: prefix, budget: 40, trace: &trace)
    XCTAssertEqual(whole.count, 12)
    let (_, partial) = builder.prefixWindow(
      documentID: "b", prefix: prefix, budget: 40, partialLines: true, trace: &trace)
    XCTAssertEqual(partial.count, 30)
    XCTAssertEqual(tokenizer.text(partial), String(prefix.suffix(30)))
    XCTAssertTrue(trace.last?.contains("without its first") ?? false, trace.joined(separator: "\n"))
    // A line typed after it keeps the window's start (the same first tokens) while it fits the budget.
    let (_, next) = builder.prefixWindow(
      documentID: "b", prefix: prefix + "z = 3\n", budget: 40, partialLines: true, trace: &trace)
    XCTAssertEqual(Array(next.prefix(30)), partial)
    XCTAssertEqual(next.count, 36)
  }

  func testSuffixWindowKeepsWholeLinesWithinBudget() {
    let tokenizer = ByteTokenizer(specials: specials)
    let builder = PromptBuilder(tokenizer: tokenizer, template: FIMTemplate.detect(tokenizer), bos: nil)
    let (text, tokens) = builder.suffixWindow("abc\ndefgh\nijklmnop\n", budget: 10)
    XCTAssertEqual(text, "abc\ndefgh\n")
    XCTAssertEqual(tokens.count, 10)
    let (long, longTokens) = builder.suffixWindow(String(repeating: "x", count: 50) + "\n", budget: 10)
    XCTAssertEqual(longTokens.count, 10)
    XCTAssertFalse(long.isEmpty)
  }

  func testOtherDocumentsUseFileSeparatorsWithinBudget() {
    let tokenizer = ByteTokenizer(specials: specials)
    let builder = PromptBuilder(tokenizer: tokenizer, template: FIMTemplate.detect(tokenizer), bos: nil)
    var settings = CompletionSettings()
    settings.contextDocumentTokens = 40
    var trace: [String] = []
    let documents = [
      ContextDocument(name: "file:///b.py", languageId: "python", text: "import os\nX = 1\nY = 2\nZ = 3\n"),
      ContextDocument(name: "file:///c.js", languageId: "javascript", text: "let q = 1\n"),
    ]
    let prompt = builder.build(request("a = ", ""), settings: settings, order: .psm, trace: &trace)
    XCTAssertEqual(prompt.contextTokenCount, 0)
    let withContext = builder.build(
      request("a = ", "", documents: documents), settings: settings, order: .psm, trace: &trace)
    let text = tokenizer.text(withContext.tokens)
    XCTAssertTrue(text.hasPrefix("<|file_sep|>/b.py\nimport os\n"), text)
    XCTAssertFalse(text.contains("let q"), "other languages are not context")
    XCTAssertTrue(text.contains("<|file_sep|>a.py\n<|fim_prefix|>"), text)
    XCTAssertTrue(text.hasSuffix("<|fim_middle|>a = "), text)
    XCTAssertLessThanOrEqual(withContext.contextTokenCount, 40 + "<|file_sep|>a.py\n".utf8.count)
  }

  /// Repository context: the repository name first (with a model token for it), the most relevant piece last (next
  /// to the current file, named relative to the workspace), a piece too large for what is left skipped.
  func testRepositoryContextLayout() {
    let tokenizer = ByteTokenizer(specials: specials + ["<|repo_name|>"])
    let builder = PromptBuilder(tokenizer: tokenizer, template: FIMTemplate.detect(tokenizer), bos: nil)
    var settings = CompletionSettings()
    settings.contextDocumentTokens = 100
    var trace: [String] = []
    var withRepo = request("a = ", "")
    withRepo.repositoryName = "proj"
    withRepo.contextFileName = "pkg/a.py"
    withRepo.contextDocuments = [
      ContextDocument(
        name: "pkg/util.py", languageId: "python", text: "def make_str(v):\n", reason: "definition of `make_str`"),
      ContextDocument(name: "pkg/big.py", languageId: "python", text: String(repeating: "x", count: 200) + "\n"),
      ContextDocument(name: "pkg/b.py", languageId: "python", text: "B = 1\n", reason: "similar"),
    ]
    let prompt = builder.build(withRepo, settings: settings, order: .psm, trace: &trace)
    XCTAssertEqual(
      tokenizer.text(prompt.tokens),
      "<|repo_name|>proj\n<|file_sep|>pkg/b.py\nB = 1\n<|file_sep|>pkg/util.py\ndef make_str(v):\n"
        + "<|file_sep|>pkg/a.py\n<|fim_prefix|><|fim_suffix|><|fim_middle|>a = ")
    XCTAssertTrue(trace.contains { $0.hasPrefix("context: definition of `make_str`") }, "\(trace)")
  }

  func testPrefixOnlyWithoutTemplateAddsBOS() {
    let tokenizer = ByteTokenizer(specials: ["<s>"])
    let builder = PromptBuilder(tokenizer: tokenizer, template: nil, bos: 1000)
    var trace: [String] = []
    let prompt = builder.build(request("x = ", "\ny\n"), settings: CompletionSettings(), order: .psm, trace: &trace)
    XCTAssertEqual(prompt.tokens, [1000] + "x = ".utf8.map { Int32($0) })
    XCTAssertEqual(prompt.layout, "prefix-only")
  }

  func testSplitLinesHandlesCRLF() {
    XCTAssertEqual(splitLinesKeepingEnds("a\r\nb\nc"), ["a\r\n", "b\n", "c"])
    XCTAssertEqual(splitLinesKeepingEnds(""), [""])
    XCTAssertEqual(splitLinesKeepingEnds("x\n"), ["x\n"])
  }
}

final class CompletionCacheTests: XCTestCase {
  func testTypingThroughASuggestionReturnsTheRest() {
    var cache = CompletionCache()
    cache.store(documentID: "d", prefix: "x = ", suffix: "\n", candidates: ["compute(1, 2)"])
    XCTAssertEqual(cache.lookup(documentID: "d", prefix: "x = comp", suffix: "\n"), ["ute(1, 2)"])
    XCTAssertEqual(cache.lookup(documentID: "d", prefix: "x = ", suffix: "\n"), ["compute(1, 2)"])
    XCTAssertNil(cache.lookup(documentID: "d", prefix: "x = cor", suffix: "\n"), "typed text diverged")
    XCTAssertNil(cache.lookup(documentID: "d", prefix: "x = comp", suffix: "\nother"), "suffix changed")
    XCTAssertNil(cache.lookup(documentID: "e", prefix: "x = comp", suffix: "\n"), "other document")
    XCTAssertNil(cache.lookup(documentID: "d", prefix: "x = compute(1, 2)", suffix: "\n"), "nothing left")
  }

  func testCapacityDropsOldestEntries() {
    var cache = CompletionCache(capacity: 2)
    cache.store(documentID: "a", prefix: "1", suffix: "", candidates: ["x"])
    cache.store(documentID: "b", prefix: "2", suffix: "", candidates: ["y"])
    cache.store(documentID: "c", prefix: "3", suffix: "", candidates: ["z"])
    XCTAssertNil(cache.lookup(documentID: "a", prefix: "1", suffix: ""))
    XCTAssertEqual(cache.lookup(documentID: "c", prefix: "3", suffix: ""), ["z"])
  }
}

final class ChatFormatTests: XCTestCase {
  func testDetectsFormatsFromTemplates() {
    XCTAssertEqual(ChatFormat.detect(template: "{% for m in messages %}<|im_start|>{{m.role}}"), .chatML)
    XCTAssertEqual(ChatFormat.detect(template: "<|start_header_id|>"), .llama3)
    XCTAssertEqual(ChatFormat.detect(template: "{{'<｜User｜>' + content}}"), .deepSeekR1)
    XCTAssertEqual(ChatFormat.detect(template: "### Instruction:\n"), .deepSeekCoder)
    XCTAssertNil(ChatFormat.detect(template: "{{ bos_token }}"))
    XCTAssertNil(ChatFormat.detect(template: nil))
  }

  func testChatMLRendering() {
    XCTAssertEqual(
      ChatFormat.chatML.render(system: "S", user: "U"),
      "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nU<|im_end|>\n<|im_start|>assistant\n")
  }

  /// A chat answer below a docstring: a repeated definition gives its body; a body at column 0 is indented.
  func testChatAnswerIsFittedToTheEmptyBodyBelowADocstring() {
    let prefix = "def add(a, b):\n    \"\"\"Sum.\"\"\"\n"
    let whole =
      "import math\n\ndef add(a, b):\n    \"\"\"\n    Sum.\n    \"\"\"\n    total = a + b\n\n    return total\n\nprint(add(1, 2))"
    XCTAssertEqual(fitAnswerToEmptyBody(whole, prefix: prefix, bodyIndent: 4), "    total = a + b\n\n    return total")
    XCTAssertEqual(fitAnswerToEmptyBody("return a + b", prefix: prefix, bodyIndent: 4), "    return a + b")
    XCTAssertEqual(
      fitAnswerToEmptyBody("if a:\n    return a\nreturn b", prefix: prefix, bodyIndent: 4),
      "    if a:\n        return a\n    return b")
  }

  func testExtractsTheFirstFencedBlock() {
    XCTAssertEqual(extractCode(fromChatAnswer: "Here:\n```python\nx = 1\ny = 2\n```\nDone."), "x = 1\ny = 2")
    XCTAssertEqual(extractCode(fromChatAnswer: "```\nunterminated\n"), "unterminated")
    XCTAssertEqual(extractCode(fromChatAnswer: "plain code\n"), "plain code")
    XCTAssertEqual(extractCode(fromChatAnswer: "<think>hmm ``` no</think>```c\nint x;\n```"), "int x;")
  }
}

final class ModelPresetsTests: XCTestCase {
  func testPrecedenceConfigurationThenFlagThenEnvironmentThenDefault() {
    let env = ["CODEGEN_LSP_MODEL": "smollm2-135m"]
    XCTAssertEqual(ModelPresets.choose(configuration: "a.gguf", commandLine: "b", environment: env), "a.gguf")
    XCTAssertEqual(ModelPresets.choose(configuration: nil, commandLine: "b", environment: env), "b")
    XCTAssertEqual(ModelPresets.choose(configuration: " ", commandLine: nil, environment: env), "smollm2-135m")
    XCTAssertEqual(ModelPresets.choose(configuration: nil, commandLine: nil, environment: [:]), "qwen2.5-coder-0.5b")
  }

  func testLocateExplainsAMissingPresetAndFindsFiles() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("presets-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let env = ["CODEGEN_LSP_MODELS_DIR": dir]
    guard case .missing(let message) = ModelPresets.locate("smollm2-135m", environment: env) else {
      return XCTFail("a preset that is not downloaded must be missing")
    }
    XCTAssertTrue(message.contains("fetch_model.py smollm2-135m"), message)
    XCTAssertTrue(message.contains(dir), message)
    XCTAssertTrue(FileManager.default.createFile(atPath: dir + "/smollm2-135m.gguf", contents: Data([1])))
    XCTAssertEqual(
      ModelPresets.locate("smollm2-135m", environment: env),
      .file(path: dir + "/smollm2-135m.gguf", preset: ModelPresets.preset(named: "smollm2-135m")))
    guard case .missing(let unknown) = ModelPresets.locate("/no/such/model.gguf", environment: env) else {
      return XCTFail("a path that does not exist must be missing")
    }
    XCTAssertTrue(unknown.contains("neither a preset"), unknown)
  }

  func testLanguageIdsFromFileNames() {
    XCTAssertEqual(LanguageIdentifiers.languageId(forFileName: "src/main.rs"), "rust")
    XCTAssertEqual(LanguageIdentifiers.languageId(forFileName: "a.PY"), "python")
    XCTAssertNil(LanguageIdentifiers.languageId(forFileName: "README"))
  }
}
