import FerryCore
import FerryStorage
import Foundation
import Testing

@testable import FerryDelivery

/// The worker's fair shares: per subscription, per target host and per application, and the claims they exclude.
@Suite struct FairSchedulerTests {
    private func job(subscription: UUID, application: UUID, url: String) -> DeliveryJob {
        DeliveryJob(
            attemptID: UUID(), claimToken: UUID(), applicationID: application, eventID: UUID(), eventType: "a.b.c",
            payload: [], payloadContentType: "application/json", subscriptionID: subscription, secret: UUID(),
            target: HTTPTarget(method: "POST", url: url, headers: [:]), retryCount: 0)
    }

    @Test func aSubscriptionGetsItsLimitAndIsThenExcluded() {
        let scheduler = FairScheduler(endpointMaximum: 48, applicationLimit: 48)
        let subscription = UUID()
        let application = UUID()
        let jobs = (0..<6).map { _ in job(subscription: subscription, application: application, url: "http://a.test/x")
        }
        let admitted = jobs.filter(scheduler.admit)
        #expect(admitted.count == AdaptiveConcurrencyLimit.defaultInitial)
        #expect(scheduler.exclusions() == ClaimExclusions(subscriptionIDs: [subscription]))
        // A timeout halves the limit: with three still in flight, a freed slot is not enough.
        scheduler.finish(admitted[0], signal: .overloaded)
        #expect(!scheduler.admit(jobs[4]))
        for job in admitted.dropFirst() { scheduler.finish(job, signal: .overloaded) }
        #expect(scheduler.exclusions().isEmpty)
        #expect(scheduler.admit(jobs[4]))
        #expect(!scheduler.admit(jobs[5]), "after four overloads the limit is one")
    }

    @Test func aHostSharedBySubscriptionsKeepsFourSlotsAndExcludesItsKnownSubscriptions() {
        let scheduler = FairScheduler(endpointMaximum: 48, applicationLimit: 48)
        let application = UUID()
        let subscriptions = (0..<8).map { _ in UUID() }
        var admitted = subscriptions.map { job(subscription: $0, application: application, url: "http://h.test:81/p") }
            .filter(scheduler.admit)
        #expect(admitted.count == 8, "a new host starts at the maximum")
        for job in admitted { scheduler.finish(job, signal: .overloaded) }
        admitted = subscriptions.map { job(subscription: $0, application: application, url: "HTTP://H.test:81/q") }
            .filter(scheduler.admit)
        #expect(admitted.count == 4, "the host's limit dropped to its floor of four")
        #expect(Set(scheduler.exclusions().subscriptionIDs) == Set(subscriptions))
        let elsewhere = job(subscription: subscriptions[7], application: application, url: "http://h.test:82/p")
        #expect(scheduler.admit(elsewhere), "another port is another host")
    }

    /// What a claim may still find after a short one: only the excluded keys' work, as much as their rooms allow,
    /// a subscription's room capped by its application's and, together, by its host's.
    @Test func theHeadroomOfExcludedKeysBoundsWhatCanBeAdmitted() {
        let scheduler = FairScheduler(endpointMaximum: 48, applicationLimit: 6)
        let busy = UUID()
        let busyJobs = jobsOnOwnHosts(of: busy, count: 6)
        #expect(busyJobs.filter(scheduler.admit).count == 6)
        var exclusions = scheduler.exclusions()
        #expect(exclusions.applicationIDs == [busy])
        #expect(scheduler.headroom(within: exclusions) == 0, "the application is at its share")
        scheduler.finish(busyJobs[0], signal: .healthy)
        #expect(scheduler.headroom(within: exclusions) == 1)

        // Four subscriptions of another application on one host held at its floor of four: together they have the
        // host's room, not four each.
        let other = UUID()
        let subscriptions = (0..<4).map { _ in UUID() }
        let first = subscriptions.map { job(subscription: $0, application: other, url: "http://h.test/") }
        #expect(first.filter(scheduler.admit).count == 4)
        for job in first { scheduler.finish(job, signal: .overloaded) }
        let second =
            subscriptions.map { job(subscription: $0, application: other, url: "http://h.test/") }
            + subscriptions.map { job(subscription: $0, application: other, url: "http://h.test/") }
        let held = second.filter(scheduler.admit)
        #expect(held.count == 4)
        exclusions = scheduler.exclusions()
        #expect(Set(exclusions.subscriptionIDs).isSuperset(of: subscriptions))
        #expect(!exclusions.applicationIDs.contains(busy), "the busy application has a free slot again")
        #expect(scheduler.headroom(within: exclusions) == 0, "the host is full, whatever each subscription's room")
        scheduler.finish(held[0], signal: .healthy)
        #expect(scheduler.headroom(within: exclusions) == 1, "one slot of the host came free")
        #expect(scheduler.headroom(within: ClaimExclusions()) == 0)
    }

    /// `count` jobs of `application`, each to a subscription and a host of its own (`http://t<index>.test/`).
    private func jobsOnOwnHosts(of application: UUID, count: Int) -> [DeliveryJob] {
        (0..<count).map { index in job(subscription: UUID(), application: application, url: "http://t\(index).test/") }
    }

    @Test func anApplicationGetsItsShareAndOthersTheRest() {
        let scheduler = FairScheduler(endpointMaximum: 6, applicationLimit: 6)
        let busy = UUID()
        let jobs = jobsOnOwnHosts(of: busy, count: 8)
        #expect(jobs.filter(scheduler.admit).count == 6)
        #expect(scheduler.exclusions().applicationIDs == [busy])
        #expect(scheduler.admit(job(subscription: UUID(), application: UUID(), url: "http://t0.test/")))
    }

    @Test func hostsAreKeyedBySchemeHostAndPort() {
        #expect(FairScheduler.hostKey("https://Example.com/a?b") == "https://example.com:443")
        #expect(FairScheduler.hostKey("http://example.com:8080/") == "http://example.com:8080")
        #expect(FairScheduler.hostKey("http://[::1]/x") == "http://[::1]:80")
    }
}
