import FerryAPI
import FerryCore
import FerryIdentity
import FerryStorage
import Foundation
import Hummingbird

/// `…/deliveries/{attempt}`: one delivery attempt: its status, the request as it was sent (method, URL, headers with
/// credentials masked, the signatures, the body) and the receiver's answer (status, headers, body, time) or the
/// transport failure in words. Authorized as the API's `GET /request_attempts` (`request_attempt:get`); the answer
/// is shown when the person may read responses (`response:get`), as the API's `GET /responses/{id}`.
extension Dashboard {
    func attemptPage(_ request: Request, _ context: FerryRequestContext) async throws -> Response {
        try await inApplication(request, context, .requestAttemptGet) { scope in
            guard let attemptID = UUID(uuidString: context.parameters.get("attempt_id") ?? ""),
                let attempt = try await store.requestAttempt(id: attemptID, applicationID: scope.application.id)
            else { return notFound(scope) }
            let event = try await store.event(id: attempt.eventID, applicationID: scope.application.id)
            var response: AttemptResponse?
            if may(scope, .responseGet), let responseID = attempt.responseID {
                response = try await store.response(id: responseID, applicationID: scope.application.id)
            }
            let subscription = try await store.subscription(id: attempt.subscriptionID)
            var retryPath: String?
            if may(scope, .eventReplay), subscription?.isEnabled == true {
                retryPath = scope.path + "/deliveries/" + attemptID.lowercased + "/retry"
            }
            return applicationPage(
                "attempt", scope, tab: "deliveries",
                AttemptDetail(
                    attempt: AttemptRow(attempt, applicationPath: scope.path, at: Date()), retryPath: retryPath,
                    response: response.map { ExchangeView($0, payload: event.map { BodyText.shown($0.payload) }) },
                    responseHidden: attempt.responseID != nil && response == nil))
        }
    }
}

/// An attempt's page.
struct AttemptDetail: Sendable {
    var attempt: AttemptRow
    var retryPath: String?
    var response: ExchangeView?
    /// True when the attempt has an answer the person may not read.
    var responseHidden: Bool
}
