/// The timing of leader election (`peer.gossip.election.*`, spec §7.2; code defaults).
public struct ElectionConfig: Sendable, Hashable {
    /// How long to wait for membership to stabilise at start.
    public var startupGracePeriod: Duration = .seconds(15)
    /// How often the view size is sampled while waiting for membership.
    public var membershipSampleInterval: Duration = .seconds(1)
    /// A follower re-elects when no declaration arrived for this long; a leader re-declares every half of it.
    public var leaderAliveThreshold: Duration = .seconds(10)
    /// How long proposals are collected in an election round.
    public var leaderElectionDuration: Duration = .seconds(5)

    /// The code defaults.
    public init() {}

    /// Creates a configuration.
    public init(
        startupGracePeriod: Duration,
        membershipSampleInterval: Duration,
        leaderAliveThreshold: Duration,
        leaderElectionDuration: Duration
    ) {
        self.startupGracePeriod = startupGracePeriod
        self.membershipSampleInterval = membershipSampleInterval
        self.leaderAliveThreshold = leaderAliveThreshold
        self.leaderElectionDuration = leaderElectionDuration
    }

    /// How often a leader declares: leaderAliveThreshold / 2.
    public var declarationInterval: Duration { self.leaderAliveThreshold / 2 }

    /// How long a yield lasts: 6 × leaderAliveThreshold.
    public var yieldDuration: Duration { self.leaderAliveThreshold * 6 }

    /// Checks every duration is positive.
    public func validate() throws(ElectionError) {
        let all: [(String, Duration)] = [
            ("startupGracePeriod", self.startupGracePeriod),
            ("membershipSampleInterval", self.membershipSampleInterval),
            ("leaderAliveThreshold", self.leaderAliveThreshold),
            ("leaderElectionDuration", self.leaderElectionDuration),
        ]
        for (name, value) in all where value <= .zero {
            throw ElectionError(.badConfiguration, "peer.gossip.election.\(name) must be positive, is \(value)")
        }
    }
}

/// How a peer decides whether it pulls blocks from the ordering service for a channel.
public enum LeadershipMode: Sendable, Hashable {
    /// Dynamic leader election among the organisation's peers of the channel.
    case election(ElectionConfig)
    /// Always the leader (`peer.gossip.orgLeader: true`): never yields.
    case staticLeader
    /// Never the leader: blocks come from other peers only.
    case follower
}

/// The two switches of `peer.gossip` that choose the leadership mode.
public struct LeadershipSettings: Sendable, Hashable {
    /// peer.gossip.useLeaderElection.
    public var useLeaderElection: Bool
    /// peer.gossip.orgLeader.
    public var orgLeader: Bool
    /// peer.gossip.election.*.
    public var election: ElectionConfig

    /// Creates the settings.
    public init(useLeaderElection: Bool, orgLeader: Bool, election: ElectionConfig = ElectionConfig()) {
        self.useLeaderElection = useLeaderElection
        self.orgLeader = orgLeader
        self.election = election
    }

    /// The mode the settings select. Both switches true is a startup error (Fabric panics; this is reported).
    public func mode() throws(ElectionError) -> LeadershipMode {
        if self.useLeaderElection && self.orgLeader {
            throw ElectionError(
                .conflictingLeaderSettings,
                "peer.gossip.useLeaderElection and peer.gossip.orgLeader are both true; they exclude each other"
            )
        }
        if self.useLeaderElection {
            try self.election.validate()
            return .election(self.election)
        }
        return self.orgLeader ? .staticLeader : .follower
    }
}
