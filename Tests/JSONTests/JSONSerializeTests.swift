import JSON
import XCTest

final class JSONSerializeTests: XCTestCase {
  func testCompactAndSortedKeys() {
    let value: JSONValue = ["b": 1, "a": [true, false, nil], "c": ["z": "x", "y": 2.5]]
    XCTAssertEqual(value.serialized(), #"{"a":[true,false,null],"b":1,"c":{"y":2.5,"z":"x"}}"#)
    XCTAssertEqual(value.serializedBytes(), Array(value.serialized().utf8))
  }

  func testIntegers() {
    XCTAssertEqual(JSONValue.int(0).serialized(), "0")
    XCTAssertEqual(JSONValue.int(-5).serialized(), "-5")
    XCTAssertEqual(JSONValue.int(Int64.max).serialized(), "9223372036854775807")
    XCTAssertEqual(JSONValue.int(Int64.min).serialized(), "-9223372036854775808")
  }

  func testDoubles() {
    XCTAssertEqual(JSONValue.double(1).serialized(), "1.0")
    XCTAssertEqual(JSONValue.double(0.1).serialized(), "0.1")
    XCTAssertEqual(JSONValue.double(-0.0).serialized(), "-0.0")
    XCTAssertEqual(JSONValue.double(.nan).serialized(), "null")
    XCTAssertEqual(JSONValue.double(.infinity).serialized(), "null")
    XCTAssertEqual(JSONValue.double(-.infinity).serialized(), "null")
  }

  func testStringEscapes() {
    XCTAssertEqual(JSONValue.string("a\"b\\c/d").serialized(), #""a\"b\\c/d""#)
    XCTAssertEqual(JSONValue.string("\n\r\t\u{8}\u{C}").serialized(), #""\n\r\t\b\f""#)
    XCTAssertEqual(JSONValue.string("\u{0}\u{1}\u{1F}\u{7F}").serialized(), "\"\\u0000\\u0001\\u001f\u{7F}\"")
    XCTAssertEqual(JSONValue.string("中😀").serialized(), "\"中😀\"")
  }

  func testRoundTrips() throws {
    let values: [JSONValue] = [
      nil, true, false, 0, -1, .int(Int64.max), .int(Int64.min), 3.25, -1e-300, "", "plain",
      .string("all controls: " + String((0..<32).map { Character(Unicode.Scalar(UInt8($0))) })),
      "emoji 😀 👩‍👩‍👧 CJK 漢字 NUL \u{0} end", [], [:], [[[]]],
      ["nested": ["list": [1, 2.5, "three", nil, ["deep": true]]], "": "empty key", "ключ": "значение"],
    ]
    for value in values {
      let text = value.serialized()
      XCTAssertEqual(try JSONValue.parse(text), value, text)
      XCTAssertEqual(try JSONValue.parse(value.serializedBytes()), value, text)
      XCTAssertEqual(try JSONValue.parse(text).serialized(), text)
    }
  }

  func testAccessors() {
    let value: JSONValue = ["s": "x", "i": 3, "d": 2.0, "f": 2.5, "b": true, "a": [1], "o": ["k": nil], "n": nil]
    XCTAssertEqual(value["s"]?.stringValue, "x")
    XCTAssertEqual(value["i"]?.intValue, 3)
    XCTAssertEqual(value["i"]?.doubleValue, 3)
    XCTAssertEqual(value["d"]?.intValue, 2)
    XCTAssertNil(value["f"]?.intValue)
    XCTAssertNil(JSONValue.double(1e19).intValue)
    XCTAssertEqual(value["b"]?.boolValue, true)
    XCTAssertEqual(value["a"]?.arrayValue, [1])
    XCTAssertEqual(value["o"]?.objectValue, ["k": .null])
    XCTAssertEqual(value["n"]?.isNull, true)
    XCTAssertEqual(value["s"]?.isNull, false)
    XCTAssertNil(value["s"]?.intValue)
    XCTAssertNil(value["i"]?.stringValue)
    XCTAssertNil(value["a"]?[1])
    XCTAssertNil(value["a"]?[-1])
    XCTAssertNil(value["a"]?["k"])
    XCTAssertNotEqual(JSONValue.int(1), JSONValue.double(1))
  }
}
