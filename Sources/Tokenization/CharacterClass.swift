/// Unicode character classes the pre-tokenizer regexes use, as bit flags per scalar.
///
/// `\p{L}`, `\p{N}`, `\p{P}` are the general categories L*, N*, P*; `\s` is the Unicode `White_Space` property
/// (what Oniguruma, the regex engine of Hugging Face `tokenizers`, matches with `\s`). Flags are computed from
/// the Swift standard library's Unicode tables; scalars below U+10000 are looked up in a table built once.
struct CharacterClass: OptionSet, Sendable {
  let rawValue: UInt8

  /// `\p{L}`: a letter (Lu, Ll, Lt, Lm, Lo).
  static let letter = CharacterClass(rawValue: 1 << 0)
  /// `\p{N}`: a number (Nd, Nl, No).
  static let number = CharacterClass(rawValue: 1 << 1)
  /// `\s`: Unicode White_Space.
  static let whitespace = CharacterClass(rawValue: 1 << 2)
  /// `\p{P}`: punctuation (Pc, Pd, Ps, Pe, Pi, Pf, Po).
  static let punctuation = CharacterClass(rawValue: 1 << 3)
  /// `\p{S}`: a symbol (Sm, Sc, Sk, So).
  static let symbol = CharacterClass(rawValue: 1 << 4)
  /// `\p{M}`: a mark (Mn, Mc, Me).
  static let mark = CharacterClass(rawValue: 1 << 5)
  /// `\r` or `\n`.
  static let newline = CharacterClass(rawValue: 1 << 6)

  /// The classes of the scalar with value `value` (0 for a value that is not a scalar).
  @inline(__always)
  static func of(_ value: UInt32) -> CharacterClass {
    if value < 0x10000 { return CharacterClass(rawValue: basicPlaneTable[Int(value)]) }
    return compute(value)
  }

  /// Computes the flags from the standard library's Unicode properties.
  static func compute(_ value: UInt32) -> CharacterClass {
    guard let scalar = Unicode.Scalar(value) else { return [] }
    let properties = scalar.properties
    var result: CharacterClass = []
    if properties.isWhitespace { result.insert(.whitespace) }
    if value == 0x0A || value == 0x0D { result.insert(.newline) }
    switch properties.generalCategory {
    case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
      result.insert(.letter)
    case .decimalNumber, .letterNumber, .otherNumber:
      result.insert(.number)
    case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation, .initialPunctuation,
      .finalPunctuation, .otherPunctuation:
      result.insert(.punctuation)
    case .mathSymbol, .currencySymbol, .modifierSymbol, .otherSymbol:
      result.insert(.symbol)
    case .nonspacingMark, .spacingMark, .enclosingMark:
      result.insert(.mark)
    default:
      break
    }
    return result
  }

  /// Flags of U+0000…U+FFFF (surrogates get none), built once on first use.
  static let basicPlaneTable: [UInt8] = {
    var table = [UInt8](repeating: 0, count: 0x10000)
    for value in 0..<UInt32(0x10000) { table[Int(value)] = compute(value).rawValue }
    return table
  }()
}
