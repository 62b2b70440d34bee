import FerryAPI
import FerryCore
import FerryIdentity
import FerryStorage
import Foundation
import Hummingbird

/// `/organizations/{organization}/applications/{application}/events`: an application's events, newest first, 50 a
/// page with a cursor to older ones, each linking to its page. Authorized as the API's `GET /events`
/// (`event:list`).
extension Dashboard {
    static var eventsPageSize: Int { 50 }

    func events(_ request: Request, _ context: FerryRequestContext) async throws -> Response {
        try await inApplication(request, context, .eventList) { scope in try await events(request, scope) }
    }

    private func events(_ request: Request, _ scope: ApplicationScope) async throws -> Response {
        let (signedIn, organization, application) = (scope.signedIn, scope.organization, scope.application)
        var before: EventCursor?
        if let text = request.uri.queryParameters["before"].map(String.init), !text.isEmpty {
            guard let position = PagePosition(text) else {
                return pages.page("error", errorPage(signedIn, Self.badFilter), status: .badRequest)
            }
            before = EventCursor(receivedAt: position.date, id: position.id)
        }
        let applicationPath = DashboardPaths.application(organization.id, application.id)
        let events = try await store.events(applicationID: application.id, before: before, limit: Self.eventsPageSize)
        var older: String?
        if events.count == Self.eventsPageSize, let last = events.last {
            var components = URLComponents()
            components.queryItems = [
                URLQueryItem(name: "before", value: PagePosition(date: last.receivedAt, id: last.id).text)
            ]
            older = applicationPath + "/events" + (components.string ?? "")
        }
        let rows = events.map { EventRow($0, applicationPath: applicationPath) }
        return applicationPage(
            "events", scope, tab: "events",
            EventsPage(
                events: rows,
                hasEvents: !rows.isEmpty, olderPage: older))
    }
}
