import FerryCore
import Foundation

/// The methods each path answers, read from the served OpenAPI document, so a request with a method a path does
/// not take gets 405 with an `Allow` header (rather than 404), and the document and the answer cannot disagree.
struct RouteTable: Sendable {
    private struct Route: Sendable {
        /// Literal segments, and nil where the template has a `{parameter}`.
        let segments: [String?]
        let methods: [String]
    }

    private let routes: [Route]

    /// Reads the `paths` of an OpenAPI document; every `GET` also answers `HEAD`.
    init(openAPIDocument bytes: [UInt8]) {
        guard case .object(let document)? = try? JSONDecoder().decode(JSONValue.self, from: Data(bytes)),
            case .object(let paths)? = document["paths"]
        else {
            routes = []
            return
        }
        let verbs = ["get", "put", "post", "delete", "options", "head", "patch", "trace"]
        routes = paths.compactMap { template, item in
            guard case .object(let operations) = item else { return nil }
            var methods = verbs.filter { operations[$0] != nil }.map { $0.uppercased() }
            if methods.contains("GET") && !methods.contains("HEAD") { methods.append("HEAD") }
            let segments = template.split(separator: "/").map { part -> String? in
                part.hasPrefix("{") && part.hasSuffix("}") ? nil : String(part)
            }
            return Route(segments: segments, methods: methods)
        }
    }

    /// The methods `path` answers, in a stable order; empty when no route has that path.
    func allowedMethods(path: String) -> [String] {
        let parts = path.split(separator: "/").map(String.init)
        var methods: Set<String> = []
        for route in routes where route.segments.count == parts.count {
            let matches = zip(route.segments, parts).allSatisfy { segment, part in segment == nil || segment == part }
            if matches { methods.formUnion(route.methods) }
        }
        return methods.sorted()
    }
}
