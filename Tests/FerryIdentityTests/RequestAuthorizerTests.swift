import Biscuit
import FerryCore
import FerryIdentity
import Foundation
import Testing

/// Hook0's per-request policy: types, roles, organizations, applications, people-only actions, expiry, attenuation
/// and the time budget.
@Suite struct RequestAuthorizerTests {
    static let issuer = TokenIssuer(rootKey: PrivateKey(generating: .ed25519))
    static let authorizer = RequestAuthorizer()
    static let organization = UUID()
    static let otherOrganization = UUID()
    static let application = UUID()
    static let now = Date()

    static func service(_ organization: UUID = organization) throws -> Biscuit {
        try issuer.serviceAccess(tokenID: UUID(), organizationID: organization, createdAt: now)
    }

    static func person(_ memberships: [UUID: OrganizationRole], createdAt: Date = now) throws -> (Biscuit, UUID) {
        let user = UUID()
        let token = try issuer.userAccess(
            tokenID: UUID(), sessionID: UUID(),
            user: TokenUser(userID: user, email: "a@example.com", firstName: "A", lastName: "B"),
            memberships: memberships, createdAt: createdAt)
        return (token, user)
    }

    func allowed(_ caller: Caller, _ action: APIAction, organization: UUID? = organization, application: UUID? = nil)
        -> Bool
    {
        let request = AuthorizationRequest(action: action, organizationID: organization, applicationID: application)
        if case .success = Self.authorizer.authorize(caller, request, at: Self.now) { return true }
        return false
    }

