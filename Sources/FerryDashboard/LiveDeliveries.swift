import FerryAPI
import FerryCore
import FerryIdentity
import FerryStorage
import Foundation
import HTTPTypes
import Hummingbird
import ServiceLifecycle

/// `…/deliveries/live`: the delivery log's first page as a Server-Sent Events stream. Each message is one attempt's
/// row, rendered by the same template as the page, sent when the attempt is new or its status changed; the page's
/// script puts it in place by the attempt's id. The stream reads the store (not an in-process signal), so it shows
/// attempts recorded by any `ferry worker` process on PostgreSQL too.
///
/// Each message's id is the position of the newest attempt sent so far. A browser reconnecting after a cut sends
/// it back as `Last-Event-ID`, and the stream first sends every attempt created since (up to `catchUpLimit`), so
/// none is missed even when more than a page arrived meanwhile. A stream ends after `lifetime` (the browser
/// reconnects at once) and when the server shuts down.
extension Dashboard {
    /// How often the stream looks for changes: within a second of a change, it is on the page.
    static var livePollInterval: Duration { .milliseconds(400) }
    /// Most attempts sent on a reconnect's catch-up.
    static var catchUpLimit: Int { 500 }

    func liveDeliveries(_ request: Request, _ context: FerryRequestContext) async throws -> Response {
        try await inApplication(request, context, .requestAttemptList) { scope in
            guard let filter = DeliveriesFilter(request), filter.after == nil else {
                return pages.page("error", errorPage(scope.signedIn, Self.badFilter), status: .badRequest)
            }
            let resumeFrom = request.headers[.lastEventID].flatMap(PagePosition.init)
            let stream = LiveStream(
                store: store, pages: pages, applicationPath: scope.path, filter: filter,
                applicationID: scope.application.id, lifetime: liveStreamLifetime)
            return Response(
                status: .ok,
                headers: [.contentType: "text/event-stream; charset=utf-8", .cacheControl: "no-store"],
                body: ResponseBody { writer in
                    try await stream.run(resumingFrom: resumeFrom, into: &writer)
                })
        }
    }
}

/// One browser's stream of the delivery log.
struct LiveStream<Store: FerryStore>: Sendable {
    let store: Store
    let pages: PageRenderer
    let applicationPath: String
    let filter: DeliveriesFilter
    let applicationID: UUID
    let lifetime: Duration

    func run(resumingFrom position: PagePosition?, into writer: inout any ResponseBodyWriter) async throws {
        // The browser waits this long before reconnecting after a cut.
        try await writer.write(ByteBuffer(string: "retry: 1000\n\n"))
        var shown: [UUID: AttemptRow] = [:]
        var newest = position
        if let position {
            let missed = try await attempts(since: position.date, limit: Dashboard<Store>.catchUpLimit)
            try await send(missed, shown: &shown, newest: &newest, into: &writer)
        }
        let end = ContinuousClock.now + lifetime
        while ContinuousClock.now < end, !Task.isCancelled, !Task.isShuttingDownGracefully {
            let page = try await attempts(since: nil, limit: Dashboard<Store>.deliveriesPageSize)
            try await send(page, shown: &shown, newest: &newest, into: &writer)
            // A comment keeps the connection alive through proxies, and fails at once when the browser left.
            try await writer.write(ByteBuffer(string: ":\n\n"))
            try? await cancelWhenGracefulShutdown {
                try await Task.sleep(for: min(Dashboard<Store>.livePollInterval, end - ContinuousClock.now))
            }
        }
        try await writer.finish(nil)
    }

    /// The filter's attempts, newest first: the first page, or every one created at or after `since`.
    private func attempts(since: Date?, limit: Int) async throws -> [RequestAttempt] {
        try await store.requestAttempts(filter.attemptQuery(applicationID: applicationID, since: since, limit: limit))
    }

    /// Sends each attempt whose row (compared before it is rendered) differs from what this stream last sent for
    /// it, oldest first (so a page that
    /// puts each new row on top ends newest first).
    private func send(
        _ attempts: [RequestAttempt], shown: inout [UUID: AttemptRow], newest: inout PagePosition?,
        into writer: inout any ResponseBodyWriter
    ) async throws {
        let now = Date()
        var message = ""
        for attempt in attempts.reversed() {
            let row = AttemptRow(attempt, applicationPath: applicationPath, at: now)
            guard shown[attempt.id] != row else { continue }
            shown[attempt.id] = row
            let html = pages.render("_attempt_row", row).split(whereSeparator: \.isNewline)
                .map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " ")
            if newest.map({ ($0.date, $0.id.uuidString) < (attempt.createdAt, attempt.id.uuidString) }) ?? true {
                newest = PagePosition(date: attempt.createdAt, id: attempt.id)
            }
            message += "event: attempt\n"
            if let newest { message += "id: \(newest.text)\n" }
            message += "data: \(html)\n\n"
        }
        guard !message.isEmpty else { return }
        try await writer.write(ByteBuffer(string: message))
    }
}

extension HTTPField.Name {
    static var lastEventID: Self { HTTPField.Name("Last-Event-ID")! }
}
