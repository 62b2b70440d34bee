import Foundation
import Testing

@testable import FerryCore

@Suite struct EventSubmissionTests {
    static let receivedAt = Date(timeIntervalSince1970: 1_636_936_200.5)
    static let occurredAt = Date(timeIntervalSince1970: 1_636_936_100)
    static let givenID = UUID(uuidString: "1A01CB48-5142-4D9B-8F90-D20CCA61F0EE")!
    static let labelsPropertyLength = ValidationIssue(
        code: "labels-property-length", message: "each key and value must be 1 to 50 bytes long",
        params: ["min": .number(1), "max": .number(50)])
    static let metadataPropertyLength = ValidationIssue.propertyLength("metadata", maxBytes: 50)

    private func submission(
        eventID: UUID? = nil, eventType: String = "billing.invoice.paid", payload: String = #"{"id":1}"#,
        contentType: String = "application/json", labels: [String: String] = ["env": "prod"],
        metadata: [String: String]? = nil
    ) -> EventSubmission {
        EventSubmission(
            applicationID: Fixture.applicationID, eventID: eventID, eventType: eventType, payload: payload,
            payloadContentType: contentType, labels: labels, metadata: metadata, occurredAt: Self.occurredAt)
    }

    private func validate(_ submission: EventSubmission) throws(DomainError) -> Event {
        try submission.validated(receivedAt: Self.receivedAt, ip: "203.0.113.9")
    }

    private func errors(_ entries: [(String, ValidationIssue)]) -> DomainError {
        var errors = ValidationErrors()
        for (field, issue) in entries { errors.add(field, issue) }
        return .validation(errors)
    }

    private static func labels(count: Int) -> [String: String] {
        Dictionary(uniqueKeysWithValues: (0..<count).map { ("k\($0)", "v\($0)") })
    }

    // MARK: accepted events

    @Test func validEventKeepsEveryField() throws {
        let event = try validate(
            submission(eventID: Self.givenID, labels: ["env": "prod", "tenant": "acme"], metadata: ["source": "crm"]))
        #expect(event.id == Self.givenID)
        #expect(event.applicationID == Fixture.applicationID)
        #expect(event.eventType == "billing.invoice.paid")
        #expect(event.payload == Array(#"{"id":1}"#.utf8))
        #expect(event.payloadContentType == .json)
        #expect(event.ip == "203.0.113.9")
        #expect(event.labels == ["env": "prod", "tenant": "acme"])
        #expect(event.metadata == ["source": "crm"])
        #expect(event.occurredAt == Self.occurredAt)
        #expect(event.receivedAt == Self.receivedAt)
    }

    @Test func absentMetadataIsStoredEmpty() throws {
        #expect(try validate(submission(metadata: nil)).metadata == [:])
    }

    @Test func generatesUUIDv7WhenEventIDAbsent() throws {
        let event = try validate(submission(eventID: nil))
        let bytes = event.id.uuid
        #expect(bytes.6 >> 4 == 7)
        #expect(bytes.8 >> 6 == 0b10)
        // The first 48 bits are receivedAt in Unix milliseconds: 1636936200500 = 0x017D2007_6E34.
        let millis = [bytes.0, bytes.1, bytes.2, bytes.3, bytes.4, bytes.5].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        #expect(millis == 1_636_936_200_500)
        #expect(try validate(submission(eventID: nil)).id != event.id)
    }

    @Test(arguments: [#"{"a":[1,2,{"b":null}]}"#, "42", #""text""#, "null", "[]", " { } "])
    func jsonPayloadIsStoredVerbatim(payload: String) throws {
        #expect(
            try validate(submission(payload: payload, contentType: "application/json")).payload == Array(payload.utf8))
    }

    @Test(arguments: ["{not json", "", #"{"a":}"#, "[1,2", "undefined"])
    func rejectsInvalidJSONPayload(payload: String) {
        #expect(throws: DomainError.invalidJSONPayload) {
            try validate(submission(payload: payload, contentType: "application/json"))
        }
    }

    @Test(
        arguments: [
            ("aGVsbG8gIQ==", Array("hello !".utf8)),
            ("AAEC/w==", [0, 1, 2, 255]),
            ("", []),
        ] as [(String, [UInt8])])
    func base64PayloadIsStoredDecoded(payload: String, bytes: [UInt8]) throws {
        let event = try validate(submission(payload: payload, contentType: "application/octet-stream+base64"))
        #expect(event.payload == bytes)
        #expect(event.payloadContentType == .base64)
    }

    @Test(arguments: ["not base64!", "aGVsbG8gIQ", "####"])
    func rejectsInvalidBase64Payload(payload: String) {
        #expect(throws: DomainError.invalidBase64Payload) {
            try validate(submission(payload: payload, contentType: "application/octet-stream+base64"))
        }
    }

    @Test func textPayloadIsStoredAsUTF8() throws {
        let event = try validate(submission(payload: "héllo {", contentType: "text/plain"))
        #expect(event.payload == [104, 195, 169, 108, 108, 111, 32, 123])
        #expect(event.payloadContentType == .textPlain)
    }

    // MARK: event_type

    @Test(arguments: [1, 200])
    func acceptsEventTypeLengthBounds(length: Int) throws {
        let name = String(repeating: "a", count: length)
        #expect(try validate(submission(eventType: name)).eventType == name)
    }

    @Test func eventTypeLengthCountsCharactersNotBytes() throws {
        let name = String(repeating: "é", count: 200)
        #expect(try validate(submission(eventType: name)).eventType == name)
    }

    @Test(arguments: [0, 201])
    func rejectsEventTypeLength(length: Int) {
        #expect(throws: errors([("event_type", .length(min: 1, max: 200))])) {
            try validate(submission(eventType: String(repeating: "a", count: length)))
        }
    }

