import BenchKit
import Foundation
import Ledger
import SwiftProtobuf
import TestSupport
import Testing
import Wire

/// `bench replay --private-data DIR`: N.pvtdata files as gossip Payloads of PvtDataPayloads.
@Suite("bench replay private data files")
struct PrivateDataFilesTests {
    static func writeSet(_ key: String, _ value: String) -> Rwset_TxPvtReadWriteSet {
        TestBlocks.privateWriteSet("kv", ["coll1": [TestBlocks.write(key, value)]])
    }

    @Test func writtenFilesReadBackAndAbsentBlocksHaveNone() async throws {
        try await TemporaryDirectory.with("pvtdata-files") { directory in
            let files = try PrivateDataFiles(directory: directory.url)
            let data = [
                TxPrivateData(txIndex: 0, writeSet: Self.writeSet("a", "1")),
                TxPrivateData(txIndex: 7, writeSet: Self.writeSet("b", "2")),
            ]
            try files.write(data, block: 15)
            #expect(try files.privateData(block: 15) == data)
            #expect(try files.privateData(block: 16).isEmpty)

            // The file is Fabric's gossip Payload: seq_num and one PvtDataPayload per transaction.
            let payload = try Gossip_Payload(serializedBytes: try Data(contentsOf: files.url(block: 15)))
            #expect(payload.seqNum == 15 && payload.data.isEmpty)
            let second = try Gossip_PvtDataPayload(serializedBytes: payload.privateData[1])
            #expect(second.txSeqInBlock == 7)
            #expect(try Rwset_TxPvtReadWriteSet(serializedBytes: second.payload) == data[1].writeSet)
        }
    }

    @Test func badFilesAreRefusedNamingTheFile() async throws {
        try await TemporaryDirectory.with("pvtdata-bad") { directory in
            let files = try PrivateDataFiles(directory: directory.url)
            try files.write([TxPrivateData(txIndex: 0, writeSet: Self.writeSet("a", "1"))], block: 3)
            try FileManager.default.moveItem(at: files.url(block: 3), to: files.url(block: 4))
            let wrongBlock = #expect(throws: BenchError.self) { try files.privateData(block: 4) }
            #expect(wrongBlock?.message.contains("4.pvtdata holds the private data of block 3") == true)

            try Data([0x0A, 0x05, 0x01]).write(to: files.url(block: 5))
            let truncated = #expect(throws: BenchError.self) { try files.privateData(block: 5) }
            #expect(truncated?.message.contains("5.pvtdata is not a serialized gossip Payload") == true)

            var payload = Gossip_Payload()
            payload.seqNum = 6
            payload.privateData = [Data([0xFF, 0xFF])]
            try (payload.serializedBytes() as Data).write(to: files.url(block: 6))
            let element = #expect(throws: BenchError.self) { try files.privateData(block: 6) }
            #expect(element?.message.contains("6.pvtdata") == true)
            #expect(element?.message.contains("private data element 0 of block 6") == true)

            #expect(throws: BenchError.self) {
                try PrivateDataFiles(directory: directory.url.appendingPathComponent("absent"))
            }
        }
    }
}
