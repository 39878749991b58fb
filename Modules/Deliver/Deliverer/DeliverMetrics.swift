public import Metrics

/// The deliver client's metrics, created from an injected factory.
///
/// | metric | kind | dimensions |
/// |---|---|---|
/// | `deliver_blocks_received` | counter | channel |
/// | `deliver_blocks_rejected` | counter | channel, endpoint, reason (badBlock, badConfig, handoff) |
/// | `deliver_last_rejected_block` | gauge (block number) | channel, endpoint |
/// | `deliver_connection_failures` | counter | channel, endpoint, reason (connection, badStatus, noEndpoint) |
/// | `deliver_consecutive_failures` | gauge | channel |
/// | `deliver_gave_up` | counter | channel |
public struct DeliverMetrics: Sendable {
    let factory: any MetricsFactory

    /// Metrics made by `factory` (the global `MetricsSystem.factory` by default).
    public init(factory: any MetricsFactory = MetricsSystem.factory) {
        self.factory = factory
    }

    func blockReceived(channel: String) {
        Counter(label: "deliver_blocks_received", dimensions: [("channel", channel)], factory: self.factory).increment()
    }

    func blockRejected(channel: String, endpoint: String, number: UInt64, reason: String) {
        Counter(
            label: "deliver_blocks_rejected",
            dimensions: [("channel", channel), ("endpoint", endpoint), ("reason", reason)],
            factory: self.factory
        ).increment()
        Gauge(
            label: "deliver_last_rejected_block",
            dimensions: [("channel", channel), ("endpoint", endpoint)],
            factory: self.factory
        ).record(Double(number))
    }

    func connectionFailed(channel: String, endpoint: String, reason: String) {
        Counter(
            label: "deliver_connection_failures",
            dimensions: [("channel", channel), ("endpoint", endpoint), ("reason", reason)],
            factory: self.factory
        ).increment()
    }

    func consecutiveFailures(channel: String, _ count: Int) {
        Gauge(label: "deliver_consecutive_failures", dimensions: [("channel", channel)], factory: self.factory)
            .record(Double(count))
    }

    func gaveUp(channel: String) {
        Counter(label: "deliver_gave_up", dimensions: [("channel", channel)], factory: self.factory).increment()
    }
}