    @Test(arguments: ["billing\u{0}paid", "billing\npaid", "billing\tpaid", "billing\u{7F}", "billing\u{85}"])
    func rejectsControlCharactersInEventType(name: String) {
        let issue = ValidationIssue(code: "non_control_character", message: "must not contain control characters")
        #expect(throws: errors([("event_type", issue)])) { try validate(submission(eventType: name)) }
    }

    // MARK: payload

    @Test func acceptsPayloadAtMaximumLength() throws {
        let payload = String(repeating: "a", count: 699_050)
        #expect(try validate(submission(payload: payload, contentType: "text/plain")).payload.count == 699_050)
    }

    @Test func rejectsPayloadOverMaximumLength() {
        let payload = String(repeating: "a", count: 699_051)
        #expect(throws: errors([("payload", .length(min: 0, max: 699_050))])) {
            try validate(submission(payload: payload, contentType: "text/plain"))
        }
    }

    // MARK: payload_content_type

    @Test(arguments: [0, 101])
    func rejectsContentTypeLength(length: Int) {
        #expect(throws: errors([("payload_content_type", .length(min: 1, max: 100))])) {
            try validate(submission(contentType: String(repeating: "a", count: length)))
        }
    }

    @Test(arguments: ["application/xml", "Application/JSON", "text/plain; charset=utf-8", "application/octet-stream"])
    func rejectsUnknownContentType(contentType: String) {
        #expect(throws: DomainError.invalidPayloadContentType) {
            try validate(submission(payload: "x", contentType: contentType))
        }
    }

    @Test func validationErrorsComeBeforeContentTypeCheck() {
        #expect(throws: errors([("labels", .size("labels", min: 1, max: 10))])) {
            try validate(submission(contentType: "application/xml", labels: [:]))
        }
    }

    // MARK: labels and metadata

    @Test(arguments: [0, 11])
    func rejectsLabelCount(count: Int) {
        #expect(throws: errors([("labels", .size("labels", min: 1, max: 10))])) {
            try validate(submission(labels: Self.labels(count: count)))
        }
    }

    @Test func acceptsTenLabels() throws {
        #expect(try validate(submission(labels: Self.labels(count: 10))).labels.count == 10)
    }

    @Test(arguments: [
        ["": "v"],
        ["k": ""],
        [String(repeating: "k", count: 51): "v"],
        ["k": String(repeating: "v", count: 51)],
        // Bytes are counted, as in Hook0: 26 characters, 52 UTF-8 bytes.
        ["env": String(repeating: "é", count: 26)],
        [String(repeating: "é", count: 26): "v"],
        ["k": String(repeating: "🚀", count: 13)],
    ])
    func rejectsLabelKeyOrValueLength(labels: [String: String]) {
        #expect(throws: errors([("labels", Self.labelsPropertyLength)])) { try validate(submission(labels: labels)) }
    }

    @Test func acceptsFiftyByteLabelsWhateverTheirCharacters() throws {
        let labels = [String(repeating: "k", count: 50): String(repeating: "é", count: 25)]
        #expect(try validate(submission(labels: labels)).labels == labels)
    }

    @Test func rejectsNULInTextFieldsButNotInThePayload() throws {
        #expect(throws: errors([("labels", Validator.nulIssue)])) {
            try validate(submission(labels: ["k\u{0}": "v"]))
        }
        #expect(throws: errors([("metadata", Validator.nulIssue)])) {
            try validate(submission(metadata: ["k": "v\u{0}"]))
        }
        #expect(
            try validate(submission(payload: "a\u{0}b", contentType: "text/plain")).payload == Array("a\u{0}b".utf8))
    }

    @Test func acceptsEmptyAndFullMetadata() throws {
        #expect(try validate(submission(metadata: [:])).metadata == [:])
        #expect(try validate(submission(metadata: Self.labels(count: 50))).metadata.count == 50)
    }

    @Test func rejectsTooMuchMetadata() {
        #expect(throws: errors([("metadata", .size("metadata", min: 0, max: 50))])) {
            try validate(submission(metadata: Self.labels(count: 51)))
        }
    }

    @Test func rejectsMetadataValueOverFiftyBytes() {
        #expect(throws: errors([("metadata", Self.metadataPropertyLength)])) {
            try validate(submission(metadata: ["k": String(repeating: "é", count: 26)]))
        }
    }

    @Test func reportsEveryBrokenFieldAtOnce() {
        let expected = errors([
            ("event_type", .length(min: 1, max: 200)),
            ("payload_content_type", .length(min: 1, max: 100)),
            ("labels", .size("labels", min: 1, max: 10)),
            ("metadata", Self.metadataPropertyLength),
        ])
        #expect(throws: expected) {
            try validate(submission(eventType: "", contentType: "", labels: [:], metadata: ["": "x"]))
        }
    }

    // MARK: error JSON shape

    @Test func validationErrorJSONShape() throws {
        let name = String(repeating: "\u{7}", count: 201)
        let error = #expect(throws: DomainError.self) { try validate(submission(eventType: name)) }
        guard case .validation(let errors) = try #require(error) else {
            Issue.record("expected a validation error, got \(String(describing: error))")
            return
        }
        let expected: JSONValue = .object([
            "event_type": .array([
                .object([
                    "code": .string("length"), "message": .null,
                    "params": .object(["min": .number(1), "max": .number(200)]),
                ]),
                .object([
                    "code": .string("non_control_character"), "message": .string("must not contain control characters"),
                    "params": .object([:]),
                ]),
            ])
        ])
        #expect(errors.jsonValue == expected)
    }
}
