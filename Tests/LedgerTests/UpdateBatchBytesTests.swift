import Foundation
import Ledger
import SwiftProtobuf
import TestSupport
import Testing
import Wire

/// Ports of update_batch_bytes_test.go: the bytes the commit hash covers.
@Suite("Commit hash input (update batch bytes)")
struct UpdateBatchBytesTests {
    static func write(_ value: String?, _ block: UInt64, _ tx: UInt64) -> PendingWrite {
        PendingWrite(
            value: value.map { Data($0.utf8) },
            metadata: nil,
            version: Height(blockNumber: block, txNumber: tx)
        )
    }

    @Test func versionBytes() {
        #expect(Height(blockNumber: 0, txNumber: 0).versionBytes == Data([0, 0]))
        #expect(Height(blockNumber: 10, txNumber: 0).versionBytes == Data([0x01, 0x0a, 0x00]))
        #expect(Height(blockNumber: 300, txNumber: 7).versionBytes == Data([0x02, 0x01, 0x2c, 0x01, 0x07]))
        #expect(
            Height(blockNumber: UInt64.max, txNumber: 1).versionBytes
                == Data([8] + Array(repeating: 0xff, count: 8) + [1, 1])
        )
    }

    /// The memcmp order used to sort written keys is the byte-wise order, including prefixes, empty keys and
    /// bytes above 0x7f.
    @Test func bytewiseOrderMatchesLexicographicOrder() {
        var generator = SystemRandomNumberGenerator()
        let samples: [Data] =
            [Data(), Data([0]), Data([0, 0]), Data([0x7f]), Data([0x80]), Data([0xff]), Data([0xff, 0])]
            + (0..<200).map { _ in
                Data((0..<Int.random(in: 0...4, using: &generator)).map { _ in
                    UInt8.random(in: [0, 1, 0x7f, 0x80, 0xfe, 0xff].randomElement(using: &generator)!...0xff, using: &generator)
                })
            }
        for left in samples {
            for right in samples {
                #expect(left.bytewisePrecedes(right) == left.lexicographicallyPrecedes(right))
            }
        }
    }

    /// Sorting by 16-byte prefixes first gives the byte-wise order: keys that tie on their first 16 bytes, keys
    /// shorter than 16 bytes that end in zero bytes, and prefixes of each other.
    @Test func bytewiseSortedMatchesLexicographicOrder() {
        var generator = SystemRandomNumberGenerator()
        let shared = Data(repeating: 0x41, count: 15)
        var samples: [Data] = [
            Data(), Data([0]), Data([0, 0]), Data(repeating: 0, count: 16), Data(repeating: 0, count: 17),
            shared, shared + [0], shared + [0, 0], shared + [0, 1], shared + [1], shared + [0xff, 0xff],
            Data(repeating: 0xff, count: 16), Data(repeating: 0xff, count: 16) + [0],
        ]
        for _ in 0..<300 {
            let length = Int.random(in: 0...40, using: &generator)
            let base = Bool.random(using: &generator) ? shared : Data()
            samples.append(
                base + (0..<length).map { _ in [0, 1, 0x41, 0x80, 0xff].randomElement(using: &generator)! }
            )
        }
        samples.shuffle(using: &generator)
        let expected = samples.sorted { $0.lexicographicallyPrecedes($1) }
        #expect(samples.bytewiseSorted() == expected)
        #expect([Data]().bytewiseSorted().isEmpty)
    }

    /// The version bytes written in place into the commit hash's encoding are ``Height/versionBytes``.
    @Test func versionBytesInPlace() {
        for (block, tx) in [(0, 0), (10, 0), (300, 7), (UInt64.max, 1), (1 << 32, UInt64.max)] as [(UInt64, UInt64)] {
            let height = Height(blockNumber: block, txNumber: tx)
            var bytes: [UInt8] = [9]
            height.appendVersionBytes(to: &bytes)
            #expect(bytes == [9] + Array(height.versionBytes))
            #expect(height.versionBytesCount == height.versionBytes.count)
        }
    }

    @Test func onlyPublicWrites() throws {
        var batch = UpdateBatch()
        batch.publicWrites["ns2"] = [Data("b".utf8): Self.write("vb", 5, 1), Data("a".utf8): Self.write(nil, 5, 2)]
        batch.publicWrites["ns1"] = [Data("key".utf8): Self.write("v", 5, 0), Data("empty".utf8): Self.write("", 5, 3)]
        let updates = try Txmgr_Updates(serializedBytes: batch.commitHashBytes())
        let rows = updates.kvwrites.map {
            (
                $0.namespace, $0.collection, String(decoding: $0.key, as: UTF8.self), $0.isDelete,
                String(decoding: $0.value, as: UTF8.self)
            )
        }
        #expect(rows.map(\.0) == ["ns1", "", "ns2", ""])
        #expect(rows.map(\.2) == ["empty", "key", "a", "b"])
        #expect(rows.map(\.3) == [true, false, true, false])  // empty value ⇒ delete
        #expect(rows.map(\.4) == ["", "v", "", "vb"])
        #expect(updates.kvwrites[1].versionBytes == Data([1, 5, 0]))
        #expect(updates.kvwrites.allSatisfy { $0.collection.isEmpty })
    }

    @Test func publicWritesAndCollections() throws {
        var batch = UpdateBatch()
        let h1 = Digest.sha256(Data("k1".utf8))
        let h2 = Digest.sha256(Data("k2".utf8))
        batch.publicWrites["ns1"] = [Data("pub".utf8): Self.write("v", 3, 0)]
        batch.hashedWrites["ns1"] = [
            "collB": [h1: Self.write("vh", 3, 1)],
            "collA": [h2: Self.write("vh2", 3, 0), h1: Self.write(nil, 3, 2)],
        ]
        batch.hashedWrites["ns0"] = ["c": [h1: Self.write("x", 3, 4)]]
        batch.privateWrites["ns1"] = ["collA": [Data("k1".utf8): Self.write("never hashed", 3, 0)]]
        let updates = try Txmgr_Updates(serializedBytes: batch.commitHashBytes())
        let rows = updates.kvwrites.map { ($0.namespace, $0.collection, $0.key) }
        let sortedA = [h1, h2].sorted { $0.lexicographicallyPrecedes($1) }
        #expect(rows.count == 5)
        // ns0 has no public writes: its first collection entry carries the namespace.
        #expect(rows[0] == ("ns0", "c", h1))
        #expect(rows[1] == ("ns1", "", Data("pub".utf8)))
        #expect(rows[2] == ("", "collA", sortedA[0]))
        #expect(rows[3] == ("", "", sortedA[1]))
        #expect(rows[4] == ("", "collB", h1))
        let delete = try #require(updates.kvwrites.first { $0.key == h1 && $0.isDelete })
        #expect(delete.value.isEmpty)
    }

    /// The bytes are written by hand; they must be exactly what a protobuf encoder writes for the same message
    /// (Fabric hashes them): long values and keys (lengths of two and three varint bytes), large heights, empty
    /// values (deletes), several namespaces and collections.
    @Test func theBytesAreProtobufsOwnEncoding() throws {
        var generator = SystemRandomNumberGenerator()
        func bytes(_ count: Int) -> Data { Data((0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }) }
        var batch = UpdateBatch()
        for namespace in ["basic", "mycc", String(repeating: "n", count: 200)] {
            var writes: [Data: PendingWrite] = [:]
            for size in [0, 1, 127, 128, 300, 20_000] {
                let value: Data? = size == 0 ? nil : bytes(size)
                writes[bytes(size % 97 + 1)] = PendingWrite(
                    value: value,
                    metadata: nil,
                    version: Height(blockNumber: UInt64(size) << 20, txNumber: UInt64(size))
                )
            }
            writes[Data("empty".utf8)] = Self.write("", 1, 1)
            batch.publicWrites[namespace] = writes
            batch.hashedWrites[namespace] = [
                "c1": [Digest.sha256(bytes(4)): Self.write("h", 9, 9), Digest.sha256(bytes(4)): Self.write(nil, 9, 8)],
                String(repeating: "c", count: 130): [Digest.sha256(bytes(4)): Self.write("h2", UInt64.max, 1)],
            ]
        }
        let encoded = batch.commitHashBytes()
        let decoded = try Txmgr_Updates(serializedBytes: encoded)
        #expect(decoded.kvwrites.count == 3 * 10)
        #expect(try decoded.serializedBytes() == encoded)
    }

    @Test func onlyChannelConfig() throws {
        var batch = UpdateBatch()
        batch.publicWrites[""] = [Data("CHANNEL_CONFIG_ENV_BYTES".utf8): Self.write("config", 0, 0)]
        #expect(batch.commitHashBytes().isEmpty)
    }

    /// The commit hash formula over a block with nothing valid: SHA-256(varint(n) ‖ filter ‖ ∅ ‖ previous).
    @Test func commitHashOfABlockWithNoValidTransactions() throws {
        let directory = try TemporaryDirectory("commit-hash")
        defer { directory.remove() }
        let (_, ledger) = try LedgerFixtures.ledger(in: directory)
        let tx = LedgerFixtures.tx("bad", TestBlocks.namespace("cc", writes: [TestBlocks.write("k", "v")]))
        let block1 = TestBlocks.block(1, previous: try ledger.block(number: 0), [tx, tx])
        let committed1 = try ledger.commit(block1, validationCodes: [.endorsementPolicyFailure, .invalidChaincode])
        let expected1 = Digest.sha256(Data([2, 10, 25]))  // no previous hash for block 1
        #expect(committed1.commitHash == expected1)
        let block2 = TestBlocks.block(2, previous: committed1.block, [tx])
        let committed2 = try ledger.commit(block2, validationCodes: [.badPayload])
        #expect(committed2.commitHash == Digest.sha256(Data([1, 2]) + expected1))
        var metadata = Common_Metadata()
        metadata.value = committed2.commitHash!
        #expect(committed2.block.metadata.metadata[4] == (try metadata.serializedBytes()))
        #expect(try ledger.block(number: 0)?.metadata.metadata[4].isEmpty == true)
    }
}
