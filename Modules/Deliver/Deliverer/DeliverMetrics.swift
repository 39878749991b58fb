public import Metrics
import Wire

/// The deliver client's metrics, created from an injected factory.
///
/// | metric | kind | dimensions |
/// |---|---|---|
/// | `deliver_blocks_received` | counter | channel |
/// | `deliver_blocks_rejected` | counter | channel, endpoint, reason (badBlock, badConfig, handoff) |
/// | `deliver_last_rejected_block` | gauge (block number) | channel, endpoint |
/// | `deliver_connection_failures` | counter | channel, endpoint, reason (connection, badStatus, tls, noEndpoint) |
/// | `deliver_consecutive_failures` | gauge | channel |
/// | `deliver_gave_up` | counter | channel |
///
/// Metric objects are made once per label and dimensions and reused.
public struct DeliverMetrics: Sendable {
    private let objects: MetricObjects

    /// Metrics made by `factory` (the global `MetricsSystem.factory` by default).
    public init(factory: any MetricsFactory = MetricsSystem.factory) {
        self.objects = MetricObjects(factory: factory)
    }

    func blockReceived(channel: String) {
        self.objects.counter("deliver_blocks_received", [("channel", channel)]).increment()
    }

    func blockRejected(channel: String, endpoint: String, number: UInt64, reason: String) {
        self.objects.counter(
            "deliver_blocks_rejected",
            [("channel", channel), ("endpoint", endpoint), ("reason", reason)]
        ).increment()
        self.objects.gauge("deliver_last_rejected_block", [("channel", channel), ("endpoint", endpoint)]).record(
            Double(number)
        )
    }

    func connectionFailed(channel: String, endpoint: String, reason: String) {
        self.objects.counter(
            "deliver_connection_failures",
            [("channel", channel), ("endpoint", endpoint), ("reason", reason)]
        ).increment()
    }

    func consecutiveFailures(channel: String, _ count: Int) {
        self.objects.gauge("deliver_consecutive_failures", [("channel", channel)]).record(Double(count))
    }

    func gaveUp(channel: String) {
        self.objects.counter("deliver_gave_up", [("channel", channel)]).increment()
    }
}
