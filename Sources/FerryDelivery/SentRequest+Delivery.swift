import FerryCore

extension SentRequest {
    /// What the history keeps of a delivery request (credential header values masked).
    public init(_ request: DeliveryRequest) {
        self.init(
            method: request.method, url: request.url,
            headers: Dictionary(request.headers.map { ($0.name, $0.value) }, uniquingKeysWith: { first, _ in first }))
    }
}
