import FerryCore
import FerryIdentity
import FerryStorage
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging

@testable import FerryAPI

/// Runs requests through a Hummingbird router in-process (Hummingbird's router test mode).
enum RouterHarness {
    static let masterKey = "9d7b8c1e-2f4a-4c5d-8e6f-7a8b9c0d1e2f"

    /// An answer: status, headers and the parsed JSON body (`.null` when there is none).
    struct Answer {
        var status: Int
        var headers: HTTPFields
        var json: JSONValue

        func string(_ key: String) -> String? {
            if case .object(let object) = json, case .string(let value)? = object[key] { return value }
            return nil
        }

        var array: [JSONValue] {
            if case .array(let items) = json { return items }
            return []
        }
    }

    static var quietLogger: Logger {
        var logger = Logger(label: "ferry-api-tests")
        logger.logLevel = .critical
        return logger
    }

    static func test(
        _ router: Router<FerryRequestContext>, _ body: @Sendable (any TestClientProtocol) async throws -> Void
    ) async throws {
        try await Application(router: router, logger: quietLogger).test(.router, body)
    }

    /// Sends one request; `body` is sent as it is, with a JSON content type.
    static func call(
        _ client: any TestClientProtocol, _ method: HTTPRequest.Method, _ path: String, token: String? = nil,
        body: String? = nil, headers extra: HTTPFields = [:]
    ) async throws -> Answer {
        var headers = extra
        if let token { headers[.authorization] = "Bearer \(token)" }
        if body != nil { headers[.contentType] = "application/json" }
        return try await client.execute(
            uri: path, method: method, headers: headers, body: body.map { ByteBuffer(string: $0) }
        ) { response in
            let bytes = Array(buffer: response.body)
            let json = (try? JSONDecoder().decode(JSONValue.self, from: Data(bytes))) ?? .null
            return Answer(status: Int(response.status.code), headers: response.headers, json: json)
        }
    }
}
