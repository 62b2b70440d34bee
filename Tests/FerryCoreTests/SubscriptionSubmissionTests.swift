import Foundation
import Testing

@testable import FerryCore

@Suite struct SubscriptionSubmissionTests {
    static let malformedURL = DomainError.malformedBody("target.url must be an absolute http or https URL with a host")

    private func submission(
        eventTypes: [String] = ["billing.invoice.paid"], description: String? = nil,
        metadata: [String: String]? = nil, labels: [String: String]? = ["env": "prod"], labelKey: String? = nil,
        labelValue: String? = nil, method: String = "POST", url: String = "https://example.com/hook",
        headers: [String: String] = [:]
    ) -> SubscriptionSubmission {
        SubscriptionSubmission(
            applicationID: Fixture.applicationID, isEnabled: true, eventTypes: eventTypes, description: description,
            metadata: metadata, labels: labels, labelKey: labelKey, labelValue: labelValue, targetMethod: method,
            targetURL: url, targetHeaders: headers)
    }

    private func errors(_ entries: [(String, ValidationIssue)]) -> DomainError {
        var errors = ValidationErrors()
        for (field, issue) in entries { errors.add(field, issue) }
        return .validation(errors)
    }

    private func targetErrors(_ entries: [(String, ValidationIssue)]) -> DomainError {
        var target = ValidationErrors()
        for (field, issue) in entries { target.add(field, issue) }
        var errors = ValidationErrors()
        errors.add("target", nested: target)
        return .validation(errors)
    }

    private static func methodIssue(_ method: String) -> ValidationIssue {
        ValidationIssue(
            code: "subscription-target-http-method",
            message: "must be one of GET, PATCH, POST, PUT, DELETE, OPTIONS, HEAD (uppercase)",
            params: ["value": .string(method)])
    }

    private static func headerIssue(_ name: String) -> ValidationIssue {
        ValidationIssue(code: "header", message: "invalid header name or value", params: ["value": .string(name)])
    }

    private static func headers(count: Int) -> [String: String] {
        Dictionary(uniqueKeysWithValues: (0..<count).map { ("x-h\($0)", "v\($0)") })
    }

    // MARK: accepted drafts

