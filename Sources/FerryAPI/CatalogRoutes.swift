import FerryCore
import FerryIdentity
import FerryStorage
import Foundation
import Hummingbird

/// `/event_types` and `/subscriptions`.
struct CatalogRoutes<Store: FerryStore> {
    let api: APIContext<Store>

    func register(on router: Router<FerryRequestContext>) {
        router.get("/api/v1/event_types") { request, _ in
            let application = try await api.applicationFromQuery(
                request, caller: try await api.caller(request), .eventTypeList)
            let types = try await api.store.eventTypes(applicationID: application.id)
            return JSONBody.response(.array(types.map(Representation.eventType)))
        }
        router.post("/api/v1/event_types") { request, _ in
            let caller = try await api.caller(request)
            let body = try await JSONBody.decode(EventTypeBody.self, from: request)
            let application = try await api.access.application(body.applicationID.value, for: caller, .eventTypeCreate)
            let eventType = try Self.domain {
                try EventType.validated(service: body.service, resourceType: body.resourceType, verb: body.verb)
            }
            let stored = try await api.store.upsertEventType(applicationID: application.id, eventType)
            return JSONBody.response(Representation.eventType(stored), status: .created)
        }
        router.get("/api/v1/event_types/:event_type_name") { request, context in
            let application = try await api.applicationFromQuery(
                request, caller: try await api.caller(request), .eventTypeGet)
            guard let name = Query.pathString(context, "event_type_name"),
                let eventType = try await api.store.eventType(applicationID: application.id, name: name)
            else { throw ProblemCatalog.notFound }
            return JSONBody.response(Representation.eventType(eventType))
        }
        router.delete("/api/v1/event_types/:event_type_name") { request, context in
            let application = try await api.applicationFromQuery(
                request, caller: try await api.caller(request), .eventTypeDelete)
            guard let name = Query.pathString(context, "event_type_name"),
                try await api.store.deactivateEventType(applicationID: application.id, name: name)
            else { throw ProblemCatalog.notFound }
            return JSONBody.noContent()
        }
        registerSubscriptions(on: router)
    }

    private func registerSubscriptions(on router: Router<FerryRequestContext>) {
        router.get("/api/v1/subscriptions") { request, _ in
            let application = try await api.applicationFromQuery(
                request, caller: try await api.caller(request), .subscriptionList)
            let subscriptions = try await api.store.subscriptions(applicationID: application.id)
            return JSONBody.response(.array(subscriptions.map(Representation.subscription)))
        }
        router.post("/api/v1/subscriptions") { request, _ in
            let (_, draft) = try await draft(from: request, subscriptionID: nil)
            let subscription = try await api.store.createSubscription(draft, secret: UUID())
            return JSONBody.response(Representation.subscription(subscription), status: .created)
        }
        router.get("/api/v1/subscriptions/:subscription_id") { request, context in
            let caller = try await api.caller(request)
            let subscription = try await visibleSubscription(try Query.pathUUID(context, "subscription_id"), caller)
            return JSONBody.response(Representation.subscription(subscription))
        }
        router.put("/api/v1/subscriptions/:subscription_id") { request, context in
            let id = try Query.pathUUID(context, "subscription_id")
            let (_, draft) = try await draft(from: request, subscriptionID: id)
            guard let subscription = try await api.store.replaceSubscription(id: id, with: draft) else {
                throw ProblemCatalog.notFound
            }
            return JSONBody.response(Representation.subscription(subscription))
        }
        router.delete("/api/v1/subscriptions/:subscription_id") { request, context in
            let id = try Query.pathUUID(context, "subscription_id")
            let application = try await api.applicationFromQuery(
                request, caller: try await api.caller(request), .subscriptionDelete,
                facts: [AuthorizationRequest.subscriptionID(id)])
            guard try await api.store.deleteSubscription(id: id, applicationID: application.id) else {
                throw ProblemCatalog.notFound
            }
            return JSONBody.noContent()
        }
    }

    /// Decodes and validates a subscription body in Hook0's order: labels check, authorization (creating, with the
    /// `labels` fact; replacing `subscriptionID`, with the `subscription_id` fact), then field rules.
    private func draft(from request: Request, subscriptionID: UUID?) async throws -> (
        FerryCore.Application, SubscriptionDraft
    ) {
        let body = try await JSONBody.decode(SubscriptionBody.self, from: request)
        let submission = body.submission
        let labels = try Self.domain { try submission.resolvedLabels() }
        let caller = try await api.caller(request)
        let application =
            if let subscriptionID {
                try await api.access.application(
                    body.applicationID.value, for: caller, .subscriptionEdit,
                    facts: [AuthorizationRequest.subscriptionID(subscriptionID)])
            } else {
                try await api.access.application(
                    body.applicationID.value, for: caller, .subscriptionCreate,
                    facts: [AuthorizationRequest.labels(labels)])
            }
        guard body.target.type == "http" else {
            throw ProblemCatalog.jsonPayload.with(detail: "target.type must be \"http\"")
        }
        if let workers = body.dedicatedWorkers, !workers.isEmpty { throw ProblemCatalog.unauthorizedWorkers }
        let policy = api.configuration.targetPolicy
        return (application, try Self.domain { try submission.validated(targetPolicy: policy) })
    }

    /// A live subscription the caller may see (unknown and foreign ids answer 404 alike).
    private func visibleSubscription(_ id: UUID, _ caller: Caller) async throws -> Subscription {
        guard let subscription = try await api.store.subscription(id: id),
            let application = try await api.store.application(id: subscription.applicationID),
            api.access.permits(
                caller, .subscriptionGet, on: application, facts: [AuthorizationRequest.subscriptionID(id)])
        else { throw ProblemCatalog.notFound }
        return subscription
    }

    /// Runs a domain rule, turning its error into the matching problem.
    static func domain<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as DomainError {
            throw Problem(error)
        }
    }
}
