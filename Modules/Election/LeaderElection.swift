public import Gossip

/// Fabric's leader election (gossip/election, spec §7.1) as a pure state machine.
///
/// The Go implementation is two goroutines that sleep; here each sleep is a phase with a wake-up time, and the
/// caller drives it: ``start(now:viewSize:)``, ``wake(now:viewSize:)`` when ``nextWakeUp`` is reached,
/// ``receive(_:senderInView:now:viewSize:)`` for each leadership message, ``yield(now:)``, ``stop()``. Every call
/// returns the ``Action``s to carry out (gossip a proposal or declaration, run the leadership callback, report
/// the metric). IDs are PKI-IDs compared byte-wise; the lowest wins.
public struct LeaderElection: Sendable {
    /// What the shell must do.
    public enum Action: Sendable, Hashable {
        /// Gossip a leadership proposal.
        case propose
        /// Gossip a leadership declaration.
        case declare
        /// Run the leadership callback: true → start pulling from the orderer, false → stop.
        case leadershipChanged(isLeader: Bool)
        /// Set the leader metric (1 leader, 0 follower).
        case reportMetric(isLeader: Bool)
    }

    /// Where the algorithm is; each sleeping phase has its wake-up time.
    public enum Phase: Sendable, Hashable {
        /// Not started.
        case idle
        /// Waiting for membership to stabilise: sample the view size at `wakeAt`, give up at `deadline`.
        case waitingForMembership(deadline: GossipInstant, lastViewSize: Int, wakeAt: GossipInstant)
        /// Proposed; collecting proposals until `wakeAt` (a declaration interrupts).
        case electing(wakeAt: GossipInstant)
        /// Leader; declares again at `wakeAt` (a declaration interrupts).
        case leading(wakeAt: GossipInstant)
        /// Follower; re-checks at `wakeAt` (not interruptible).
        case following(wakeAt: GossipInstant)
        /// Stopped.
        case stopped
    }

    /// This peer's ID (PKI-ID).
    public let selfID: PKIID
    /// The timing.
    public let config: ElectionConfig
    /// The current phase.
    public private(set) var phase: Phase = .idle
    /// Whether this peer is the leader.
    public private(set) var isLeader = false
    /// Whether some leader is known to exist (a declaration was seen, or this peer became leader).
    public private(set) var leaderExists = false
    /// Until when this peer yields (does not propose).
    public private(set) var yieldingUntil: GossipInstant?
    /// IDs that proposed since the last follower round.
    public private(set) var proposals: Set<PKIID> = []

    /// Creates an idle election for `selfID`.
    public init(selfID: PKIID, config: ElectionConfig) {
        self.selfID = selfID
        self.config = config
    }

    /// When ``wake(now:viewSize:)`` should next be called; nil when idle or stopped.
    public var nextWakeUp: GossipInstant? {
        switch self.phase {
        case .idle, .stopped: nil
        case .waitingForMembership(_, _, let wakeAt), .electing(let wakeAt), .leading(let wakeAt),
            .following(let wakeAt):
            wakeAt
        }
    }

    /// Whether the peer is yielding at `now`.
    public func isYielding(at now: GossipInstant) -> Bool {
        guard let until = self.yieldingUntil else { return false }
        return now < until
    }

    /// Starts: waits for membership to stabilise (the view size is sampled every membershipSampleInterval until
    /// it stops changing, the startup grace period ends, or a leader is seen).
    public mutating func start(now: GossipInstant, viewSize: Int) -> [Action] {
        guard case .idle = self.phase else { return [] }
        self.phase = .waitingForMembership(
            deadline: now.advanced(by: self.config.startupGracePeriod),
            lastViewSize: viewSize,
            wakeAt: now.advanced(by: self.config.membershipSampleInterval)
        )
        return []
    }

    /// The wake-up time was reached: continue where the algorithm slept.
    public mutating func wake(now: GossipInstant, viewSize: Int) -> [Action] {
        guard let wakeAt = self.nextWakeUp, wakeAt <= now else { return [] }
        return self.resume(now: now, viewSize: viewSize)
    }

