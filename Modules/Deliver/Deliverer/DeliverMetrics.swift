public import Metrics
import Synchronization

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
    private final class Cache: Sendable {
        let counters = Mutex<[String: Counter]>([:])
        let gauges = Mutex<[String: Gauge]>([:])
    }

    let factory: any MetricsFactory
    private let cache = Cache()

    /// Metrics made by `factory` (the global `MetricsSystem.factory` by default).
    public init(factory: any MetricsFactory = MetricsSystem.factory) {
        self.factory = factory
    }

    private static func key(_ label: String, _ dimensions: [(String, String)]) -> String {
        ([label] + dimensions.map { "\($0.0)=\($0.1)" }).joined(separator: "\u{1}")
    }

    private func counter(_ label: String, _ dimensions: [(String, String)]) -> Counter {
        self.cache.counters.withLock { counters in
            let key = Self.key(label, dimensions)
            if let counter = counters[key] { return counter }
            let counter = Counter(label: label, dimensions: dimensions, factory: self.factory)
            counters[key] = counter
            return counter
        }
    }

    private func gauge(_ label: String, _ dimensions: [(String, String)]) -> Gauge {
        self.cache.gauges.withLock { gauges in
            let key = Self.key(label, dimensions)
            if let gauge = gauges[key] { return gauge }
            let gauge = Gauge(label: label, dimensions: dimensions, factory: self.factory)
            gauges[key] = gauge
            return gauge
        }
    }

    func blockReceived(channel: String) {
        self.counter("deliver_blocks_received", [("channel", channel)]).increment()
    }

    func blockRejected(channel: String, endpoint: String, number: UInt64, reason: String) {
        self.counter(
            "deliver_blocks_rejected",
            [("channel", channel), ("endpoint", endpoint), ("reason", reason)]
        ).increment()
        self.gauge("deliver_last_rejected_block", [("channel", channel), ("endpoint", endpoint)]).record(Double(number))
    }

    func connectionFailed(channel: String, endpoint: String, reason: String) {
        self.counter(
            "deliver_connection_failures",
            [("channel", channel), ("endpoint", endpoint), ("reason", reason)]
        ).increment()
    }

    func consecutiveFailures(channel: String, _ count: Int) {
        self.gauge("deliver_consecutive_failures", [("channel", channel)]).record(Double(count))
    }

    func gaveUp(channel: String) {
        self.counter("deliver_gave_up", [("channel", channel)]).increment()
    }
}
