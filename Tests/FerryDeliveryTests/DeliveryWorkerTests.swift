import FerryCore
import FerryDelivery
import FerrySQLite
import FerryStorage
import FerryTestSupport
import Foundation
import Synchronization
import Testing

/// The worker against real receivers on loopback: signing, retries, errors and limits.
@Suite struct DeliveryWorkerTests {
    @Test(arguments: StoreBackend.available)
    func deliversSignedRequestsThatBothSchemesVerify(backend: StoreBackend) async throws {
        try await TestReceiver.with { receiver in
            try await DeliveryHarness.run(backend: backend, url: receiver.url(), headers: ["x-custom": "abc"]) {
                harness in
                let event = try await harness.send()
                let request = try #require(await receiver.waitForRequests(1).first)
                #expect(request.method == "POST" && request.path == "/hook")
                #expect(request.body == Array(#"{"amount":42}"#.utf8))
                #expect(request.headers["content-type"] == "application/json")
                #expect(request.headers["x-event-id"] == event.id.lowercased)
                #expect(request.headers["x-event-type"] == "billing.invoice.paid")
                #expect(request.headers["x-custom"] == "abc")
                #expect(request.headers["user-agent"] == "Ferry/\(FerryVersion.current)")
                let secret = harness.subscription.secret.lowercased
                let signature = try #require(request.headers["x-hook0-signature"])
                let parts = Dictionary(
                    signature.split(separator: ",").map { part -> (String, String) in
                        let pieces = part.split(separator: "=", maxSplits: 1)
                        return (String(pieces[0]), pieces.count > 1 ? String(pieces[1]) : "")
                    }, uniquingKeysWith: { first, _ in first })
                #expect(parts["h"] == "content-type x-custom x-event-id x-event-type")
                let timestampText = try #require(parts["t"])
                let timestamp = try #require(Int64(timestampText))
                let covered = ["content-type", "x-custom", "x-event-id", "x-event-type"].map {
                    (name: $0, value: request.headers[$0] ?? "")
                }
                #expect(
                    parts["v1"]
                        == Hook0Signature(secret: secret).v1(
                            timestamp: timestamp, sortedHeaders: covered, body: request.body))
                let verifier = try #require(
                    StandardWebhookSignature(whsecSecret: harness.subscription.standardWebhooksSecret))
                #expect(request.headers["webhook-id"] == event.id.lowercased)
                #expect(
                    verifier.verify(
                        header: request.headers["webhook-signature"] ?? "", messageID: event.id.lowercased,
                        timestamp: Int64(request.headers["webhook-timestamp"] ?? "") ?? 0, body: request.body))
                #expect(
                    !verifier.verify(
                        header: request.headers["webhook-signature"] ?? "", messageID: event.id.lowercased,
                        timestamp: timestamp, body: Array("tampered".utf8)))
                let attempts = try await harness.waitForAttempts { $0.first?.succeededAt != nil }
                #expect(attempts.count == 1 && attempts.first?.httpResponseStatus == 200)
            }
        }
    }

    @Test(arguments: StoreBackend.available)
    func failingReceiverIsRetriedOnScheduleAndThenGivenUp(backend: StoreBackend) async throws {
        try await TestReceiver.with(reply: { _, _ in .init(status: 500, body: Array("boom".utf8)) }) { receiver in
            try await DeliveryHarness.run(backend: backend, url: receiver.url()) { harness in
                try await harness.send()
                let attempts = try await harness.waitForAttempts { attempts in
                    attempts.count == 3 && attempts.allSatisfy { $0.failedAt != nil }
                }
                #expect(attempts.map(\.retryCount).sorted() == [0, 1, 2])
                #expect(attempts.allSatisfy { $0.httpResponseStatus == 500 })
                try await Task.sleep(for: .milliseconds(600))
                #expect(receiver.requests.count == 3)
                let arrivals = receiver.requests.map(\.receivedAt)
                #expect(zip(arrivals, arrivals.dropFirst()).allSatisfy { $1.timeIntervalSince($0) >= 0.15 })
                let last = try #require(attempts.first { $0.retryCount == 2 })
                let responseID = try #require(last.responseID)
                let response = try #require(
                    try await harness.store.response(id: responseID, applicationID: harness.application.id))
                #expect(response.errorName == .http && response.body == Array("boom".utf8))
            }
        }
    }

    @Test(arguments: StoreBackend.available)
    func goneDisablesTheSubscriptionWithItsReasonAndIsNotRetried(backend: StoreBackend) async throws {
        try await TestReceiver.with(reply: { _, _ in .init(status: 410, body: Array("gone".utf8)) }) { receiver in
            try await DeliveryHarness.run(backend: backend, url: receiver.url()) { harness in
                let before = Date()
                try await harness.send()
                let attempts = try await harness.waitForAttempts { $0.contains { $0.failedAt != nil } }
                #expect(attempts.count == 1 && attempts.first?.httpResponseStatus == 410)
                var subscription = try await harness.store.subscription(id: harness.subscription.id)
                let deadline = ContinuousClock.now + .seconds(5)
                while subscription?.isEnabled == true, ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(20))
                    subscription = try await harness.store.subscription(id: harness.subscription.id)
                }
                #expect(subscription?.isEnabled == false)
                #expect(subscription?.disabledReason == "the target answered 410 Gone")
                #expect((subscription?.disabledAt ?? .distantPast) >= before.addingTimeInterval(-1))
                try await harness.send()
                try await Task.sleep(for: .milliseconds(600))
                #expect(receiver.requests.count == 1, "no retry, and nothing sent to a disabled subscription")

                let enabled = try await harness.store.setSubscriptionEnabled(
                    id: harness.subscription.id, applicationID: harness.application.id, isEnabled: true)
                #expect(enabled?.isEnabled == true && enabled?.disabledReason == nil && enabled?.disabledAt == nil)
                let disabled = try await harness.store.setSubscriptionEnabled(
                    id: harness.subscription.id, applicationID: harness.application.id, isEnabled: false)
                #expect(disabled?.disabledReason == Subscription.disabledByRequest)
            }
        }
    }

    @Test(arguments: StoreBackend.available)
    func aCircuitOpensAfterConsecutiveFailuresHoldsAttemptsAndOneProbeClosesIt(backend: StoreBackend) async throws {
        let failing = Atomic<Bool>(true)
        try await TestReceiver.with(reply: { _, _ in .init(status: failing.load(ordering: .relaxed) ? 500 : 200) }) {
            receiver in
            try await DeliveryHarness.run(
                backend: backend, url: receiver.url(),
                configure: { configuration in
                    // Retries fall due two seconds after each failure: long after the third failure opens the
                    // circuit, even on a machine loaded by the whole suite, so none is claimed before it opens.
                    configuration.retryPolicy = RetryPolicy(schedule: [2], maxRetries: 10, jitterRatio: 0)
                    configuration.circuitPolicy = CircuitBreakerPolicy(failureThreshold: 3, openFor: .seconds(2))
                }
            ) { harness in
                func circuit() async throws -> CircuitState? {
                    try await harness.store.subscription(id: harness.subscription.id)?.circuit
                }
                for _ in 0..<3 { try await harness.send() }
                _ = await receiver.waitForRequests(3)
                var state = try await circuit()
                let deadline = ContinuousClock.now + .seconds(5)
                while state?.openedAt == nil, ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(20))
                    state = try await circuit()
                }
                let openedAt = try #require(state?.openedAt, "three failures open the circuit")
                #expect(state?.name(at: Date()) == "open")
                // The retries fall due, but wait for the probe, neither sent nor counted.
                try await Task.sleep(for: .milliseconds(1_500))
                #expect(receiver.requests.count == 3)
                var attempts = try await harness.waitForAttempts { _ in true }
                #expect(attempts.filter { $0.failedAt != nil }.count == 3)
                #expect(attempts.filter { $0.failedAt == nil && $0.succeededAt == nil }.count == 3)

                // The first probe, 2 s after opening, fails: one request, and the circuit stays open for 2 s more.
                _ = await receiver.waitForRequests(4, timeout: .seconds(5))
                try await Task.sleep(for: .milliseconds(300))
                #expect(receiver.requests.count == 4, "a single probe")
                let probeArrival = try #require(receiver.requests.last?.receivedAt)
                #expect(probeArrival.timeIntervalSince(openedAt) >= 1.9)
                state = try await circuit()
                #expect(state?.openedAt == openedAt && state?.name(at: Date()) == "open")
                #expect((state?.probeAt ?? .distantPast).timeIntervalSince(probeArrival) >= 1.5)

                // The receiver recovers: the next probe succeeds, closes the circuit, and the rest follow at once.
                failing.store(false, ordering: .relaxed)
                // Generous: beside the whole suite on two cores, the probe's schedule can slip by seconds.
                attempts = try await harness.waitForAttempts(timeout: .seconds(40)) { attempts in
                    attempts.filter { $0.succeededAt != nil }.count == 3
                }
                #expect(attempts.filter { $0.succeededAt != nil }.count == 3)
                #expect(attempts.filter { $0.failedAt != nil }.count == 4, "three failures and the failed probe")
                #expect(receiver.requests.count == 7)
                let successes = receiver.requests.suffix(3).map(\.receivedAt)
                #expect(successes[0].timeIntervalSince(probeArrival) >= 1.9, "the second probe waited")
                #expect(try await circuit() == CircuitState())
            }
        }
    }

    @Test(arguments: StoreBackend.available)
    func anOrderedSubscriptionDeliversInOrderUnderRetriesAndSeveralWorkers(backend: StoreBackend) async throws {
        // The first two requests fail, so the first event is retried twice while the others wait behind it.
        try await TestReceiver.with(reply: { _, number in .init(status: number <= 2 ? 503 : 200) }) { receiver in
            try await DeliveryHarness.run(
                backend: backend, url: receiver.url("/ordered"),
                configure: { $0.retryPolicy = RetryPolicy(schedule: [0.2], maxRetries: 5, jitterRatio: 0) },
                workers: backend == .postgres ? 2 : 1
            ) { harness in
                var draft = Fixtures.draft(applicationID: harness.application.id, url: receiver.url("/ordered"))
                draft.ordered = true
                _ = try await harness.store.replaceSubscription(id: harness.subscription.id, with: draft)
                var sent: [String] = []
                for index in 0..<8 { sent.append(try await harness.send(payload: #"{"n":\#(index)}"#).id.lowercased) }
                let requests = await receiver.waitForRequests(10, timeout: .seconds(20))
                try await Task.sleep(for: .milliseconds(300))
                let arrivals = receiver.requests.map { $0.headers["x-event-id"] ?? "?" }
                #expect(requests.count >= 10 && receiver.requests.count == 10, "\(arrivals)")
                #expect(Array(arrivals.prefix(3)) == [sent[0], sent[0], sent[0]], "the first event's retries go first")
                #expect(Array(arrivals.dropFirst(2)) == sent, "every event in order, each sent once it was next")
            }
        }
    }

    @Test(arguments: StoreBackend.available)
    func aSubscriptionFailingForTheSpanIsDisabledAndASuccessEndsTheStreak(backend: StoreBackend) async throws {
        // Answers 500 to the first event's three attempts and 200 to the second event, then 500 for good.
        try await TestReceiver.with(reply: { _, number in
            .init(status: number == 4 ? 200 : 500)
        }) { receiver in
            try await DeliveryHarness.run(
                backend: backend, url: receiver.url(),
                configure: { configuration in
                    configuration.retryPolicy = RetryPolicy(schedule: [0.3], maxRetries: 2, jitterRatio: 0)
                    configuration.failingRule = FailingSubscriptionRule(span: .seconds(3))
                }
            ) { harness in
                func current() async throws -> Subscription? {
                    try await harness.store.subscription(id: harness.subscription.id)
                }
                let started = Date()
                try await harness.send()
                _ = try await harness.waitForAttempts { $0.count == 3 && $0.allSatisfy { $0.failedAt != nil } }
                let failing = try await current()
                // About 0.6 s of failures, less than the span (unless a loaded machine stretched them past it: then
                // the third failure disabled the subscription, which ends its streak).
                if Date().timeIntervalSince(started) < 2.5 {
                    #expect(failing?.isEnabled == true)
                    #expect((failing?.failingSince ?? .distantPast) >= started.addingTimeInterval(-1))
                } else if failing?.isEnabled == true {
                    #expect((failing?.failingSince ?? .distantPast) >= started.addingTimeInterval(-1))
                }
                try await harness.send()
                _ = await receiver.waitForRequests(4)
                var subscription = try await current()
                var deadline = ContinuousClock.now + .seconds(5)
                while subscription?.failingSince != nil, ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(20))
                    subscription = try await current()
                }
                #expect(subscription?.failingSince == nil, "a success ends the streak")

                try await Task.sleep(for: .milliseconds(300))
                try await harness.send()
                deadline = ContinuousClock.now + .seconds(20)
                while subscription?.isEnabled == true, ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(50))
                    subscription = try await current()
                    if receiver.requests.count >= 7, subscription?.isEnabled == true {
                        try await harness.send()
                        try await Task.sleep(for: .milliseconds(400))
                    }
                }
                #expect(subscription?.isEnabled == false, "failing for the span disables it")
                #expect(subscription?.disabledReason?.hasPrefix("every attempt failed for 3s (since ") == true)
                let enabled = try await harness.store.setSubscriptionEnabled(
                    id: harness.subscription.id, applicationID: harness.application.id, isEnabled: true)
                #expect(enabled?.failingSince == nil && enabled?.disabledReason == nil, "enabling starts over")
            }
        }
    }

    @Test(arguments: StoreBackend.available)
    func aSubscriptionsOwnRetrySettingsReplaceTheServers(backend: StoreBackend) async throws {
        try await TestReceiver.with(reply: { _, _ in .init(status: 500) }) { receiver in
            try await DeliveryHarness.run(backend: backend, url: receiver.url()) { harness in
                // The server's policy retries twice, 0.2 s apart; this subscription once, after 0.5 s.
                var draft = Fixtures.draft(applicationID: harness.application.id, url: receiver.url())
                draft.retry = RetryOverride(schedule: [0.5], maxRetries: 1)
                let replaced = try await harness.store.replaceSubscription(id: harness.subscription.id, with: draft)
                #expect(replaced?.retry == draft.retry)
                try await harness.send()
                let attempts = try await harness.waitForAttempts { attempts in
                    attempts.count == 2 && attempts.allSatisfy { $0.failedAt != nil }
                }
                #expect(attempts.map(\.retryCount).sorted() == [0, 1])
                try await Task.sleep(for: .milliseconds(800))
                #expect(receiver.requests.count == 2, "one retry, as the subscription asks")
                let arrivals = receiver.requests.map(\.receivedAt)
                if arrivals.count == 2 { #expect(arrivals[1].timeIntervalSince(arrivals[0]) >= 0.45) }
            }
        }
    }

    @Test(arguments: StoreBackend.available)
    func retryAfterOn429PostponesTheRetry(backend: StoreBackend) async throws {
        try await TestReceiver.with(reply: { _, number in
            number == 1 ? .init(status: 429, headers: ["retry-after": "1"]) : .init(status: 204, body: [])
        }) { receiver in
            try await DeliveryHarness.run(backend: backend, url: receiver.url()) { harness in
                try await harness.send()
                let requests = await receiver.waitForRequests(2)
                #expect(requests.count == 2)
                if requests.count == 2 {
                    #expect(requests[1].receivedAt.timeIntervalSince(requests[0].receivedAt) >= 0.9)
                }
                let attempts = try await harness.waitForAttempts { $0.contains { $0.succeededAt != nil } }
                #expect(attempts.first { $0.retryCount == 1 }?.httpResponseStatus == 204)
            }
        }
    }

    @Test(arguments: StoreBackend.available)
    func loopbackTargetIsRefusedWhenNotAllowed(backend: StoreBackend) async throws {
        try await TestReceiver.with { receiver in
            try await DeliveryHarness.run(
                backend: backend, url: receiver.url(), configure: { $0.allowedTargetNetworks = [] }
            ) { harness in
                try await harness.send()
                let attempts = try await harness.waitForAttempts { $0.first?.failedAt != nil }
                let first = try #require(attempts.first { $0.retryCount == 0 })
                let responseID = try #require(first.responseID)
                let response = try await harness.store.response(id: responseID, applicationID: harness.application.id)
                #expect(response?.errorName == .invalidTarget)
                #expect(receiver.requests.isEmpty)
            }
        }
    }

    @Test(arguments: StoreBackend.available)
    func slowReceiverTimesOutAndLargeBodiesAreTruncated(backend: StoreBackend) async throws {
        let big = Array(repeating: UInt8(ascii: "x"), count: 10_000)
        try await TestReceiver.with(reply: { request, _ in
            request.path == "/slow" ? .init(status: 200, delay: .seconds(6)) : .init(status: 200, body: big)
        }) { receiver in
            try await DeliveryHarness.run(
                backend: backend, url: receiver.url("/slow"),
                configure: {
                    $0.totalTimeout = .seconds(2); $0.responseBodyLimit = 1000;
                    $0.retryPolicy = RetryPolicy(schedule: [0.2], maxRetries: 0)
                }
            ) { harness in
                try await harness.send()
                let attempts = try await harness.waitForAttempts { $0.first?.failedAt != nil }
                let responseID = try #require(attempts.first?.responseID)
                let response = try await harness.store.response(id: responseID, applicationID: harness.application.id)
                #expect(response?.errorName == .timeout)
                #expect(
                    (response?.elapsedMilliseconds ?? 0) >= 1900 && (response?.elapsedMilliseconds ?? 99_999) < 4500)

                var draft = Fixtures.draft(applicationID: harness.application.id, url: receiver.url("/big"))
                draft.labels = ["tenant": "t1"]
                _ = try await harness.store.replaceSubscription(id: harness.subscription.id, with: draft)
                try await harness.send()
                let done = try await harness.waitForAttempts { $0.contains { $0.succeededAt != nil } }
                let success = try #require(done.first { $0.succeededAt != nil })
                let bigID = try #require(success.responseID)
                let bigResponse = try await harness.store.response(id: bigID, applicationID: harness.application.id)
                #expect(bigResponse?.body?.count == 1000 && bigResponse?.bodyTruncated == true)
            }
        }
    }
}
