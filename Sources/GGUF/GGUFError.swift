/// Everything that can be wrong with a GGUF file; each case names the file and the problem.
public enum GGUFError: Error, Equatable, CustomStringConvertible {
  /// The file could not be opened, stat'ed or mapped (`reason` is the system's message).
  case cannotOpen(path: String, reason: String)
  /// The first four bytes are not `GGUF`.
  case badMagic(path: String, found: UInt32)
  /// A version other than 2 or 3 (v1 used 32-bit counts; a byte-swapped number means a big-endian file).
  case unsupportedVersion(path: String, version: UInt32)
  /// The file ends in the middle of `what`.
  case truncated(path: String, what: String)
  /// A count or size that cannot be right: it exceeds the file or overflows 64-bit arithmetic.
  case sizeOverflow(path: String, what: String)
  /// A metadata value with a type tag that GGUF does not define.
  case unknownValueType(path: String, key: String, type: UInt32)
  /// A metadata key that appears twice.
  case duplicateKey(path: String, key: String)
  /// A metadata value that breaks the format's rules (for example `general.alignment` not a power of two).
  case invalidMetadata(path: String, key: String, reason: String)
  /// A tensor whose ggml type number is not one we know.
  case unknownTensorType(path: String, tensor: String, type: UInt32)
  /// A tensor name that appears twice.
  case duplicateTensor(path: String, name: String)
  /// A tensor with an impossible shape (too many dimensions, a zero or negative extent, a first dimension that is
  /// not a whole number of blocks).
  case invalidTensorShape(path: String, name: String, reason: String)
  /// A tensor whose data offset is not a multiple of the file's alignment.
  case misalignedTensor(path: String, name: String, offset: UInt64, alignment: Int)
  /// A tensor whose data extends past the end of the file.
  case tensorOutOfBounds(path: String, name: String)
  /// A tensor a caller required is not in the file.
  case missingTensor(path: String, name: String)
  /// A metadata key a caller required is not in the file.
  case missingKey(path: String, key: String)
  /// A metadata key a caller required has another type than expected.
  case typeMismatch(path: String, key: String, expected: String, found: String)

  public var description: String {
    switch self {
    case .cannotOpen(let path, let reason):
      return "\(path): cannot open GGUF file: \(reason)"
    case .badMagic(let path, let found):
      return "\(path): not a GGUF file (magic is 0x\(String(found, radix: 16)), expected 0x46554747 \"GGUF\")"
    case .unsupportedVersion(let path, let version):
      let hint = version > 0xFFFF ? " (a big-endian file?)" : version == 1 ? " (GGUF v1 is obsolete)" : ""
      return "\(path): unsupported GGUF version \(version)\(hint); versions 2 and 3 are supported"
    case .truncated(let path, let what):
      return "\(path): file is truncated: it ends inside \(what)"
    case .sizeOverflow(let path, let what):
      return "\(path): impossible size: \(what)"
    case .unknownValueType(let path, let key, let type):
      return "\(path): metadata key '\(key)' has unknown value type \(type)"
    case .duplicateKey(let path, let key):
      return "\(path): metadata key '\(key)' appears more than once"
    case .invalidMetadata(let path, let key, let reason):
      return "\(path): invalid metadata '\(key)': \(reason)"
    case .unknownTensorType(let path, let tensor, let type):
      return "\(path): tensor '\(tensor)' has unknown ggml type \(type)"
    case .duplicateTensor(let path, let name):
      return "\(path): tensor '\(name)' appears more than once"
    case .invalidTensorShape(let path, let name, let reason):
      return "\(path): tensor '\(name)' has an invalid shape: \(reason)"
    case .misalignedTensor(let path, let name, let offset, let alignment):
      return "\(path): tensor '\(name)' data offset \(offset) is not a multiple of the alignment \(alignment)"
    case .tensorOutOfBounds(let path, let name):
      return "\(path): tensor '\(name)' extends past the end of the file"
    case .missingTensor(let path, let name):
      return "\(path): required tensor '\(name)' is missing"
    case .missingKey(let path, let key):
      return "\(path): required metadata key '\(key)' is missing"
    case .typeMismatch(let path, let key, let expected, let found):
      return "\(path): metadata key '\(key)' is \(found), expected \(expected)"
    }
  }
}
