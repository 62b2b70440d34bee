import FerryCore
import FerryDelivery
import FerryIdentity
import FerryObservability
import FerryStorage
import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

/// `/subscriptions/{id}/relay`: the server side of `ferry listen`. A relayed subscription's attempts are never sent
/// by workers; a listening client holds a stream (`GET`, one JSON object per line) on which this controller leases
/// the subscription's due attempts, at most `RelaySettings.inFlight` unanswered at once, and hands over each signed
/// request, and the client posts the answer of its local receiver back (`POST …/relay/{attempt_id}`), which is
/// recorded as the attempt's response, retries included, exactly as a worker would. A stream lasts at most
/// `RelaySettings.streamLifetime`, then asks the client to reconnect, which authenticates it again. Leases make it safe: an attempt whose answer never comes is leased again after
/// `lease`, so a client that drops its stream loses nothing (at-least-once, as every delivery). Both requests name
/// their lease only by its random claim token, so an answer can land on any API process sharing the database.
struct RelayController<Store: FerryStore> {
    let store: Store
    let access: AccessControl<Store>
    let settings: RelaySettings
    let metrics: FerryMetrics
    let logger: Logger
    /// One recorder for every answer, so its memo of healthy subscriptions spares their writes.
    let recorder: OutcomeRecorder<Store>

    init(
        store: Store, access: AccessControl<Store>, settings: RelaySettings, metrics: FerryMetrics,
        operationalEvents: any OperationalEventSink, logger: Logger
    ) {
        self.store = store
        self.access = access
        self.settings = settings
        self.metrics = metrics
        self.logger = logger
        recorder = OutcomeRecorder(
            queue: store, retryPolicy: settings.retryPolicy, failingRule: settings.failingRule,
            operationalEvents: operationalEvents, logger: logger, metrics: metrics)
    }

    func addRoutes(to group: RouterGroup<FerryRequestContext>) {
        group.get("subscriptions/:subscription_id/relay") { request, context in
            let subscription = try await relayedSubscription(
                try Query.pathUUID(context, "subscription_id"), application: try Query.uuid(request, "application_id"),
                caller: try await context.caller())
            var headers = HTTPFields()
            headers[.contentType] = "application/x-ndjson"
            headers[.cacheControl] = "no-store"
            return Response(
                status: .ok, headers: headers,
                body: ResponseBody { writer in
                    try await stream(subscription, to: &writer)
                })
        }
        group.post("subscriptions/:subscription_id/relay/:attempt_id") { request, context in
            let body = try await JSONBody.decode(RelayAnswerBody.self, from: request)
            let subscription = try await relayedSubscription(
                try Query.pathUUID(context, "subscription_id"), application: body.applicationID.value,
                caller: try await context.caller())
            let attemptID = try Query.pathUUID(context, "attempt_id")
            guard
                let attempt = try await store.requestAttempt(id: attemptID, applicationID: subscription.applicationID),
                attempt.subscriptionID == subscription.id
            else { throw DomainError.notFound }
            let observation = try observation(from: body)
            let job = DeliveryJob(
                attemptID: attempt.id, claimToken: body.claimToken.value, applicationID: attempt.applicationID,
                eventID: attempt.eventID, eventType: attempt.eventType, payload: [], payloadContentType: "",
                subscriptionID: subscription.id, secret: subscription.secret, target: subscription.target,
                retryCount: attempt.retryCount, retry: subscription.retry, isOrdered: subscription.isOrdered)
            // The relay counts the attempt in flight only while it is answered, so the gauge nets to zero.
            metrics.deliveryStarted()
            let recorded = await recorder.record(observation, for: job)
            return JSONBody.response(.object(["recorded": .bool(recorded)]))
        }
    }

    /// The subscription if it is live, relayed, in `application`, and the caller may edit it (who may point a
    /// subscription anywhere may as well receive its deliveries).
    private func relayedSubscription(_ id: UUID, application applicationID: UUID, caller: Caller) async throws
        -> Subscription
    {
        try await access.application(
            applicationID, for: caller, .subscriptionEdit, facts: [AuthorizationRequest.subscriptionID(id)])
        guard let subscription = try await store.subscription(id: id), subscription.applicationID == applicationID
        else { throw DomainError.notFound }
        guard subscription.isRelayed else {
            throw DomainError.malformedBody(
                "subscription \(id.lowercased) is not relayed: only a subscription created with \"relayed\": true "
                    + "(as ferry listen creates it) hands its deliveries to a stream")
        }
        return subscription
    }

