internal import Gossip
public import Metrics
internal import Synchronization

/// State transfer's metrics, created from an injected factory.
///
/// | metric | kind | dimensions |
/// |---|---|---|
/// | `gossip_state_height` | gauge: ledger height after each commit (Fabric's) | channel |
/// | `gossip_state_commit_duration` | timer: time the coordinator took per block (Fabric's, in seconds there) | channel |
/// | `gossip_payload_buffer_size` | gauge: payloads held (Fabric's) | channel |
/// | `gossip_state_payloads_rejected` | counter | channel, reason (tooFarAhead, full, malformed) |
/// | `gossip_state_bad_responses` | counter | channel, reason (``StateResponseCheck/Reason``) |
/// | `gossip_state_requests_refused` | counter | channel, reason (notReader, badRequest, queueFull) |
/// | `gossip_state_requests_served` | counter | channel |
/// | `gossip_state_transfers_abandoned` | counter | channel |
/// | `gossip_state_commit_failures` | counter | channel |
/// | `gossip_state_commit_halted` | gauge: 1 while the commit loop is halted on a failed block | channel |
///
/// Block numbers are never dimensions (a hostile peer could otherwise create unbounded series); log lines name them.
public struct StateMetrics: Sendable {
    private final class Cache: Sendable {
        let counters = Mutex<[String: Counter]>([:])
        let gauges = Mutex<[String: Gauge]>([:])
        let timers = Mutex<[String: Timer]>([:])
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

    private func timer(_ label: String, _ dimensions: [(String, String)]) -> Timer {
        self.cache.timers.withLock { timers in
            let key = Self.key(label, dimensions)
            if let timer = timers[key] { return timer }
            let timer = Timer(label: label, dimensions: dimensions, factory: self.factory)
            timers[key] = timer
            return timer
        }
    }

    func height(channel: String, _ height: UInt64) {
        self.gauge("gossip_state_height", [("channel", channel)]).record(Double(height))
    }

    func commitDuration(channel: String, _ duration: Duration) {
        self.timer("gossip_state_commit_duration", [("channel", channel)]).recordNanoseconds(duration.nanoseconds)
    }

    func bufferSize(channel: String, _ size: Int) {
        self.gauge("gossip_payload_buffer_size", [("channel", channel)]).record(Double(size))
    }

    func payloadRejected(channel: String, reason: String) {
        self.counter("gossip_state_payloads_rejected", [("channel", channel), ("reason", reason)]).increment()
    }

    func badResponse(channel: String, reason: StateResponseCheck.Reason) {
        self.counter("gossip_state_bad_responses", [("channel", channel), ("reason", reason.rawValue)]).increment()
    }

    func requestRefused(channel: String, reason: String) {
        self.counter("gossip_state_requests_refused", [("channel", channel), ("reason", reason)]).increment()
    }

    func requestServed(channel: String) {
        self.counter("gossip_state_requests_served", [("channel", channel)]).increment()
    }

    func transferAbandoned(channel: String) {
        self.counter("gossip_state_transfers_abandoned", [("channel", channel)]).increment()
    }

    func commitFailed(channel: String) {
        self.counter("gossip_state_commit_failures", [("channel", channel)]).increment()
        self.gauge("gossip_state_commit_halted", [("channel", channel)]).record(1)
    }
}
