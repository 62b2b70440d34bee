import FerryObservability
import FerryStorage
import Foundation
import Logging
import ServiceLifecycle

/// Deletes events past their retention, with their attempts and responses, then gives the space back. Runs in
/// every process that delivers (`ferry serve`, `ferry worker`): at start-up and then every `interval`. It deletes
/// in small batches, each its own short transaction, so ingest never waits long behind it.
struct RetentionService<Store: FerryStore>: Service {
    let store: Store
    let defaultRetentionDays: Int
    let interval: Duration
    let batchSize: Int
    let metrics: FerryMetrics
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await sweep()
                await CancellableSleep.sleep(for: interval)
            }
        }
    }

    /// One pass: batches until none is full, then reclaims the space if anything went.
    func sweep() async {
        var deleted = 0
        do {
            while !Task.isCancelled {
                let count = try await store.deleteExpiredEvents(
                    defaultRetentionDays: defaultRetentionDays, now: Date(), limit: batchSize)
                deleted += count
                metrics.eventsExpired(count)
                if count < batchSize { break }
                await Task.yield()
            }
            if deleted > 0 {
                try await store.reclaimSpace()
                logger.info("expired events deleted", metadata: ["events": "\(deleted)"])
            }
        } catch {
            logger.warning(
                "deleting expired events failed", metadata: ["error": "\(error)", "events_deleted": "\(deleted)"])
        }
    }
}
