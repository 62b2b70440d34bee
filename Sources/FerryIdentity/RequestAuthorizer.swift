import Biscuit
import FerryCore
import Foundation

/// Who is calling, once the bearer has been read: a verified Biscuit (a person's access token or a service token,
/// attenuated or not), or one of the credentials that are not Biscuits and carry fixed rights.
public enum Caller: Sendable {
    /// A Biscuit whose signature was verified and whose root is live. For a person's token, `liveMemberships` are
    /// their memberships as stored now: the authorizer then trusts those, not the roles the token was minted with,
    /// so a member removed or demoted loses access at once and a new organization is usable without a refresh.
    /// Without them (nil), the token's own `organization_role` facts decide, as in Hook0.
    case token(Biscuit, liveMemberships: [UUID: OrganizationRole]? = nil)
    /// The master key: every organization.
    case master
    /// An application secret (Hook0's compatibility mode): a service token of its organization, held to one
    /// application.
    case applicationSecret(organizationID: UUID, applicationID: UUID)
    /// An opaque `fst_` service token issued before Ferry's tokens were Biscuits: a service token of its
    /// organization, with no attenuation.
    case legacyServiceToken(organizationID: UUID)
}

/// What one request asks to do: the action, the organization and application it targets (when it targets one),
/// and the action's own facts (Hook0's `labels`, `subscription_id`, `service_token_id`, `event_type_names`), which
/// attenuated tokens may constrain.
public struct AuthorizationRequest: Sendable {
    public var action: APIAction
    public var organizationID: UUID?
    public var applicationID: UUID?
    public var facts: [Fact]

    public init(action: APIAction, organizationID: UUID? = nil, applicationID: UUID? = nil, facts: [Fact] = []) {
        self.action = action
        self.organizationID = organizationID
        self.applicationID = applicationID
        self.facts = facts
    }

    /// `subscription_id(<id>)`.
    public static func subscriptionID(_ id: UUID) -> Fact { Fact("subscription_id", [TokenIssuer.term(id)]) }
    /// `service_token_id(<id>)`.
    public static func serviceTokenID(_ id: UUID) -> Fact { Fact("service_token_id", [TokenIssuer.term(id)]) }
    /// `labels({key: value, …})`.
    public static func labels(_ labels: [String: String]) -> Fact {
        Fact(
            "labels",
            [.map(Dictionary(uniqueKeysWithValues: labels.map { (MapKey.string($0.key), .string($0.value)) }))])
    }
    /// `event_type_names({set})`.
    public static func eventTypeNames(_ names: [String]) -> Fact {
        Fact("event_type_names", [.set(Set(names.map(Term.string)))])
    }
}

/// Who the caller turned out to be once authorized.
public enum AuthorizedCaller: Sendable, Equatable {
    /// A person, with the session their token belongs to and their role in each organization (as of the token).
    case person(userID: UUID, sessionID: UUID, memberships: [UUID: OrganizationRole])
    /// A service token (or an application secret) of an organization.
    case service(organizationID: UUID)
    /// The master key.
    case master
}

/// Why a request was not authorized.
public enum AuthorizationRefusal: Error, Equatable, Sendable {
    /// A check failed, a deny matched, or the token's type or version is not accepted: 403.
    case denied(String)
    /// The run hit its time (or fact, or iteration) limit: 503, as in Hook0.
    case overBudget
}

/// Hook0's per-request authorizer, in Datalog: the token's type and version must be accepted, it must not have
/// expired, the caller must hold a role allowed for the action in the targeted organization (members through
/// `organization_role`, service tokens through their `organization_id`, the master key everywhere), and every
/// check of every block must hold against the ambient facts (`time`, `action`, `application_id`, `allowed_role`
/// and the action's own facts). The policy is parsed once; each request adds its facts and runs it, unless the
/// same decision was already made within the same second (`AuthorizationMemo`).
public struct RequestAuthorizer: Sendable {
    /// Hook0's `MAX_AUTHORIZATION_TIME`, counted here in the authorizing thread's CPU time, so that a busy
    /// server's scheduling delays never turn into 503s while a costly block is still stopped after 30 ms of work.
    public static let defaultTimeLimit: Duration = .milliseconds(30)

    private let base: Authorizer
    private let organizationPart: BlockContent
    private let applicationSecretPart: BlockContent
    private let peopleOnlyPart: BlockContent
    private let peopleOrMasterPart: BlockContent
    private let tokenRolesPart: BlockContent
    private let mailTokenBase: Authorizer
    private let refreshBase: Authorizer
    private let memo: AuthorizationMemo?

