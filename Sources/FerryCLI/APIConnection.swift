import AsyncHTTPClient
import FerryCore
import Foundation
import NIOCore
import NIOHTTP1

/// Requests to a Ferry API as one profile, answering parsed JSON; a problem answer becomes a `ClientError` that
/// says its status, title and detail.
public struct APIConnection: Sendable {
    public let profile: ClientProfile
    private let client: HTTPClient

    public init(profile: ClientProfile, client: HTTPClient = .shared) {
        self.profile = profile
        self.client = client
    }

    public func get(_ path: String, query: [(String, String?)] = []) async throws -> JSONValue {
        try await send(.GET, path, query: query, body: nil)
    }

    public func post(_ path: String, _ body: JSONValue) async throws -> JSONValue {
        try await send(.POST, path, query: [], body: body)
    }

    public func put(_ path: String, _ body: JSONValue) async throws -> JSONValue {
        try await send(.PUT, path, query: [], body: body)
    }

    private func send(_ method: HTTPMethod, _ path: String, query: [(String, String?)], body: JSONValue?)
        async throws -> JSONValue
    {
        var components = URLComponents(string: profile.url + path)
        let items = query.compactMap { name, value in value.map { URLQueryItem(name: name, value: $0) } }
        if !items.isEmpty { components?.queryItems = items }
        guard let url = components?.string else { throw ClientError("`\(profile.url + path)` is not a URL") }
        var request = HTTPClientRequest(url: url)
        request.method = method
        request.headers.add(name: "authorization", value: "Bearer \(profile.token)")
        request.headers.add(name: "user-agent", value: "ferry-cli/\(FerryVersion.current)")
        if let body {
            request.headers.add(name: "content-type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: body.encoded()))
        }
        let response: HTTPClientResponse
        do {
            response = try await client.execute(request, timeout: .seconds(30))
        } catch {
            throw ClientError("cannot reach \(profile.url): \(error)")
        }
        let bytes = try await response.body.collect(upTo: 32 * 1024 * 1024)
        let json = (try? JSONDecoder().decode(JSONValue.self, from: Data(bytes.readableBytesView))) ?? .null
        guard (200..<300).contains(response.status.code) else {
            let title = json["title"]?.text ?? response.status.reasonPhrase
            let detail = json["detail"]?.text.map { ": " + $0 } ?? ""
            throw ClientError("\(method.rawValue) \(path) answered \(response.status.code) \(title)\(detail)")
        }
        return json
    }
}

extension JSONValue {
    /// The member `key` of an object.
    public subscript(key: String) -> JSONValue? {
        if case .object(let object) = self { return object[key] }
        return nil
    }

    /// The value as text: a string as it is, a number or a boolean written out; nil for null, arrays and objects.
    public var text: String? {
        switch self {
        case .string(let value): value
        case .number(let value): value.rounded() == value ? String(Int(value)) : String(value)
        case .bool(let value): String(value)
        default: nil
        }
    }

    /// The items of an array (none for anything else).
    public var items: [JSONValue] {
        if case .array(let items) = self { return items }
        return []
    }

    /// Indented JSON with sorted keys, for people.
    public var pretty: String {
        let data = Data(encoded())
        guard let object = try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]),
            let pretty = try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
        else { return String(decoding: data, as: UTF8.self) }
        return String(decoding: pretty, as: UTF8.self)
    }
}
