import FerryCore
import FerryStorage
import Foundation
import Logging
import Synchronization

/// Where Ferry's operational events (`OperationalEvent`) go: the worker, the relay and the API emit through it.
public protocol OperationalEventSink: Sendable {
    /// Ingests `event` into the operational application of the organization owning its source application, if
    /// the organization chose one. Never throws: an event that cannot be stored is logged and dropped (they
    /// report on delivery; they must not hold it up).
    func emit(_ event: OperationalEvent) async
}

/// Emits operational events into a store: looks up the source application's organization's choice (remembered
/// for 30 seconds per application, so a new choice takes effect within that), and ingests the event there as any event, so ordinary subscriptions of that
/// application receive it. Events about the operational application itself are not emitted: a failing
/// subscription there would otherwise feed itself a new event per failure.
public final class StoreOperationalEvents<Store: EventStore & TenantStore>: OperationalEventSink {
    private static var memoLifetime: Duration { .seconds(30) }

    private let store: Store
    private let logger: Logger
    private let targets = Mutex<[UUID: (target: UUID?, until: ContinuousClock.Instant)]>([:])

    public init(store: Store, logger: Logger) {
        self.store = store
        self.logger = logger
    }

    public func emit(_ event: OperationalEvent) async {
        var metadata: Logger.Metadata = [
            "type": "\(event.kind.rawValue)", "application_id": "\(event.sourceApplicationID.lowercased)",
        ]
        do {
            guard let target = try await target(of: event.sourceApplicationID),
                target != event.sourceApplicationID
            else { return }
            let stored = try await store.ingest(event.event(in: target))
            metadata["event_id"] = "\(stored.id.lowercased)"
            logger.info("operational event emitted", metadata: metadata)
        } catch {
            metadata["error"] = "\(error)"
            logger.warning("operational event dropped", metadata: metadata)
        }
    }

    private func target(of application: UUID) async throws -> UUID? {
        let now = ContinuousClock.now
        if let known = targets.withLock({ $0[application] }), known.until > now { return known.target }
        let target = try await store.operationalApplication(forApplication: application)
        targets.withLock { memo in
            if memo.count > 10_000 { memo.removeAll() }
            memo[application] = (target, now + Self.memoLifetime)
        }
        return target
    }
}
