import Crypto
import Foundation
import Hummingbird
import Mustache

/// Renders the dashboard's pages from the templates compiled into the binary, and serves its static files under
/// names that carry a hash of their content (so they can be cached forever and still change with a release).
struct PageRenderer: Sendable {
    let library: MustacheLibrary
    /// Static files by their served name (`ferry.3f2a9c1b.css`), with their content type.
    let assets: [String: (body: String, contentType: String)]
    /// The served name of each static file, by file name.
    let assetPaths: [String: String]

    init() {
        var library = MustacheLibrary()
        for (name, text) in EmbeddedFiles.templates {
            do {
                try library.register(text, named: name)
            } catch {
                preconditionFailure("the dashboard's template \(name) does not parse: \(error)")
            }
        }
        self.library = library
        var assets: [String: (String, String)] = [:]
        var paths: [String: String] = [:]
        for (file, body) in EmbeddedFiles.assets {
            let digest = SHA256.hash(data: Array(body.utf8)).prefix(6).map { String(format: "%02x", $0) }.joined()
            let dot = file.lastIndex(of: ".") ?? file.endIndex
            let served = file[..<dot] + "." + digest + file[dot...]
            assets[served] = (body, Self.contentType(of: file))
            paths[file] = "/assets/" + served
        }
        self.assets = assets
        assetPaths = paths
    }

    /// Where the layout links the stylesheet and the icon.
    var paths: AssetPaths {
        AssetPaths(
            stylesheet: assetPaths["ferry.css"] ?? "/assets/ferry.css",
            icon: assetPaths["ferry.svg"] ?? "/assets/ferry.svg",
            script: assetPaths["ferry.js"] ?? "/assets/ferry.js")
    }

    /// `template` rendered with `page`.
    func render(_ template: String, _ page: Any) -> String {
        library.render(page, withTemplate: template) ?? ""
    }

    /// A page: `template` rendered with `page`, as HTML.
    func page(_ template: String, _ page: Any, status: HTTPResponse.Status = .ok) -> Response {
        let html = render(template, page)
        return Response(
            status: status, headers: [.contentType: "text/html; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: html)))
    }

    /// A static file, or nil for an unknown name.
    func asset(_ name: String) -> Response? {
        guard let (body, contentType) = assets[name] else { return nil }
        return Response(
            status: .ok,
            headers: [.contentType: contentType, .cacheControl: "public, max-age=31536000, immutable"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
    }

    static func contentType(of file: String) -> String {
        if file.hasSuffix(".css") { return "text/css; charset=utf-8" }
        if file.hasSuffix(".js") { return "text/javascript; charset=utf-8" }
        if file.hasSuffix(".svg") { return "image/svg+xml" }
        return "application/octet-stream"
    }
}
