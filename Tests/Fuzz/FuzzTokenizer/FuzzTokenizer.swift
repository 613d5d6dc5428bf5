import Foundation
import FuzzSupport
import GGUF
import Tokenization

/// The tokenizer of a real vocabulary on any text: encoding never crashes, every id is in the vocabulary, and
/// decoding gives the text back (byte-level BPE covers every byte). The vocabulary comes from
/// `CODEGEN_LSP_FUZZ_VOCABULARY` (a GGUF file), else the qwen2.5-coder-0.5b preset when it is downloaded, else the
/// tiny test model's.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTokenizer(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
  var input = FuzzInput(data, count)
  let parseSpecial = input.byte() & 1 == 1
  let text = String(decoding: input.rest(), as: UTF8.self)
  let ids = tokenizer.encode(text, parseSpecial: parseSpecial)
  for id in ids {
    fuzzCheck(id >= 0 && Int(id) < tokenizer.vocabularySize, "id \(id) outside the vocabulary")
  }
  if !parseSpecial {
    let decoded = tokenizer.decode(ids)
    fuzzCheck(decoded == text, "decode(encode(text)) != text for \(Array(text.utf8).prefix(64))")
  }
  return 0
}

let tokenizer: Tokenizer = {
  let environment = ProcessInfo.processInfo.environment
  let home = environment["HOME"] ?? NSHomeDirectory()
  let models = environment["CODEGEN_LSP_MODELS_DIR"] ?? "\(home)/.cache/codegen-lsp/models"
  let candidates = [
    environment["CODEGEN_LSP_FUZZ_VOCABULARY"], "\(models)/qwen2.5-coder-0.5b.gguf",
    "Tests/InferenceTests/Fixtures/tiny-qwen2.gguf",
  ].compactMap { $0 }
  for path in candidates where FileManager.default.fileExists(atPath: path) {
    do {
      let loaded = try Tokenizer(gguf: try GGUFFile(path: path))
      FileHandle.standardError.write(Data("FuzzTokenizer: vocabulary of \(path)\n".utf8))
      return loaded
    } catch {
      fatalError("cannot read the vocabulary of \(path): \(error)")
    }
  }
  fatalError("no vocabulary: set CODEGEN_LSP_FUZZ_VOCABULARY to a GGUF file, or run from the checkout")
}()

@_cdecl("FuzzTokenizer_main")
public func fuzzTokenizerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
  runFuzzer(argc, argv, warmUp: { _ = tokenizer.decode(tokenizer.encode("warm up 😀", parseSpecial: true)) }) {
    fuzzTokenizer($0, $1)
  }
}
