internal import Foundation
public import Gossip
internal import Wire

/// Measures how blocks spread through one organisation's peers on the simulated network: a leader gossips blocks
/// at a fixed rate and the simulation records when each peer first has each one.
///
/// Method: `peers` peers of one org (blocks never leave the org), each bootstrapping from peer 0 and one other
/// random earlier peer, join one channel; the protocol warms up until membership and channel views are
/// complete (or `warmUp` of virtual time passed); then peer 0 (the leader) gossips `blocks` orderer-signed blocks,
/// one every `blockInterval`, and the run continues for `drain` so pull can finish. A block's dissemination time
/// is from the leader gossiping it to the last peer having it. Traffic counts every envelope sent during the
/// block phase; block traffic counts DataMsg and the block-pull exchange only.
public struct DisseminationBenchmark: Sendable {
    /// Number of peers (one organisation).
    public var peers: Int = 10
    /// Blocks to disseminate.
    public var blocks: Int = 20
    /// Time between two blocks from the leader.
    public var blockInterval: Duration = .seconds(1)
    /// Transactions per block, and bytes per transaction.
    public var transactionsPerBlock: Int = 10
    public var transactionBytes: Int = 3_000
    /// One-way latency of every envelope, plus a uniform random extra up to `jitter`.
    public var latency: Duration = .milliseconds(10)
    public var jitter: Duration = .milliseconds(10)
    /// Probability an envelope is lost.
    public var lossRate: Double = 0
    /// Gossip settings of every peer (Fabric's defaults unless changed).
    public var gossip: GossipConfig = GossipConfig()
    /// Longest warm-up before blocks start.
    public var warmUp: Duration = .seconds(120)
    /// Virtual time after the last block for stragglers.
    public var drain: Duration = .seconds(30)
    /// The seed of the whole run.
    public var seed: UInt64 = 1

    /// Creates a benchmark with the defaults above.
    public init() {}

    /// What one run measured.
    public struct Report: Sendable, Codable {
        public var peers: Int
        public var blocks: Int
        /// Percentiles over blocks of the time until every peer had the block (ms); blocks some peer never got
        /// are excluded and counted in `incomplete_blocks`.
        public var p50_ms: Double
        public var p99_ms: Double
        public var max_ms: Double
        /// Mean over blocks and peers of the time until a peer had the block (ms).
        public var mean_peer_ms: Double
        public var incomplete_blocks: Int
        /// Size of one block message's payload (the marshalled block).
        public var block_bytes: Int
        /// Block traffic (DataMsg and block pull) sent per peer per block.
        public var bytes_per_peer_per_block: Double
        public var messages_per_peer_per_block: Double
        /// All traffic (membership, StateInfo, pull, blocks) sent per peer per block during the block phase.
        public var total_bytes_per_peer_per_block: Double
        public var total_messages_per_peer_per_block: Double
        /// DataMsg sends (pushes and forwards) per peer that needed the block, minus one: how many redundant
        /// copies push sends (lost copies included).
        public var duplicate_ratio: Double
        /// Virtual time the warm-up took until every view was complete (s), and whether it completed.
        public var warmup_s: Double
        public var converged: Bool
        /// Wall-clock time of the run (s).
        public var wall_s: Double
    }

    /// Settings that disseminate faster than Fabric's defaults at modest extra traffic (measured in
    /// Docs/performance.md, "Gossip dissemination"): push to more peers, flush bursts sooner, pull more often.
    public static var tunedGossipConfig: GossipConfig {
        var config = GossipConfig()
        config.propagatePeerNum = 4
        config.maxPropagationBurstLatency = .milliseconds(1)
        config.pullInterval = .seconds(1)
        config.digestWaitTime = .milliseconds(250)
        config.requestWaitTime = .milliseconds(400)
        config.responseWaitTime = .milliseconds(500)
        return config
    }

