import Testing

@testable import FerryCore

@Suite struct LabelMatcherTests {
    @Test(
        arguments: [
            (["env": "prod"], ["env": "prod"], true),
            (["env": "prod", "tenant": "acme"], ["env": "prod"], true),
            (["env": "prod", "tenant": "acme"], ["env": "prod", "tenant": "acme"], true),
            (["env": "prod"], [:], true),
            ([:], [:], true),
            (["env": "prod"], ["env": "staging"], false),
            (["env": "prod"], ["env": "Prod"], false),
            (["env": "prod"], ["tenant": "acme"], false),
            (["env": "prod"], ["env": "prod", "tenant": "acme"], false),
            ([:], ["env": "prod"], false),
            (["Env": "prod"], ["env": "prod"], false),
        ] as [([String: String], [String: String], Bool)])
    func containsAllRequiredLabels(event: [String: String], required: [String: String], matches: Bool) {
        #expect(LabelMatcher.contains(event, all: required) == matches)
    }

    @Test func subscriptionMatchesEventTypeAndLabels() {
        let subscription = Fixture.subscription(
            eventTypes: ["billing.invoice.paid", "billing.invoice.voided"], labels: ["env": "prod"])
        #expect(subscription.matches(eventType: "billing.invoice.paid", eventLabels: ["env": "prod", "x": "y"]))
        #expect(subscription.matches(eventType: "billing.invoice.voided", eventLabels: ["env": "prod"]))
    }

    @Test func disabledSubscriptionNeverMatches() {
        let subscription = Fixture.subscription(isEnabled: false)
        #expect(!subscription.matches(eventType: "billing.invoice.paid", eventLabels: ["env": "prod"]))
    }

    @Test(arguments: [
        "billing.invoice.created", "billing.invoice", "billing.invoice.paid.extra", "Billing.invoice.paid", "",
    ])
    func otherEventTypeDoesNotMatch(eventType: String) {
        #expect(!Fixture.subscription().matches(eventType: eventType, eventLabels: ["env": "prod"]))
    }

    @Test func missingOrDifferentLabelDoesNotMatch() {
        let subscription = Fixture.subscription(labels: ["env": "prod", "tenant": "acme"])
        #expect(!subscription.matches(eventType: "billing.invoice.paid", eventLabels: ["env": "prod"]))
        #expect(
            !subscription.matches(eventType: "billing.invoice.paid", eventLabels: ["env": "prod", "tenant": "other"]))
        #expect(
            subscription.matches(eventType: "billing.invoice.paid", eventLabels: ["env": "prod", "tenant": "acme"]))
    }
}
