import Foundation
import Testing

@testable import FerryCore

@Suite struct ValidationErrorsTests {
    @Test func emptyErrorsDoNotThrow() throws {
        let errors = ValidationErrors()
        #expect(errors.isEmpty)
        try errors.throwIfAny()
        #expect(errors.jsonValue == .object([:]))
    }

    @Test func issuesOnOneFieldAccumulateInOrder() {
        var errors = ValidationErrors()
        errors.add("name", .length(min: 1, max: 5))
        errors.add("name", ValidationIssue(code: "x", message: "m", params: ["value": .string("v")]))
        #expect(
            errors.jsonValue
                == .object([
                    "name": .array([
                        .object([
                            "code": .string("length"), "message": .null,
                            "params": .object(["min": .number(1), "max": .number(5)]),
                        ]),
                        .object([
                            "code": .string("x"), "message": .string("m"), "params": .object(["value": .string("v")]),
                        ]),
                    ])
                ]))
        #expect(throws: errors) { try errors.throwIfAny() }
    }

    @Test func emptyNestedErrorsAreNotRecorded() {
        var errors = ValidationErrors()
        errors.add("target", nested: ValidationErrors())
        #expect(errors.isEmpty)
    }

    @Test func lengthIssueOmitsMissingBounds() {
        #expect(ValidationIssue.length(min: nil, max: 10).params == ["max": .number(10)])
        #expect(ValidationIssue.length(min: 2, max: nil, message: "too short").params == ["min": .number(2)])
        #expect(ValidationIssue.length(min: 2, max: nil, message: "too short").message == "too short")
    }

    @Test(arguments: [
        (JSONValue.number(1), "1"),
        (.number(1.5), "1.5"),
        (.number(-3), "-3"),
        (.string("a/b"), #""a/b""#),
        (.null, "null"),
        (.bool(true), "true"),
        (.array([.number(1), .string("x")]), #"[1,"x"]"#),
        (.object(["min": .number(1)]), #"{"min":1}"#),
        (.object(["b": .null, "a": .number(2), "c": .array([])]), #"{"a":2,"b":null,"c":[]}"#),
        (.string("q\"b\\n\nr\rt\tu\u{01}é"), #""q\"b\\n\nr\rt\tu\u0001é""#),
        (.number(.infinity), "null"),
        (.number(1e20), "1e+20"),
    ])
    func encodesCompactJSON(value: JSONValue, text: String) {
        #expect(String(decoding: value.encoded(), as: UTF8.self) == text)
    }

    @Test func encodedTextDecodesToTheSameValue() throws {
        let value = JSONValue.object([
            "text": .string("line\nbreak \u{1F} \"quoted\" back\\slash / ünïcødé"),
            "numbers": .array([.number(0), .number(-0.25), .number(123_456_789_012), .number(6.02e23)]),
            "nested": .object(["empty": .object([:]), "flag": .bool(false)]),
        ])
        let decoded = try JSONDecoder().decode(JSONValue.self, from: Data(value.encoded()))
        #expect(decoded == value)
    }

    @Test func decodesJSON() throws {
        let text = #"{"a":[1,true,null,"s",{"b":2.5}]}"#
        let value = try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
        #expect(
            value
                == .object(["a": .array([.number(1), .bool(true), .null, .string("s"), .object(["b": .number(2.5)])])]))
    }
}
