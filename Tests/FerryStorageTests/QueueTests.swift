import FerryCore
import FerrySQLite
import FerryStorage
import FerryTestSupport
import Foundation
import Testing

/// Claiming under a lease, recording outcomes and scheduling retries, run against every backend.
@Suite struct QueueTests {
    private func prepare(_ store: any FerryStore, events: Int = 1) async throws -> (Application, Subscription) {
        let (_, application) = try await Fixtures.tenant(in: store)
        try await Fixtures.eventType(in: store, applicationID: application.id)
        let subscription = try await store.createSubscription(
            Fixtures.draft(applicationID: application.id, url: "http://a.test/hook", headers: ["x-custom": "1"]),
            secret: UUID())
        for _ in 0..<events { _ = try await store.ingest(Fixtures.event(applicationID: application.id)) }
        return (application, subscription)
    }

    @Test(arguments: StoreBackend.available)
    func attemptsOfARelayedSubscriptionAreLeftToItsListenSession(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let (application, sent) = try await prepare(store, events: 0)
            var draft = Fixtures.draft(applicationID: application.id, url: "http://127.0.0.1:3000/hook")
            draft.isRelayed = true
            let relayed = try await store.createSubscription(draft, secret: UUID())
            #expect(try await store.subscription(id: relayed.id)?.isRelayed == true)
            #expect(try await store.subscription(id: sent.id)?.isRelayed == false)
            _ = try await store.ingest(Fixtures.event(applicationID: application.id))

            let workers = try await store.claimDueJobs(limit: 10, leaseFor: .seconds(60))
            #expect(workers.map(\.subscriptionID) == [sent.id])
            // The relayed attempt is due now, but workers wait only for their own leases (a minute away).
            let next = try #require(try await store.nextDueDate())
            #expect(next.timeIntervalSinceNow > 30)
            // Two more events: the ordinary subscription has a due, unleased attempt the relay must not take.
            _ = try await store.ingest(Fixtures.event(applicationID: application.id))
            _ = try await store.ingest(Fixtures.event(applicationID: application.id))
            #expect(
                try await store.claimRelayedJobs(subscriptionID: sent.id, limit: 10, leaseFor: .seconds(60)).isEmpty)
            // At most `limit` leased and unanswered at once: two, then none until one is answered.
            let relayedJobs = try await store.claimRelayedJobs(
                subscriptionID: relayed.id, limit: 2, leaseFor: .seconds(60))
            #expect(relayedJobs.count == 2 && relayedJobs.allSatisfy { $0.subscriptionID == relayed.id })
            #expect(relayedJobs.first?.target.url == "http://127.0.0.1:3000/hook")
            #expect(
                try await store.claimRelayedJobs(subscriptionID: relayed.id, limit: 2, leaseFor: .seconds(60)).isEmpty)
            #expect(
                try await store.recordOutcome(
                    .answered(
                        status: 200, headers: [:], body: [], truncated: false, elapsedMilliseconds: 1,
                        retryAfterSeconds: nil),
                    for: relayedJobs[1], retryAt: nil))
            let third = try await store.claimRelayedJobs(subscriptionID: relayed.id, limit: 2, leaseFor: .seconds(60))
            #expect(third.count == 1)

            // Its retry is relayed too (the workers' own queue holds only the ordinary subscription's attempts).
            let job = try #require(relayedJobs.first)
            #expect(
                try await store.recordOutcome(
                    .failed(.connection, elapsedMilliseconds: 1), for: job, retryAt: Date().addingTimeInterval(-1)))
            #expect(
                try await store.claimDueJobs(limit: 10, leaseFor: .seconds(60)).allSatisfy {
                    $0.subscriptionID == sent.id
                })
            let retry = try await store.claimRelayedJobs(subscriptionID: relayed.id, limit: 10, leaseFor: .seconds(60))
            #expect(retry.map(\.retryCount) == [1])

            // Replaced without the extension field (as a Hook0 client sends it), it is an ordinary subscription.
            var plain = draft
            plain.isRelayed = false
            #expect(try await store.replaceSubscription(id: relayed.id, with: plain)?.isRelayed == false)
            // Its new attempts are the workers' now: a listen session still streaming gets none of them.
            _ = try await store.ingest(Fixtures.event(applicationID: application.id))
            #expect(
                try await store.claimRelayedJobs(subscriptionID: relayed.id, limit: 10, leaseFor: .seconds(60)).isEmpty)
            #expect(
                try await store.claimDueJobs(limit: 10, leaseFor: .seconds(60)).contains {
                    $0.subscriptionID == relayed.id
                })
        }
    }

    @Test(arguments: StoreBackend.available)
    func claimLeasesJobsSoNoOtherClaimTakesThemUntilTheLeaseExpires(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let (_, subscription) = try await prepare(store, events: 3)
            // The lease is long enough that a busy machine cannot let it run out before the second claim.
            let first = try await store.claimDueJobs(limit: 10, leaseFor: .seconds(3))
            #expect(first.count == 3)
            #expect(first.allSatisfy { $0.secret == subscription.secret && $0.target.headers == ["x-custom": "1"] })
            #expect(first.first?.payload == Array(#"{"amount":42}"#.utf8))
            #expect(try await store.claimDueJobs(limit: 10, leaseFor: .seconds(30)).isEmpty)
            try await Task.sleep(for: .milliseconds(3200))
            let reclaimed = try await store.claimDueJobs(limit: 10, leaseFor: .seconds(30))
            #expect(Set(reclaimed.map(\.attemptID)) == Set(first.map(\.attemptID)))
            let stale = try await store.recordOutcome(
                .answered(
                    status: 200, headers: [:], body: [], truncated: false, elapsedMilliseconds: 1,
                    retryAfterSeconds: nil),
                for: first[0], retryAt: nil)
            #expect(stale == false)
            let current = try await store.recordOutcome(
                .answered(
                    status: 200, headers: [:], body: [], truncated: false, elapsedMilliseconds: 1,
                    retryAfterSeconds: nil),
                for: try #require(reclaimed.first { $0.attemptID == first[0].attemptID }), retryAt: nil)
            #expect(current == true)
        }
    }

    @Test(arguments: StoreBackend.available)
    func failureSchedulesARetryAttemptThatIsNotDueBeforeItsDelay(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let (application, _) = try await prepare(store)
            let job = try #require(try await store.claimDueJobs(limit: 1, leaseFor: .seconds(30)).first)
            // Far enough ahead that the checks below run before it, even beside the whole suite on two cores.
            let retryAt = Date().addingTimeInterval(20)
            let observation = AttemptObservation.answered(
                status: 503, headers: ["retry-after": "1"], body: Array("busy".utf8), truncated: false,
                elapsedMilliseconds: 7, retryAfterSeconds: 1)
            #expect(try await store.recordOutcome(observation, for: job, retryAt: retryAt))
            let attempts = try await store.requestAttempts(AttemptQuery(applicationID: application.id))
            #expect(attempts.count == 2)
            let retry = try #require(attempts.first { $0.retryCount == 1 })
            let failed = try #require(attempts.first { $0.retryCount == 0 })
            #expect(failed.failedAt != nil && failed.succeededAt == nil && failed.httpResponseStatus == 503)
            #expect(abs((retry.delayUntil ?? .distantPast).timeIntervalSince(retryAt)) < 0.001)
            if case .waiting = retry.status(at: Date()) {} else { Issue.record("retry should be waiting") }
            let responseID = try #require(failed.responseID)
            let response = try #require(try await store.response(id: responseID, applicationID: application.id))
            #expect(response.errorName == .http && response.httpCode == 503 && response.body == Array("busy".utf8))
            #expect(try await store.claimDueJobs(limit: 5, leaseFor: .seconds(30)).isEmpty)
            let next = try #require(try await store.nextDueDate())
            #expect(abs(next.timeIntervalSince(retryAt)) < 0.001)
            try await Task.sleep(until: .now + .seconds(max(0, retryAt.timeIntervalSinceNow) + 0.1))
            let due = try await store.claimDueJobs(limit: 5, leaseFor: .seconds(30))
            #expect(due.map(\.retryCount) == [1])
        }
    }

    @Test(arguments: StoreBackend.available)
    func disablingASubscriptionCancelsPendingAttemptsAndStopsRetries(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let (application, subscription) = try await prepare(store, events: 2)
            let job = try #require(try await store.claimDueJobs(limit: 1, leaseFor: .seconds(30)).first)
            var draft = Fixtures.draft(applicationID: application.id, url: "http://a.test/hook")
            draft.isEnabled = false
            _ = try await store.replaceSubscription(id: subscription.id, with: draft)
            let recorded = try await store.recordOutcome(
                .failed(.connection, elapsedMilliseconds: 3), for: job, retryAt: Date())
            #expect(recorded == false)
            let attempts = try await store.requestAttempts(AttemptQuery(applicationID: application.id))
            #expect(attempts.count == 2)
            #expect(attempts.allSatisfy { $0.failedAt != nil })
            #expect(try await store.claimDueJobs(limit: 5, leaseFor: .seconds(30)).isEmpty)
        }
    }

    @Test(arguments: StoreBackend.available)
    func retryingOneAttemptQueuesItsEventForItsSubscriptionOnly(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let (application, other) = try await retryOne(store)
            try await switchOff(store, application: application, other: other)
        }
    }

    private func retryOne(_ store: any FerryStore) async throws -> (Application, Subscription) {
        let (application, subscription) = try await prepare(store)
        let other = try await store.createSubscription(
            Fixtures.draft(applicationID: application.id, url: "http://b.test/hook"), secret: UUID())
        _ = try await store.ingest(Fixtures.event(applicationID: application.id))
        let jobs = try await store.claimDueJobs(limit: 10, leaseFor: .seconds(30))
        let job = try #require(jobs.first { $0.subscriptionID == subscription.id })
        #expect(try await store.recordOutcome(.failed(.connection, elapsedMilliseconds: 1), for: job, retryAt: nil))
        try await store.releaseLeases(of: jobs.filter { $0.attemptID != job.attemptID })
        let retried = try #require(try await store.retryAttempt(id: job.attemptID, applicationID: application.id))
        let attempt = try #require(try await store.requestAttempt(id: retried, applicationID: application.id))
        #expect(attempt.eventID == job.eventID && attempt.subscriptionID == subscription.id)
        #expect(attempt.retryCount == 0 && attempt.failedAt == nil && attempt.succeededAt == nil)
        let due = try await store.claimDueJobs(limit: 10, leaseFor: .seconds(30))
        #expect(due.contains { $0.attemptID == retried })
        #expect(try await store.retryAttempt(id: job.attemptID, applicationID: UUID()) == nil, "another tenant's")
        #expect(try await store.retryAttempt(id: UUID(), applicationID: application.id) == nil)
        return (application, other)
    }

    private func switchOff(_ store: any FerryStore, application: Application, other: Subscription) async throws {
        // Switching one subscription off changes nothing else and cancels its waiting attempts; a retry to it
        // is then refused.
        let off = try #require(
            try await store.setSubscriptionEnabled(id: other.id, applicationID: application.id, isEnabled: false))
        #expect(!off.isEnabled && off.target == other.target && off.labels == other.labels)
        #expect(off.eventTypes == other.eventTypes && off.description == other.description)
        let otherAttempts = try await store.requestAttempts(
            AttemptQuery(applicationID: application.id, subscriptionID: other.id))
        #expect(!otherAttempts.isEmpty && otherAttempts.allSatisfy { $0.failedAt != nil })
        let otherAttempt = try #require(otherAttempts.first)
        #expect(try await store.retryAttempt(id: otherAttempt.id, applicationID: application.id) == nil)
        #expect(
            try await store.setSubscriptionEnabled(id: other.id, applicationID: UUID(), isEnabled: true) == nil)
        let on = try await store.setSubscriptionEnabled(
            id: other.id, applicationID: application.id, isEnabled: true)
        #expect(on?.isEnabled == true)
    }

    @Test(arguments: StoreBackend.available)
    func theResponseKeepsTheRequestAsSentWithCredentialsMasked(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let (application, _) = try await prepare(store)
            let job = try #require(try await store.claimDueJobs(limit: 1, leaseFor: .seconds(30)).first)
            var observation = AttemptObservation.failed(.connection, elapsedMilliseconds: 4)
            observation.request = SentRequest(
                method: "PUT", url: "http://a.test/hook",
                headers: ["x-api-key": "key-0123456789abcdef", "webhook-id": "abc", "x-custom": "1"])
            #expect(try await store.recordOutcome(observation, for: job, retryAt: nil))
            let attempt = try #require(try await store.requestAttempt(id: job.attemptID, applicationID: application.id))
            let responseID = try #require(attempt.responseID)
            let response = try #require(try await store.response(id: responseID, applicationID: application.id))
            #expect(response.request?.method == "PUT" && response.request?.url == "http://a.test/hook")
            #expect(
                response.request?.headers == ["x-api-key": "key-…(hidden)", "webhook-id": "abc", "x-custom": "1"])
        }
    }

    @Test(arguments: StoreBackend.available)
    func releasedLeasesAreClaimableAtOnce(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            _ = try await prepare(store, events: 2)
            let jobs = try await store.claimDueJobs(limit: 5, leaseFor: .seconds(60))
            #expect(jobs.count == 2)
            try await store.releaseLeases(of: jobs)
            #expect(try await store.claimDueJobs(limit: 5, leaseFor: .seconds(60)).count == 2)
        }
    }

    @Test(arguments: StoreBackend.available)
    func attemptsPaginateNewestFirstWithoutGapsOrRepeats(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let (application, _) = try await prepare(store, events: 120)
            var seen: [RequestAttempt] = []
            var cursor: AttemptCursor?
            var pages: [Int] = []
            repeat {
                let page = try await store.requestAttempts(AttemptQuery(applicationID: application.id, after: cursor))
                pages.append(page.count)
                seen += page
                cursor = page.last.map { AttemptCursor(createdAt: $0.createdAt, id: $0.id) }
            } while cursor != nil
            #expect(pages == [50, 50, 20, 0])
            #expect(Set(seen.map(\.id)).count == 120)
            let keys = seen.map { ($0.createdAt, $0.id.uuidString.lowercased()) }
            #expect(zip(keys, keys.dropFirst()).allSatisfy { $0.0 > $1.0 || ($0.0 == $1.0 && $0.1 > $1.1) })
        }
    }

    @Test(arguments: StoreBackend.available)
    func claimsLeaveExcludedSubscriptionsAndApplicationsAlone(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let (application, first) = try await prepare(store, events: 0)
            let second = try await store.createSubscription(
                Fixtures.draft(applicationID: application.id, url: "http://b.test/hook"), secret: UUID())
            let (_, other) = try await Fixtures.tenant(in: store)
            try await Fixtures.eventType(in: store, applicationID: other.id)
            let third = try await store.createSubscription(
                Fixtures.draft(applicationID: other.id, url: "http://c.test/hook"), secret: UUID())
            _ = try await store.ingest(Fixtures.event(applicationID: application.id))
            _ = try await store.ingest(Fixtures.event(applicationID: other.id))

            let exclusions = ClaimExclusions(subscriptionIDs: [first.id], applicationIDs: [other.id])
            let next = try #require(try await store.nextDueDate(excluding: exclusions))
            #expect(next.timeIntervalSinceNow < 1)
            let claimed = try await store.claimDueJobs(limit: 10, leaseFor: .seconds(60), excluding: exclusions)
            #expect(claimed.map(\.subscriptionID) == [second.id])
            // Only excluded work is left: nothing is due for this process until the leases run out.
            let later = try #require(try await store.nextDueDate(excluding: exclusions))
            #expect(later.timeIntervalSinceNow > 30)
            #expect(
                try await store.claimDueJobs(limit: 10, leaseFor: .seconds(60), excluding: exclusions).isEmpty)
            let rest = try await store.claimDueJobs(limit: 10, leaseFor: .seconds(60))
            #expect(Set(rest.map(\.subscriptionID)) == [first.id, third.id])
        }
    }

    @Test(arguments: StoreBackend.available)
    func anOpenCircuitHoldsItsAttemptsUntilOneProbeIsTaken(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let (application, subscription) = try await prepare(store, events: 2)
            let now = Date()
            let probeAt = now.addingTimeInterval(60)
            #expect(try await store.openCircuit(subscriptionID: subscription.id, at: now, probeAt: probeAt))
            #expect(
                !(try await store.openCircuit(subscriptionID: subscription.id, at: now, probeAt: probeAt)),
                "an open circuit is not opened again")
            let stored = try #require(try await store.subscription(id: subscription.id))
            #expect(stored.circuit.name(at: Date()) == "open")
            #expect(abs((stored.circuit.openedAt ?? .distantPast).timeIntervalSince(now)) < 0.001)
            // Its attempts are due but wait, uncounted, for the probe: the next due moment is the probe's.
            #expect(try await store.claimDueJobs(limit: 10, leaseFor: .seconds(60)).isEmpty)
            let next = try #require(try await store.nextDueDate())
            #expect(abs(next.timeIntervalSince(probeAt)) < 0.01)
            #expect(
                !(try await store.takeCircuitProbe(subscriptionID: subscription.id, until: now.addingTimeInterval(60))),
                "the probe is not due yet")

            // The pause ends (as a failed probe's schedule would have it).
            try await store.scheduleCircuitProbe(
                subscriptionID: subscription.id, probeAt: Date().addingTimeInterval(-0.01))
            let candidates = try await store.claimDueJobs(limit: 10, leaseFor: .seconds(60))
            #expect(candidates.count == 2 && candidates.allSatisfy { $0.circuitOpenedAt != nil })
            let probeLease = Date().addingTimeInterval(60)
            #expect(try await store.takeCircuitProbe(subscriptionID: subscription.id, until: probeLease))
            #expect(
                !(try await store.takeCircuitProbe(subscriptionID: subscription.id, until: probeLease)),
                "one probe at a time")
            let probe = candidates[0]
            try await store.releaseLeases(of: [candidates[1]])
            #expect(
                try await store.claimDueJobs(limit: 10, leaseFor: .seconds(60)).isEmpty,
                "the others wait while the probe is out")

            // A failed probe keeps it open; a later successful one closes it and the waiting attempt is due again.
            try await store.scheduleCircuitProbe(
                subscriptionID: subscription.id, probeAt: Date().addingTimeInterval(30))
            #expect(try await store.subscription(id: subscription.id)?.circuit.name(at: Date()) == "open")
            #expect(try await store.queueStatistics(now: Date()).circuitOpenSubscriptions == 1)
            #expect(try await store.closeCircuit(subscriptionID: subscription.id))
            #expect(!(try await store.closeCircuit(subscriptionID: subscription.id)))
            #expect(try await store.subscription(id: subscription.id)?.circuit == CircuitState())
            let resumed = try await store.claimDueJobs(limit: 10, leaseFor: .seconds(60))
            #expect(resumed.count == 1 && resumed.first?.circuitOpenedAt == nil)
            #expect(resumed.first?.attemptID == candidates[1].attemptID && probe.attemptID != candidates[1].attemptID)

            // Disabling (or enabling) closes it; so does a new target URL.
            #expect(try await store.openCircuit(subscriptionID: subscription.id, at: Date(), probeAt: probeAt))
            let disabled = try await store.setSubscriptionEnabled(
                id: subscription.id, applicationID: application.id, isEnabled: false, reason: "gone",
                onlyIfChanged: true)
            #expect(disabled?.circuit == CircuitState() && disabled?.disabledReason == "gone")
            #expect(
                try await store.setSubscriptionEnabled(
                    id: subscription.id, applicationID: application.id, isEnabled: false, reason: "gone again",
                    onlyIfChanged: true) == nil, "a second disabling learns it changed nothing")
            #expect(try await store.subscription(id: subscription.id)?.disabledReason == "gone")
            _ = try await store.setSubscriptionEnabled(
                id: subscription.id, applicationID: application.id, isEnabled: true)
            #expect(try await store.openCircuit(subscriptionID: subscription.id, at: Date(), probeAt: probeAt))
            var draft = Fixtures.draft(
                applicationID: application.id, url: "http://a.test/hook", headers: ["x-custom": "1"])
            #expect(try await store.replaceSubscription(id: subscription.id, with: draft)?.circuit.openedAt != nil)
            draft.target.url = "http://moved.test/hook"
            #expect(try await store.replaceSubscription(id: subscription.id, with: draft)?.circuit == CircuitState())
        }
    }

    @Test(arguments: StoreBackend.available)
    func anOrderedSubscriptionSendsOnlyTheHeadOfItsQueue(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let (application, plain) = try await prepare(store, events: 0)
            var draft = Fixtures.draft(applicationID: application.id, url: "http://ordered.test/hook")
            draft.ordered = true
            let ordered = try await store.createSubscription(draft, secret: UUID())
            #expect(try await store.subscription(id: ordered.id)?.isOrdered == true)
            var events: [Event] = []
            for _ in 0..<3 { events.append(try await store.ingest(Fixtures.event(applicationID: application.id))) }

            // The plain subscription's three attempts and the ordered one's first only.
            let first = try await store.claimDueJobs(limit: 10, leaseFor: .seconds(60))
            #expect(first.filter { $0.subscriptionID == plain.id }.count == 3)
            let head = try #require(first.filter { $0.subscriptionID == ordered.id }.first)
            #expect(first.filter { $0.subscriptionID == ordered.id }.count == 1 && head.eventID == events[0].id)
            #expect(head.isOrdered && !first.contains { $0.subscriptionID == plain.id && $0.isOrdered })
            #expect(try await store.claimDueJobs(limit: 10, leaseFor: .seconds(60)).isEmpty, "the head is in flight")
            let next = try #require(try await store.nextDueDate())
            #expect(next.timeIntervalSinceNow > 30, "nothing else is due while the head is out")

            // It fails and is retried: the retry, of the same event, is the head; the next event still waits.
            let failed = AttemptObservation.answered(
                status: 500, headers: [:], body: [], truncated: false, elapsedMilliseconds: 1, retryAfterSeconds: nil)
            let retryAt = Date().addingTimeInterval(2)
            #expect(try await store.recordOutcome(failed, for: head, retryAt: retryAt))
            #expect(try await store.claimDueJobs(limit: 10, leaseFor: .seconds(60)).isEmpty)
            let retryDue = try #require(try await store.nextDueDate())
            #expect(abs(retryDue.timeIntervalSince(retryAt)) < 0.01, "the retry is the next due, not the next event")
            try await Task.sleep(for: .seconds(max(0, retryAt.timeIntervalSinceNow) + 0.1))
            let retry = try #require(try await store.claimDueJobs(limit: 10, leaseFor: .seconds(60)).first)
            #expect(retry.eventID == events[0].id && retry.retryCount == 1)

            // It succeeds: the second event is next, then (after it gives up) the third.
            let delivered = AttemptObservation.answered(
                status: 200, headers: [:], body: [], truncated: false, elapsedMilliseconds: 1, retryAfterSeconds: nil)
            let announced = store.workSignal.generation
            #expect(try await store.recordOutcome(delivered, for: retry, retryAt: nil))
            // Its successor became claimable: that is announced as new work (a worker waiting with nothing else
            // due would otherwise sleep through it), on PostgreSQL through a notification to every process.
            let deadline = ContinuousClock.now + .seconds(10)
            while store.workSignal.generation == announced, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(store.workSignal.generation > announced, "a finished ordered attempt announces work")
            let second = try await store.claimDueJobs(limit: 10, leaseFor: .seconds(60))
            #expect(second.map(\.eventID) == [events[1].id])
            #expect(try await store.recordOutcome(failed, for: second[0], retryAt: nil))
            let third = try await store.claimDueJobs(limit: 10, leaseFor: .seconds(60))
            #expect(third.map(\.eventID) == [events[2].id])

            // A replace without the field keeps the order; `false` ends it.
            draft.ordered = nil
            #expect(try await store.replaceSubscription(id: ordered.id, with: draft)?.isOrdered == true)
            draft.ordered = false
            #expect(try await store.replaceSubscription(id: ordered.id, with: draft)?.isOrdered == false)
        }
    }
}