    @Test func validSubmissionBecomesDraft() throws {
        let draft = try submission(
            eventTypes: ["a.b.c", "a.b.d"], description: "CRM sync", metadata: ["team": "growth"],
            headers: ["Authorization": "Bearer abc"]
        ).validated()
        #expect(
            draft
                == SubscriptionDraft(
                    applicationID: Fixture.applicationID, isEnabled: true, eventTypes: ["a.b.c", "a.b.d"],
                    description: "CRM sync", metadata: ["team": "growth"], labels: ["env": "prod"],
                    target: HTTPTarget(
                        method: "POST", url: "https://example.com/hook", headers: ["authorization": "Bearer abc"])))
    }

    @Test func absentMetadataBecomesEmpty() throws {
        #expect(try submission(metadata: nil).validated().metadata == [:])
    }

    // MARK: labels

    @Test func legacyLabelFieldsBecomeLabels() throws {
        let draft = try submission(labels: nil, labelKey: "env", labelValue: "prod").validated()
        #expect(draft.labels == ["env": "prod"])
    }

    @Test func labelsWinOverLegacyFields() throws {
        let draft = try submission(labels: ["tenant": "acme"], labelKey: "env", labelValue: "prod").validated()
        #expect(draft.labels == ["tenant": "acme"])
    }

    @Test(arguments: [(nil, nil), ("env", nil), (nil, "prod")] as [(String?, String?)])
    func missingLabelsIsAmbiguity(key: String?, value: String?) {
        #expect(throws: DomainError.labelsAmbiguity) {
            try submission(labels: nil, labelKey: key, labelValue: value).validated()
        }
    }

    @Test func labelsAmbiguityIsCheckedBeforeOtherRules() {
        #expect(throws: DomainError.labelsAmbiguity) {
            try submission(eventTypes: [], labels: nil, method: "post").validated()
        }
    }

    @Test func rejectsEmptyLabels() {
        #expect(throws: errors([("labels", .size("labels", min: 1, max: 10))])) {
            try submission(labels: [:]).validated()
        }
    }

    @Test func rejectsLabelValueOverFiftyBytes() {
        let issue = ValidationIssue(
            code: "labels-property-length", message: "each key and value must be 1 to 50 bytes long",
            params: ["min": .number(1), "max": .number(50)])
        #expect(throws: errors([("labels", issue)])) {
            try submission(labels: ["env": String(repeating: "é", count: 26)]).validated()
        }
    }

    @Test func rejectsLegacyLabelLengths() {
        #expect(throws: errors([("label_key", .length(min: 1, max: 100))])) {
            try submission(labels: nil, labelKey: "", labelValue: "prod").validated()
        }
        #expect(throws: errors([("label_value", .length(min: 1, max: 100))])) {
            try submission(labels: nil, labelKey: "env", labelValue: String(repeating: "v", count: 101)).validated()
        }
    }

    // MARK: event_types

    @Test(arguments: [0, 101])
    func rejectsEventTypeCount(count: Int) {
        let types = (0..<count).map { "svc.res.v\($0)" }
        #expect(throws: errors([("event_types", .size("event-types", min: 1, max: 100))])) {
            try submission(eventTypes: types).validated()
        }
    }

    @Test func acceptsHundredEventTypes() throws {
        let types = (0..<100).map { "svc.res.v\($0)" }
        #expect(try submission(eventTypes: types).validated().eventTypes == types)
    }

    @Test(arguments: ["", String(repeating: "a", count: 201), String(repeating: "é", count: 101)])
    func rejectsEventTypeNameLength(name: String) {
        let issue = ValidationIssue(
            code: "event-types-name-length", message: "each event type must be 1 to 200 bytes long",
            params: ["min": .number(1), "max": .number(200)])
        #expect(throws: errors([("event_types", issue)])) {
            try submission(eventTypes: ["a.b.c", name]).validated()
        }
    }

    @Test func rejectsNULInEveryTextField() {
        #expect(throws: errors([("event_types", Validator.nulIssue)])) {
            try submission(eventTypes: ["a.b.c\u{0}"]).validated()
        }
        #expect(throws: errors([("labels", Validator.nulIssue)])) {
            try submission(labels: ["env": "pro\u{0}d"]).validated()
        }
    }

    // MARK: target.method

    @Test(arguments: ["GET", "PATCH", "POST", "PUT", "DELETE", "OPTIONS", "HEAD"])
    func acceptsUppercaseMethods(method: String) throws {
        #expect(try submission(method: method).validated().target.method == method)
    }

    @Test(arguments: ["post", "Get", "delete", "CONNECT", "TRACE", ""])
    func rejectsOtherMethodsUnderTargetMethod(method: String) {
        #expect(throws: targetErrors([("method", Self.methodIssue(method))])) {
            try submission(method: method).validated()
        }
    }

    @Test func lowercaseMethodErrorJSONIsNested() throws {
        let error = #expect(throws: DomainError.self) { try submission(method: "post").validated() }
        guard case .validation(let errors) = try #require(error) else {
            Issue.record("expected a validation error, got \(String(describing: error))")
            return
        }
        let expected: JSONValue = .object([
            "target": .object([
                "method": .array([
                    .object([
                        "code": .string("subscription-target-http-method"),
                        "message": .string("must be one of GET, PATCH, POST, PUT, DELETE, OPTIONS, HEAD (uppercase)"),
                        "params": .object(["value": .string("post")]),
                    ])
                ])
            ])
        ])
        #expect(errors.jsonValue == expected)
    }

    // MARK: target.headers

    @Test func headerNamesAreLowerCasedAndValuesKept() throws {
        let draft = try submission(headers: [
            "X-Custom-Token": "AbC 123", "Authorization": "Bearer Xyz", "accept": "*/*",
        ])
        .validated()
        #expect(draft.target.headers == ["x-custom-token": "AbC 123", "authorization": "Bearer Xyz", "accept": "*/*"])
    }

    @Test func acceptsTenHeaders() throws {
        #expect(try submission(headers: Self.headers(count: 10)).validated().target.headers.count == 10)
    }

    @Test func rejectsElevenHeaders() {
        #expect(throws: targetErrors([("headers", .size("subscription-target-headers", min: 0, max: 10))])) {
            try submission(headers: Self.headers(count: 11)).validated()
        }
    }

    @Test(arguments: [
        ("bad header", "v"),
        ("x-é", "v"),
        ("x:colon", "v"),
        ("x-ok", "line\nbreak"),
        ("x-ok", "nul\u{0}"),
    ])
    func rejectsInvalidHeader(name: String, value: String) {
        #expect(throws: targetErrors([("headers", Self.headerIssue(name))])) {
            try submission(headers: [name: value]).validated()
        }
    }

    @Test(arguments: [
        ("", "v"),
        (String(repeating: "x", count: 501), "v"),
        ("x-ok", String(repeating: "v", count: 501)),
        ("x-ok", String(repeating: "é", count: 251)),
    ])
    func rejectsHeaderNameOrValueOverFiveHundredBytes(name: String, value: String) {
        let issue = ValidationIssue(
            code: "subscription-target-headers-property-length",
            message: "each key and value must be 1 to 500 bytes long",
            params: ["min": .number(1), "max": .number(500)])
        #expect(throws: targetErrors([("headers", issue)])) {
            try submission(headers: [name: value]).validated()
        }
    }

    @Test(arguments: [
        "Host", "content-length", "Connection", "Transfer-Encoding", "TE", "Upgrade", "X-Hook0-Signature",
        "webhook-id", "Webhook-Timestamp", "webhook-signature",
    ])
    func refusesReservedHeaderNamingIt(name: String) {
        let issue = ValidationIssue(
            code: "reserved_header",
            message: "\(name) is set by Ferry (or by HTTP itself) and cannot be chosen per subscription",
            params: ["value": .string(name)])
        #expect(throws: targetErrors([("headers", issue)])) {
            try submission(headers: [name: "evil", "x-fine": "ok"]).validated()
        }
    }

    @Test func acceptsTabAndUnicodeInHeaderValue() throws {
        let draft = try submission(headers: ["X-Note": "a\tb café"]).validated()
        #expect(draft.target.headers == ["x-note": "a\tb café"])
    }

    // MARK: target.url

    @Test(arguments: [
        "https://example.com/hook", "http://example.com", "HTTPS://Example.com/x?y=1", "http://127.0.0.1:8080/hook",
        "https://[::1]:8443/",
    ])
    func acceptsHTTPURLs(url: String) throws {
        let everyAddress = TargetPolicy(allowedNetworks: [CIDR("0.0.0.0/0"), CIDR("::/0")].compactMap { $0 })
        #expect(try submission(url: url).validated(targetPolicy: everyAddress).target.url == url)
    }

    @Test(arguments: ["http://127.0.0.1:8080/hook", "https://[::1]:8443/", "http://2130706433/", "http://10.1.2.3/"])
    func refusesLiteralNonGlobalTargetsWithAValidationError(url: String) {
        let outcome = Result { () throws(DomainError) -> SubscriptionDraft in try submission(url: url).validated() }
        guard case .failure(.validation(let errors)) = outcome, case .nested(let target)? = errors.fields["target"],
            case .issues(let issues)? = target.fields["url"]
        else {
            Issue.record("\(url): expected a target.url validation issue, got \(outcome)")
            return
        }
        #expect(issues.map(\.code) == ["target"])
    }

    @Test func httpsOnlyPolicyRefusesPlainHTTPWithAValidationError() {
        #expect(throws: DomainError.self) {
            try submission(url: "http://example.com/").validated(targetPolicy: TargetPolicy(httpsOnly: true))
        }
        #expect(throws: Never.self) {
            try submission(url: "https://example.com/").validated(targetPolicy: TargetPolicy(httpsOnly: true))
        }
    }

    @Test(arguments: [
        "ftp://example.com/x", "https://", "not a url", "/relative/path", "example.com/hook", "mailto:a@b.c", "",
    ])
    func rejectsNonHTTPURLAsMalformedBody(url: String) {
        #expect(throws: Self.malformedURL) { try submission(url: url).validated() }
    }

    @Test func aPrivateLiteralTargetIsAcceptedOnlyForTheApplicationItIsOpenedFor() throws {
        let policy = TargetPolicy(
            allowedNetworksByApplication: [Fixture.applicationID: [try #require(CIDR("10.0.0.0/8"))]])
        let draft = try submission(url: "http://10.1.2.3/hook").validated(targetPolicy: policy)
        #expect(draft.target.url == "http://10.1.2.3/hook")
        let elsewhere = TargetPolicy(allowedNetworksByApplication: [UUID(): [try #require(CIDR("10.0.0.0/8"))]])
        #expect(throws: DomainError.self) {
            try submission(url: "http://10.1.2.3/hook").validated(targetPolicy: elsewhere)
        }
    }

    @Test func rejectsURLOverThousandBytes() {
        let url = "https://example.com/" + String(repeating: "a", count: 981)
        let issue = ValidationIssue(
            code: "subscription-target-url-length", message: "must be at most 1000 bytes long",
            params: ["max": .number(1000)])
        #expect(throws: targetErrors([("url", issue)])) { try submission(url: url).validated() }
    }

    @Test func validationErrorsComeBeforeURLCheck() {
        #expect(throws: targetErrors([("method", Self.methodIssue("post"))])) {
            try submission(method: "post", url: "ftp://example.com").validated()
        }
    }

    // MARK: description and metadata

    @Test(arguments: [0, 101])
    func rejectsDescriptionLength(length: Int) {
        #expect(throws: errors([("description", .length(min: 1, max: 100))])) {
            try submission(description: String(repeating: "d", count: length)).validated()
        }
    }

    @Test(arguments: [1, 100])
    func acceptsDescriptionLengthBounds(length: Int) throws {
        let text = String(repeating: "d", count: length)
        #expect(try submission(description: text).validated().description == text)
    }

    @Test func rejectsTooMuchMetadata() {
        let metadata = Dictionary(uniqueKeysWithValues: (0..<51).map { ("k\($0)", "v") })
        #expect(throws: errors([("metadata", .size("metadata", min: 0, max: 50))])) {
            try submission(metadata: metadata).validated()
        }
    }
}
