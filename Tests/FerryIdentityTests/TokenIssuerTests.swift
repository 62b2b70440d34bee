import Biscuit
import FerryCore
import FerryIdentity
import Foundation
import Testing

/// The tokens Ferry mints carry exactly Hook0's authority facts, and survive serialization with the root key.
@Suite struct TokenIssuerTests {
    static let issuer = TokenIssuer(rootKey: PrivateKey(generating: .ed25519))
    static let organization = UUID(uuidString: "0190A000-0000-7000-8000-0000000000AA")!
    static let tokenID = UUID(uuidString: "0190A000-0000-7000-8000-0000000000BB")!
    static let createdAt = Date(timeIntervalSince1970: 1_790_000_000)

    @Test func aServiceTokenHoldsHook0sFactsWithUUIDsAsBytes() throws {
        let token = try Self.issuer.serviceAccess(
            tokenID: Self.tokenID, organizationID: Self.organization, createdAt: Self.createdAt)
        let read = try Biscuit(bytes: try token.serialized(), rootKey: Self.issuer.rootKey.publicKey)
        let facts = Set(read.blocks[0].content.facts)
        #expect(
            facts == [
                Fact("type", [.string("service_access")]), Fact("version", [.integer(1)]),
                Fact("token_id", [TokenIssuer.term(Self.tokenID)]),
                Fact("created_at", [.date(1_790_000_000)]),
                Fact("organization_id", [TokenIssuer.term(Self.organization)]),
            ])
        #expect(read.blocks[0].content.checks.isEmpty)
        #expect(
            TokenIssuer.term(Self.organization)
                == .bytes([1, 0x90, 0xA0, 0, 0, 0, 0x70, 0, 0x80, 0, 0, 0, 0, 0, 0, 0xAA]))
    }

    @Test func aPersonsTokenListsEveryMembershipAndExpiresAfterFiveMinutes() throws {
        let user = TokenUser(userID: UUID(), email: "ada@example.com", firstName: "Ada", lastName: "Lovelace")
        let other = UUID()
        let token = try Self.issuer.userAccess(
            tokenID: UUID(), sessionID: UUID(), user: user,
            memberships: [Self.organization: .editor, other: .viewer], createdAt: Self.createdAt)
        let facts = token.blocks[0].content.facts
        #expect(facts.contains(Fact("type", [.string("user_access")])))
        #expect(facts.contains(Fact("email", [.string("ada@example.com")])))
        #expect(facts.contains(Fact("organization_role", [TokenIssuer.term(Self.organization), .string("editor")])))
        #expect(facts.contains(Fact("organization_role", [TokenIssuer.term(other), .string("viewer")])))
        #expect(token.blockSource(0)?.contains("check if time($time), $time < 2026-09-21T") == true)
    }

    @Test func everyTokenSaysWhenItExpires() throws {
        let user = TokenUser(userID: UUID(), email: "a@example.com", firstName: "A", lastName: "B")
        let access = try Self.issuer.userAccess(
            tokenID: UUID(), sessionID: UUID(), user: user, memberships: [:], createdAt: Self.createdAt)
        let refresh = try Self.issuer.refresh(
            tokenID: UUID(), sessionID: UUID(), userID: user.userID, createdAt: Self.createdAt)
        let reset = try Self.issuer.mailToken(
            .passwordReset, userID: user.userID, createdAt: Self.createdAt, lifetime: .seconds(1800))
        let service = try Self.issuer.serviceAccess(
            tokenID: Self.tokenID, organizationID: Self.organization, createdAt: Self.createdAt)
        #expect(TokenIssuer.expiry(of: access) == Self.createdAt.addingTimeInterval(300))
        #expect(TokenIssuer.expiry(of: refresh) == Self.createdAt.addingTimeInterval(1800))
        #expect(TokenIssuer.expiry(of: reset) == Self.createdAt.addingTimeInterval(1800))
        #expect(TokenIssuer.expiry(of: service) == nil)
    }

    @Test func uuidTermsRoundTrip() {
        let id = UUID()
        #expect(TokenIssuer.uuid(TokenIssuer.term(id)) == id)
        #expect(TokenIssuer.uuid(.bytes([1, 2, 3])) == nil)
        #expect(TokenIssuer.uuid(.string(id.uuidString)) == nil)
    }

    @Test func thePublicKeyIsPublishedAsSixtyFourHexCharacters() {
        let hex = Self.issuer.publicKeyHex
        #expect(hex.count == 64 && hex.allSatisfy { $0.isHexDigit && !$0.isUppercase })
        #expect("ed25519/" + hex == Self.issuer.rootKey.publicKey.description)
    }
}
