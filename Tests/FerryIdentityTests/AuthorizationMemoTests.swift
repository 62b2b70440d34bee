import Biscuit
import FerryCore
import Foundation
import Testing

@testable import FerryIdentity

/// A decision remembered within a second is the one the Datalog run gives, for every input it depends on: caller,
/// live role, action, organization, application, the action's facts and the second itself.
@Suite struct AuthorizationMemoTests {
    static let issuer = TokenIssuer(rootKey: PrivateKey(generating: .ed25519))
    static let organization = UUID()
    static let application = UUID()
    /// A whole second, so that `second + 0.5` is the same second.
    static let second = Date(timeIntervalSince1970: 1_800_000_000)

    /// Requests that differ from each other in exactly one input.
    static func cases() throws -> [(String, Caller, AuthorizationRequest)] {
        let service = try issuer.serviceAccess(tokenID: UUID(), organizationID: organization, createdAt: second)
        let oneApplication = try service.appending(
            source: "check if application_id({app});", parameters: ["app": TokenIssuer.term(application)])
        let subscription = UUID()
        let oneSubscription = try service.appending(
            source: "check if subscription_id({id});", parameters: ["id": TokenIssuer.term(subscription)])
        let person = try issuer.userAccess(
            tokenID: UUID(), sessionID: UUID(),
            user: TokenUser(userID: UUID(), email: "m@example.com", firstName: "M", lastName: "N"),
            memberships: [organization: .editor], createdAt: second)
        func request(_ action: APIAction, application: UUID? = application, facts: [Fact] = [])
            -> AuthorizationRequest
        {
            AuthorizationRequest(action: action, organizationID: organization, applicationID: application, facts: facts)
        }
        return [
            ("root ingest", .token(service), request(.eventIngest)),
            ("attenuated, its application", .token(oneApplication), request(.eventIngest)),
            ("attenuated, another application", .token(oneApplication), request(.eventIngest, application: UUID())),
            (
                "its subscription", .token(oneSubscription),
                request(.subscriptionGet, facts: [AuthorizationRequest.subscriptionID(subscription)])
            ),
            (
                "another subscription", .token(oneSubscription),
                request(.subscriptionGet, facts: [AuthorizationRequest.subscriptionID(UUID())])
            ),
            ("editor writes", .token(person, liveMemberships: [organization: .editor]), request(.applicationEdit)),
            ("viewer writes", .token(person, liveMemberships: [organization: .viewer]), request(.applicationEdit)),
            ("viewer reads", .token(person, liveMemberships: [organization: .viewer]), request(.applicationGet)),
            ("removed member", .token(person, liveMemberships: [:]), request(.applicationGet)),
            ("roles of the token", .token(person), request(.applicationEdit)),
            ("master", .master, request(.applicationEdit)),
            (
                "secret, its application", .applicationSecret(organizationID: organization, applicationID: application),
                request(.eventIngest)
            ),
            (
                "secret, another application",
                .applicationSecret(organizationID: organization, applicationID: UUID()), request(.eventIngest)
            ),
            ("legacy token, other organization", .legacyServiceToken(organizationID: UUID()), request(.eventIngest)),
        ]
    }

    static func allowed(_ result: Result<AuthorizedCaller, AuthorizationRefusal>) -> Bool {
        if case .success = result { return true }
        return false
    }

    @Test func rememberedDecisionsAreTheRunsDecisions() throws {
        let remembering = RequestAuthorizer()
        let running = RequestAuthorizer(remembersDecisions: false)
        let cases = try Self.cases()
        var allowedCount = 0
        // Every case twice in the same second, interleaved, so that a key missing an input would hand one case
        // another's decision.
        for round in 0..<2 {
            for (name, caller, request) in cases {
                let now = Self.second.addingTimeInterval(round == 0 ? 0.1 : 0.9)
                let expected = running.authorize(caller, request, at: now)
                #expect(remembering.authorize(caller, request, at: now) == expected, "\(name), round \(round)")
                if round == 0, Self.allowed(expected) { allowedCount += 1 }
            }
        }
        // The table holds both outcomes, so agreement is not trivially "always allowed".
        #expect(allowedCount > 3 && allowedCount < cases.count - 3)
    }

    @Test func aDecisionDependsOnTheSecond() throws {
        let service = try Self.issuer.serviceAccess(
            tokenID: UUID(), organizationID: Self.organization, createdAt: Self.second)
        let expiring = try service.appending(
            source: "check if time($t), $t <= {limit};", parameters: ["limit": TokenIssuer.term(Self.second)])
        let request = AuthorizationRequest(
            action: .eventIngest, organizationID: Self.organization, applicationID: Self.application)
        let authorizer = RequestAuthorizer()
        #expect(Self.allowed(authorizer.authorize(.token(expiring), request, at: Self.second)))
        #expect(Self.allowed(authorizer.authorize(.token(expiring), request, at: Self.second.addingTimeInterval(0.5))))
        #expect(!Self.allowed(authorizer.authorize(.token(expiring), request, at: Self.second.addingTimeInterval(1))))
    }

    @Test func theMemoForgetsThePreviousSecondAndStaysBounded() {
        let memo = AuthorizationMemo(capacity: 2)
        func key(_ second: UInt64, _ organization: UUID = UUID()) -> AuthorizationMemo.Key {
            AuthorizationMemo.Key(
                .legacyServiceToken(organizationID: organization),
                AuthorizationRequest(action: .eventIngest, organizationID: organization), second: second)
        }
        let first = key(10)
        memo.remember(.allowed, for: first)
        memo.remember(.denied("no"), for: key(10))
        memo.remember(.allowed, for: key(10))
        #expect(memo.count == 2)
        #expect(memo.decision(for: first) == .allowed)
        let later = key(11)
        memo.remember(.denied("no"), for: later)
        #expect(memo.count == 1)
        #expect(memo.decision(for: first) == nil)
        #expect(memo.decision(for: later) == .denied("no"))
        // A late decision of an earlier second does not empty the current one.
        memo.remember(.allowed, for: key(10))
        #expect(memo.decision(for: later) == .denied("no"))
    }

    @Test func aRunOverItsBudgetIsNotRemembered() throws {
        let hostile = try Self.issuer.serviceAccess(
            tokenID: UUID(), organizationID: Self.organization, createdAt: Self.second
        ).appending(
            source: CostlyBlock.source)
        let request = AuthorizationRequest(action: .applicationList, organizationID: Self.organization)
        let tight = RequestAuthorizer(timeLimit: .milliseconds(20))
        #expect(tight.authorize(.token(hostile), request, at: Self.second) == .failure(.overBudget))
        #expect(tight.rememberedDecisions == 0)
        let plain = try Self.issuer.serviceAccess(
            tokenID: UUID(), organizationID: Self.organization, createdAt: Self.second)
        #expect(Self.allowed(tight.authorize(.token(plain), request, at: Self.second)))
        #expect(tight.rememberedDecisions == 1)
    }
}
