import Foundation
import Gossip
import GossipSimulator
import Testing

/// The `bench gossip` engine on a small network: blocks reach every peer, and the figures are consistent.
@Suite("Gossip dissemination benchmark")
struct DisseminationBenchmarkTests {
    @Test("every block reaches every peer; percentiles, traffic and block size are consistent")
    func smallNetwork() async throws {
        var benchmark = DisseminationBenchmark()
        benchmark.peers = 8
        benchmark.blocks = 5
        benchmark.transactionsPerBlock = 2
        benchmark.transactionBytes = 500
        benchmark.drain = .seconds(10)
        let report = try await benchmark.run()
        #expect(report.converged)
        #expect(report.blocks == 5)
        #expect(report.incomplete_blocks == 0)
        #expect(report.p50_ms > 0)
        #expect(report.p50_ms <= report.p99_ms && report.p99_ms <= report.max_ms)
        #expect(report.block_bytes >= 1000)
        // Every peer but the leader needs each block at least once.
        #expect(report.bytes_per_peer_per_block >= Double(report.block_bytes) * 7 / 8)
        #expect(report.total_bytes_per_peer_per_block >= report.bytes_per_peer_per_block)
        #expect(report.messages_per_peer_per_block >= 7.0 / 8)
    }

    @Test("the same seed gives the same figures")
    func deterministic() async throws {
        var benchmark = DisseminationBenchmark()
        benchmark.peers = 6
        benchmark.blocks = 3
        benchmark.lossRate = 0.05
        benchmark.drain = .seconds(10)
        let first = try await benchmark.run()
        let second = try await benchmark.run()
        #expect(first.p50_ms == second.p50_ms && first.max_ms == second.max_ms)
        #expect(first.total_bytes_per_peer_per_block == second.total_bytes_per_peer_per_block)
    }
}
