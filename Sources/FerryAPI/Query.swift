import FerryCore
import Foundation
import Hummingbird

/// Reading query-string and path parameters.
enum Query {
    static func string(_ request: Request, _ name: String) -> String? {
        request.uri.queryParameters.get(name)
    }

    static func uuid(_ request: Request, _ name: String) throws -> UUID {
        guard let text = string(request, name) else {
            throw ProblemCatalog.queryParameter("the query parameter `\(name)` is missing (a UUID)")
        }
        guard let value = UUID(hyphenated: text) else {
            throw ProblemCatalog.queryParameter("the query parameter `\(name)` is not a UUID")
        }
        return value
    }

    static func optionalUUID(_ request: Request, _ name: String) throws -> UUID? {
        guard string(request, name) != nil else { return nil }
        return try uuid(request, name)
    }

    static func date(_ request: Request, _ name: String) throws -> Date? {
        guard let text = string(request, name) else { return nil }
        guard let value = Timestamp.parse(text) else {
            throw ProblemCatalog.queryParameter("the query parameter `\(name)` is not an RFC 3339 date-time")
        }
        return value
    }

    /// A path parameter as text, percent-decoded (the router hands it over as sent).
    static func pathString(_ context: some RequestContext, _ name: String) -> String? {
        guard let raw = context.parameters.get(name) else { return nil }
        return raw.removingPercentEncoding ?? raw
    }

    static func pathUUID(_ context: some RequestContext, _ name: String) throws -> UUID {
        guard let text = context.parameters.get(name), let value = UUID(hyphenated: text) else {
            throw ProblemCatalog.notFound
        }
        return value
    }
}
