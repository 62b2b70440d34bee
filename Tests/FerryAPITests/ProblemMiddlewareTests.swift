import FerryCore
import FerryStorage
import Foundation
import Hummingbird
import Testing

@testable import FerryAPI

/// `ProblemMiddleware` is the one place errors become answers: each kind of error a handler or a store can throw
/// gets its problem, and nothing a store says reaches the client.
@Suite struct ProblemMiddlewareTests {
    static func router() -> Router<FerryRequestContext> {
        let router = Router(context: FerryRequestContext.self)
        router.add(
            middleware: ProblemMiddleware(routes: RouteTable(openAPIDocument: Array(buffer: OpenAPIDocument.bytes))))
        router.get("/unavailable") { _, _ -> Response in throw StorageError.unavailable("connection refused") }
        router.get("/failed") { _, _ -> Response in throw StorageError.failed("row 7 holds secret-looking text") }
        router.get("/conflict") { _, _ -> Response in throw DomainError.eventAlreadyIngested }
        router.get("/blank") { _, _ -> Response in
            try ResourceRules.validateApplicationName("  ")
            return Response(status: .ok)
        }
        router.get("/short") { _, _ -> Response in
            try ResourceRules.validateApplicationName("a")
            return Response(status: .ok)
        }
        router.get("/other") { _, _ -> Response in throw CocoaError(.fileReadUnknown) }
        return router
    }

    @Test func aStorageOutageIsA503WithRetryAfter() async throws {
        try await RouterHarness.test(Self.router()) { client in
            let answer = try await RouterHarness.call(client, .get, "/unavailable")
            #expect(answer.status == 503)
            #expect(answer.string("id") == "ServiceUnavailable")
            #expect(answer.headers[.retryAfter] != nil)
            #expect(answer.string("detail")?.contains("connection refused") == false)
        }
    }

    @Test func aStorageFaultAndAnUnknownErrorAre500sThatSayNothingOfTheCause() async throws {
        try await RouterHarness.test(Self.router()) { client in
            for path in ["/failed", "/other"] {
                let answer = try await RouterHarness.call(client, .get, path)
                #expect(answer.status == 500, "\(path)")
                #expect(answer.string("id") == "InternalServerError")
                #expect(answer.string("detail")?.contains("secret") == false)
            }
        }
    }

    @Test func domainErrorsBecomeHook0Problems() async throws {
        try await RouterHarness.test(Self.router()) { client in
            let conflict = try await RouterHarness.call(client, .get, "/conflict")
            #expect(conflict.status == 409)
            #expect(conflict.string("id") == "EventAlreadyIngested")
            #expect(conflict.headers[.contentType] == "application/problem+json")
            // Hook0's order for names: the length validator first (422), then the blank check (400).
            let short = try await RouterHarness.call(client, .get, "/short")
            #expect(short.status == 422)
            #expect(short.string("id") == "Validation")
            let blank = try await RouterHarness.call(client, .get, "/blank")
            #expect(blank.status == 400)
            #expect(blank.string("id") == "ApplicationNameMissing")
        }
    }

    @Test func unknownPathsAre404AndKnownPathsWithAnotherMethodAre405() async throws {
        try await RouterHarness.test(Self.router()) { client in
            let unknown = try await RouterHarness.call(client, .get, "/api/v1/nothing_here")
            #expect(unknown.status == 404)
            #expect(unknown.string("id") == "NotFound")
            let wrongMethod = try await RouterHarness.call(client, .patch, "/api/v1/event_types")
            #expect(wrongMethod.status == 405)
            #expect(wrongMethod.headers[.allow] == "GET, HEAD, POST")
        }
    }
}
