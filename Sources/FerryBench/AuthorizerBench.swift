import Biscuit
import FerryCore
import FerryIdentity
import Foundation

/// What one authorization of Hook0's per-request policy costs, for the requests the benchmark cares about: the
/// ingest of an event with a root service token (the hot path of every SDK user), the same with a token
/// attenuated to one application, and a person's event listing with live memberships.
public struct AuthorizerCost: Codable, Sendable, Equatable {
    /// Microseconds per Datalog run (decisions not remembered), median of the rounds.
    public var serviceIngestMicroseconds: Double
    public var attenuatedIngestMicroseconds: Double
    public var personListMicroseconds: Double
    /// Microseconds per authorization of the root token's ingest when the authorizer remembers its decisions, as
    /// the server's does: what a client repeating the same request within a second pays.
    public var rememberedServiceIngestMicroseconds: Double
    /// Authorizations per measured round.
    public var authorizationsPerRound: Int
}

/// Runs `RequestAuthorizer` in a loop on the calling thread, outside any server, so that its own cost is
/// measured apart from HTTP and storage.
public enum AuthorizerBench {
    /// The cost of each request kind, median over `rounds` rounds of `authorizations` each. Fails when any
    /// authorization is refused, so a broken policy cannot report a fast time.
    public static func measure(rounds: Int = 5, authorizations: Int = 2_000) throws -> AuthorizerCost {
        let issuer = TokenIssuer.ephemeral()
        let organization = UUID()
        let application = UUID()
        let now = Date()
        let service = try issuer.serviceAccess(tokenID: UUID(), organizationID: organization, createdAt: now)
        let attenuated = try service.appending(
            source: "check if application_id({application});\ncheck if time($t), $t < {expiry};",
            parameters: [
                "application": TokenIssuer.term(application),
                "expiry": TokenIssuer.term(now.addingTimeInterval(3_600)),
            ])
        let person = try issuer.userAccess(
            tokenID: UUID(), sessionID: UUID(),
            user: TokenUser(userID: UUID(), email: "bench@example.com", firstName: "Bench", lastName: "Mark"),
            memberships: [organization: .viewer], createdAt: now)
        let authorizer = RequestAuthorizer(remembersDecisions: false)
        let remembering = RequestAuthorizer()
        let ingest = AuthorizationRequest(
            action: .eventIngest, organizationID: organization, applicationID: application)
        let list = AuthorizationRequest(action: .eventList, organizationID: organization, applicationID: application)
        let serviceCost = try cost(rounds, authorizations) {
            authorizer.authorize(.token(service), ingest, at: now)
        }
        let attenuatedCost = try cost(rounds, authorizations) {
            authorizer.authorize(.token(attenuated), ingest, at: now)
        }
        let personCost = try cost(rounds, authorizations) {
            authorizer.authorize(.token(person, liveMemberships: [organization: .viewer]), list, at: now)
        }
        let rememberedCost = try cost(rounds, authorizations) {
            remembering.authorize(.token(service), ingest, at: now)
        }
        return AuthorizerCost(
            serviceIngestMicroseconds: serviceCost, attenuatedIngestMicroseconds: attenuatedCost,
            personListMicroseconds: personCost, rememberedServiceIngestMicroseconds: rememberedCost,
            authorizationsPerRound: authorizations)
    }

    /// Why a measurement stopped: the authorizer refused a request it must accept.
    public struct Refused: Error, CustomStringConvertible {
        public let description: String
    }

    private static func cost(
        _ rounds: Int, _ authorizations: Int,
        _ authorize: () -> Result<AuthorizedCaller, AuthorizationRefusal>
    ) throws -> Double {
        var perRound: [Double] = []
        for _ in 0..<max(1, rounds) {
            let clock = ContinuousClock()
            var refusal: AuthorizationRefusal?
            let elapsed = clock.measure {
                for _ in 0..<authorizations {
                    if case .failure(let reason) = authorize() { refusal = reason }
                }
            }
            if let refusal { throw Refused(description: "the benchmark's request was refused: \(refusal)") }
            let (seconds, attoseconds) = elapsed.components
            perRound.append((Double(seconds) + Double(attoseconds) / 1e18) * 1e6 / Double(authorizations))
        }
        return perRound.sorted()[perRound.count / 2]
    }
}
