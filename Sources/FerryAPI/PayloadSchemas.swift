import FerryCore
import Foundation
import Logging
import Synchronization

/// The compiled payload schemas of event types, remembered for five seconds per application and type so an ingest
/// costs no read for them; a schema set or removed through this process is forgotten at once, one set through
/// another process (several `ferry api` on PostgreSQL) reaches this one within those five seconds.
final class PayloadSchemas: Sendable {
    private struct Key: Hashable {
        let applicationID: UUID
        let eventType: String
    }

    private static var lifetime: Duration { .seconds(5) }
    private static var rememberedTypes: Int { 10_000 }
    private let load: @Sendable (UUID, String) async throws -> String?
    private let entries = Mutex<[Key: (schema: PayloadSchema?, until: ContinuousClock.Instant)]>([:])
    private let logger = Logger(label: "ferry.payload-schemas")

    /// - Parameter load: reads an event type's stored schema text (active or deactivated type).
    init(load: @escaping @Sendable (UUID, String) async throws -> String?) {
        self.load = load
    }

    /// Refuses the event when its event type has a schema its JSON payload does not conform to.
    func check(_ event: Event) async throws {
        guard event.payloadContentType == .json else { return }
        try await schema(applicationID: event.applicationID, eventType: event.eventType)?.check(event)
    }

    /// The event type's compiled schema, if it has one.
    func schema(applicationID: UUID, eventType: String) async throws -> PayloadSchema? {
        let key = Key(applicationID: applicationID, eventType: eventType)
        let now = ContinuousClock.now
        if let entry = entries.withLock({ $0[key] }), entry.until > now { return entry.schema }
        let schema = try await load(applicationID, eventType).flatMap(compile)
        entries.withLock { entries in
            if entries.count > Self.rememberedTypes { entries.removeAll() }
            entries[key] = (schema, now + Self.lifetime)
        }
        return schema
    }

    /// Forgets what is remembered of one event type (its schema was just set or removed here).
    func forget(applicationID: UUID, eventType: String) {
        _ = entries.withLock { $0.removeValue(forKey: Key(applicationID: applicationID, eventType: eventType)) }
    }

    /// A stored schema compiled; one that no longer compiles (only possible if the validator became stricter) is
    /// logged and checks nothing, rather than refusing every event of the type.
    private func compile(_ text: String) -> PayloadSchema? {
        do {
            return try PayloadSchema(storedText: text)
        } catch {
            logger.error("a stored payload schema does not compile", metadata: ["error": "\(error)"])
            return nil
        }
    }
}
