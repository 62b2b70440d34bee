import FerryCore
import Foundation

/// What checking an event's payload against its event type's JSON Schema costs at ingest (`PayloadSchema.check`:
/// parsing the payload and validating it against the compiled schema), for a typical invoice schema and payload,
/// and for the same schema with `unevaluatedProperties` and a `$ref`, which collect annotations.
public struct SchemaCost: Codable, Sendable, Equatable {
    /// Microseconds per check of the plain schema, median of the rounds.
    public var plainMicroseconds: Double
    /// Microseconds per check of the schema using `$ref` and `unevaluatedProperties`.
    public var annotatingMicroseconds: Double
    /// Microseconds to compile the plain schema (done once per type and process, every 5 seconds at most).
    public var compileMicroseconds: Double
    /// Bytes of the payload checked.
    public var payloadBytes: Int
    public var checksPerRound: Int
}

/// Runs `PayloadSchema` in a loop on the calling thread, outside any server.
public enum SchemaBench {
    static let plain = #"""
        {"type": "object", "required": ["invoice_id", "amount", "currency", "lines"],
         "properties": {
           "invoice_id": {"type": "string", "pattern": "^inv_[0-9a-z]{8,}$"},
           "amount": {"type": "integer", "minimum": 0},
           "currency": {"enum": ["EUR", "USD", "GBP"]},
           "customer": {"type": "object", "properties": {"email": {"type": "string", "format": "email"},
                                                        "name": {"type": "string", "maxLength": 200}}},
           "lines": {"type": "array", "minItems": 1, "maxItems": 100,
                     "items": {"type": "object", "required": ["sku", "quantity"],
                               "properties": {"sku": {"type": "string"}, "quantity": {"type": "integer", "minimum": 1},
                                              "unit_price": {"type": "number"}}}}},
         "additionalProperties": false}
        """#
    static let annotating = #"""
        {"$defs": {"line": {"type": "object", "required": ["sku", "quantity"],
                            "properties": {"sku": {"type": "string"}, "quantity": {"type": "integer", "minimum": 1}}}},
         "type": "object", "required": ["invoice_id", "amount", "currency", "lines"],
         "allOf": [{"properties": {"invoice_id": {"type": "string", "pattern": "^inv_[0-9a-z]{8,}$"},
                                   "amount": {"type": "integer", "minimum": 0}}}],
         "properties": {"currency": {"enum": ["EUR", "USD", "GBP"]}, "customer": {"type": "object"},
                        "lines": {"type": "array", "items": {"$ref": "#/$defs/line", "unevaluatedProperties": true}}},
         "unevaluatedProperties": false}
        """#
    static let payload = #"""
        {"invoice_id": "inv_20261207abc", "amount": 4200, "currency": "EUR",
         "customer": {"email": "billing@example.com", "name": "Example Ltd"},
         "lines": [{"sku": "plan-pro", "quantity": 1, "unit_price": 39.0}, {"sku": "seat", "quantity": 3, "unit_price": 1.0}]}
        """#

    /// The cost of each check, median over `rounds` rounds of `checks` each. Fails when the payload does not
    /// conform, so a broken validator cannot report a fast time.
    public static func measure(rounds: Int = 5, checks: Int = 20_000) throws -> SchemaCost {
        let event = Event(
            id: UUID(), applicationID: UUID(), eventType: "billing.invoice.paid", payload: Array(payload.utf8),
            payloadContentType: .json, ip: nil, metadata: [:], labels: [:], occurredAt: Date(), receivedAt: Date())
        let compileClock = ContinuousClock()
        var compiled: PayloadSchema?
        let compileTime = try compileClock.measure {
            for _ in 0..<100 { compiled = try PayloadSchema(storedText: plain) }
        }
        guard let plainSchema = compiled else { throw SchemaBenchFailure(description: "no schema compiled") }
        let annotatingSchema = try PayloadSchema(storedText: annotating)
        return SchemaCost(
            plainMicroseconds: try cost(rounds, checks) { try plainSchema.check(event) },
            annotatingMicroseconds: try cost(rounds, checks) { try annotatingSchema.check(event) },
            compileMicroseconds: microseconds(compileTime) / 100, payloadBytes: event.payload.count,
            checksPerRound: checks)
    }

    private static func cost(_ rounds: Int, _ checks: Int, _ check: () throws -> Void) throws -> Double {
        var perRound: [Double] = []
        for _ in 0..<max(1, rounds) {
            let elapsed = try ContinuousClock().measure {
                for _ in 0..<checks { try check() }
            }
            perRound.append(microseconds(elapsed) / Double(checks))
        }
        return perRound.sorted()[perRound.count / 2]
    }

    private static func microseconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return (Double(seconds) + Double(attoseconds) / 1e18) * 1e6
    }
}

/// The benchmark's payload did not conform, or its schema did not compile.
public struct SchemaBenchFailure: Error, CustomStringConvertible {
    public let description: String
}
