import ChannelConfig
import Foundation
public import Ledger
import MSP
import SwiftProtobuf
import Wire

/// `bench replay` with figures: runs a ``BlockReplay`` (a folder of real blocks into a ledger) and measures it
/// as `bench commit` does — throughput, latency, CPU, peak RSS, bytes on disk — against the signature ceiling
/// measured in the same run on the first endorser transaction of the folder whose signatures verify under the
/// genesis config, with the mean number of signatures per transaction of the replayed blocks.
public struct ReplayBenchmark: Sendable {
    /// The replay.
    public var replay: BlockReplay
    /// Seconds for each of the two ceiling measurements.
    public var ceilingSeconds: Double

    /// Creates the benchmark of `replay`.
    public init(replay: BlockReplay, ceilingSeconds: Double = 1.5) {
        self.replay = replay
        self.ceilingSeconds = ceilingSeconds
    }

    /// Runs the replay, calling `onBlock` after each commit (the genesis block included when the ledger is new),
    /// and returns the figures of the blocks after the genesis block.
    public func run(
        onBlock: (BlockReplay.BlockResult) throws -> Void,
        onSummary: (BlockReplay.Summary) -> Void = { _ in }
    ) async throws -> BenchReport {
        let (signatures, sample) = try self.scan()
        var samples: [SignatureCeiling.VerifyRate] = []
        let measureCeiling = self.ceilingSeconds > 0
        let msps = try ChannelBundle(configBlock: self.replay.genesis, mspBuilder: MSPBuilders.x509).mspManager
        if measureCeiling, let sample {
            samples.append(
                try SignatureCeiling.measure(
                    envelopeBytes: sample,
                    msps: msps,
                    seconds: self.ceilingSeconds
                )
            )
        }
        var measurement = Measurement()
        let summary = try await self.replay.run { result in
            if result.number > 0 {
                let codes = result.filter.map { Protos_TxValidationCode(rawValue: Int($0)) ?? .invalidOtherReason }
                measurement.record(codes: codes, latency: result.latency)
            }
            try onBlock(result)
        }
        var report = BenchReport.empty(mode: "replay")
        measurement.finish(into: &report)
        onSummary(summary)
        report.bytesOnDisk = DiskUsage.bytes(under: self.replay.ledgerRoot)
        report.deliveredBytes = DiskUsage.bytes(under: self.replay.blocksDirectory)
        if measureCeiling, let sample {
            samples.append(
                try SignatureCeiling.measure(
                    envelopeBytes: sample,
                    msps: msps,
                    seconds: self.ceilingSeconds
                )
            )
        }
        report.fillCeiling(samples: samples, signaturesPerTransaction: signatures)
        report.pipelined = self.replay.pipelined
        report.compressed = self.replay.configuration.blockStore.compress
        report.compression = report.compressed ? self.replay.configuration.blockStore.compression.rawValue : "none"
        report.synced = self.replay.configuration.blockStore.syncWrites
        report.workload = ["blocks_directory": self.replay.blocksDirectory.path]
        return report
    }

    /// The mean signatures per transaction of the blocks after genesis (creator + endorsements), and the first
    /// endorser transaction whose signatures all verify under the genesis config.
    private func scan() throws -> (Double, Data?) {
        let msps = try ChannelBundle(configBlock: self.replay.genesis, mspBuilder: MSPBuilders.x509).mspManager
        var transactions = 0
        var signatures = 0
        var sample: Data?
        for number in try BlockReplay.blockNumbers(in: self.replay.blocksDirectory) where number > 0 {
            let url = self.replay.blocksDirectory.appendingPathComponent("\(number).block")
            let block = try Common_Block(serializedBytes: try Data(contentsOf: url))
            for envelope in block.data.data {
                transactions += 1
                signatures += 1
                guard let endorsements = Self.endorsementCount(envelope) else { continue }
                signatures += endorsements
                if sample == nil, (try? SignatureCeiling.checks(envelope, msps: msps)) != nil { sample = envelope }
            }
        }
        return (transactions > 0 ? Double(signatures) / Double(transactions) : 0, sample)
    }

    /// The endorsements of an endorser transaction, nil for other transactions.
    private static func endorsementCount(_ bytes: Data) -> Int? {
        guard let envelope = try? Common_Envelope(serializedBytes: bytes),
            let payload = try? Common_Payload(serializedBytes: envelope.payload),
            let header = try? Common_ChannelHeader(serializedBytes: payload.header.channelHeader),
            header.type == Int32(Common_HeaderType.endorserTransaction.rawValue),
            let transaction = try? Protos_Transaction(serializedBytes: payload.data),
            let action = transaction.actions.first,
            let actionPayload = try? Protos_ChaincodeActionPayload(serializedBytes: action.payload)
        else { return nil }
        return actionPayload.action.endorsements.count
    }
}
