import GGUF

/// Everything that can go wrong while loading or running a model; each case says what is wrong and, where there
/// is one, names the model file.
public enum InferenceError: Error, Sendable, Equatable, CustomStringConvertible {
  /// The GGUF reader rejected the file.
  case file(GGUFError)
  /// `general.architecture` names a family this engine does not run.
  case unsupportedArchitecture(path: String, architecture: String)
  /// A required metadata key is absent or unusable.
  case invalidMetadata(path: String, key: String, reason: String)
  /// A tensor the architecture needs is not in the file.
  case missingTensor(path: String, name: String)
  /// A tensor has a shape that does not match the hyperparameters.
  case wrongShape(path: String, name: String, expected: [Int], found: [Int])
  /// A tensor has an element type the kernels cannot multiply.
  case unsupportedTensorType(path: String, name: String, type: String)
  /// A token id outside the vocabulary was given to the model.
  case invalidToken(id: Int32, vocabularySize: Int)
  /// The tokens do not fit in the context window.
  case contextOverflow(needed: Int, capacity: Int)
  /// A request that makes no sense (an empty evaluation, a rollback past the cached length, ...).
  case invalidArgument(String)
  /// The model file has no tokenizer, or the tokenizer could not be built.
  case tokenizer(path: String, reason: String)
  /// The sampler rejected its settings or found no token to choose.
  case sampling(String)

  public var description: String {
    switch self {
    case .file(let error):
      return "\(error)"
    case .unsupportedArchitecture(let path, let architecture):
      return "\(path): unsupported architecture '\(architecture)' (supported: llama, qwen2)"
    case .invalidMetadata(let path, let key, let reason):
      return "\(path): metadata '\(key)': \(reason)"
    case .missingTensor(let path, let name):
      return "\(path): missing tensor '\(name)'"
    case .wrongShape(let path, let name, let expected, let found):
      return "\(path): tensor '\(name)' has shape \(found), expected \(expected)"
    case .unsupportedTensorType(let path, let name, let type):
      return "\(path): tensor '\(name)' has type \(type), which the engine cannot run"
    case .invalidToken(let id, let vocabularySize):
      return "token id \(id) is outside the vocabulary of \(vocabularySize) tokens"
    case .contextOverflow(let needed, let capacity):
      return "\(needed) tokens do not fit in the context window of \(capacity) tokens"
    case .invalidArgument(let message):
      return message
    case .tokenizer(let path, let reason):
      return "\(path): tokenizer: \(reason)"
    case .sampling(let message):
      return "sampling: \(message)"
    }
  }
}