    /// Leases and writes the subscription's due deliveries until the client goes away, the subscription is deleted
    /// or made unrelayed, the stream's lifetime ends (`reconnect`) or the server shuts down; a heartbeat line goes
    /// out when nothing else has for a while.
    private func stream(_ subscription: Subscription, to writer: inout any ResponseBodyWriter) async throws {
        try await writer.write(
            line([
                "type": .string("ready"), "subscription_id": .string(subscription.id.lowercased),
                "response_body_limit": .number(Double(settings.responseBodyLimit)),
            ]))
        let opened = ContinuousClock.now
        var lastWrite = ContinuousClock.now
        var lastCheck = ContinuousClock.now
        relaying: while !Task.isCancelled && !Task.isShuttingDownGracefully {
            let jobs: [DeliveryJob]
            do {
                jobs = try await StorageDeadline.$current.withValue(ContinuousClock.now + settings.storageTimeout) {
                    try await store.claimRelayedJobs(
                        subscriptionID: subscription.id, limit: settings.inFlight, leaseFor: settings.lease)
                }
            } catch {
                logger.warning(
                    "relay claim failed",
                    metadata: ["subscription_id": "\(subscription.id.lowercased)", "error": "\(error)"])
                try await Task.sleep(for: settings.pollInterval)
                continue
            }
            for job in jobs {
                try await writer.write(delivery(job))
                lastWrite = ContinuousClock.now
            }
            if !jobs.isEmpty { continue }
            if ContinuousClock.now - opened >= settings.streamLifetime {
                try await writer.write(line(["type": .string("reconnect")]))
                break relaying
            }
            if ContinuousClock.now - lastCheck >= settings.heartbeat {
                lastCheck = ContinuousClock.now
                let stillRelayed: Bool
                do {
                    stillRelayed = try await store.subscription(id: subscription.id)?.isRelayed == true
                } catch {
                    // A storage failure here keeps the stream going: the next claim reports it.
                    stillRelayed = true
                }
                if !stillRelayed {
                    try await writer.write(
                        line([
                            "type": .string("end"),
                            "reason": .string("the subscription was deleted or is no longer relayed"),
                        ]))
                    break relaying
                }
            }
            if ContinuousClock.now - lastWrite >= settings.heartbeat {
                try await writer.write(line(["type": .string("heartbeat")]))
                lastWrite = ContinuousClock.now
            }
            await store.workSignal.wait(timeout: settings.pollInterval)
        }
        try await writer.finish(nil)
    }

    /// One delivery line: the lease and the exact signed request a worker would send.
    private func delivery(_ job: DeliveryJob) -> ByteBuffer {
        var object: [String: JSONValue] = [
            "type": .string("delivery"), "attempt_id": .string(job.attemptID.lowercased),
            "claim_token": .string(job.claimToken.lowercased), "event_id": .string(job.eventID.lowercased),
            "event_type": .string(job.eventType), "retry_count": .number(Double(job.retryCount)),
        ]
        switch DeliveryRequest.build(
            for: job, at: Date(), signatureVersions: settings.signatureVersions)
        {
        case .success(let request):
            object["method"] = .string(request.method)
            object["url"] = .string(request.url)
            object["headers"] = .array(request.headers.map { .array([.string($0.name), .string($0.value)]) })
            object["body"] = .string(Data(request.body).base64EncodedString())
        case .failure(let name):
            object["error"] = .string(name.rawValue)
        }
        return line(object)
    }

    private func line(_ object: [String: JSONValue]) -> ByteBuffer {
        var bytes = JSONValue.object(object).encoded()
        bytes.append(UInt8(ascii: "\n"))
        return ByteBuffer(bytes: bytes)
    }

    /// The attempt's observation from the client's answer; the body is kept up to the delivery body limit.
    private func observation(from body: RelayAnswerBody) throws -> AttemptObservation {
        if let error = body.error {
            guard let name = ResponseErrorName(rawValue: error) else {
                throw DomainError.malformedBody(
                    "error must be one of " + ResponseErrorName.allCases.map(\.rawValue).joined(separator: ", "))
            }
            return .failed(name, elapsedMilliseconds: max(0, body.elapsedMilliseconds))
        }
        guard let status = body.status, (100...599).contains(status) else {
            throw DomainError.malformedBody("an answer needs a status from 100 to 599, or an error")
        }
        var bytes: [UInt8] = []
        if let text = body.body {
            guard let data = Data(base64Encoded: text) else { throw DomainError.malformedBody("body must be base64") }
            bytes = Array(data)
        }
        let truncated = bytes.count > settings.responseBodyLimit
        let headers = Dictionary(
            (body.headers ?? [:]).map { ($0.key.lowercased(), $0.value) }, uniquingKeysWith: { first, _ in first })
        return .answered(
            status: status, headers: headers, body: Array(bytes.prefix(settings.responseBodyLimit)),
            truncated: truncated, elapsedMilliseconds: max(0, body.elapsedMilliseconds),
            retryAfterSeconds: RetryAfter.seconds(headers["retry-after"]))
    }
}
