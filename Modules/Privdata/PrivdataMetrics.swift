public import Metrics

/// The private-data metrics of one channel (Fabric's `PrivdataMetrics`, same names), made once from an injected
/// factory. Every one is a timer (a histogram in seconds on the Prometheus endpoint) with the dimension `channel`.
///
/// | metric | what is timed |
/// |---|---|
/// | `gossip_privdata_validation_duration` | validating a block before its private data is looked for |
/// | `gossip_privdata_list_missing_duration` | deciding eligibility and taking data from the block and the transient store |
/// | `gossip_privdata_fetch_duration` | pulling what is still missing from other peers (retries included) |
/// | `gossip_privdata_commit_block_duration` | committing the block with its private data |
/// | `gossip_privdata_purge_duration` | purging the transient store after a commit |
/// | `gossip_privdata_send_duration` | distributing endorsement-time private data to peers |
/// | `gossip_privdata_reconciliation_duration` | one reconciliation cycle |
/// | `gossip_privdata_pull_duration` | one pull exchange with peers (commit-time or reconciliation) |
/// | `gossip_privdata_retrieve_duration` | answering one pull request from the transient store or the ledger |
///
/// One counter is this peer's own (Fabric has none like it): `gossip_privdata_reconciled_collections`, the
/// collections' private data of past blocks the reconciler committed, so an operator (or a test) sees
/// reconciliation make progress.
public struct PrivdataMetrics: Sendable {
    let validation: Timer
    let listMissing: Timer
    let fetch: Timer
    let commit: Timer
    let purge: Timer
    let send: Timer
    let reconciliation: Timer
    let pull: Timer
    let retrieve: Timer
    private let reconciledCollections: Counter

    /// The metrics of `channelID`, made by `factory` (the global `MetricsSystem.factory` by default).
    public init(channelID: String, factory: any MetricsFactory = MetricsSystem.factory) {
        func timer(_ name: String) -> Timer {
            Timer(label: "gossip_privdata_\(name)_duration", dimensions: [("channel", channelID)], factory: factory)
        }
        self.validation = timer("validation")
        self.listMissing = timer("list_missing")
        self.fetch = timer("fetch")
        self.commit = timer("commit_block")
        self.purge = timer("purge")
        self.send = timer("send")
        self.reconciliation = timer("reconciliation")
        self.pull = timer("pull")
        self.retrieve = timer("retrieve")
        self.reconciledCollections = Counter(
            label: "gossip_privdata_reconciled_collections",
            dimensions: [("channel", channelID)],
            factory: factory
        )
    }
}

extension PrivdataMetrics {
    /// Counts collections of past blocks whose private data the reconciler committed.
    func reconciled(_ count: Int) {
        if count > 0 { self.reconciledCollections.increment(by: count) }
    }
}

extension Timer {
    /// Runs `body` and records how long it took, whether it returned or threw.
    func time<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        let start = ContinuousClock.now
        defer { self.recordDuration(start.duration(to: .now)) }
        return try body()
    }

    /// Runs `body` and records how long it took, whether it returned or threw.
    func time<T, E: Error>(_ body: () async throws(E) -> T) async throws(E) -> T {
        let start = ContinuousClock.now
        defer { self.recordDuration(start.duration(to: .now)) }
        return try await body()
    }

    func recordDuration(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self.recordNanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
