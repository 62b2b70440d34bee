import Foundation

/// Which subscriptions an event is delivered to (decision D5), defined once: a subscription receives an event when
/// it is enabled, listens to the event's type, and every one of its labels is on the event with the same value
/// (extra event labels are fine). Deleted subscriptions are not candidates at all. The backends select candidates in
/// SQL and apply this rule; PostgreSQL's one-statement ingest (`IngestEventsQuery`) writes the same rule as SQL, and
/// `FanOutTableTests` holds every path to this definition.
public enum FanOutRule {
    /// A subscription as the fan-out sees it.
    public struct Candidate: Sendable, Equatable {
        public var id: UUID
        public var isEnabled: Bool
        public var eventTypes: [String]
        public var labels: [String: String]

        public init(id: UUID, isEnabled: Bool, eventTypes: [String], labels: [String: String]) {
            self.id = id
            self.isEnabled = isEnabled
            self.eventTypes = eventTypes
            self.labels = labels
        }
    }

    /// Whether an event of `eventType` carrying `eventLabels` goes to `candidate`.
    public static func delivers(eventType: String, eventLabels: [String: String], to candidate: Candidate) -> Bool {
        candidate.isEnabled && candidate.eventTypes.contains(eventType)
            && LabelMatcher.contains(eventLabels, all: candidate.labels)
    }

    /// The ids of the candidates an event of `eventType` carrying `eventLabels` goes to, in the candidates' order.
    public static func recipients(eventType: String, eventLabels: [String: String], among candidates: [Candidate])
        -> [UUID]
    {
        candidates.filter { delivers(eventType: eventType, eventLabels: eventLabels, to: $0) }.map(\.id)
    }
}
