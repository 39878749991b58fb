import ArgumentParser
import Foundation
import Gossip
import GossipSimulator

/// `bench gossip`: block dissemination among N simulated peers of one org (GossipSimulator, virtual time).
struct GossipCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gossip",
        abstract: "Simulate block dissemination among N gossip peers of one org and report how fast blocks spread.",
        discussion: """
            Runs N real GossipCore state machines in one process on a simulated network (virtual time, so the \
            figures do not depend on this machine's speed; hash-based stand-in signatures). Peer 0 gossips \
            --blocks orderer-signed blocks, one every --block-interval-ms, after membership has converged. \
            Reported per run: percentiles over blocks of the time until every peer had the block, and bytes and \
            messages sent per peer per block (block traffic: DataMsg and block pull; total: all gossip traffic \
            during the block phase). Gossip settings are Fabric's defaults (core.yaml) unless --tuned or the \
            individual options change them.
            """
    )

    @Option(help: "Number of peers.")
    var peers: Int = 10

    @Option(help: "Blocks to disseminate.")
    var blocks: Int = 20

    @Option(help: "Milliseconds between two blocks.")
    var blockIntervalMs: Int = 1000

    @Option(help: "Transactions per block.")
    var txs: Int = 10

    @Option(help: "Bytes per transaction.")
    var txBytes: Int = 3000

    @Option(help: "One-way network latency in milliseconds.")
    var latencyMs: Double = 10

    @Option(help: "Extra random latency, uniform in [0, jitter), in milliseconds.")
    var jitterMs: Double = 10

    @Option(help: "Probability that a message is lost (0...1).")
    var loss: Double = 0

    @Option(help: "Seed of the run.")
    var seed: UInt64 = 1

    @Flag(help: "Use the tuned settings (see Docs/performance.md) instead of Fabric's defaults.")
    var tuned = false

    @Option(help: "peer.gossip.propagatePeerNum.")
    var propagatePeerNum: Int?

    @Option(help: "peer.gossip.propagateIterations.")
    var propagateIterations: Int?

    @Option(help: "peer.gossip.maxPropagationBurstLatency in milliseconds.")
    var burstLatencyMs: Int?

    @Option(help: "peer.gossip.maxPropagationBurstSize.")
    var burstSize: Int?

    @Option(help: "peer.gossip.pullInterval in milliseconds.")
    var pullIntervalMs: Int?

    @Option(help: "peer.gossip.pullPeerNum.")
    var pullPeerNum: Int?

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    func validate() throws {
        guard self.peers >= 2 else { throw ValidationError("--peers must be at least 2") }
        guard self.blocks >= 1 else { throw ValidationError("--blocks must be at least 1") }
        guard self.blockIntervalMs >= 1 else { throw ValidationError("--block-interval-ms must be positive") }
        guard self.txs >= 1, self.txBytes >= 0 else { throw ValidationError("--txs must be positive") }
        guard self.latencyMs >= 0, self.jitterMs >= 0 else { throw ValidationError("latencies must not be negative") }
        guard (0.0..<1.0).contains(self.loss) else { throw ValidationError("--loss must be in [0, 1)") }
    }

    func run() async throws {
        var benchmark = DisseminationBenchmark()
        benchmark.peers = self.peers
        benchmark.blocks = self.blocks
        benchmark.blockInterval = .milliseconds(self.blockIntervalMs)
        benchmark.transactionsPerBlock = self.txs
        benchmark.transactionBytes = self.txBytes
        benchmark.latency = .nanoseconds(Int64(self.latencyMs * 1e6))
        benchmark.jitter = .nanoseconds(Int64(self.jitterMs * 1e6))
        benchmark.lossRate = self.loss
        benchmark.seed = self.seed
        var config = self.tuned ? DisseminationBenchmark.tunedGossipConfig : GossipConfig()
        if let value = self.propagatePeerNum { config.propagatePeerNum = value }
        if let value = self.propagateIterations { config.propagateIterations = value }
        if let value = self.burstLatencyMs { config.maxPropagationBurstLatency = .milliseconds(value) }
        if let value = self.burstSize { config.maxPropagationBurstSize = value }
        if let value = self.pullIntervalMs { config.pullInterval = .milliseconds(value) }
        if let value = self.pullPeerNum { config.pullPeerNum = value }
        do {
            try config.validate()
        } catch {
            throw ValidationError("gossip settings: \(error)")
        }
        benchmark.gossip = config
        let report = try await benchmark.run()
        if self.json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
            return
        }
        print(
            """
            gossip dissemination: \(report.peers) peers, \(report.blocks) blocks of \(report.block_bytes) bytes \
            (\(self.tuned ? "tuned" : "Fabric default") settings: propagatePeerNum \(config.propagatePeerNum), \
            pullInterval \(config.pullInterval), pullPeerNum \(config.pullPeerNum))
              time until every peer has a block: p50 \(Self.format(report.p50_ms)) ms, \
            p99 \(Self.format(report.p99_ms)) ms, max \(Self.format(report.max_ms)) ms \
            (mean per peer \(Self.format(report.mean_peer_ms)) ms; incomplete blocks: \(report.incomplete_blocks))
              per peer per block: \(Self.format(report.bytes_per_peer_per_block)) bytes and \
            \(Self.format(report.messages_per_peer_per_block)) messages of block traffic; \
            \(Self.format(report.total_bytes_per_peer_per_block)) bytes and \
            \(Self.format(report.total_messages_per_peer_per_block)) messages in all; duplicate ratio \
            \(Self.format(report.duplicate_ratio))
              warm-up \(Self.format(report.warmup_s)) s (converged: \(report.converged)), wall \(Self.format(report.wall_s)) s
            """
        )
    }

    static func format(_ value: Double) -> String { String(format: "%.1f", value) }
}
