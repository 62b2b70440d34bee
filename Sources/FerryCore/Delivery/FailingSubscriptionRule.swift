import Foundation

/// When Ferry gives up on a subscription: every attempt to it has failed for `span` (Svix disables an endpoint
/// after five days of failures), counted from the first failure after its last success. A success, or enabling
/// the subscription again, starts the count over.
public struct FailingSubscriptionRule: Sendable, Equatable {
    /// Five days, as Svix.
    public static let defaultSpan: Duration = .seconds(5 * 86_400)

    /// How long a subscription may fail before it is disabled; nil: never.
    public var span: Duration?

    public init(span: Duration? = FailingSubscriptionRule.defaultSpan) {
        self.span = span
    }

    /// The disabling reason once a subscription failing since `failingSince` has failed long enough at `now`.
    public func disablingReason(failingSince: Date, now: Date) -> String? {
        guard let span else { return nil }
        let seconds = span.timeInterval
        guard now.timeIntervalSince(failingSince) >= seconds else { return nil }
        return "every attempt failed for \(DurationText.format(seconds)) (since \(Timestamp.format(failingSince)))"
    }
}
