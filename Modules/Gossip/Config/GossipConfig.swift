/// Every knob of the gossip core (`peer.gossip.*`, spec §9.2), with Fabric's **code** fallbacks as defaults
/// (where they differ from core.yaml, e.g. `sendBuffSize` 20, the code value is used).
///
/// Derived intervals (alive expiration check, reconnect interval, block and StateInfo expiry) are computed from
/// the knobs they depend on unless set explicitly, so a test can shrink every interval by setting a few.
public struct GossipConfig: Sendable, Hashable {
    /// peer.gossip.bootstrap: same-org peers dialled at start.
    public var bootstrapPeers: [String] = []
    /// peer.gossip.endpoint (or peer.address): the endpoint published to the own organisation, in the secret
    /// envelope of alive messages.
    public var internalEndpoint: String = ""
    /// peer.gossip.externalEndpoint: the endpoint published to other organisations; empty hides the peer from them.
    public var externalEndpoint: String = ""
    /// peer.gossip.membershipTrackerInterval.
    public var membershipTrackerInterval: Duration = .seconds(5)
    /// peer.gossip.maxBlockCountToStore: blocks kept for block pull.
    public var maxBlockCountToStore: Int = 10
    /// peer.gossip.maxPropagationBurstLatency: the emitter flushes at least this often.
    public var maxPropagationBurstLatency: Duration = .milliseconds(10)
    /// peer.gossip.maxPropagationBurstSize: the emitter flushes when this many messages are queued.
    public var maxPropagationBurstSize: Int = 10
    /// peer.gossip.propagateIterations: how many flushes a message is sent in.
    public var propagateIterations: Int = 1
    /// peer.gossip.propagatePeerNum: peers a message is pushed to per routing class.
    public var propagatePeerNum: Int = 3
    /// peer.gossip.pullInterval: block pull, identity pull and membership sync period. Must exceed
    /// digestWaitTime + responseWaitTime.
    public var pullInterval: Duration = .seconds(4)
    /// peer.gossip.pullPeerNum: peers contacted per pull round.
    public var pullPeerNum: Int = 3
    /// peer.gossip.requestStateInfoInterval.
    public var requestStateInfoInterval: Duration = .seconds(4)
    /// peer.gossip.publishStateInfoInterval.
    public var publishStateInfoInterval: Duration = .seconds(4)
    /// peer.gossip.publishCertPeriod: alive messages carry the identity for this long after start.
    public var publishCertPeriod: Duration = .seconds(10)
    /// peer.gossip.skipBlockVerification: read but unused, as in Fabric.
    public var skipBlockVerification: Bool = false
    /// peer.gossip.dialTimeout.
    public var dialTimeout: Duration = .seconds(3)
    /// peer.gossip.connTimeout: time to read the peer's handshake.
    public var connTimeout: Duration = .seconds(2)
    /// peer.gossip.recvBuffSize.
    public var recvBuffSize: Int = 20
    /// peer.gossip.sendBuffSize (code fallback 20; core.yaml says 200).
    public var sendBuffSize: Int = 20
    /// peer.gossip.digestWaitTime.
    public var digestWaitTime: Duration = .seconds(1)
    /// peer.gossip.requestWaitTime.
    public var requestWaitTime: Duration = .milliseconds(1500)
    /// peer.gossip.responseWaitTime.
    public var responseWaitTime: Duration = .seconds(2)
    /// peer.gossip.aliveTimeInterval.
    public var aliveTimeInterval: Duration = .seconds(5)
    /// peer.gossip.aliveExpirationTimeout; nil means the code fallback 5 × aliveTimeInterval.
    public var aliveExpirationTimeoutOverride: Duration? = nil
    /// peer.gossip.reconnectInterval; nil means the code fallback aliveExpirationTimeout.
    public var reconnectIntervalOverride: Duration? = nil
    /// peer.gossip.maxConnectionAttempts (bootstrap and anchor peers).
    public var maxConnectionAttempts: Int = 120
    /// peer.gossip.msgExpirationFactor: alive messages are kept aliveExpirationTimeout × this.
    public var msgExpirationFactor: Int = 20
    /// peer.gossip.election.leaderAliveThreshold: sets MsgExpirationTimeout (StateInfo and leadership expiry).
    public var leaderAliveThreshold: Duration = .seconds(10)
    /// Hard-coded in Fabric: probe handshakes use a 10 s stream deadline.
    public var probeHandshakeTimeout: Duration = .seconds(10)
    /// Hard-coded in Fabric: identities unused for this long are purged.
    public var identityUsageThreshold: Duration = .seconds(3600)
    /// The largest envelope accepted or sent (gRPC message size limit; Fabric's default 100 MiB).
    public var maxMessageSize: Int = 100 * 1024 * 1024

