import FuzzSupport
import JSON
import LSPTypes

/// The JSON parser on any bytes, then every LSP request and notification decoder on what it parses: nothing
/// crashes; a parsed value serialises to text that parses back to the same value; a message decoded from JSON
/// encodes to JSON that decodes to an equal encoding.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSON(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
  let bytes = Array(UnsafeBufferPointer(start: data, count: data == nil ? 0 : count))
  guard let value = try? JSONValue.parse(bytes) else { return 0 }
  let text = value.serialized()
  guard let again = try? JSONValue.parse(text) else {
    fuzzCheck(false, "serialised JSON does not parse: \(text.prefix(200))")
    return 0
  }
  fuzzCheck(again.serialized() == text, "JSON does not round-trip: \(text.prefix(200))")
  // The value as params, and its own params member when it looks like a whole message.
  var candidates = [value]
  if case .object(let members) = value, let params = members["params"] { candidates.append(params) }
  for params in candidates {
    for entry in LSPMessageRegistry.all {
      guard let message = try? entry.type.init(json: params) else { continue }
      let encoded = message.json
      guard let decoded = try? entry.type.init(json: encoded) else {
        fuzzCheck(false, "\(entry.type) does not decode its own encoding \(encoded.serialized().prefix(200))")
        continue
      }
      fuzzCheck(
        decoded.json.serialized() == encoded.serialized(),
        "\(entry.type) does not round-trip: \(encoded.serialized().prefix(200))")
    }
  }
  return 0
}

@_cdecl("FuzzJSON_main")
public func fuzzJSONMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
  runFuzzer(argc, argv) { fuzzJSON($0, $1) }
}
