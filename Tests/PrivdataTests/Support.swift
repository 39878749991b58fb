import ChannelConfig
import Foundation
import Gossip
import GossipState
import Ledger
import MSP
import Privdata
import SwiftProtobuf
import Synchronization
import TestSupport
import Testing
import TransientStore
import Wire

/// A value behind a lock, shareable between tasks.
final class Locked<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>
    init(_ value: Value) { self.mutex = Mutex(value) }
    func withLock<Result>(_ body: (inout Value) -> Result) -> Result { self.mutex.withLock { body(&$0) } }
    var value: Value { self.mutex.withLock { $0 } }
}

/// A ``GossipClock`` whose sleeps return at once, moving its time forward by the duration slept: retry loops
/// bounded by a threshold run in microseconds.
final class InstantGossipClock: GossipClock, Sendable {
    private let state = Mutex(GossipInstant(nanosecondsSinceEpoch: 1_700_000_000_000_000_000))
    private let sleepCount = Mutex(0)
    var now: GossipInstant { self.state.withLock { $0 } }
    var minimumResolution: Duration { .zero }
    var sleeps: Int { self.sleepCount.withLock { $0 } }

    func sleep(until deadline: GossipInstant, tolerance: Duration?) async throws {
        try Task.checkCancellation()
        self.sleepCount.withLock { $0 += 1 }
        self.state.withLock { if deadline > $0 { $0 = deadline } }
        await Task.yield()
    }
}

/// A fetcher serving from a real dictionary of private data (block, tx, namespace, collection → rwset bytes),
/// recording every request. Digests listed in `purged` are reported as purged.
final class DictionaryFetcher: PrivateDataFetcher {
    struct Key: Hashable {
        var block: UInt64
        var tx: UInt64
        var namespace: String
        var collection: String
    }

    let data: Locked<[Key: Data]>
    let purged: Set<Key>
    let calls = Locked<[[PrivateDataDigest]]>([])

    init(_ data: [Key: Data] = [:], purged: Set<Key> = []) {
        self.data = Locked(data)
        self.purged = purged
    }

    func fetch(_ requests: [PrivateDataRequest]) async throws -> FetchedPrivateData {
        self.calls.withLock { $0.append(requests.map(\.digest)) }
        var result = FetchedPrivateData()
        let data = self.data.value
        for request in requests {
            let digest = request.digest
            let key = Key(
                block: digest.blockSeq,
                tx: digest.seqInBlock,
                namespace: digest.namespace,
                collection: digest.collection
            )
            if self.purged.contains(key) {
                result.purged.insert(digest)
            } else if let bytes = data[key] {
                result.elements[digest] = [bytes]
            }
        }
        return result
    }
}

/// The conformance channel (a real Fabric v3.1 network): its MSPs, its private data, and ledgers replaying it.
enum Chain {
    static let channel = "conformance"
    static let org1Peer = (mspID: "Org1MSP", member: "peers/peer0.org1.example.com")
    static let org2Peer = (mspID: "Org2MSP", member: "peers/peer0.org2.example.com")

    static func configuration() -> LedgerConfiguration {
        LedgerConfiguration(
            blockStore: BlockStoreConfiguration(maxFileSize: 64 << 20, compress: true, syncWrites: false),
            synchronousDatabase: false
        )
    }

    /// A ledger holding the genesis block and a transient store, in `directory`.
    static func stores(_ directory: TemporaryDirectory) throws -> (PeerLedger, TransientStore) {
        try stores(at: directory.url)
    }

    /// A ledger holding the genesis block and a transient store, under `url`.
    static func stores(at url: URL) throws -> (PeerLedger, TransientStore) {
        let manager = try LedgerManager(
            rootDirectory: url.appendingPathComponent("ledger"),
            configuration: configuration()
        )
        let ledger = try manager.createLedger(genesisBlock: try Conformance.block(0))
        let provider = try TransientStoreProvider(directory: url.appendingPathComponent("transient"))
        return (ledger, provider.openStore(ledgerID: channel))
    }

    /// The private data peer0.org1 held before expiry (pvtdata.json), as write sets per block and tx.
    static func privateData(peer: String = "peer0.org1") throws -> [UInt64: [TxPrivateData]] {
        try Conformance.privateWriteSets(peer: peer).mapValues { txs in
            txs.keys.sorted().map { TxPrivateData(txIndex: $0, writeSet: txs[$0]!) }
        }
    }

    /// The dictionary a ``DictionaryFetcher`` serves for `data`.
    static func fetcherData(
        _ data: [UInt64: [TxPrivateData]],
        blocks: ClosedRange<UInt64>
    ) -> [DictionaryFetcher.Key: Data] {
        var result: [DictionaryFetcher.Key: Data] = [:]
        for block in blocks {
            for tx in data[block] ?? [] {
                for ns in tx.writeSet.nsPvtRwset {
                    for coll in ns.collectionPvtRwset {
                        result[
                            .init(
                                block: block,
                                tx: tx.txIndex,
                                namespace: ns.namespace,
                                collection: coll.collectionName
                            )
                        ] =
                            coll.rwset
                    }
                }
            }
        }
        return result
    }

    /// The signing identity of a conformance peer.
    static func signer(_ peer: (mspID: String, member: String)) throws -> X509SigningIdentity {
        try Conformance.signingIdentity(mspID: peer.mspID, member: peer.member)
    }

    /// The self-signed data of a conformance peer.
    static func local(_ peer: (mspID: String, member: String)) throws -> LocalPeerIdentity {
        let signer = try signer(peer)
        return try LocalPeerIdentity(mspID: peer.mspID, identity: signer.serialized) { try signer.sign($0) }
    }

    /// A collection store reading the ledger's committed `_lifecycle` definitions.
    static func collections(_ ledger: PeerLedger, localMSPID: String) throws -> CollectionStore {
        let manager = try Conformance.mspManager()
        return CollectionStore(
            channelID: channel,
            source: LedgerCollectionConfigSource(ledger: ledger),
            deserializer: { manager },
            localMSPID: localMSPID
        )
    }

    /// Signed data of `peer` over `bytes` (a handshake or StateInfo stand-in with a real signature).
    static func signedData(
        _ peer: (mspID: String, member: String),
        over bytes: Data = Data("hello".utf8)
    ) throws
        -> SignedData
    {
        let signer = try signer(peer)
        return SignedData(data: bytes, identity: signer.serialized, signature: try signer.sign(bytes))
    }

    /// The tx ids of block `number` in order.
    static func txIDs(_ number: UInt64) throws -> [String] {
        try #require(try Conformance.expected()[number]).txs.map(\.txid)
    }
}

/// A validator over the reference chain (codes as peer `peer` committed them).
func referenceValidator(_ peer: String) throws -> ReferenceFilterValidator {
    ReferenceFilterValidator(directory: try Conformance.url(peer))
}

/// The private write sets of `data` as they travel with a block.
func writeSets(_ data: [TxPrivateData]) -> [TxPrivateWriteSet] {
    data.map { TxPrivateWriteSet(txSeqInBlock: $0.txIndex, writeSet: $0.writeSet) }
}

/// (namespace/collection/sha256) per tx, for comparing what a ledger holds.
func summary(_ data: [TxPrivateData]) -> [UInt64: [String]] {
    var result: [UInt64: [String]] = [:]
    for tx in data {
        result[tx.txIndex] = tx.writeSet.nsPvtRwset.flatMap { ns in
            ns.collectionPvtRwset.map { "\(ns.namespace)/\($0.collectionName)/\(Digest.sha256($0.rwset).hexString)" }
        }.sorted()
    }
    return result
}
