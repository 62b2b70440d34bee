import FerryCore
import FerryStorage
import Foundation

/// Fills a store with pending deliveries quickly (in process, many concurrent ingests sharing commits), to
/// measure how delivery speed depends on the size of the backlog.
public enum BacklogSeeder {
    /// Ingests `count` events of `eventType` with `labels` for `applicationID`; returns how long it took.
    public static func seed(
        store: some FerryStore, applicationID: UUID, eventType: String, labels: [String: String], count: Int,
        concurrency: Int = 256
    ) async throws -> Duration {
        let clock = ContinuousClock()
        let started = clock.now
        let payload = Array(#"{"seeded":true}"#.utf8)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for lane in 0..<concurrency {
                group.addTask {
                    var index = lane
                    while index < count {
                        let now = Date()
                        _ = try await store.ingest(
                            Event(
                                id: UUIDv7.make(at: now), applicationID: applicationID, eventType: eventType,
                                payload: payload, payloadContentType: .json, ip: nil, metadata: [:], labels: labels,
                                occurredAt: now, receivedAt: now))
                        index += concurrency
                    }
                }
            }
            try await group.waitForAll()
        }
        return clock.now - started
    }
}
