/// The rules of `.gitignore` files that decide which files a workspace index skips: one `IgnoreRules` per
/// directory that has a `.gitignore`, applied to the paths below it, the deeper file's rules last (so they win).
///
/// Supported: blank lines and `#` comments, `!` negation, a trailing `/` (directories only), a leading or middle `/`
/// (anchored to the `.gitignore`'s directory), `*`, `?`, `[...]` classes and `**` (any number of directories).
/// Not supported: escaped trailing spaces, and a negated directory re-including files below an ignored directory
/// (git does not do that either).
public struct IgnoreRules: Sendable {
  struct Rule: Sendable {
    var pattern: [Character]
    var negated: Bool
    var directoryOnly: Bool
    /// Matched against the whole path relative to the `.gitignore`'s directory, else against the last component.
    var anchored: Bool
  }

  var rules: [Rule] = []

  /// Parses the text of a `.gitignore`.
  public init(text: String) {
    for rawLine in text.split(separator: "\n", omittingEmptySubsequences: true) {
      var line = Substring(rawLine)
      if line.hasSuffix("\r") { line = line.dropLast() }
      while line.hasSuffix(" ") && !line.hasSuffix("\\ ") { line = line.dropLast() }
      if line.isEmpty || line.hasPrefix("#") { continue }
      var negated = false
      if line.hasPrefix("!") {
        negated = true
        line = line.dropFirst()
      } else if line.hasPrefix("\\!") || line.hasPrefix("\\#") {
        line = line.dropFirst()
      }
      var directoryOnly = false
      if line.hasSuffix("/") {
        directoryOnly = true
        line = line.dropLast()
      }
      let anchored = line.dropLast().contains("/")
      if line.hasPrefix("/") { line = line.dropFirst() }
      if line.isEmpty { continue }
      rules.append(Rule(pattern: Array(line), negated: negated, directoryOnly: directoryOnly, anchored: anchored))
    }
  }

  /// Rules that ignore nothing.
  public init() {}

  /// Whether the rules decide about `relativePath` (components joined by `/`, relative to the `.gitignore`'s
  /// directory): true (ignored), false (re-included by a `!` rule), or nil (no rule matches).
  public func decision(relativePath: String, isDirectory: Bool) -> Bool? {
    let path = Array(relativePath)
    let name: [Character]
    if let slash = path.lastIndex(of: "/") { name = Array(path[(slash + 1)...]) } else { name = path }
    var result: Bool?
    for rule in rules {
      if rule.directoryOnly && !isDirectory { continue }
      let matched = rule.anchored ? Self.glob(rule.pattern[...], path[...]) : Self.glob(rule.pattern[...], name[...])
      if matched { result = !rule.negated }
    }
    return result
  }

  /// Glob matching where `*` and `?` stop at `/` and `**` crosses directories.
  static func glob(_ pattern: ArraySlice<Character>, _ text: ArraySlice<Character>) -> Bool {
    var p = pattern.startIndex
    var t = text.startIndex
    while p < pattern.endIndex {
      let c = pattern[p]
      if c == "*" {
        let doubled = p + 1 < pattern.endIndex && pattern[p + 1] == "*"
        if doubled {
          var rest = p + 2
          // `**/` also matches no directory at all.
          if rest < pattern.endIndex && pattern[rest] == "/" {
            rest += 1
            if glob(pattern[rest...], text[t...]) { return true }
          }
          var k = t
          while k <= text.endIndex {
            if glob(pattern[rest...], text[k...]) { return true }
            if k == text.endIndex { break }
            k += 1
          }
          return false
        }
        var k = t
        while true {
          if glob(pattern[(p + 1)...], text[k...]) { return true }
          if k == text.endIndex || text[k] == "/" { return false }
          k += 1
        }
      }
      guard t < text.endIndex else { return false }
      if c == "?" {
        if text[t] == "/" { return false }
      } else if c == "[" {
        guard let (matched, next) = matchClass(pattern, from: p, character: text[t]) else {
          if text[t] != "[" { return false }
          p += 1
          t += 1
          continue
        }
        if !matched { return false }
        p = next
        t += 1
        continue
      } else if c == "\\", p + 1 < pattern.endIndex {
        p += 1
        if pattern[p] != text[t] { return false }
      } else if c != text[t] {
        return false
      }
      p += 1
      t += 1
    }
    return t == text.endIndex
  }

  /// A `[...]` class at `from`: whether `character` is in it, and the index after its `]`; nil when unclosed.
  static func matchClass(_ pattern: ArraySlice<Character>, from: Int, character: Character) -> (Bool, Int)? {
    var i = from + 1
    var negate = false
    if i < pattern.endIndex && (pattern[i] == "!" || pattern[i] == "^") {
      negate = true
      i += 1
    }
    var matched = false
    var first = true
    while i < pattern.endIndex {
      let c = pattern[i]
      if c == "]" && !first { return (matched != negate, i + 1) }
      first = false
      if i + 2 < pattern.endIndex && pattern[i + 1] == "-" && pattern[i + 2] != "]" {
        if c <= character && character <= pattern[i + 2] { matched = true }
        i += 3
      } else {
        if c == character { matched = true }
        i += 1
      }
    }
    return nil
  }
}
