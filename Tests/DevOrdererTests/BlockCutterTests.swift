import DevOrderer
import Foundation
import GRPCCore
import Ledger
import NetGen
import SwiftProtobuf
import Testing
import Wire

/// The block cutter's rules, without I/O.
@Suite("BlockCutter")
struct BlockCutterTests {
    static func envelope(_ size: Int) -> Common_Envelope {
        var envelope = Common_Envelope()
        envelope.payload = Data(repeating: 1, count: size - 1)
        envelope.signature = Data([2])
        return envelope
    }

    static func batchSize(count: UInt32, preferred: UInt32, absolute: UInt32 = 1000) -> Orderer_BatchSize {
        Orderer_BatchSize.with {
            $0.maxMessageCount = count
            $0.preferredMaxBytes = preferred
            $0.absoluteMaxBytes = absolute
        }
    }

    @Test("a batch is cut when it reaches MaxMessageCount")
    func byCount() {
        var cutter = BlockCutter()
        let size = Self.batchSize(count: 3, preferred: 100)
        #expect(cutter.ordered(Self.envelope(10), batchSize: size).pending)
        #expect(cutter.ordered(Self.envelope(10), batchSize: size).batches.isEmpty)
        let third = cutter.ordered(Self.envelope(10), batchSize: size)
        #expect(third.batches.map(\.count) == [3])
        #expect(!third.pending)
        #expect(cutter.pending.isEmpty)
    }

    @Test("a message that would overflow PreferredMaxBytes cuts the pending batch first")
    func byPreferredBytes() {
        var cutter = BlockCutter()
        let size = Self.batchSize(count: 10, preferred: 50)
        _ = cutter.ordered(Self.envelope(30), batchSize: size)
        let outcome = cutter.ordered(Self.envelope(30), batchSize: size)
        #expect(outcome.batches.map(\.count) == [1])
        #expect(outcome.pending)
        #expect(cutter.pendingBytes == 30)
    }

    @Test("a message larger than PreferredMaxBytes goes alone, after the pending batch")
    func oversizedAlone() {
        var cutter = BlockCutter()
        let size = Self.batchSize(count: 10, preferred: 50)
        _ = cutter.ordered(Self.envelope(10), batchSize: size)
        let outcome = cutter.ordered(Self.envelope(60), batchSize: size)
        #expect(outcome.batches.map(\.count) == [1, 1])
        #expect(outcome.batches[1][0].payload.count == 59)
        #expect(!outcome.pending)
        #expect(cutter.cut().isEmpty)
    }
}
