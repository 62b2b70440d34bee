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

    /// Why an event does not go to a subscription.
    public enum Miss: Sendable, Equatable {
        /// The subscription is disabled.
        case disabled
        /// The subscription does not list the event's type.
        case eventTypeNotSubscribed
        /// The subscription asks for a label the event does not carry.
        case labelMissing(key: String)
        /// The event carries the label with another value.
        case labelDiffers(key: String, wanted: String, found: String)
    }

    /// Whether an event of `eventType` carrying `eventLabels` goes to `candidate`.
    public static func delivers(eventType: String, eventLabels: [String: String], to candidate: Candidate) -> Bool {
        candidate.isEnabled && candidate.eventTypes.contains(eventType)
            && LabelMatcher.contains(eventLabels, all: candidate.labels)
    }

    /// Every reason an event of `eventType` carrying `eventLabels` does not go to `candidate`, labels by key; empty
    /// exactly when `delivers` is true.
    public static func misses(eventType: String, eventLabels: [String: String], for candidate: Candidate) -> [Miss] {
        var misses: [Miss] = []
        if !candidate.isEnabled { misses.append(.disabled) }
        if !candidate.eventTypes.contains(eventType) { misses.append(.eventTypeNotSubscribed) }
        for (key, wanted) in candidate.labels.sorted(by: { $0.key < $1.key }) {
            guard let found = eventLabels[key] else {
                misses.append(.labelMissing(key: key))
                continue
            }
            if found != wanted { misses.append(.labelDiffers(key: key, wanted: wanted, found: found)) }
        }
        return misses
    }

    /// The ids of the candidates an event of `eventType` carrying `eventLabels` goes to, in the candidates' order.
    public static func recipients(eventType: String, eventLabels: [String: String], among candidates: [Candidate])
        -> [UUID]
    {
        candidates.filter { delivers(eventType: eventType, eventLabels: eventLabels, to: $0) }.map(\.id)
    }
}