    /// An authorizer whose runs stop after `timeLimit` of thread CPU time. With `remembersDecisions` (the
    /// default), a decision is reused for identical requests within the same second: it is exactly what the run
    /// would give, since every input, the `time` fact included, is the same.
    public init(timeLimit: Duration = Self.defaultTimeLimit, remembersDecisions: Bool = true) {
        memo = remembersDecisions ? AuthorizationMemo() : nil
        let limits = RunLimits(maxFacts: 1000, maxIterations: 100, maxTime: timeLimit, timeSource: .threadCPU)
        func parsed(_ source: String) -> Authorizer {
            do {
                return try Authorizer(source, limits: limits)
            } catch {
                preconditionFailure("Ferry's own authorizer policy does not parse: \(error)")
            }
        }
        base = parsed(Self.policy)
        organizationPart = parsed(Self.organizationPolicy).content
        // An application secret acts in its own application only (the application arrives as a fact).
        applicationSecretPart = parsed("check if application_id($app), secret_application($app);").content
        peopleOnlyPart = parsed("check if type(\"user_access\");").content
        // The master key may also create organizations (decision D12); nothing else but a person may.
        peopleOrMasterPart = parsed("check if type(\"user_access\") or type(\"master_access\");").content
        tokenRolesPart = parsed("member_role($id, $r) <- organization_role($id, $r);").content
        mailTokenBase = parsed(Self.mailTokenPolicy)
        refreshBase = parsed(Self.refreshPolicy)
    }

    /// Runs the authorizer for `request` made by `caller` at `now`, or gives the decision it made for the same
    /// request and caller within the same second.
    public func authorize(_ caller: Caller, _ request: AuthorizationRequest, at now: Date)
        -> Result<AuthorizedCaller, AuthorizationRefusal>
    {
        guard let memo else { return run(caller, request, at: now) }
        let key = AuthorizationMemo.Key(caller, request, second: Authorizer.timeFactSeconds(now))
        switch memo.decision(for: key) {
        case .allowed?: return .success(Self.identity(of: caller))
        case .denied(let reason)?: return .failure(.denied(reason))
        case nil: break
        }
        let result = run(caller, request, at: now)
        switch result {
        case .success: memo.remember(.allowed, for: key)
        case .failure(.denied(let reason)): memo.remember(.denied(reason), for: key)
        case .failure(.overBudget): break
        }
        return result
    }

    /// How many decisions are remembered now (for tests).
    var rememberedDecisions: Int { memo?.count ?? 0 }

    /// The Datalog run itself.
    private func run(_ caller: Caller, _ request: AuthorizationRequest, at now: Date)
        -> Result<AuthorizedCaller, AuthorizationRefusal>
    {
        var authorizer = base
        authorizer.setTime(now)
        authorizer.add(Fact("action", [.string(request.action.rawValue)]))
        authorizer.add(Fact("allowed_role", [.string(OrganizationRole.editor.rawValue)]))
        if request.action.viewerMayPerform {
            authorizer.add(Fact("allowed_role", [.string(OrganizationRole.viewer.rawValue)]))
        }
        if let application = request.applicationID {
            authorizer.add(Fact("application_id", [TokenIssuer.term(application)]))
        }
        for fact in request.facts { authorizer.add(fact) }
        if request.action.targetsAnOrganization {
            guard let organization = request.organizationID else {
                return .failure(.denied("\(request.action.rawValue) needs an organization"))
            }
            authorizer.content.merge(organizationPart)
            authorizer.add(Fact("target_organization", [TokenIssuer.term(organization)]))
        }
        let token: Biscuit?
        switch caller {
        case .token(let biscuit, let liveMemberships):
            token = biscuit
            if let liveMemberships {
                if let organization = request.organizationID, let role = liveMemberships[organization] {
                    authorizer.add(Fact("member_role", [TokenIssuer.term(organization), .string(role.rawValue)]))
                }
            } else {
                authorizer.content.merge(tokenRolesPart)
            }
        case .master:
            token = nil
            authorizer.add(Fact("type", [.string("master_access")]))
        case .legacyServiceToken(let organization):
            token = nil
            Self.addServiceFacts(&authorizer, organization: organization)
        case .applicationSecret(let organization, let application):
            token = nil
            Self.addServiceFacts(&authorizer, organization: organization)
            authorizer.add(Fact("secret_application", [TokenIssuer.term(application)]))
            authorizer.content.merge(applicationSecretPart)
        }
        if request.action.onlyPeopleMayPerform {
            authorizer.content.merge(request.action == .organizationCreate ? peopleOrMasterPart : peopleOnlyPart)
        }
        do {
            if let token { _ = try authorizer.authorize(token) } else { _ = try authorizer.authorize() }
        } catch {
            if case .runLimit = error.kind { return .failure(.overBudget) }
            return .failure(.denied(error.description))
        }
        return .success(Self.identity(of: caller))
    }

    /// The facts a service token's authority block holds, given by the authorizer itself for credentials that are
    /// not Biscuits.
    private static func addServiceFacts(_ authorizer: inout Authorizer, organization: UUID) {
        authorizer.add(Fact("type", [.string("service_access")]))
        authorizer.add(Fact("version", [.integer(1)]))
        authorizer.add(Fact("organization_id", [TokenIssuer.term(organization)]))
    }