    /// A leadership message from `message.senderID`. Messages from peers outside the current view are dropped.
    /// A proposal is recorded; a declaration marks that a leader exists, makes this leader step down if the
    /// sender's ID is lower, and interrupts an election or leader sleep.
    public mutating func receive(
        _ message: LeadershipMessage,
        senderInView: Bool,
        now: GossipInstant,
        viewSize: Int
    ) -> [Action] {
        guard senderInView else { return [] }
        switch self.phase {
        case .idle, .stopped: return []
        default: break
        }
        guard message.isDeclaration else {
            self.proposals.insert(message.senderID)
            return []
        }
        self.leaderExists = true
        var actions: [Action] = []
        if message.senderID < self.selfID && self.isLeader {
            actions += self.stopBeingLeader()
        }
        switch self.phase {
        case .electing, .leading:
            actions += self.resume(now: now, viewSize: viewSize)
        default:
            break
        }
        return actions
    }

    /// Gives up leadership for 6 × leaderAliveThreshold (the deliverer could not reach the orderer); only a leader
    /// that is not already yielding yields. No proposals are made while yielding.
    public mutating func yield(now: GossipInstant) -> [Action] {
        guard self.isLeader, !self.isYielding(at: now) else { return [] }
        self.yieldingUntil = now.advanced(by: self.config.yieldDuration)
        let actions = self.stopBeingLeader()
        self.leaderExists = false
        return actions
    }

    /// Stops; nothing happens afterwards.
    public mutating func stop() {
        self.phase = .stopped
    }

    // MARK: - The algorithm

    private mutating func stopBeingLeader() -> [Action] {
        guard self.isLeader else { return [] }
        self.isLeader = false
        return [.leadershipChanged(isLeader: false)]
    }

    private mutating func clearExpiredYield(now: GossipInstant) {
        if let until = self.yieldingUntil, until <= now { self.yieldingUntil = nil }
    }

    private mutating func resume(now: GossipInstant, viewSize: Int) -> [Action] {
        self.clearExpiredYield(now: now)
        switch self.phase {
        case .idle, .stopped:
            return []
        case .waitingForMembership(let deadline, let lastViewSize, _):
            if viewSize == lastViewSize || now > deadline || self.leaderExists {
                return self.loop(now: now)
            }
            self.phase = .waitingForMembership(
                deadline: deadline,
                lastViewSize: viewSize,
                wakeAt: now.advanced(by: self.config.membershipSampleInterval)
            )
            return []
        case .electing:
            return self.finishElection(now: now)
        case .leading, .following:
            return self.loop(now: now)
        }
    }

    /// One iteration of the main loop, up to its next sleep.
    private mutating func loop(now: GossipInstant) -> [Action] {
        if !self.leaderExists && !self.isYielding(at: now) {
            self.phase = .electing(wakeAt: now.advanced(by: self.config.leaderElectionDuration))
            return [.propose]
        }
        return self.afterElection(now: now)
    }

    /// The end of an election round: give up if a leader appeared, if yielding, or if a lower ID proposed; else
    /// become the leader.
    private mutating func finishElection(now: GossipInstant) -> [Action] {
        var actions: [Action] = []
        if !self.leaderExists && !self.isYielding(at: now) && !self.proposals.contains(where: { $0 < self.selfID }) {
            self.isLeader = true
            self.leaderExists = true
            actions.append(.leadershipChanged(isLeader: true))
        }
        return actions + self.afterElection(now: now)
    }

    /// The rest of a loop iteration: stop yielding once a leader exists; then the leader or follower round.
    private mutating func afterElection(now: GossipInstant) -> [Action] {
        if self.leaderExists && self.isYielding(at: now) { self.yieldingUntil = nil }
        if self.isLeader {
            self.phase = .leading(wakeAt: now.advanced(by: self.config.declarationInterval))
            return [.declare, .reportMetric(isLeader: true)]
        }
        self.proposals.removeAll()
        self.leaderExists = false
        self.phase = .following(wakeAt: now.advanced(by: self.config.leaderAliveThreshold))
        return [.reportMetric(isLeader: false)]
    }
}
