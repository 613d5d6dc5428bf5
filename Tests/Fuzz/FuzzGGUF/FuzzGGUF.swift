import FuzzSupport
import GGUF
import Glibc
import Tokenization

/// The GGUF reader on any file bytes (header, metadata, tensor table, data offsets), then the tokenizer on the
/// vocabulary it holds: a bad file is refused with an error, never a crash or an allocation of a claimed size;
/// every tensor the reader accepts lies inside the file.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzGGUF(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
  let path = scratchPath
  let data = data ?? UnsafePointer(bitPattern: 1)!
  let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
  guard fd >= 0 else { fatalError("cannot write \(path)") }
  var written = 0
  while written < count, count > 0 {
    let n = write(fd, data + written, count - written)
    guard n > 0 else { fatalError("cannot write \(path)") }
    written += n
  }
  close(fd)
  guard let file = try? GGUFFile(path: path) else { return 0 }
  for tensor in file.tensors {
    fuzzCheck(
      tensor.fileOffset >= file.dataOffset && tensor.byteCount >= 0
        && tensor.fileOffset + tensor.byteCount <= file.fileSize,
      "tensor \(tensor.name) at \(tensor.fileOffset)+\(tensor.byteCount) outside a file of \(file.fileSize) bytes")
    let bytes = file.data(for: tensor)
    fuzzCheck(bytes.count == tensor.byteCount, "tensor \(tensor.name) data of \(bytes.count) bytes")
  }
  for key in file.metadataKeys { _ = file.metadata[key]?.stringValue }
  if let tokenizer = try? Tokenizer(gguf: file) {
    let ids = tokenizer.encode("def f(x):\n    return x + 1 # é 😀")
    _ = tokenizer.decode(ids)
  }
  return 0
}

/// One scratch file per process, in memory where the machine has /dev/shm.
let scratchPath: String = {
  let directory = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp"
  return "\(directory)/codegen-lsp-fuzz-gguf-\(getpid()).gguf"
}()

@_cdecl("FuzzGGUF_main")
public func fuzzGGUFMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
  runFuzzer(argc, argv, warmUp: warmUp) { fuzzGGUF($0, $1) }
}

/// Builds a tokenizer once from the tiny test model, when the checkout is the working directory, so the
/// pre-tokenizer tables (built once per process) exist before fuzzing.
func warmUp() {
  if let file = try? GGUFFile(path: "Tests/InferenceTests/Fixtures/tiny-qwen2.gguf"),
    let tokenizer = try? Tokenizer(gguf: file)
  {
    _ = tokenizer.decode(tokenizer.encode("warm up"))
  }
}
