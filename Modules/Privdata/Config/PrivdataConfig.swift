/// The private-data settings of `peer.gossip.pvtData.*` (spec §5.2), with Fabric's code fallbacks for keys that
/// are absent (``init()``) and its core.yaml defaults (``coreYAMLDefaults``).
public struct PrivdataConfig: Sendable, Hashable {
    /// How long the coordinator keeps pulling missing private data of a block from other peers before it
    /// commits without it (`pullRetryThreshold`). Zero: no pulling at all.
    public var pullRetryThreshold: Duration = .zero
    /// Transient-store entries received more than this many blocks ago are purged
    /// (`transientstoreMaxBlockRetention`; 0 means the default 20000).
    public var transientBlockRetention: UInt64 = 20000
    /// How long distribution waits for acknowledgements (`pushAckTimeout`); must be positive to distribute.
    public var pushAckTimeout: Duration = .zero
    /// Data of a block is not pulled from a peer that will purge it within this many blocks (`btlPullMargin`).
    public var btlPullMargin: UInt64 = 10
    /// How many blocks with missing data one reconciliation round asks for (`reconcileBatchSize`).
    public var reconcileBatchSize: Int = 10
    /// The pause between reconciliation rounds (`reconcileSleepInterval`).
    public var reconcileSleepInterval: Duration = .seconds(60)
    /// Whether missing eligible data of old blocks is reconciled (`reconciliationEnabled`).
    public var reconciliationEnabled: Bool = false
    /// How often the reconciler takes its batch from the deprioritized list (entries whose reconciliation failed
    /// before) instead of the prioritized one. Fabric's `ledger.pvtdataStore.deprioritizedDataReconcilerInterval`
    /// (60 minutes); a ledger key in Fabric, here with the reconciler that acts on it.
    public var deprioritizedDataReconcilerInterval: Duration = .seconds(3600)
    /// Whether the coordinator skips pulling the private data of invalid transactions
    /// (`skipPullingInvalidTransactionsDuringCommit`).
    public var skipPullingInvalidTransactionsDuringCommit: Bool = false
    /// The dissemination policy of the own organisation's implicit collection
    /// (`implicitCollectionDisseminationPolicy.requiredPeerCount` / `.maxPeerCount`).
    public var implicitCollectionDisseminationPolicy = ImplicitCollectionDisseminationPolicy()

    /// The code fallbacks: what a peer uses when a key is absent from its configuration.
    public init() {}

    /// The values core.yaml ships with (60s pull threshold, 3s ack timeout, reconciliation on, …).
    public static var coreYAMLDefaults: PrivdataConfig {
        var config = PrivdataConfig()
        config.pullRetryThreshold = .seconds(60)
        config.pushAckTimeout = .seconds(3)
        config.reconciliationEnabled = true
        return config
    }

    /// The (required, maximum) peer counts for the own organisation's implicit collection.
    public struct ImplicitCollectionDisseminationPolicy: Sendable, Hashable {
        /// Peers that must acknowledge a push.
        public var requiredPeerCount: Int = 0
        /// Peers a push goes to at most.
        public var maxPeerCount: Int = 1

        /// Creates the policy.
        public init(requiredPeerCount: Int = 0, maxPeerCount: Int = 1) {
            self.requiredPeerCount = requiredPeerCount
            self.maxPeerCount = maxPeerCount
        }
    }

    /// The configuration with Fabric's corrections applied: a retention of 0 becomes 20000. Fabric panics on a
    /// negative required count or a maximum below the required count; this throws instead.
    public func validated() throws(PrivdataError) -> PrivdataConfig {
        var config = self
        if config.transientBlockRetention == 0 { config.transientBlockRetention = 20000 }
        if config.reconcileBatchSize <= 0 { config.reconcileBatchSize = 10 }
        if config.reconcileSleepInterval <= .zero { config.reconcileSleepInterval = .seconds(60) }
        if config.deprioritizedDataReconcilerInterval <= .zero { config.deprioritizedDataReconcilerInterval = .seconds(3600) }
        let policy = config.implicitCollectionDisseminationPolicy
        guard policy.requiredPeerCount >= 0 else {
            throw PrivdataError(
                .badConfiguration,
                "peer.gossip.pvtData.implicitCollectionDisseminationPolicy.requiredPeerCount is "
                    + "\(policy.requiredPeerCount); it must not be negative"
            )
        }
        guard policy.maxPeerCount >= policy.requiredPeerCount else {
            throw PrivdataError(
                .badConfiguration,
                "peer.gossip.pvtData.implicitCollectionDisseminationPolicy.maxPeerCount (\(policy.maxPeerCount)) "
                    + "is below requiredPeerCount (\(policy.requiredPeerCount))"
            )
        }
        return config
    }
}
