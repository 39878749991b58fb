internal import Gossip
public import Metrics
import Wire

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
    private let objects: MetricObjects

    /// Metrics made by `factory` (the global `MetricsSystem.factory` by default).
    public init(factory: any MetricsFactory = MetricsSystem.factory) {
        self.objects = MetricObjects(factory: factory)
    }

    func height(channel: String, _ height: UInt64) {
        self.objects.gauge("gossip_state_height", [("channel", channel)]).record(Double(height))
    }

    func commitDuration(channel: String, _ duration: Duration) {
        self.objects.timer("gossip_state_commit_duration", [("channel", channel)])
            .recordNanoseconds(duration.nanoseconds)
    }

    func bufferSize(channel: String, _ size: Int) {
        self.objects.gauge("gossip_payload_buffer_size", [("channel", channel)]).record(Double(size))
    }

    func payloadRejected(channel: String, reason: String) {
        self.objects.counter("gossip_state_payloads_rejected", [("channel", channel), ("reason", reason)]).increment()
    }

    func badResponse(channel: String, reason: StateResponseCheck.Reason) {
        self.objects.counter("gossip_state_bad_responses", [("channel", channel), ("reason", reason.rawValue)])
            .increment()
    }

    func requestRefused(channel: String, reason: String) {
        self.objects.counter("gossip_state_requests_refused", [("channel", channel), ("reason", reason)]).increment()
    }

    func requestServed(channel: String) {
        self.objects.counter("gossip_state_requests_served", [("channel", channel)]).increment()
    }

    func transferAbandoned(channel: String) {
        self.objects.counter("gossip_state_transfers_abandoned", [("channel", channel)]).increment()
    }

    func commitFailed(channel: String) {
        self.objects.counter("gossip_state_commit_failures", [("channel", channel)]).increment()
        self.objects.gauge("gossip_state_commit_halted", [("channel", channel)]).record(1)
    }
}