    /// Runs the benchmark (virtual time; wall time depends on the machine).
    public func run() async throws -> Report {
        let started = ContinuousClock.now
        let channel = "benchchannel"
        let organization = "Org1MSP"
        let sim = GossipSimulation(seed: self.seed)
        sim.latency = self.latency
        sim.latencyJitter = self.jitter
        sim.lossRate = self.lossRate
        sim.recordsDeliveries = false
        sim.recordsDelivered = false
        var random = SeededRandom(seed: self.seed &* 31 &+ 7)
        for index in 0..<self.peers {
            var config = self.gossip
            if index > 0 {
                var bootstrap = ["p0:7051"]
                if index > 1 { bootstrap.append("p\(1 + Int(random.next() % UInt64(index - 1))):7051") }
                config.bootstrapPeers = bootstrap
            }
            try sim.addPeer(organization: organization, name: "p\(index)", config: config)
        }
        sim.start()
        sim.joinAll(channel: channel, organizations: [organization])

        // Warm-up: until every peer sees all others as alive channel members.
        let step = Duration.milliseconds(500)
        var warmed: Duration = .zero
        var converged = false
        while warmed < self.warmUp {
            await sim.run(for: step)
            warmed += step
            if sim.peers.allSatisfy({
                $0.core.aliveMembers.count == self.peers - 1 && $0.core.peersOfChannel(channel).count == self.peers - 1
            }) {
                converged = true
                break
            }
        }

        // Block phase.
        sim.classifiesTraffic = true
        let before = sim.peers.map { ($0.sentMessages, $0.sentBytes, $0.sentBlockMessages, $0.sentBlockBytes) }
        let pushesBefore = sim.peers.reduce(0) { $0 + $1.sentDataMessages }
        var sentAt: [UInt64: GossipInstant] = [:]
        var blockBytes = 0
        for number in 1...UInt64(max(1, self.blocks)) {
            var data = Gossip_DataMessage()
            data.payload.seqNum = number
            data.payload.data = sim.pki.makeBlock(
                number: number,
                channel: channel,
                transactions: self.transactionsPerBlock,
                transactionBytes: self.transactionBytes
            )
            blockBytes = data.payload.data.count
            sentAt[number] = sim.now
            try sim.gossip(Gossip_GossipMessage(channel: channel, tag: .chanAndOrg, content: .dataMsg(data)), from: 0)
            await sim.run(for: self.blockInterval)
        }
        await sim.run(for: self.drain)

        // Times until every peer had each block.
        var complete: [Double] = []
        var perPeer: [Double] = []
        var incomplete = 0
        for (number, sent) in sentAt {
            let arrivals = sim.blockArrivals[number] ?? [:]
            for (_, at) in arrivals { perPeer.append(Self.milliseconds(sent.duration(to: at))) }
            if arrivals.count == self.peers, let last = arrivals.values.max() {
                complete.append(Self.milliseconds(sent.duration(to: last)))
            } else {
                incomplete += 1
            }
        }
        complete.sort()
        let blockCount = Double(sentAt.count)
        let peerCount = Double(self.peers)
        var traffic = (messages: 0, bytes: 0, blockMessages: 0, blockBytes: 0)
        for (index, peer) in sim.peers.enumerated() {
            traffic.messages += peer.sentMessages - before[index].0
            traffic.bytes += peer.sentBytes - before[index].1
            traffic.blockMessages += peer.sentBlockMessages - before[index].2
            traffic.blockBytes += peer.sentBlockBytes - before[index].3
        }
        let dataMessages = Double(sim.peers.reduce(0) { $0 + $1.sentDataMessages } - pushesBefore)
        let elapsed = ContinuousClock.now - started
        return Report(
            peers: self.peers,
            blocks: sentAt.count,
            p50_ms: Self.percentile(complete, 0.50),
            p99_ms: Self.percentile(complete, 0.99),
            max_ms: complete.last ?? 0,
            mean_peer_ms: perPeer.isEmpty ? 0 : perPeer.reduce(0, +) / Double(perPeer.count),
            incomplete_blocks: incomplete,
            block_bytes: blockBytes,
            bytes_per_peer_per_block: Double(traffic.blockBytes) / peerCount / blockCount,
            messages_per_peer_per_block: Double(traffic.blockMessages) / peerCount / blockCount,
            total_bytes_per_peer_per_block: Double(traffic.bytes) / peerCount / blockCount,
            total_messages_per_peer_per_block: Double(traffic.messages) / peerCount / blockCount,
            duplicate_ratio: max(0, dataMessages / max(1, (peerCount - 1) * blockCount) - 1),
            warmup_s: Double(warmed.nanoseconds) / 1e9,
            converged: converged,
            wall_s: Double(elapsed.nanoseconds) / 1e9
        )
    }

    static func milliseconds(_ duration: Duration) -> Double { Double(duration.nanoseconds) / 1e6 }

    /// Nearest-rank percentile of sorted values.
    static func percentile(_ sorted: [Double], _ p: Double) -> Double {
        guard !sorted.isEmpty else { return 0 }
        let rank = Int((p * Double(sorted.count)).rounded(.up))
        return sorted[min(sorted.count - 1, max(0, rank - 1))]
    }
}
