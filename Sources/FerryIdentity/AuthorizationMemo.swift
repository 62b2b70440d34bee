import Biscuit
import FerryCore
import Foundation
import Synchronization

/// The authorizer's decisions of the current second, by everything they depend on, so that a client repeating the
/// same request with the same token (an SDK ingesting events) pays the Datalog run once per second instead of on
/// every request.
///
/// A decision is a pure function of the token's blocks (named by their revocation ids: each is the signature of
/// its block, so equal ids mean equal blocks), the caller's kind and live role in the targeted organization, the
/// request (action, organization, application and its own facts) and the ambient `time` fact, which is whole
/// seconds. The key holds all of them, the second included, so a remembered decision is exactly the one the run
/// would give; the memo is emptied when the second changes. Revocation is not decided here: the caller is
/// resolved (root live, no block deny-listed) on every request before the authorizer is asked. Runs that hit a
/// limit are not remembered.
final class AuthorizationMemo: Sendable {
    /// What a decision depends on.
    struct Key: Hashable, Sendable {
        /// The caller, reduced to what the authorizer reads from it.
        enum Credential: Hashable, Sendable {
            case token(signatures: [[UInt8]], liveMemberships: Bool, role: OrganizationRole?)
            case master
            case applicationSecret(organizationID: UUID, applicationID: UUID)
            case legacyServiceToken(organizationID: UUID)
        }

        var credential: Credential
        var action: APIAction
        var organizationID: UUID?
        var applicationID: UUID?
        var facts: [Fact]
        var second: UInt64

        init(_ caller: Caller, _ request: AuthorizationRequest, second: UInt64) {
            switch caller {
            case .token(let token, let liveMemberships):
                let role = request.organizationID.flatMap { liveMemberships?[$0] }
                // The blocks' signatures (their revocation ids before hex encoding) name the blocks.
                credential = .token(
                    signatures: token.blocks.map(\.signature), liveMemberships: liveMemberships != nil, role: role)
            case .master: credential = .master
            case .applicationSecret(let organization, let application):
                credential = .applicationSecret(organizationID: organization, applicationID: application)
            case .legacyServiceToken(let organization): credential = .legacyServiceToken(organizationID: organization)
            }
            action = request.action
            organizationID = request.organizationID
            applicationID = request.applicationID
            facts = request.facts
            self.second = second
        }
    }

    /// A remembered outcome: allowed, or denied with the reason.
    enum Decision: Sendable, Equatable {
        case allowed
        case denied(String)
    }

    private struct State {
        var second: UInt64 = 0
        var decisions: [Key: Decision] = [:]
    }

    private let state = Mutex(State())
    /// Most decisions kept within one second; past it, new ones are not remembered until the next second.
    let capacity: Int

    init(capacity: Int = 4096) {
        self.capacity = capacity
    }

    /// The decision remembered for `key`, if it was made in the same second.
    func decision(for key: Key) -> Decision? {
        state.withLock { state in state.second == key.second ? state.decisions[key] : nil }
    }

    /// Remembers a decision; a decision of a new second first forgets those of the previous one.
    func remember(_ decision: Decision, for key: Key) {
        state.withLock { state in
            if state.second != key.second {
                guard key.second > state.second else { return }
                state.second = key.second
                state.decisions.removeAll(keepingCapacity: true)
            }
            if state.decisions.count < capacity { state.decisions[key] = decision }
        }
    }

    /// How many decisions are remembered now.
    var count: Int { state.withLock { $0.decisions.count } }
}
