import FerryCore
import Foundation
import HTTPTypes
import Hummingbird

/// Reading JSON request bodies and writing JSON responses, with Hook0's error semantics.
enum JSONBody {
    /// Decodes the body as `T`; an unreadable or mistyped body is a `JsonPayload` problem. The body was
    /// already read, within the size and time limits, by `RequestBodyMiddleware`.
    /// - Parameter directly: reads the common bodies without `JSONDecoder` (`EventBodyParser`), nil leaving the
    ///   body to `JSONDecoder`, which then also words every error.
    static func decode<T: Decodable>(
        _ type: T.Type, from request: Request, directly: (([UInt8]) -> T?)? = nil
    ) async throws -> T {
        var request = request
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: .max)
        } catch {
            throw ProblemCatalog.payloadTooLarge(maxBytes: nil)
        }
        if let directly, let value = directly(Array(buffer.readableBytesView)) { return value }
        do {
            return try JSONDecoder().decode(T.self, from: Data(buffer.readableBytesView))
        } catch let error as DecodingError {
            throw ProblemCatalog.jsonPayload.with(detail: describe(error))
        } catch let error as DomainError {
            throw Problem(error)
        }
    }

    /// A JSON response with the given status.
    static func response(_ value: JSONValue, status: HTTPResponse.Status = .ok) -> Response {
        let data = value.encoded()
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// An empty 204 response.
    static func noContent() -> Response {
        Response(status: .noContent)
    }

    /// What is wrong with a body, naming the field.
    static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            let keys = context.codingPath.map { key in key.intValue.map(String.init) ?? key.stringValue }
            return keys.isEmpty ? "body" : keys.joined(separator: ".")
        }
        switch error {
        case .keyNotFound(let key, let context):
            let parent = path(context)
            return "missing field `\(parent == "body" ? key.stringValue : parent + "." + key.stringValue)`"
        case .typeMismatch(_, let context): return "wrong type at `\(path(context))`: \(context.debugDescription)"
        case .valueNotFound(_, let context): return "null not allowed at `\(path(context))`"
        case .dataCorrupted(let context): return "invalid value at `\(path(context))`: \(context.debugDescription)"
        @unknown default: return "the body is not valid JSON for this route"
        }
    }
}

/// Decodes a UUID field strictly (lowercase or uppercase hyphenated), reporting a clear decoding error.
struct StrictUUID: Decodable, Sendable, Equatable {
    let value: UUID

    init(_ value: UUID) {
        self.value = value
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let value = UUID(hyphenated: text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "`\(text)` is not a UUID")
        }
        self.value = value
    }
}

/// Decodes an RFC 3339 date-time field (any offset, up to nanoseconds).
struct RFC3339Date: Decodable, Sendable, Equatable {
    let value: Date

    init(_ value: Date) {
        self.value = value
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let value = Timestamp.parse(text) else {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "`\(text)` is not an RFC 3339 date-time")
        }
        self.value = value
    }
}
