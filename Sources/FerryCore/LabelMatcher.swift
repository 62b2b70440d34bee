/// Label routing: a subscription receives an event only if every one of its labels is on the event with the same value.
public enum LabelMatcher {
    /// True when `eventLabels` contains every key of `required` with an equal value (extra event labels are fine).
    public static func contains(_ eventLabels: [String: String], all required: [String: String]) -> Bool {
        required.allSatisfy { key, value in eventLabels[key] == value }
    }
}
