public import Wire

/// Opens `Deliver` streams to orderers: the I/O edge of the deliverer, so the loop can run against a real gRPC
/// connection (``GRPCOrdererConnector``) or a fake.
public protocol OrdererConnector: Sendable {
    /// Connects to `endpoint`, opens `orderer.AtomicBroadcast/Deliver`, sends `seek`, and calls `onResponse` with
    /// every response in order until the stream ends.
    ///
    /// Returns when the orderer ends the stream; throws when the dial or the stream fails, or rethrows what
    /// `onResponse` throws (which ends the stream). Cancelling the calling task closes the connection.
    func deliver(
        to endpoint: OrdererConnectionSource.Endpoint,
        seek: Common_Envelope,
        onResponse: @escaping @Sendable (Orderer_DeliverResponse) async throws -> Void
    ) async throws
}
