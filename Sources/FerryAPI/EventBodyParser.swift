import FerryCore
import Foundation

/// Reads the body of `POST /event` (and of `POST /event/batch`) straight from its bytes, without building
/// `JSONDecoder`'s containers, for the bodies producers send: a strict subset of what `JSONDecoder` accepts.
/// Anything else (malformed JSON, a missing field, a wrong type, a key given twice, nesting deeper than
/// `JSONScanner.maxDepth`) gives nil, and the caller decodes with `JSONDecoder`, so every error keeps its message and a
/// body this parser reads is read exactly as `JSONDecoder` reads it (`EventBodyParserTests` checks both).
enum EventBodyParser {
    /// The event of a `POST /event` body, or nil when `JSONDecoder` must decide.
    static func event(_ bytes: [UInt8]) -> EventBody? {
        var scanner = JSONScanner(bytes)
        guard let body = scanner.eventBody(), scanner.isAtEnd else { return nil }
        return body
    }

    /// The events of a `POST /event/batch` body, or nil when `JSONDecoder` must decide (also when one event is
    /// malformed: its problem is `JSONDecoder`'s to word).
    static func batch(_ bytes: [UInt8]) -> EventBatchBody? {
        var scanner = JSONScanner(bytes)
        var events: [EventBatchBody.Item]?
        let read = scanner.members { scanner, key in
            guard key == "events" else { return scanner.skipValue(depth: 0) }
            guard events == nil, scanner.consume(UInt8(ascii: "[")) else { return false }
            var items: [EventBatchBody.Item] = []
            if !scanner.consume(UInt8(ascii: "]")) {
                repeat {
                    guard let body = scanner.eventBody() else { return false }
                    items.append(EventBatchBody.Item(body: .success(body)))
                } while scanner.consume(UInt8(ascii: ","))
                guard scanner.consume(UInt8(ascii: "]")) else { return false }
            }
            events = items
            return true
        }
        guard read, scanner.isAtEnd, let events else { return nil }
        return EventBatchBody(events: events)
    }
}

extension JSONScanner {
    /// One event object, with the fields `EventBody` decodes; nil for anything `JSONDecoder` must judge.
    mutating func eventBody() -> EventBody? {
        var applicationID: UUID?
        var eventID: UUID?
        var eventType: String?
        var payload: String?
        var payloadContentType: String?
        var labels: [String: String]?
        var metadata: [String: String]?
        var occurredAt: Date?
        var seen = Set<String>()
        let read = members { scanner, key in
            switch key {
            case "application_id", "event_id", "event_type", "payload", "payload_content_type", "labels",
                "metadata", "occurred_at":
                guard seen.insert(key).inserted else { return false }
            default:
                return scanner.skipValue(depth: 0)
            }
            switch key {
            case "application_id":
                applicationID = scanner.string().flatMap(UUID.init(hyphenated:))
                return applicationID != nil
            case "event_id":
                if scanner.consumeLiteral("null") { return true }
                eventID = scanner.string().flatMap(UUID.init(hyphenated:))
                return eventID != nil
            case "event_type":
                eventType = scanner.string()
                return eventType != nil
            case "payload":
                payload = scanner.string()
                return payload != nil
            case "payload_content_type":
                payloadContentType = scanner.string()
                return payloadContentType != nil
            case "labels":
                labels = scanner.stringMap()
                return labels != nil
            case "metadata":
                if scanner.consumeLiteral("null") { return true }
                metadata = scanner.stringMap()
                return metadata != nil
            default:
                occurredAt = scanner.string().flatMap(Timestamp.parse)
                return occurredAt != nil
            }
        }
        guard read, let applicationID, let eventType, let payload, let payloadContentType, let labels, let occurredAt
        else { return nil }
        return EventBody(
            applicationID: StrictUUID(applicationID), eventID: eventID.map(StrictUUID.init), eventType: eventType,
            payload: payload, payloadContentType: payloadContentType, labels: labels, metadata: metadata,
            occurredAt: RFC3339Date(occurredAt))
    }
}
