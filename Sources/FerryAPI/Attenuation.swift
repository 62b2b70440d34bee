import Biscuit
import FerryCore
import FerryIdentity
import FerryStorage
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

/// What an attenuation restricts a token to: one application, an expiry, an action allow-list (a preset and/or
/// action names), and free Datalog checks. At least one is needed.
public struct AttenuationRestrictions: Sendable {
    public var applicationID: UUID?
    public var expiresAt: Date?
    /// `read_only` or `ingest_only`.
    public var preset: String?
    public var actions: [String]?
    public var datalog: String?

    public init(
        applicationID: UUID? = nil, expiresAt: Date? = nil, preset: String? = nil, actions: [String]? = nil,
        datalog: String? = nil
    ) {
        self.applicationID = applicationID
        self.expiresAt = expiresAt
        self.preset = preset
        self.actions = actions
        self.datalog = datalog
    }

    /// The presets' names.
    public static var presets: [String] { Attenuation.presets.keys.sorted() }
}

/// A token made narrower by one more block.
public struct AttenuatedToken: Sendable {
    /// Its bearer value.
    public var bearer: String
    /// The appended block's Datalog.
    public var block: String
    /// The Datalog of every block, the authority block first.
    public var blocks: [String]
    public var revocationIDs: [String]
}

/// Ferry's server-side attenuation: appends one block of checks to a service token's bearer value (which the client
/// sends, since only a hash of it is stored) and answers the new token. The same block appended offline with
/// biscuit-python gives the same rights. A token that is not of the stored service token, or a restriction that
/// cannot be built, is a validation error naming the field.
public struct ServiceTokenAttenuator<Store: TenantStore>: Sendable {
    let store: Store
    let tokens: VerifiedTokens

    init(store: Store, tokens: VerifiedTokens) {
        self.store = store
        self.tokens = tokens
    }

    /// An attenuator for tokens signed by `configuration`'s root key.
    public init(store: Store, configuration: APIConfiguration) {
        self.init(store: store, tokens: VerifiedTokens(rootKey: configuration.tokenIssuer.rootKey.publicKey))
    }

    /// `bearer`, a token of `serviceToken` (itself or one attenuated from it), with one more block of checks.
    public func attenuate(_ bearer: String, of serviceToken: ServiceToken, with restrictions: AttenuationRestrictions)
        async throws -> AttenuatedToken
    {
        var errors = ValidationErrors()
        guard let token = tokens.verified(bearer), let root = token.revocationIDs.first,
            let holder = try await store.liveServiceToken(
                tokenHash: ServiceTokenIssuance.lookupHash(rootRevocationID: root)),
            holder.id == serviceToken.id
        else {
            errors.add(
                "biscuit", ValidationIssue(code: "not_this_token", message: "is not a token of this service token"))
            throw DomainError.validation(errors)
        }
        let block: Attenuation.Block
        switch Attenuation.block(
            application: restrictions.applicationID, expiresAt: restrictions.expiresAt, preset: restrictions.preset,
            actions: restrictions.actions, datalog: restrictions.datalog)
        {
        case .success(let built): block = built
        case .failure(let failure):
            errors.add(failure.field, ValidationIssue(code: failure.code, message: failure.message))
            throw DomainError.validation(errors)
        }
        let attenuated: Biscuit
        do {
            attenuated = try token.appending(source: block.source, parameters: block.parameters)
        } catch {
            errors.add("datalog", ValidationIssue(code: "datalog", message: "\(error)"))
            throw DomainError.validation(errors)
        }
        return AttenuatedToken(
            bearer: try attenuated.base64(), block: block.source,
            blocks: attenuated.revocationIDs.indices.map { attenuated.blockSource($0) ?? "" },
            revocationIDs: attenuated.revocationIDs)
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
