import FerryCore
import FerryStorage
import FerryTestSupport
import Foundation
import Testing

/// One table of fan-out cases, checked against `FanOutRule` and then against every path that fans out on every
/// backend: ingest (SQL candidates + the rule on SQLite; the rule written in SQL on PostgreSQL) and replay (SQL
/// candidates + the rule on both). The table's expected column is written by hand, so the rule itself can fail too.
@Suite struct FanOutTableTests {
    struct Case: Sendable, CustomStringConvertible {
        var name: String
        var subscriptionTypes: [String] = ["billing.invoice.paid"]
        var subscriptionLabels: [String: String]
        var enabled = true
        var deleted = false
        var eventType = "billing.invoice.paid"
        var eventLabels: [String: String]
        var delivered: Bool

        var description: String { name }
    }

    static let cases: [Case] = [
        Case(name: "no labels required", subscriptionLabels: [:], eventLabels: [:], delivered: true),
        Case(name: "same label", subscriptionLabels: ["tenant": "t1"], eventLabels: ["tenant": "t1"], delivered: true),
        Case(
            name: "extra event labels", subscriptionLabels: ["tenant": "t1"],
            eventLabels: ["tenant": "t1", "region": "eu"], delivered: true),
        Case(
            name: "a required label missing", subscriptionLabels: ["tenant": "t1", "region": "eu"],
            eventLabels: ["tenant": "t1"], delivered: false),
        Case(
            name: "other value", subscriptionLabels: ["tenant": "t1"], eventLabels: ["tenant": "t2"], delivered: false),
        Case(
            name: "values are case-sensitive", subscriptionLabels: ["tenant": "t1"], eventLabels: ["tenant": "T1"],
            delivered: false),
        Case(
            name: "keys are case-sensitive", subscriptionLabels: ["tenant": "t1"], eventLabels: ["Tenant": "t1"],
            delivered: false),
        Case(
            name: "trailing space is another value", subscriptionLabels: ["tenant": "t1"],
            eventLabels: ["tenant": "t1 "], delivered: false),
        Case(
            name: "unicode and quotes", subscriptionLabels: ["ünï\"k": "cødé \\ ✓"],
            eventLabels: ["ünï\"k": "cødé \\ ✓", "x": "y"], delivered: true),
        Case(
            name: "disabled subscription", subscriptionLabels: ["tenant": "t1"], enabled: false,
            eventLabels: ["tenant": "t1"], delivered: false),
        Case(
            name: "deleted subscription", subscriptionLabels: ["tenant": "t1"], deleted: true,
            eventLabels: ["tenant": "t1"], delivered: false),
        Case(
            name: "other event type", subscriptionTypes: ["billing.invoice.voided"], subscriptionLabels: [:],
            eventLabels: [:], delivered: false),
        Case(
            name: "one of several types", subscriptionTypes: ["billing.invoice.voided", "billing.invoice.paid"],
            subscriptionLabels: [:], eventLabels: [:], delivered: true),
    ]

    @Test(arguments: cases)
    func theRuleGivesTheTablesAnswer(_ row: Case) {
        let candidate = FanOutRule.Candidate(
            id: UUID(), isEnabled: row.enabled, eventTypes: row.subscriptionTypes, labels: row.subscriptionLabels)
        // A deleted subscription is never a candidate, so the rule is not asked about it.
        let delivered =
            !row.deleted && FanOutRule.delivers(eventType: row.eventType, eventLabels: row.eventLabels, to: candidate)
        #expect(delivered == row.delivered)
        // The explanation the dashboard shows agrees with the rule on every row the rule is asked about.
        if !row.deleted {
            let misses = FanOutRule.misses(eventType: row.eventType, eventLabels: row.eventLabels, for: candidate)
            #expect(misses.isEmpty == row.delivered)
        }
    }

    @Test func theExplanationNamesEachReason() {
        let candidate = FanOutRule.Candidate(
            id: UUID(), isEnabled: false, eventTypes: ["billing.invoice.voided"],
            labels: ["region": "eu", "tenant": "t1", "tier": "gold"])
        let misses = FanOutRule.misses(
            eventType: "billing.invoice.paid", eventLabels: ["tenant": "t2", "tier": "gold"], for: candidate)
        #expect(
            misses == [
                .disabled, .eventTypeNotSubscribed, .labelMissing(key: "region"),
                .labelDiffers(key: "tenant", wanted: "t1", found: "t2"),
            ])
    }

    @Test(arguments: StoreBackend.available)
    func ingestAndReplayAgreeWithTheTable(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            for row in Self.cases {
                let (_, application) = try await Fixtures.tenant(in: store)
                try await Fixtures.eventType(in: store, applicationID: application.id)
                try await Fixtures.eventType(
                    in: store, applicationID: application.id, name: ("billing", "invoice", "voided"))
                let subscription = try await store.createSubscription(
                    Fixtures.draft(
                        applicationID: application.id, url: "http://receiver.test/hook",
                        eventTypes: row.subscriptionTypes, labels: row.subscriptionLabels, enabled: row.enabled),
                    secret: UUID())
                if row.deleted {
                    #expect(try await store.deleteSubscription(id: subscription.id, applicationID: application.id))
                }
                let event = Fixtures.event(applicationID: application.id, type: row.eventType, labels: row.eventLabels)
                _ = try await store.ingest(event)
                let afterIngest = try await store.requestAttempts(
                    AttemptQuery(applicationID: application.id, eventID: event.id))
                #expect(afterIngest.count == (row.delivered ? 1 : 0), "ingest, \(row.name)")
                #expect(afterIngest.allSatisfy { $0.subscriptionID == subscription.id })
                #expect(try await store.replay(eventID: event.id, applicationID: application.id))
                let afterReplay = try await store.requestAttempts(
                    AttemptQuery(applicationID: application.id, eventID: event.id))
                #expect(afterReplay.count == (row.delivered ? 2 : 0), "replay, \(row.name)")
            }
        }
    }
}