    @Test func aServiceTokenActsOnItsOwnOrganizationOnly() throws {
        let token = Caller.token(try Self.service())
        #expect(allowed(token, .applicationCreate))
        #expect(allowed(token, .eventIngest, application: Self.application))
        #expect(!allowed(token, .applicationCreate, organization: Self.otherOrganization))
        let request = AuthorizationRequest(action: .applicationList, organizationID: Self.organization)
        #expect(
            Self.authorizer.authorize(token, request, at: Self.now)
                == .success(.service(organizationID: Self.organization)))
    }

    /// With the memberships stored now, the token's own role facts no longer count: a demoted editor cannot write,
    /// a removed member cannot read, and a new membership works before any refresh.
    @Test func liveMembershipsOverrideTheRolesATokenWasMintedWith() throws {
        let (token, user) = try Self.person([Self.organization: .editor])
        #expect(allowed(.token(token), .applicationCreate))
        let demoted = Caller.token(token, liveMemberships: [Self.organization: .viewer])
        #expect(!allowed(demoted, .applicationCreate))
        #expect(allowed(demoted, .applicationList))
        let removed = Caller.token(token, liveMemberships: [:])
        #expect(!allowed(removed, .applicationList))
        let joined = Caller.token(token, liveMemberships: [Self.otherOrganization: .editor])
        #expect(allowed(joined, .applicationCreate, organization: Self.otherOrganization))
        #expect(!allowed(joined, .applicationCreate))
        let request = AuthorizationRequest(action: .organizationList)
        guard
            case .success(.person(let userID, _, let memberships)) = Self.authorizer.authorize(
                joined, request, at: Self.now)
        else {
            Issue.record("a person's token was not authorized as a person")
            return
        }
        #expect(userID == user && memberships == [Self.otherOrganization: .editor])
    }

    @Test func aViewerReadsButDoesNotWriteAndAnEditorDoesBoth() throws {
        let (viewerToken, viewer) = try Self.person([Self.organization: .viewer])
        let viewerCaller = Caller.token(viewerToken)
        #expect(allowed(viewerCaller, .applicationList))
        #expect(allowed(viewerCaller, .requestAttemptList, application: Self.application))
        #expect(!allowed(viewerCaller, .applicationCreate))
        #expect(!allowed(viewerCaller, .eventIngest, application: Self.application))
        #expect(!allowed(viewerCaller, .applicationList, organization: Self.otherOrganization))
        let (editorToken, _) = try Self.person([Self.organization: .editor])
        for action in APIAction.allCases where action.targetsAnOrganization {
            #expect(allowed(.token(editorToken), action, application: Self.application), "\(action)")
            #expect(
                allowed(viewerCaller, action, application: Self.application) == action.viewerMayPerform, "\(action)")
        }
        let request = AuthorizationRequest(action: .organizationGet, organizationID: Self.organization)
        guard
            case .success(.person(let user, _, let memberships)) = Self.authorizer.authorize(
                viewerCaller, request, at: Self.now)
        else {
            Issue.record("a viewer may get the organization")
            return
        }
        #expect(user == viewer)
        #expect(memberships == [Self.organization: .viewer])
    }

    @Test func aPersonsTokenExpiresAfterFiveMinutes() throws {
        let (token, _) = try Self.person([Self.organization: .editor], createdAt: Self.now.addingTimeInterval(-301))
        #expect(!allowed(.token(token), .applicationList))
        let (fresh, _) = try Self.person([Self.organization: .editor], createdAt: Self.now.addingTimeInterval(-290))
        #expect(allowed(.token(fresh), .applicationList))
    }

    @Test func onlyPeopleAndTheMasterKeyCreateOrganizations() throws {
        let (person, _) = try Self.person([:])
        #expect(allowed(.token(person), .organizationCreate, organization: nil))
        #expect(allowed(.master, .organizationCreate, organization: nil))
        #expect(!allowed(.token(try Self.service()), .organizationCreate, organization: nil))
        #expect(
            !allowed(.legacyServiceToken(organizationID: Self.organization), .organizationCreate, organization: nil))
        #expect(allowed(.master, .organizationList, organization: nil))
        #expect(allowed(.token(person), .authLogout, organization: nil))
        #expect(!allowed(.master, .authLogout, organization: nil))
    }

    @Test func aLegacyServiceTokenActsAsAServiceTokenOfItsOrganization() {
        let legacy = Caller.legacyServiceToken(organizationID: Self.organization)
        #expect(allowed(legacy, .applicationCreate))
        #expect(allowed(legacy, .eventIngest, application: Self.application))
        #expect(!allowed(legacy, .applicationCreate, organization: Self.otherOrganization))
    }

    @Test func theMasterKeyActsEverywhere() {
        for action in APIAction.allCases where action.targetsAnOrganization {
            #expect(allowed(.master, action, organization: UUID(), application: UUID()), "\(action)")
        }
    }

    @Test func anApplicationSecretActsInItsApplicationOnly() {
        let secret = Caller.applicationSecret(organizationID: Self.organization, applicationID: Self.application)
        #expect(allowed(secret, .eventIngest, application: Self.application))
        #expect(allowed(secret, .applicationDelete, application: Self.application))
        #expect(!allowed(secret, .eventIngest, application: UUID()))
        #expect(!allowed(secret, .applicationList))
        #expect(!allowed(secret, .eventIngest, organization: Self.otherOrganization, application: Self.application))
    }

    @Test func attenuationRestrictsEveryRouteToWhatTheBlockAllows() throws {
        let root = try Self.service()
        let readOnly = try root.appending(
            source: #"check if action($a), ["application:list", "event:list"].contains($a);"#)
        #expect(allowed(.token(readOnly), .applicationList))
        #expect(allowed(.token(readOnly), .eventList, application: Self.application))
        #expect(!allowed(.token(readOnly), .eventIngest, application: Self.application))
        let oneApplication = try root.appending(
            source: "check if application_id({app});", parameters: ["app": TokenIssuer.term(Self.application)])
        #expect(allowed(.token(oneApplication), .eventIngest, application: Self.application))
        #expect(!allowed(.token(oneApplication), .eventIngest, application: UUID()))
        #expect(!allowed(.token(oneApplication), .applicationList))
        let expired = try root.appending(
            source: "check if time($t), $t < {limit};",
            parameters: ["limit": TokenIssuer.term(Self.now.addingTimeInterval(-1))])
        #expect(!allowed(.token(expired), .applicationList))
        // A block cannot grant itself a membership: its facts are not trusted by the policy's rules.
        let (stranger, _) = try Self.person([:])
        let forged = try stranger.appending(
            source: "organization_role({org}, \"editor\");", parameters: ["org": TokenIssuer.term(Self.organization)])
        #expect(!allowed(.token(forged), .applicationList))
    }

    @Test func actionFactsAreThereForBlocksToConstrain() throws {
        let root = try Self.service()
        let subscription = UUID()
        let oneSubscription = try root.appending(
            source: "check if subscription_id({id});", parameters: ["id": TokenIssuer.term(subscription)])
        func get(_ id: UUID) -> Bool {
            let request = AuthorizationRequest(
                action: .subscriptionGet, organizationID: Self.organization, applicationID: Self.application,
                facts: [AuthorizationRequest.subscriptionID(id)])
            if case .success = Self.authorizer.authorize(.token(oneSubscription), request, at: Self.now) { return true }
            return false
        }
        #expect(get(subscription))
        #expect(!get(UUID()))
    }

    @Test func tokensOfOtherTypesAreRefused() throws {
        let refresh = try Self.issuer.refresh(tokenID: UUID(), sessionID: UUID(), userID: UUID(), createdAt: Self.now)
        #expect(!allowed(.token(refresh), .applicationList))
        let mail = try Self.issuer.mailToken(
            .passwordReset, userID: UUID(), createdAt: Self.now, lifetime: .seconds(1800))
        #expect(!allowed(.token(mail), .organizationList, organization: nil))
    }

    @Test func aBlockThatOutrunsTheBudgetIs503NotAllowed() throws {
        let hostile = try Self.service().appending(
            source: CostlyBlock.source)
        let request = AuthorizationRequest(action: .applicationList, organizationID: Self.organization)
        let tight = RequestAuthorizer(timeLimit: .milliseconds(20))
        #expect(tight.authorize(.token(hostile), request, at: Self.now) == .failure(.overBudget))
    }
}
