import Biscuit
import FerryCore
import FerryIdentity
import Foundation

/// `POST /service_token/{id}/attenuate`.
struct AttenuationBody: Decodable {
    var organizationID: StrictUUID
    var biscuit: String
    var applicationID: StrictUUID?
    var expiresAt: Date?
    var preset: String?
    var actions: [String]?
    var datalog: String?

    enum CodingKeys: String, CodingKey {
        case organizationID = "organization_id"
        case biscuit
        case applicationID = "application_id"
        case expiresAt = "expires_at"
        case preset, actions, datalog
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        organizationID = try container.decode(StrictUUID.self, forKey: .organizationID)
        biscuit = try container.decode(String.self, forKey: .biscuit)
        applicationID = try container.decodeIfPresent(StrictUUID.self, forKey: .applicationID)
        if let text = try container.decodeIfPresent(String.self, forKey: .expiresAt) {
            guard let date = Timestamp.parse(text) else {
                throw DecodingError.dataCorruptedError(
                    forKey: .expiresAt, in: container, debugDescription: "not an RFC 3339 date-time")
            }
            expiresAt = date
        }
        preset = try container.decodeIfPresent(String.self, forKey: .preset)
        actions = try container.decodeIfPresent([String].self, forKey: .actions)
        datalog = try container.decodeIfPresent(String.self, forKey: .datalog)
    }
}

/// `POST /service_token/{id}/denied_blocks`.
struct DenyBlockBody: Decodable {
    var organizationID: StrictUUID
    var revocationID: String

    enum CodingKeys: String, CodingKey {
        case organizationID = "organization_id"
        case revocationID = "revocation_id"
    }
}

/// The block of checks an attenuation appends, from its restrictions: one application (Hook0's dashboard check
/// `check if application_id(…)`), an expiry (`check if time($t), $t < …`), an action allow-list
/// (`check if action($a), [...].contains($a)`, Hook0's documented read-only form) given as a preset or a list,
/// and free Datalog.
enum Attenuation {
    /// The presets of the action allow-list.
    static let presets: [String: [APIAction]] = [
        "read_only": APIAction.allCases.filter(\.viewerMayPerform),
        "ingest_only": [.eventIngest],
    ]

    /// A block's source and the values its parameters stand for.
    struct Block {
        var source: String
        var parameters: [String: Term]
    }

    /// A restriction that cannot be built.
    struct Failure: Error {
        var field: String
        var code: String
        var message: String
    }

    static func block(
        application: UUID?, expiresAt: Date?, preset: String?, actions: [String]?, datalog: String?
    ) -> Result<Block, Failure> {
        var lines: [String] = []
        var parameters: [String: Term] = [:]
        if let application {
            lines.append("check if application_id({application});")
            parameters["application"] = TokenIssuer.term(application)
        }
        if let expiresAt {
            lines.append("check if time($time), $time < {expiry};")
            parameters["expiry"] = TokenIssuer.term(expiresAt)
        }
        var allowed: [APIAction]?
        if let preset {
            guard let actions = presets[preset] else {
                return .failure(Failure(field: "preset", code: "preset", message: "is one of ingest_only, read_only"))
            }
            allowed = actions
        }
        if let actions {
            var parsed: [APIAction] = []
            for name in actions {
                guard let action = APIAction(rawValue: name) else {
                    return .failure(
                        Failure(field: "actions", code: "action", message: "\(name) is not one of Hook0's actions"))
                }
                parsed.append(action)
            }
            allowed = allowed.map { preset in preset.filter(parsed.contains) } ?? parsed
        }
        if let allowed {
            lines.append("check if action($action), {actions}.contains($action);")
            parameters["actions"] = .array(allowed.map { Term.string($0.rawValue) })
        }
        if let datalog, !datalog.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            guard !datalog.contains("{") else {
                return .failure(
                    Failure(field: "datalog", code: "datalog", message: "parameters ({…}) are not accepted here"))
            }
            lines.append(datalog)
        }
        guard !lines.isEmpty else {
            return .failure(
                Failure(
                    field: "preset", code: "no_restriction",
                    message: "give at least one of application_id, expires_at, preset, actions, datalog"))
        }
        return .success(Block(source: lines.joined(separator: "\n"), parameters: parameters))
    }
}
