import FerryCore
import Foundation

/// Settings of the delivery worker; every field has the documented default.
public struct DeliveryConfiguration: Sendable {
    /// Deliveries in flight at once in this process.
    public var concurrency: Int = 64
    /// Jobs claimed per database round trip.
    public var claimBatchSize: Int = 64
    /// While deliveries are in flight, the worker claims again only once this many slots are free, so a busy
    /// worker claims in batches rather than one job per finished delivery. An idle worker claims at once.
    public var claimWhenFree: Int {
        max(1, min(concurrency, claimBatchSize) / 4)
    }
    /// How long a claimed job stays ours before another worker may take it (must exceed the total timeout).
    public var lease: Duration = .seconds(60)
    /// Time allowed to open a connection.
    public var connectTimeout: Duration = .seconds(5)
    /// Time allowed for the whole attempt: resolving, connecting, sending and reading the answer.
    public var totalTimeout: Duration = .seconds(15)
    /// Time allowed to resolve the target's host name.
    public var dnsTimeout: Duration = .seconds(5)
    /// Longest response body stored; the rest is dropped and the response marked truncated.
    public var responseBodyLimit: Int = 64 * 1024
    /// When to retry.
    public var retryPolicy = RetryPolicy()
    /// When a subscription whose every attempt fails is disabled.
    public var failingRule = FailingSubscriptionRule()
    /// When a subscription's circuit opens and is probed again.
    public var circuitPolicy = CircuitBreakerPolicy()
    /// How many deliveries one application may have in flight in this process: every slot but the
    /// `claimWhenFree` a busy worker claims for (a quarter of the default 64), so those always serve other
    /// applications. It also caps each endpoint's adaptive limit (`AdaptiveConcurrencyLimit`).
    public var applicationConcurrency: Int {
        max(1, concurrency - claimWhenFree)
    }
    /// Address blocks exempt from the target guard.
    public var allowedTargetNetworks: [CIDR] = []
    /// Address blocks exempt from the target guard for one application each.
    public var allowedTargetNetworksByApplication: [UUID: [CIDR]] = [:]
    /// Refuse plain `http://` targets.
    public var httpsOnly = false
    /// Which `X-Hook0-Signature` versions to emit.
    public var signatureVersions: Set<Hook0Signature.Version> = [.v1]
    /// Longest idle wait between checks for due work when nothing signals (a safety net, not the wake-up path).
    public var maxIdleWait: Duration = .seconds(5)

    public init() {}

    /// The target checks these settings ask for.
    public var targetPolicy: TargetPolicy {
        TargetPolicy(
            allowedNetworks: allowedTargetNetworks, allowedNetworksByApplication: allowedTargetNetworksByApplication,
            httpsOnly: httpsOnly)
    }
}
