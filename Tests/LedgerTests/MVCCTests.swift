import Foundation
import Ledger
import SwiftProtobuf
import TestSupport
import Testing
import Wire

/// Ports of Fabric's validator_test.go (`TestValidator`, `TestPhantomValidation`,
/// `TestPhantomHashBasedValidation`) and batch_preparer_test.go cases, run through the whole commit path.
@Suite("MVCC validation")
struct MVCCTests {
    typealias B = TestBlocks

    /// Commits block 1: keys key1…key5 of ns1 and private key p1 of ns1/coll, all at version (1, 0).
    static func seeded(_ directory: TemporaryDirectory) throws -> (LedgerManager, PeerLedger) {
        let (manager, ledger) = try LedgerFixtures.ledger(in: directory)
        let writes = (1...5).map { B.write("key\($0)", "value\($0)") }
        try LedgerFixtures.commit(
            ledger,
            [
                LedgerFixtures.tx(
                    "seed",
                    B.namespace(
                        "ns1",
                        writes: writes,
                        collections: [B.collection("coll", writes: [B.write("p1", "secret")])]
                    )
                )
            ]
        )
        return (manager, ledger)
    }

    @Test func readConflicts() throws {
        let directory = try TemporaryDirectory("mvcc-reads")
        defer { directory.remove() }
        let (_, ledger) = try Self.seeded(directory)
        let codes = try LedgerFixtures.commit(
            ledger,
            [
                LedgerFixtures.tx(
                    "t0",
                    B.namespace("ns1", reads: [B.read("key1", (1, 0))], writes: [B.write("key1", "new")])
                ),
                LedgerFixtures.tx("t1", B.namespace("ns1", reads: [B.read("key1", (1, 0))])),  // written by t0
                LedgerFixtures.tx("t2", B.namespace("ns1", reads: [B.read("key2", (1, 1))])),  // wrong version
                LedgerFixtures.tx(
                    "t3",
                    B.namespace("ns1", reads: [B.read("absent", nil)], writes: [B.write("absent", "x")])
                ),
                LedgerFixtures.tx("t4", B.namespace("ns1", reads: [B.read("key3", nil)])),  // exists
                LedgerFixtures.tx("t5", B.namespace("ns1", writes: [B.write("key2", "blind")])),
                LedgerFixtures.tx(
                    "t6",
                    B.namespace("ns2", reads: [B.read("key1", nil)]),
                    B.namespace("ns1", reads: [B.read("key4", (1, 0))])
                ),
                LedgerFixtures.tx(
                    "t7",
                    B.namespace("ns1", reads: [B.read("key4", (1, 0))], writes: [B.write("key4", nil)])
                ),
            ]
        )
        #expect(
            codes == [.valid, .mvccReadConflict, .mvccReadConflict, .valid, .mvccReadConflict, .valid, .valid, .valid]
        )
        #expect(try ledger.state(namespace: "ns1", key: "key1")?.value == Data("new".utf8))
        #expect(try ledger.state(namespace: "ns1", key: "key1")?.version == Height(blockNumber: 2, txNumber: 0))
        #expect(try ledger.state(namespace: "ns1", key: "key2")?.version == Height(blockNumber: 2, txNumber: 5))
        #expect(try ledger.state(namespace: "ns1", key: "key4") == nil)
        #expect(try ledger.state(namespace: "ns1", key: "key3")?.version == Height(blockNumber: 1, txNumber: 0))
        #expect(PeerLedger.filter(of: try #require(try ledger.block(number: 2))) == Data([0, 11, 11, 0, 11, 0, 0, 0]))
    }

    @Test func hashedReadConflicts() throws {
        let directory = try TemporaryDirectory("mvcc-hashed")
        defer { directory.remove() }
        let (_, ledger) = try Self.seeded(directory)
        func hashedRead(_ version: (UInt64, UInt64)?) -> Rwset_CollectionHashedReadWriteSet {
            B.collection("coll", writes: [], reads: [B.read("p1", version)])
        }
        let codes = try LedgerFixtures.commit(
            ledger,
            [
                LedgerFixtures.tx("h0", B.namespace("ns1", collections: [hashedRead((1, 0))])),
                LedgerFixtures.tx("h1", B.namespace("ns1", collections: [hashedRead((1, 1))])),
                LedgerFixtures.tx("h2", B.namespace("ns1", collections: [hashedRead(nil)])),
                LedgerFixtures.tx(
                    "h3",
                    B.namespace(
                        "ns1",
                        collections: [
                            B.collection("coll", writes: [B.write("p1", "v2")], reads: [B.read("p1", (1, 0))])
                        ]
                    )
                ),
                LedgerFixtures.tx("h4", B.namespace("ns1", collections: [hashedRead((1, 0))])),  // written by h3
            ]
        )
        #expect(codes == [.valid, .mvccReadConflict, .mvccReadConflict, .valid, .mvccReadConflict])
        let hashed = try ledger.hashedState(
            namespace: "ns1",
            collection: "coll",
            keyHash: Digest.sha256(Data("p1".utf8))
        )
        #expect(hashed?.value == Digest.sha256(Data("v2".utf8)))
        #expect(hashed?.version == Height(blockNumber: 2, txNumber: 3))
    }

    @Test func phantomReads() throws {
        let directory = try TemporaryDirectory("mvcc-phantom")
        defer { directory.remove() }
        let (_, ledger) = try Self.seeded(directory)
        let v10: (UInt64, UInt64) = (1, 0)
        let codes = try LedgerFixtures.commit(
            ledger,
            [
                // 0: exact results of [key1, key4): valid.
                LedgerFixtures.tx(
                    "r0",
                    B.namespace(
                        "ns1",
                        ranges: [
                            B.range(
                                "key1",
                                "key4",
                                exhausted: true,
                                [B.read("key1", v10), B.read("key2", v10), B.read("key3", v10)]
                            )
                        ]
                    )
                ),
                // 1: key2 missing from the results: phantom.
                LedgerFixtures.tx(
                    "r1",
                    B.namespace(
                        "ns1",
                        ranges: [B.range("key1", "key4", exhausted: true, [B.read("key1", v10), B.read("key3", v10)])]
                    )
                ),
                // 2: inserts key2_5 inside the range.
                LedgerFixtures.tx("r2", B.namespace("ns1", writes: [B.write("key2_5", "new")])),
                // 3: the same results as 0, but key2_5 now exists in the block: phantom.
                LedgerFixtures.tx(
                    "r3",
                    B.namespace(
                        "ns1",
                        ranges: [
                            B.range(
                                "key1",
                                "key4",
                                exhausted: true,
                                [B.read("key1", v10), B.read("key2", v10), B.read("key3", v10)]
                            )
                        ]
                    )
                ),
                // 4: not exhausted, end key = last key read (inclusive): valid.
                LedgerFixtures.tx(
                    "r4",
                    B.namespace(
                        "ns1",
                        ranges: [B.range("key1", "key2", exhausted: false, [B.read("key1", v10), B.read("key2", v10)])]
                    )
                ),
                // 5: not exhausted, end key beyond the reads: key2_5 and key3 are phantoms.
                LedgerFixtures.tx(
                    "r5",
                    B.namespace(
                        "ns1",
                        ranges: [B.range("key1", "key3", exhausted: false, [B.read("key1", v10), B.read("key2", v10)])]
                    )
                ),
                // 6: deletes key5.
                LedgerFixtures.tx("r6", B.namespace("ns1", writes: [B.write("key5", nil)])),
                // 7: [key4, end): key5 was deleted earlier in the block, so key4 alone is right: valid.
                LedgerFixtures.tx(
                    "r7",
                    B.namespace("ns1", ranges: [B.range("key4", "", exhausted: true, [B.read("key4", v10)])])
                ),
                // 8: a version mismatch inside a range is a phantom, not an MVCC conflict.
                LedgerFixtures.tx(
                    "r8",
                    B.namespace("ns1", ranges: [B.range("key3", "key4", exhausted: true, [B.read("key3", (1, 1))])])
                ),
                // 9: an empty range that is empty: valid.
                LedgerFixtures.tx("r9", B.namespace("ns1", ranges: [B.range("zz", "zzz", exhausted: true, [])])),
            ]
        )
        #expect(
            codes == [
                .valid, .phantomReadConflict, .valid, .phantomReadConflict, .valid, .phantomReadConflict, .valid,
                .valid, .phantomReadConflict, .valid,
            ]
        )
    }

    /// Fabric's Merkle summary of range results (maxDegree 2, five results): two level-1 hashes.
    @Test func phantomHashBasedValidation() throws {
        let directory = try TemporaryDirectory("mvcc-merkle")
        defer { directory.remove() }
        let (_, ledger) = try Self.seeded(directory)
        let results = (1...5).map { B.read("key\($0)", (1, 0)) }
        func hash(_ reads: [Kvrwset_KVRead]) throws -> Data {
            var message = Kvrwset_QueryReads()
            message.kvReads = reads
            return Digest.sha256(try message.serializedBytes())
        }
        func merkleRange(_ hashes: [Data], level: UInt32 = 1) -> Kvrwset_RangeQueryInfo {
            var info = Kvrwset_RangeQueryInfo()
            info.startKey = "key1"
            info.endKey = ""
            info.itrExhausted = true
            var summary = Kvrwset_QueryReadsMerkleSummary()
            summary.maxDegree = 2
            summary.maxLevel = level
            summary.maxLevelHashes = hashes
            info.readsMerkleHashes = summary
            return info
        }
        let good = [try hash(Array(results[0..<3])), try hash(Array(results[3..<5]))]
        let bad = [good[0], Digest.sha256(Data("other".utf8))]
        let codes = try LedgerFixtures.commit(
            ledger,
            [
                LedgerFixtures.tx("m0", B.namespace("ns1", ranges: [merkleRange(good)])),
                LedgerFixtures.tx("m1", B.namespace("ns1", ranges: [merkleRange(bad)])),
                LedgerFixtures.tx("m2", B.namespace("ns1", ranges: [merkleRange(good, level: 2)])),
                LedgerFixtures.tx("m3", B.namespace("ns1", writes: [B.write("key6", "x")])),
                LedgerFixtures.tx("m4", B.namespace("ns1", ranges: [merkleRange(good)])),  // key6 is a phantom now
            ]
        )
        #expect(codes == [.valid, .phantomReadConflict, .phantomReadConflict, .valid, .phantomReadConflict])
    }

    /// Key-level metadata: a metadata-only write keeps the value at a new version; on an absent key it does
    /// nothing; a value write keeps the existing metadata.
    @Test func metadataWrites() throws {
        let directory = try TemporaryDirectory("mvcc-metadata")
        defer { directory.remove() }
        let (_, ledger) = try Self.seeded(directory)
        func metadata(_ key: String, _ entries: [(String, String)]) -> Kvrwset_KVMetadataWrite {
            var write = Kvrwset_KVMetadataWrite()
            write.key = key
            write.entries = entries.map {
                var entry = Kvrwset_KVMetadataEntry()
                entry.name = $0.0
                entry.value = Data($0.1.utf8)
                return entry
            }
            return write
        }
        // Which namespaces have keys with metadata decides whether validation and commit read each key's metadata
        // (a partial index answers it); none yet.
        func mayHaveMetadata(_ namespace: String, _ collection: String = "") throws -> Bool {
            try ledger.validationContext.withSnapshot {
                try $0.mayHaveKeyMetadata(namespace: namespace, collection: collection)
            }
        }
        #expect(try !mayHaveMetadata("ns1"))
        try LedgerFixtures.commit(
            ledger,
            [
                LedgerFixtures.tx(
                    "md0",
                    B.namespace("ns1", metadataWrites: [metadata("key1", [("VALIDATION_PARAMETER", "policy")])])
                ),
                LedgerFixtures.tx(
                    "md1",
                    B.namespace("ns1", metadataWrites: [metadata("nokey", [("VALIDATION_PARAMETER", "policy")])])
                ),
            ]
        )
        let key1 = try #require(try ledger.state(namespace: "ns1", key: "key1"))
        #expect(key1.value == Data("value1".utf8))
        #expect(key1.version == Height(blockNumber: 2, txNumber: 0))
        let stored = try Kvrwset_KVMetadataWrite(serializedBytes: try #require(key1.metadata))
        #expect(stored.entries.first?.name == "VALIDATION_PARAMETER")
        #expect(try ledger.state(namespace: "ns1", key: "nokey") == nil)
        #expect(try mayHaveMetadata("ns1"))
        #expect(try !mayHaveMetadata("ns1", "coll"))
        #expect(try !mayHaveMetadata("ns2"))
        try LedgerFixtures.commit(
            ledger,
            [LedgerFixtures.tx("md2", B.namespace("ns1", writes: [B.write("key1", "v2")]))]
        )
        let rewritten = try #require(try ledger.state(namespace: "ns1", key: "key1"))
        #expect(rewritten.value == Data("v2".utf8))
        #expect(rewritten.metadata == key1.metadata)
        // A value write of a key without metadata in a namespace where another key has some stores none.
        try LedgerFixtures.commit(
            ledger,
            [LedgerFixtures.tx("md3", B.namespace("ns1", writes: [B.write("key2", "v3")]))]
        )
        #expect(try ledger.state(namespace: "ns1", key: "key2")?.metadata == nil)
    }

    /// Writes of one block, through both ways into the update batch: transactions that write each public key once
    /// (straight into the batch) and transactions whose writes of a key merge (a key written twice, a delete and
    /// a value of one key: the delete wins, as Fabric's txops flags do). A later transaction's write replaces an
    /// earlier one; a value written after a delete in the block has no metadata; a value write of a committed key
    /// keeps its metadata.
    @Test func writesWithinABlock() throws {
        let directory = try TemporaryDirectory("mvcc-writes")
        defer { directory.remove() }
        let (_, ledger) = try Self.seeded(directory)
        var metadataWrite = Kvrwset_KVMetadataWrite()
        metadataWrite.key = "key1"
        var entry = Kvrwset_KVMetadataEntry()
        entry.name = "VALIDATION_PARAMETER"
        entry.value = Data("policy".utf8)
        metadataWrite.entries = [entry]
        try LedgerFixtures.commit(ledger, [LedgerFixtures.tx("md", B.namespace("ns1", metadataWrites: [metadataWrite]))])
        let key1Metadata = try #require(try ledger.state(namespace: "ns1", key: "key1")?.metadata)

        let codes = try LedgerFixtures.commit(
            ledger,
            [
                LedgerFixtures.tx("plain", B.namespace("ns1", writes: [B.write("key2", "a"), B.write("key3", nil)])),
                LedgerFixtures.tx("twice", B.namespace("ns1", writes: [B.write("key4", "x"), B.write("key4", "y")])),
                LedgerFixtures.tx("deleteThenPut", B.namespace("ns1", writes: [B.write("key5", nil), B.write("key5", "z")])),
                LedgerFixtures.tx("afterDelete", B.namespace("ns1", writes: [B.write("key3", "back")])),
                LedgerFixtures.tx("keepsMetadata", B.namespace("ns1", writes: [B.write("key1", "m")])),
                LedgerFixtures.tx(
                    "twoNamespaces",
                    B.namespace("ns2", writes: [B.write("k", "1")]),
                    B.namespace("ns1", writes: [B.write("key2", "b")])
                ),
            ]
        )
        #expect(codes == Array(repeating: .valid, count: 6))
        func state(_ namespace: String, _ key: String) throws -> (String, Height, Data?)? {
            try ledger.state(namespace: namespace, key: key).map {
                (String(decoding: $0.value, as: UTF8.self), $0.version, $0.metadata)
            }
        }
        let block: UInt64 = 3
        let key1 = try #require(try state("ns1", "key1"))
        #expect(key1.0 == "m" && key1.1 == Height(blockNumber: block, txNumber: 4) && key1.2 == key1Metadata)
        let key2 = try #require(try state("ns1", "key2"))
        #expect(key2.0 == "b" && key2.1 == Height(blockNumber: block, txNumber: 5) && key2.2 == nil)
        let key3 = try #require(try state("ns1", "key3"))
        #expect(key3.0 == "back" && key3.1 == Height(blockNumber: block, txNumber: 3))
        let key4 = try #require(try state("ns1", "key4"))
        #expect(key4.0 == "y" && key4.1 == Height(blockNumber: block, txNumber: 1))
        #expect(try state("ns1", "key5") == nil)
        let k = try #require(try state("ns2", "k"))
        #expect(k.0 == "1" && k.1 == Height(blockNumber: block, txNumber: 5))

        // A transaction with more than 16 keys merges through its index: the 20th write repeats the 18th key
        // (the later value wins), and a delete of the 3rd after its value wins over it.
        var many = (0..<19).map { B.write("many\($0)", "v\($0)") }
        many.append(B.write("many17", "again"))
        many.append(B.write("many2", nil))
        #expect(try LedgerFixtures.commit(ledger, [LedgerFixtures.tx("many", B.namespace("ns3", writes: many))]) == [.valid])
        #expect(try state("ns3", "many17")?.0 == "again")
        #expect(try state("ns3", "many18")?.0 == "v18")
        #expect(try state("ns3", "many0")?.0 == "v0")
        #expect(try state("ns3", "many2") == nil)
    }

    /// The collection configuration history records what valid transactions write to `_lifecycle`'s Collections
    /// field (a StateData without package bytes: a definition without collections), at their block; a value that does not decode
    /// as StateData is not recorded, so it cannot pose as "no collections".
    @Test func collectionConfigHistory() throws {
        let directory = try TemporaryDirectory("mvcc-confighistory")
        defer { directory.remove() }
        let (_, ledger) = try Self.seeded(directory)
        var package = Protos_CollectionConfigPackage()
        package.config = [.with { $0.staticCollectionConfig = .with { $0.name = "c1" } }]
        var good = Kvrwset_KVWrite()
        good.key = "namespaces/fields/cc/Collections"
        good.value = try Lifecycle_StateData.with { $0.bytes = try package.serializedBytes() }.serializedBytes()
        var empty = Kvrwset_KVWrite()
        empty.key = "namespaces/fields/plain/Collections"
        empty.value = try Lifecycle_StateData.with { $0.int64 = 1 }.serializedBytes()  // decodes, holds no package
        var garbage = Kvrwset_KVWrite()
        garbage.key = "namespaces/fields/broken/Collections"
        garbage.value = Data([0xFF, 0xFF, 0xFF])
        try LedgerFixtures.commit(
            ledger,
            [LedgerFixtures.tx("cfg", B.namespace("_lifecycle", writes: [good, empty, garbage]))]
        )
        let block = ledger.height - 1
        #expect(try ledger.collectionConfigUpdates(block: block).map(\.namespace) == ["cc", "plain"])
        let record = try #require(try ledger.collectionConfig(namespace: "cc", below: block + 1))
        #expect(record.blockNumber == block)
        #expect(try Protos_CollectionConfigPackage(serializedBytes: record.package) == package)
        #expect(try ledger.collectionConfig(namespace: "plain", below: block + 1)?.package == Data())
        #expect(try ledger.collectionConfig(namespace: "cc", below: block) == nil)
        #expect(try !ledger.hasCollectionConfigHistory(namespace: "broken"))
    }

    /// Preprocess (batch_preparer_test `TestPreprocessProtoBlock`): txs already invalid are skipped; an endorser tx
    /// without an action is NIL_TXACTION; an undecodable rwset is INVALID_OTHER_REASON; garbage envelopes get
    /// Fabric's validator codes and the block still commits.
    @Test func preprocess() throws {
        let directory = try TemporaryDirectory("mvcc-preprocess")
        defer { directory.remove() }
        let (_, ledger) = try Self.seeded(directory)
        var noAction = Common_Payload()
        var channelHeader = Common_ChannelHeader()
        channelHeader.type = Int32(Common_HeaderType.endorserTransaction.rawValue)
        channelHeader.txID = "noaction"
        noAction.header.channelHeader = try channelHeader.serializedBytes()
        noAction.data = try Protos_Transaction().serializedBytes()
        var noActionEnvelope = Common_Envelope()
        noActionEnvelope.payload = try noAction.serializedBytes()

        // An action whose results are not a TxReadWriteSet.
        let badResults = B.endorserTransaction(txID: "badrwset", [])
        var envelope = try Common_Envelope(serializedBytes: badResults)
        var payload = try Common_Payload(serializedBytes: envelope.payload)
        var transaction = try Protos_Transaction(serializedBytes: payload.data)
        var actionPayload = try Protos_ChaincodeActionPayload(serializedBytes: transaction.actions[0].payload)
        var response = try Protos_ProposalResponsePayload(serializedBytes: actionPayload.action.proposalResponsePayload)
        var action = Protos_ChaincodeAction()
        action.results = Data([0xff, 0xff, 0xff])
        response.extension = try action.serializedBytes()
        actionPayload.action.proposalResponsePayload = try response.serializedBytes()
        transaction.actions[0].payload = try actionPayload.serializedBytes()
        payload.data = try transaction.serializedBytes()
        envelope.payload = try payload.serializedBytes()

        let envelopes = [
            LedgerFixtures.tx("p0", B.namespace("ns1", writes: [B.write("w0", "x")])),
            LedgerFixtures.tx("p1", B.namespace("ns1", writes: [B.write("w1", "x")])),
            try noActionEnvelope.serializedBytes(),
            try envelope.serializedBytes(),
            Data([0x0a, 0x05, 0x01]),  // not an envelope
            LedgerFixtures.tx("p5", B.namespace("ns1", writes: [B.write("w5", "x")])),
        ]
        let previous = try ledger.block(number: 1)
        let block = B.block(2, previous: previous, envelopes)
        let committed = try ledger.commit(
            block,
            validationCodes: [.valid, .endorsementPolicyFailure, .valid, .valid, .valid, .valid]
        )
        #expect(
            committed.validationCodes == [
                .valid, .endorsementPolicyFailure, .nilTxaction, .invalidOtherReason, .invalidOtherReason, .valid,
            ]
        )
        #expect(try ledger.state(namespace: "ns1", key: "w0") != nil)
        #expect(try ledger.state(namespace: "ns1", key: "w1") == nil)
        #expect(try ledger.state(namespace: "ns1", key: "w5") != nil)
        #expect(try ledger.validationCode(txID: "p1") == .endorsementPolicyFailure)
    }

    /// The structural stand-in gives garbage envelopes Fabric's codes and the block commits.
    @Test func garbageEnvelopeThroughTheValidatorSeam() async throws {
        let directory = try TemporaryDirectory("mvcc-garbage")
        defer { directory.remove() }
        let (_, ledger) = try Self.seeded(directory)
        var badPayload = Common_Envelope()
        badPayload.payload = Data([0xff, 0x01])
        let envelopes = [
            Data("garbage that is no envelope".utf8),
            try badPayload.serializedBytes(),
            LedgerFixtures.tx("ok", B.namespace("ns1", writes: [B.write("fine", "x")])),
        ]
        let block = B.block(2, previous: try ledger.block(number: 1), envelopes)
        let committed = try await ledger.commit(block, validator: StructuralValidator())
        #expect(committed.validationCodes == [.invalidOtherReason, .badPayload, .badProposalTxid])
        #expect(ledger.height == 3)
    }

    /// Private data whose hash does not match the block's hashed rwset fails the block; nothing is committed.
    @Test func privateDataHashMismatchFailsTheBlock() throws {
        let directory = try TemporaryDirectory("mvcc-pvt-mismatch")
        defer { directory.remove() }
        let (_, ledger) = try Self.seeded(directory)
        let tx = LedgerFixtures.tx(
            "pv",
            B.namespace("ns1", collections: [B.collection("coll", writes: [B.write("p2", "right")])])
        )
        let wrong = TxPrivateData(txIndex: 0, writeSet: B.privateWriteSet("ns1", ["coll": [B.write("p2", "wrong")]]))
        let error = #expect(throws: LedgerError.self) { try LedgerFixtures.commit(ledger, [tx], privateData: [wrong]) }
        #expect(error?.code == .privateDataMismatch)
        #expect(error?.message.contains("block 2") == true)
        #expect(ledger.height == 2)
        let right = TxPrivateData(txIndex: 0, writeSet: B.privateWriteSet("ns1", ["coll": [B.write("p2", "right")]]))
        try LedgerFixtures.commit(ledger, [tx], privateData: [right])
        #expect(try ledger.privateState(namespace: "ns1", collection: "coll", key: "p2")?.value == Data("right".utf8))
    }
}