    /// Who the caller is, read from the facts of its authority block (signed by the root key, so trusted).
    public static func identity(of caller: Caller) -> AuthorizedCaller {
        switch caller {
        case .master: return .master
        case .applicationSecret(let organization, _), .legacyServiceToken(let organization):
            return .service(organizationID: organization)
        case .token(let token, let liveMemberships):
            let facts = token.blocks.first?.content.facts ?? []
            func value(_ name: String) -> Term? { facts.first { $0.predicate.name == name }?.predicate.terms.first }
            if value("type") == .string("user_access"), let user = value("user_id").flatMap(TokenIssuer.uuid),
                let session = value("session_id").flatMap(TokenIssuer.uuid)
            {
                if let liveMemberships {
                    return .person(userID: user, sessionID: session, memberships: liveMemberships)
                }
                var memberships: [UUID: OrganizationRole] = [:]
                for fact in facts where fact.predicate.name == "organization_role" && fact.predicate.terms.count == 2 {
                    guard let organization = TokenIssuer.uuid(fact.predicate.terms[0]),
                        case .string(let text) = fact.predicate.terms[1], let role = OrganizationRole(rawValue: text)
                    else { continue }
                    memberships[organization] = role
                }
                return .person(userID: user, sessionID: session, memberships: memberships)
            }
            if value("type") == .string("master_access") { return .master }
            return .service(organizationID: value("organization_id").flatMap(TokenIssuer.uuid) ?? UUID())
        }
    }

    /// Reads a mail token (the body of `/auth/verify-email` or `/auth/reset-password`): it must be of `kind`,
    /// version 1, and not past its `expired_at`. Returns the user it was made for, or nil.
    public func mailTokenUser(_ token: Biscuit, kind: MailTokenKind, at now: Date) -> UUID? {
        var authorizer = mailTokenBase
        authorizer.setTime(now)
        authorizer.add(Fact("expected_type", [.string(kind.rawValue)]))
        guard (try? authorizer.authorize(token)) != nil else { return nil }
        return Self.authorityValue(token, "user_id").flatMap(TokenIssuer.uuid)
    }

    /// Reads a refresh token (the bearer of `/auth/refresh`): type `refresh`, version 1, within its own time
    /// check. Returns its user and session, or nil.
    public func refreshSession(_ token: Biscuit, at now: Date) -> (userID: UUID, sessionID: UUID)? {
        var authorizer = refreshBase
        authorizer.setTime(now)
        guard (try? authorizer.authorize(token)) != nil,
            let user = Self.authorityValue(token, "user_id").flatMap(TokenIssuer.uuid),
            let session = Self.authorityValue(token, "session_id").flatMap(TokenIssuer.uuid)
        else { return nil }
        return (user, session)
    }

    /// The first term of the authority block's first fact named `name`.
    public static func authorityValue(_ token: Biscuit, _ name: String) -> Term? {
        token.blocks.first?.content.facts.first { $0.predicate.name == name }?.predicate.terms.first
    }

    /// Hook0's mail-token authorizer, with the expected type given by the server.
    static let mailTokenPolicy = """
        check if type($t), expected_type($t);
        check if version(1);
        expired($t) <- expired_at($exp), time($t), $exp < $t;
        deny if expired($t);
        allow if true;
        """

    /// Hook0's refresh authorizer.
    static let refreshPolicy = """
        check if type("refresh");
        check if version(1);
        allow if true;
        """

    /// Checks every request passes, whatever it targets (Hook0's `authorize()` head).
    static let policy = """
        valid_types(["master_access", "service_access", "user_access"]);
        valid_type($t) <- type($t), valid_types($vt), $vt.contains($t);
        check if valid_type($t);
        supported_version("service_access", 1);
        supported_version("user_access", 1);
        valid_version($t, $v) <- type($t), version($v), supported_version($t, $v);
        valid_version("master_access", 0) <- type("master_access");
        check if valid_version($t, $v);
        expired($t) <- expired_at($exp), time($t), $exp < $t;
        deny if expired($t);
        allow if true;
        """

    /// The part for actions on one organization: the caller must belong to the targeted organization with a role
    /// the action allows (the target arrives as the ambient `target_organization` fact).
    static let organizationPolicy = """
        organization_id($id) <- type("user_access"), member_role($id, $r), target_organization($id);
        organization_id($id) <- type("master_access"), target_organization($id);
        role($r) <- type("user_access"), organization_id($id), member_role($id, $r);
        valid_role($r) <- role($r), allowed_role($r);
        valid_role("service") <- type("service_access");
        valid_role("master") <- type("master_access");
        check if valid_role($r);
        check if organization_id($id), target_organization($id);
        """
}
