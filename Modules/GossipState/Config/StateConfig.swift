/// The knobs of state transfer (`peer.gossip.state.*`, spec §6.2), with Fabric's **code** fallbacks as defaults,
/// plus the two `peer.gossip.*` keys the provider reads (commit mode and the straggler warning's leader settings).
public struct StateConfig: Sendable, Hashable {
    /// peer.gossip.state.enabled: whether this peer runs anti-entropy (code fallback **false** in v3). State
    /// requests are served either way.
    public var enabled: Bool = false
    /// peer.gossip.state.checkInterval: how often anti-entropy compares heights (10 s).
    public var checkInterval: Duration = .seconds(10)
    /// peer.gossip.state.responseTimeout: how long a state request waits for its response (3 s).
    public var responseTimeout: Duration = .seconds(3)
    /// peer.gossip.state.batchSize: the widest request (end − start ≤ batchSize, inclusive range) (10).
    public var batchSize: Int = 10
    /// peer.gossip.state.blockBufferSize: the non-blocking window ahead of the ledger height; the buffer holds at
    /// most twice this (20).
    public var blockBufferSize: Int = 20
    /// peer.gossip.state.maxRetries: a batch is sent at most maxRetries + 1 times (3).
    public var maxRetries: Int = 3
    /// peer.gossip.state.channelSize: state requests (and responses) queued at most (100).
    public var channelSize: Int = 100
    /// peer.gossip.nonBlockingCommitMode: whether ``GossipStateProvider/addPayload(_:)`` (the orderer path) drops
    /// instead of waiting when the buffer is full (false: blocking).
    public var nonBlockingCommitMode: Bool = false
    /// peer.gossip.useLeaderElection: only for the straggler warning (false).
    public var useLeaderElection: Bool = false
    /// peer.gossip.orgLeader: only for the straggler warning (code fallback false).
    public var orgLeader: Bool = false

    /// Hard-coded in Fabric: a gossiped block this far past the height marks a straggler (100 blocks).
    public static let stragglerThreshold: UInt64 = 100

    /// A configuration with every code default.
    public init() {}

    /// Whether the deliver path (``GossipStateProvider/addPayload(_:)``) waits for room in the buffer.
    public var blockingMode: Bool { !self.nonBlockingCommitMode }

    /// Checks that every count and interval is positive (PeerCore's loader checks the same).
    public func validate() throws(GossipStateError) {
        for (key, value) in [
            ("batchSize", self.batchSize), ("blockBufferSize", self.blockBufferSize),
            ("channelSize", self.channelSize),
        ] where value <= 0 {
            throw GossipStateError(.badConfiguration, "peer.gossip.state.\(key) must be positive, not \(value)")
        }
        guard self.maxRetries >= 0 else {
            throw GossipStateError(
                .badConfiguration,
                "peer.gossip.state.maxRetries must not be negative, not \(self.maxRetries)"
            )
        }
        for (key, value) in [("checkInterval", self.checkInterval), ("responseTimeout", self.responseTimeout)]
        where value <= .zero {
            throw GossipStateError(.badConfiguration, "peer.gossip.state.\(key) must be positive, not \(value)")
        }
    }
}
