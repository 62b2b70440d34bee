import Testing

@testable import FerryCore

@Suite struct Hook0SignatureTests {
    static let timestamp: Int64 = 1_636_936_200
    static let body = Array("hello !".utf8)
    static let eventID = "1a01cb48-5142-4d9b-8f90-d20cca61f0ee"
    static let v0Vector = "1b3d69df55f1e52f05224ba94a5162abeb17ef52cd7f4948c390f810d6a87e98"
    static let v1EventHeaders = "bc521546ba5de381b12f135782d2008b028c3065c191760b12b76850a8fc8f51"
    static let v1WithContentType = "b92820c74d4e7d99c6fef959c507b3df9dd60e35983cdf3be1b8cf90f925fcc2"

    let signer = Hook0Signature(secret: "secret")

    @Test func v0MatchesContractVector() {
        #expect(signer.v0(timestamp: Self.timestamp, body: Self.body) == Self.v0Vector)
    }

    @Test func v1MatchesContractVectorForEventHeaders() {
        let headers: [(name: String, value: String)] = [
            ("x-event-id", Self.eventID), ("x-event-type", "service.resource.verb"),
        ]
        #expect(signer.v1(timestamp: Self.timestamp, sortedHeaders: headers, body: Self.body) == Self.v1EventHeaders)
        #expect(
            signer.headerValue(timestamp: Self.timestamp, headers: headers, body: Self.body)
                == "t=1636936200,h=x-event-id x-event-type,v1=\(Self.v1EventHeaders)")
    }

    @Test func v1MatchesContractVectorWithContentType() {
        let headers: [(name: String, value: String)] = [
            ("content-type", "application/json"), ("x-event-id", Self.eventID),
            ("x-event-type", "service.resource.verb"),
        ]
        #expect(
            signer.headerValue(timestamp: Self.timestamp, headers: headers, body: Self.body)
                == "t=1636936200,h=content-type x-event-id x-event-type,v1=\(Self.v1WithContentType)")
    }

    @Test func headerNamesAreLowerCasedAndSorted() {
        let headers: [(name: String, value: String)] = [
            ("X-Event-Type", "service.resource.verb"), ("Content-Type", "application/json"),
            ("X-EVENT-ID", Self.eventID),
        ]
        #expect(
            signer.headerValue(timestamp: Self.timestamp, headers: headers, body: Self.body)
                == "t=1636936200,h=content-type x-event-id x-event-type,v1=\(Self.v1WithContentType)")
    }

    @Test func bothVersionsPutV0BeforeHeadersAndV1() {
        let headers: [(name: String, value: String)] = [
            ("x-event-type", "service.resource.verb"), ("x-event-id", Self.eventID),
        ]
        let value = signer.headerValue(
            timestamp: Self.timestamp, headers: headers, body: Self.body, versions: [.v1, .v0])
        #expect(value == "t=1636936200,v0=\(Self.v0Vector),h=x-event-id x-event-type,v1=\(Self.v1EventHeaders)")
    }

    @Test func v0OnlyOmitsHeaderList() {
        let value = signer.headerValue(
            timestamp: Self.timestamp, headers: [("x-event-id", Self.eventID)], body: Self.body, versions: [.v0])
        #expect(value == "t=1636936200,v0=\(Self.v0Vector)")
    }

    @Test func differentSecretOrTimestampChangesSignature() {
        let other = Hook0Signature(secret: "secret2")
        #expect(other.v0(timestamp: Self.timestamp, body: Self.body) != Self.v0Vector)
        #expect(signer.v0(timestamp: Self.timestamp + 1, body: Self.body) != Self.v0Vector)
        #expect(signer.v0(timestamp: Self.timestamp, body: Array("hello!".utf8)) != Self.v0Vector)
    }

    @Test(arguments: [
        ("service.resource.verb", true),
        ("application/json; charset=utf-8", true),
        ("", true),
        ("~!@#$%^&*()_+{}|:\"<>?", true),
        ("pj.cartão.autorização", false),
        ("emoji 🚀", false),
        ("line\nbreak", false),
        ("del\u{7F}", false),
    ])
    func canCoverOnlyVisibleASCII(value: String, coverable: Bool) {
        #expect(Hook0Signature.canCover([("x-event-id", Self.eventID), ("x-event-type", value)]) == coverable)
    }

    @Test func canCoverEmptyHeaderList() {
        #expect(Hook0Signature.canCover([]))
    }
}