    /// A configuration with every code default.
    public init() {}

    /// aliveExpirationTimeout (code fallback 5 × aliveTimeInterval).
    public var aliveExpirationTimeout: Duration {
        self.aliveExpirationTimeoutOverride ?? self.aliveTimeInterval * 5
    }
    /// How often alive expiry is checked: aliveExpirationTimeout / 10.
    public var aliveExpirationCheckInterval: Duration { self.aliveExpirationTimeout.divided(by: 10) }
    /// reconnectInterval (code fallback aliveExpirationTimeout).
    public var reconnectInterval: Duration { self.reconnectIntervalOverride ?? self.aliveExpirationTimeout }
    /// How long alive messages stay in the membership message store: aliveExpirationTimeout × msgExpirationFactor.
    /// A member silent for longer is purged (except bootstrap and anchor peers).
    public var aliveMessageTTL: Duration { self.aliveExpirationTimeout * self.msgExpirationFactor }
    /// MsgExpirationTimeout = 10 × leaderAliveThreshold: StateInfo and leadership message expiry.
    public var msgExpirationTimeout: Duration { self.leaderAliveThreshold * 10 }
    /// BlockExpirationInterval = pullInterval × 100.
    public var blockExpirationInterval: Duration { self.pullInterval * 100 }
    /// StateInfoCacheSweepInterval = pullInterval × 5.
    public var stateInfoCacheSweepInterval: Duration { self.pullInterval * 5 }

    /// Checks the relations Fabric requires (pull interval longer than one pull round, positive counts).
    public func validate() throws(GossipError) {
        guard self.pullInterval > self.digestWaitTime + self.responseWaitTime else {
            throw GossipError(
                .badConfiguration,
                "peer.gossip.pullInterval (\(self.pullInterval)) must exceed digestWaitTime + responseWaitTime "
                    + "(\(self.digestWaitTime + self.responseWaitTime))"
            )
        }
        guard self.maxPropagationBurstSize > 0, self.propagatePeerNum >= 0, self.pullPeerNum >= 0,
            self.propagateIterations >= 0, self.maxBlockCountToStore >= 0
        else {
            throw GossipError(.badConfiguration, "gossip counts must not be negative (burst size must be positive)")
        }
        guard self.aliveTimeInterval > .zero, self.aliveExpirationTimeout > .zero else {
            throw GossipError(.badConfiguration, "peer.gossip.aliveTimeInterval must be positive")
        }
    }

    /// Every interval divided by `factor`: for simulations and tests that run the protocol faster than real time.
    public func scaled(down factor: Int) -> GossipConfig {
        var copy = self
        copy.maxPropagationBurstLatency = self.maxPropagationBurstLatency.divided(by: factor)
        copy.pullInterval = self.pullInterval.divided(by: factor)
        copy.requestStateInfoInterval = self.requestStateInfoInterval.divided(by: factor)
        copy.publishStateInfoInterval = self.publishStateInfoInterval.divided(by: factor)
        copy.publishCertPeriod = self.publishCertPeriod.divided(by: factor)
        copy.digestWaitTime = self.digestWaitTime.divided(by: factor)
        copy.requestWaitTime = self.requestWaitTime.divided(by: factor)
        copy.responseWaitTime = self.responseWaitTime.divided(by: factor)
        copy.aliveTimeInterval = self.aliveTimeInterval.divided(by: factor)
        copy.aliveExpirationTimeoutOverride = self.aliveExpirationTimeoutOverride.map { $0.divided(by: factor) }
        copy.reconnectIntervalOverride = self.reconnectIntervalOverride.map { $0.divided(by: factor) }
        copy.leaderAliveThreshold = self.leaderAliveThreshold.divided(by: factor)
        copy.membershipTrackerInterval = self.membershipTrackerInterval.divided(by: factor)
        return copy
    }
}
