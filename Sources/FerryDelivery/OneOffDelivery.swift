import AsyncHTTPClient
import FerryCore
import FerryStorage
import Foundation

/// Sends one signed request outside the queue and records nothing: a dashboard's "test send". It goes through
/// exactly what a queued delivery goes through (`DeliveryRequest.build`'s signatures, the target guard, the same
/// HTTP client settings and limits), so what it shows is what a receiver gets.
public struct OneOffDelivery: Sendable {
    private let client: HTTPClient
    private let configuration: DeliveryConfiguration

    /// Sends with `client` (made by `HTTPDeliverer.makeClient`) under the worker's `configuration`.
    public init(client: HTTPClient, configuration: DeliveryConfiguration) {
        self.client = client
        self.configuration = configuration
    }

    /// The request as built for `job` at `now` (nil when it cannot be signed) and what sending it observed.
    public func send(_ job: DeliveryJob, at now: Date) async -> (request: DeliveryRequest?, AttemptObservation) {
        switch DeliveryRequest.build(
            for: job, at: now, signatureVersions: configuration.signatureVersions)
        {
        case .failure(let name):
            return (nil, .failed(name, elapsedMilliseconds: 0))
        case .success(let request):
            let deliverer = HTTPDeliverer(
                client: client,
                targetGuard: TargetGuard(policy: configuration.targetPolicy, dnsTimeout: configuration.dnsTimeout),
                configuration: configuration)
            let observation = await deliverer.deliver(request, tenant: job.applicationID)
            await deliverer.shutdown()
            return (request, observation)
        }
    }
}
