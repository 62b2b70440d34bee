import FerryCore
import FerryDelivery
import FerryIdentity
import FerryStorage
import Foundation
import Hummingbird

/// `/subscriptions`: where an application's events go.
struct SubscriptionController<Store: TenantStore & CatalogStore> {
    let store: Store
    let access: AccessControl<Store>
    /// Which target URLs a subscription may name (private addresses refused unless allowed).
    let targetPolicy: TargetPolicy
    /// Told when a replace enables or disables a subscription.
    let operationalEvents: any OperationalEventSink

    func addRoutes(to group: RouterGroup<FerryRequestContext>) {
        group.get("subscriptions") { request, context in
            let application = try await access.application(
                namedByQueryOf: request, for: try await context.caller(), .subscriptionList)
            let subscriptions = try await store.subscriptions(applicationID: application.id)
            return JSONBody.response(.array(subscriptions.map(Representation.subscription)))
        }
        group.post("subscriptions") { request, context in
            let draft = try await draft(from: request, context: context, subscriptionID: nil)
            let subscription = try await store.createSubscription(draft, secret: UUID())
            return JSONBody.response(Representation.subscription(subscription), status: .created)
        }
        group.get("subscriptions/:subscription_id") { _, context in
            let subscription = try await visibleSubscription(
                try Query.pathUUID(context, "subscription_id"), try await context.caller())
            return JSONBody.response(Representation.subscription(subscription))
        }
        group.put("subscriptions/:subscription_id") { request, context in
            let id = try Query.pathUUID(context, "subscription_id")
            let draft = try await draft(from: request, context: context, subscriptionID: id)
            let before = try await store.subscription(id: id)
            guard let subscription = try await store.replaceSubscription(id: id, with: draft) else {
                throw DomainError.notFound
            }
            if let before, let change = OperationalEvent.stateChange(from: before, to: subscription) {
                await operationalEvents.emit(change)
            }
            return JSONBody.response(Representation.subscription(subscription))
        }
        group.post("subscriptions/:subscription_id/secret/rotate") { request, context in
            let id = try Query.pathUUID(context, "subscription_id")
            let body = try await JSONBody.decode(SecretRotationBody.self, from: request)
            let application = try await access.application(
                body.applicationID.value, for: try await context.caller(), .subscriptionEdit,
                facts: [AuthorizationRequest.subscriptionID(id)])
            let grace = body.gracePeriodSeconds ?? SecretRotation.defaultGraceSeconds
            guard (0...SecretRotation.maximumGraceSeconds).contains(grace) else {
                var errors = ValidationErrors()
                errors.add(
                    "grace_period_seconds",
                    ValidationIssue(
                        code: "range",
                        message: "must be between 0 and \(SecretRotation.maximumGraceSeconds) seconds (30 days)",
                        params: ["min": .number(0), "max": .number(Double(SecretRotation.maximumGraceSeconds))]))
                throw DomainError.validation(errors)
            }
            guard
                let subscription = try await store.rotateSubscriptionSecret(
                    id: id, applicationID: application.id, secret: UUID(),
                    ed25519Key: StandardWebhookAsymmetricSigner.generatePrivateKey(),
                    previousUntil: Date().addingTimeInterval(TimeInterval(grace)))
            else { throw DomainError.notFound }
            return JSONBody.response(Representation.subscription(subscription))
        }
        group.delete("subscriptions/:subscription_id") { request, context in
            let id = try Query.pathUUID(context, "subscription_id")
            let application = try await access.application(
                namedByQueryOf: request, for: try await context.caller(), .subscriptionDelete,
                facts: [AuthorizationRequest.subscriptionID(id)])
            guard try await store.deleteSubscription(id: id, applicationID: application.id) else {
                throw DomainError.notFound
            }
            return JSONBody.noContent()
        }
    }

    /// Decodes and validates a subscription body in Hook0's order: labels check, authorization (creating, with the
    /// `labels` fact; replacing `subscriptionID`, with the `subscription_id` fact), then field rules.
    private func draft(from request: Request, context: FerryRequestContext, subscriptionID: UUID?) async throws
        -> SubscriptionDraft
    {
        let body = try await JSONBody.decode(SubscriptionBody.self, from: request)
        let submission = body.submission
        let labels = try submission.resolvedLabels()
        let caller = try await context.caller()
        if let subscriptionID {
            try await access.application(
                body.applicationID.value, for: caller, .subscriptionEdit,
                facts: [AuthorizationRequest.subscriptionID(subscriptionID)])
        } else {
            try await access.application(
                body.applicationID.value, for: caller, .subscriptionCreate,
                facts: [AuthorizationRequest.labels(labels)])
        }
        guard body.target.type == "http" else { throw DomainError.malformedBody("target.type must be \"http\"") }
        if let workers = body.dedicatedWorkers, !workers.isEmpty { throw DomainError.unauthorizedWorkers }
        return try submission.validated(targetPolicy: targetPolicy)
    }

    /// A live subscription the caller may see (unknown and foreign ids answer 404 alike).
    private func visibleSubscription(_ id: UUID, _ caller: Caller) async throws -> Subscription {
        guard let subscription = try await store.subscription(id: id),
            let application = try await store.application(id: subscription.applicationID),
            access.permits(caller, .subscriptionGet, on: application, facts: [AuthorizationRequest.subscriptionID(id)])
        else { throw DomainError.notFound }
        return subscription
    }
}
