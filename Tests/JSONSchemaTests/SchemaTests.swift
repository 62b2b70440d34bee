import JSONSchema
import Testing

/// The validator on hand-written cases, keyword by keyword, with the failure it reports; its agreement with Python's
/// `jsonschema` over a generated corpus is Tests/jsonschema.
@Suite struct SchemaTests {
    static func schema(_ text: String) throws -> Schema {
        try Schema(parsing: Array(text.utf8))
    }

    static func instance(_ text: String) throws -> JSONInstance {
        try JSONInstance(parsing: text)
    }

    static func failure(_ schema: String, _ instance: String) throws -> ValidationFailure? {
        try Self.schema(schema).firstFailure(of: try Self.instance(instance))
    }

    @Test(arguments: [
        (#"{"type": "integer"}"#, "3", true), (#"{"type": "integer"}"#, "3.0", true),
        (#"{"type": "integer"}"#, "3.5", false), (#"{"type": "number"}"#, "true", false),
        (#"{"type": ["string", "null"]}"#, "null", true), (#"{"enum": [1, "a"]}"#, "1.0", true),
        (#"{"enum": [1]}"#, "true", false), (#"{"const": {"a": [1, 2]}}"#, #"{"a": [1, 2.0]}"#, true),
        (#"{"multipleOf": 1.5}"#, "4.5", true), (#"{"multipleOf": 2}"#, "7", false),
        (#"{"exclusiveMaximum": 3}"#, "3", false), (#"{"minLength": 2}"#, #""é""#, false),
        (#"{"maxLength": 2}"#, #""éa""#, true), (#"{"pattern": "^\\d+$"}"#, #""123""#, true),
        (#"{"pattern": "b"}"#, #""abc""#, true), (#"{"pattern": "^b"}"#, #""abc""#, false),
        (#"{"prefixItems": [{"type": "string"}], "items": false}"#, #"["a"]"#, true),
        (#"{"prefixItems": [{"type": "string"}], "items": false}"#, #"["a", 1]"#, false),
        (#"{"contains": {"type": "string"}, "minContains": 2}"#, #"["a", 1, "b"]"#, true),
        (#"{"contains": {"type": "string"}, "maxContains": 1}"#, #"["a", 1, "b"]"#, false),
        (#"{"contains": false, "minContains": 0}"#, "[1]", true),
        (#"{"uniqueItems": true}"#, "[1, 1.0]", false), (#"{"uniqueItems": true}"#, "[0, false]", true),
        (#"{"properties": {"a": {"type": "string"}}, "additionalProperties": false}"#, #"{"a": "x"}"#, true),
        (#"{"properties": {"a": {"type": "string"}}, "additionalProperties": false}"#, #"{"b": 1}"#, false),
        (#"{"patternProperties": {"^x-": {"type": "integer"}}}"#, #"{"x-a": 1.5}"#, false),
        (#"{"propertyNames": {"maxLength": 1}}"#, #"{"ab": 1}"#, false),
        (#"{"required": ["a"], "dependentRequired": {"a": ["b"]}}"#, #"{"a": 1}"#, false),
        (#"{"dependentSchemas": {"a": {"required": ["b"]}}}"#, #"{"c": 1}"#, true),
        (#"{"oneOf": [{"type": "integer"}, {"minimum": 2}]}"#, "3", false),
        (#"{"anyOf": [{"type": "integer"}, {"minimum": 2}]}"#, "1", true),
        (#"{"not": {"type": "null"}}"#, "null", false),
        (#"{"if": {"type": "integer"}, "then": {"minimum": 5}, "else": {"type": "string"}}"#, "3", false),
        (#"{"if": {"type": "integer"}, "then": {"minimum": 5}, "else": {"type": "string"}}"#, #""a""#, true),
        (#"{"allOf": [{"properties": {"a": true}}], "unevaluatedProperties": false}"#, #"{"a": 1}"#, true),
        (#"{"allOf": [{"properties": {"a": true}}], "unevaluatedProperties": false}"#, #"{"a": 1, "b": 2}"#, false),
        (
            #"{"anyOf": [{"properties": {"a": {"type": "string"}}}, true], "unevaluatedProperties": false}"#,
            #"{"a": 1}"#, false
        ),
        (#"{"prefixItems": [true], "contains": {"type": "string"}, "unevaluatedItems": false}"#, #"[1, "a"]"#, true),
        (#"{"prefixItems": [true], "contains": {"type": "string"}, "unevaluatedItems": false}"#, #"[1, 2]"#, false),
        (##"{"$defs": {"n": {"type": "integer"}}, "items": {"$ref": "#/$defs/n"}}"##, "[1, 2.5]", false),
        (##"{"$defs": {"n": {"$anchor": "num", "type": "integer"}}, "$ref": "#num"}"##, "2", true),
        (
            ##"{"properties": {"next": {"$ref": "#"}}, "required": ["v"]}"##,
            #"{"v": 1, "next": {"v": 2, "next": {}}}"#,
            false
        ),
        (
            #"{"$id": "https://example.com/root", "$defs": {"s": {"$id": "item", "type": "string"}}, "items": {"$ref": "item"}}"#,
            #"["a", "b"]"#, true
        ),
        (#"{"format": "email"}"#, #""not an address""#, true), ("true", "null", true), ("false", "null", false),
    ])
    func aKeywordDecidesAsTheSpecificationSays(schema: String, instance: String, valid: Bool) throws {
        #expect(try Self.schema(schema).validates(try Self.instance(instance)) == valid, "\(schema) on \(instance)")
    }

    @Test func theFailureNamesTheInstanceLocationAndTheKeyword() throws {
        let failure = try #require(
            try Self.failure(
                #"{"properties": {"items": {"type": "array", "items": {"properties": {"a/b": {"maximum": 3}}}}}}"#,
                #"{"items": [{"a/b": 1}, {"a/b": 4}]}"#))
        #expect(failure.instanceLocation == "/items/1/a~1b")
        #expect(failure.keyword == "maximum")
        #expect(failure.keywordLocation == "/properties/items/items/properties/a~1b/maximum")
        #expect(failure.message == "4 is greater than 3")
        let referenced = try #require(
            try Self.failure(
                ##"{"$defs": {"s": {"type": "string"}}, "properties": {"a": {"$ref": "#/$defs/s"}}}"##,
                #"{"a": 1}"#))
        #expect(referenced.keywordLocation == "/$defs/s/type" && referenced.instanceLocation == "/a")
        #expect(try Self.failure(#"{"required": ["id"]}"#, "{}")?.message == "the property id is required")
    }

    @Test(arguments: [
        (#"{"type": "strin"}"#, "/type"), (#"{"minLength": -1}"#, "/minLength"),
        (#"{"properties": {"a": 3}}"#, "/properties/a"), (#"{"pattern": "(?=a)"}"#, "/pattern"),
        (##"{"$ref": "#/$defs/missing"}"##, "/$ref"), (#"{"$ref": "https://elsewhere.example/s"}"#, "/$ref"),
        (##"{"$ref": "#"}"##, ""),
        (
            ##"{"$defs": {"a": {"allOf": [{"$ref": "#/$defs/b"}]}, "b": {"$ref": "#/$defs/a"}}}"##,
            "/$defs/b"
        ), (#"{"$schema": "http://json-schema.org/draft-07/schema#"}"#, "/$schema"),
        (##"{"$dynamicRef": "#meta"}"##, "/$dynamicRef"),
    ])
    func anUnusableSchemaIsRefusedWithWhere(schema: String, location: String) {
        #expect(throws: SchemaError.self) { try Self.schema(schema) }
        do {
            _ = try Self.schema(schema)
        } catch let error as SchemaError {
            #expect(error.location == location, "\(schema): \(error)")
        } catch {
            Issue.record("\(error)")
        }
    }

    @Test func aHostileSchemaIsBoundedInSizeDepthAndWork() throws {
        let deep = String(repeating: #"{"items": "#, count: 40) + "true" + String(repeating: "}", count: 40)
        #expect(throws: SchemaError.self) { try Self.schema(deep) }
        #expect(throws: SchemaError.self) {
            try Schema(parsing: Array(String(repeating: " ", count: 70_000).utf8) + Array("true".utf8))
        }
        // Each definition applies the next one twice: 2^30 evaluations unless the budget stops it.
        var definitions: [String] = []
        for level in 0..<30 {
            definitions.append(
                ##""d\##(level)": {"allOf": [{"$ref": "#/$defs/d\##(level + 1)"}, {"$ref": "#/$defs/d\##(level + 1)"}]}"##
            )
        }
        definitions.append(#""d30": {"type": "integer"}"#)
        let fanOut = try Self.schema(
            #"{"$defs": {"# + definitions.joined(separator: ", ") + ##"}, "$ref": "#/$defs/d0"}"##)
        // The budget's message proves the work stopped at the bound (no clock: the suite shares two cores).
        let failure = try #require(fanOut.firstFailure(of: .number(1)))
        #expect(failure.message.contains("more than 100000 subschema evaluations"))
        #expect(throws: SchemaError.self) {
            try Self.schema(#"{"pattern": ""# + String(repeating: "a", count: 1_001) + #""}"#)
        }
        // A long pattern over a long string: linear, but the product is bounded per validation (a small bound
        // here, so the test is quick; the default is ten million steps).
        let slow = try Schema(
            parsing: Array(#"{"pattern": "(a|b|c|d|e|f|g|h){1,50}z"}"#.utf8),
            limits: Schema.Limits(maxPatternSteps: 200_000))
        let long = JSONInstance.string(String(repeating: "abcdefgh", count: 20_000))
        let exhausted = try #require(slow.firstFailure(of: long))
        #expect(exhausted.keyword == "pattern" && exhausted.message.contains("more than 200000 steps"))
        #expect(slow.validates(.string("abcz")))
    }

    @Test(arguments: [
        "", "[1,]", "{\"a\" 1}", "01", "1.", "-", "\"\\x\"", "\"\u{01}\"", "[1] 2", "\"\\ud800\"", "nul", "1e999",
    ])
    func theParserRefusesWhatIsNotJSON(text: String) {
        #expect(throws: JSONParseError.self) { try JSONInstance(parsing: text) }
    }

    @Test func theParserReadsEscapesNumbersAndDuplicateKeys() throws {
        #expect(
            try JSONInstance(
                parsing: #"{"a": "\u00e9\ud83d\ude00\n", "n": -1.5e2, "a2": [true, null], "d": 1, "d": 2}"#)
                == .object([
                    "a": .string("é😀\n"), "n": .number(-150), "a2": .array([.bool(true), .null]), "d": .number(2),
                ]))
        #expect(throws: JSONParseError.self) {
            try JSONInstance(parsing: String(repeating: "[", count: 300) + String(repeating: "]", count: 300))
        }
    }
}
