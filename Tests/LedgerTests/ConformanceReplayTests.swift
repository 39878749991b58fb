import Foundation
import Ledger
import TestSupport
import Testing
import Wire

@Suite(
    "Conformance: replaying the Fabric v3.1 channel",
    .enabled(if: Conformance.isAvailable, Conformance.missingReason)
)
struct ConformanceReplayTests {
    /// Replaying the orderer's blocks with the reference-filter stand-in reproduces each peer's
    /// TRANSACTIONS_FILTER and COMMIT_HASH byte for byte.
    @Test("filters and commit hashes match the peer's", arguments: Conformance.committingPeers)
    func replayMatchesPeer(peer: String) async throws {
        try await TemporaryDirectory.with("conformance-\(peer)") { directory in
            let validator = ReferenceFilterValidator(directory: try Conformance.url(peer))
            let genesis = try Conformance.block(0)
            let manager = try LedgerManager(rootDirectory: directory.url, configuration: LedgerFixtures.configuration())
            let ledger = try manager.createLedger(genesisBlock: genesis)
            for number in try Conformance.blockNumbers() where number > 0 {
                try await ledger.commit(try Conformance.block(number), validator: validator)
            }
            #expect(ledger.height == 30)
            for number in try Conformance.blockNumbers() {
                let stored = try #require(try ledger.block(number: number))
                let reference = try Conformance.block(number, in: peer)
                #expect(stored.header == reference.header, "block \(number) header")
                #expect(
                    PeerLedger.filter(of: stored) == PeerLedger.filter(of: reference),
                    "block \(number) TRANSACTIONS_FILTER"
                )
                #expect(stored.metadata.metadata[4] == reference.metadata.metadata[4], "block \(number) COMMIT_HASH")
                #expect(try ledger.block(hash: reference.header.hash)?.header.number == number)
            }
            // The expected.json view of the same facts.
            let expected = try Conformance.expected()
            let last = try #require(expected[29])
            let hash = peer == "peer0.org1" ? last.commitHashOrg1 : last.commitHashOrg2
            #expect(ledger.lastCommitHash?.hexString == hash)
        }
    }

    /// The CONFIG transactions' envelopes are persisted under namespace "" key CHANNEL_CONFIG_ENV_BYTES and
    /// read back: after block 23 the config holds Org1's anchor peer update.
    @Test func channelConfigIsPersisted() async throws {
        try await TemporaryDirectory.with("conformance-config") { directory in
            let manager = try LedgerManager(rootDirectory: directory.url, configuration: LedgerFixtures.configuration())
            let ledger = try manager.createLedger(genesisBlock: try Conformance.block(0))
            let genesisConfig = try #require(try ledger.channelConfigEnvelope())
            #expect(genesisConfig.config.sequence == 0)
            let validator = ReferenceFilterValidator(directory: try Conformance.url("peer0.org1"))
            for number in 1...23 as ClosedRange<UInt64> {
                try await ledger.commit(try Conformance.block(number), validator: validator)
            }
            let updated = try #require(try ledger.channelConfigEnvelope())
            #expect(updated.config.sequence == 1)
            let value = try #require(try ledger.state(namespace: "", key: "CHANNEL_CONFIG_ENV_BYTES"))
            #expect(value.version == Height(blockNumber: 23, txNumber: 0))
            #expect(try manager.ledgerIDs() == ["conformance"])
        }
    }

    /// Committing with the private data peer0.org1 held (pvtdata.json) stores it, applies it to private state,
    /// and expires coll1 (BTL 3, read from the `kv` definition on the channel) exactly as the peer did.
    @Test func privateDataRoundTripAndExpiry() async throws {
        try await TemporaryDirectory.with("conformance-pvt") { directory in
            let peer = "peer0.org1"
            let before = try Conformance.privateData(peer: peer, phase: "before_expiry")
            let after = try Conformance.privateData(peer: peer, phase: "after_expiry")
            #expect(before[15]?.count == 10 && before[17]?.count == 10)
            #expect(after[15]?.count == 10 && (after[17] ?? [:]).isEmpty)
            let validator = ReferenceFilterValidator(directory: try Conformance.url(peer))
            let manager = try LedgerManager(rootDirectory: directory.url, configuration: LedgerFixtures.configuration())
            let ledger = try manager.createLedger(genesisBlock: try Conformance.block(0))

            let writeSets = try LedgerFixtures.conformancePrivateData()

            func held(_ block: UInt64) throws -> [UInt64: [String]] {
                var result: [UInt64: [String]] = [:]
                for tx in try ledger.privateData(block: block) {
                    result[tx.txIndex] = tx.writeSet.nsPvtRwset.flatMap { ns in
                        ns.collectionPvtRwset.map {
                            "\(ns.namespace)/\($0.collectionName)/\(Digest.sha256($0.rwset).hexString)"
                        }
                    }
                }
                return result
            }

            func expectedHeld(
                _ view: [UInt64: [UInt64: [Conformance.PrivateCollection]]],
                _ block: UInt64
            ) -> [UInt64: [String]] {
                var result: [UInt64: [String]] = [:]
                for (tx, collections) in view[block] ?? [:] where !collections.isEmpty {
                    result[tx] = collections.map { "\($0.namespace)/\($0.collection)/\($0.rwsetSHA256)" }
                }
                return result
            }

            for number in try Conformance.blockNumbers() where number > 0 {
                let block = try Conformance.block(number)
                try await ledger.commit(block, validator: validator, privateData: writeSets[number] ?? [])
                if ledger.height == 18 {
                    for block in 15...17 as ClosedRange<UInt64> {
                        #expect(try held(block) == expectedHeld(before, block), "before expiry, block \(block)")
                    }
                    for (collection, keys) in try Conformance.privateQueries(peer: peer, phase: "before_expiry") {
                        for (key, value) in keys {
                            let state = try ledger.privateState(namespace: "kv", collection: collection, key: key)
                            #expect(
                                state.map { String(decoding: $0.value, as: UTF8.self) } ?? "" == value,
                                "\(collection)/\(key)"
                            )
                        }
                    }
                }
                if ledger.height == 23 {
                    for block in 15...17 as ClosedRange<UInt64> {
                        #expect(try held(block) == expectedHeld(after, block), "after expiry, block \(block)")
                    }
                    for (collection, keys) in try Conformance.privateQueries(peer: peer, phase: "after_expiry") {
                        for (key, value) in keys {
                            let state = try ledger.privateState(namespace: "kv", collection: collection, key: key)
                            #expect(
                                state.map { String(decoding: $0.value, as: UTF8.self) } ?? "" == value,
                                "\(collection)/\(key)"
                            )
                            let hashed = try ledger.hashedState(
                                namespace: "kv",
                                collection: collection,
                                keyHash: Digest.sha256(Data(key.utf8))
                            )
                            #expect((hashed != nil) == !value.isEmpty, "hashed \(collection)/\(key)")
                        }
                    }
                }
                // Commit hashes do not depend on private data.
                #expect(
                    try ledger.block(number: number)?.metadata.metadata[4]
                        == Conformance.block(number, in: peer).metadata.metadata[4]
                )
            }
        }
    }
}
