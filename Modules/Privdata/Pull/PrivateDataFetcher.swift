import ChannelConfig
public import Foundation
public import Wire

/// The identity of one collection's private data in a block, as requests and responses name it (Fabric's
/// `PvtDataDigest`).
public struct PrivateDataDigest: Hashable, Sendable, CustomStringConvertible {
    /// The transaction id; empty for reconciliation requests.
    public var txID: String
    /// The namespace.
    public var namespace: String
    /// The collection.
    public var collection: String
    /// The block number.
    public var blockSeq: UInt64
    /// The transaction's index in the block.
    public var seqInBlock: UInt64

    /// Creates a digest.
    public init(txID: String, namespace: String, collection: String, blockSeq: UInt64, seqInBlock: UInt64) {
        self.txID = txID
        self.namespace = namespace
        self.collection = collection
        self.blockSeq = blockSeq
        self.seqInBlock = seqInBlock
    }

    /// From the wire message.
    public init(_ message: Gossip_PvtDataDigest) {
        self.init(
            txID: message.txID,
            namespace: message.namespace,
            collection: message.collection,
            blockSeq: message.blockSeq,
            seqInBlock: message.seqInBlock
        )
    }

    /// As the wire message.
    public var message: Gossip_PvtDataDigest {
        var digest = Gossip_PvtDataDigest()
        digest.txID = self.txID
        digest.namespace = self.namespace
        digest.collection = self.collection
        digest.blockSeq = self.blockSeq
        digest.seqInBlock = self.seqInBlock
        return digest
    }

    public var description: String {
        "block \(self.blockSeq) tx \(self.seqInBlock) (\(self.txID)) \(self.namespace)/\(self.collection)"
    }
}

/// One digest to fetch, with what decides whom to ask.
public struct PrivateDataRequest: Sendable {
    /// What to fetch.
    public var digest: PrivateDataDigest
    /// The serialised identities of the transaction's endorsers (asked first); empty for reconciliation.
    public var endorsers: [Data]
    /// The collection as configured now (peers it accepts may be asked).
    public var collection: CollectionAccess
    /// For reconciliation: the collection as configured when the data was created (peers accepted by both are
    /// preferred); nil otherwise.
    public var originalCollection: CollectionAccess?

    /// Creates a request.
    public init(
        digest: PrivateDataDigest,
        endorsers: [Data],
        collection: CollectionAccess,
        originalCollection: CollectionAccess? = nil
    ) {
        self.digest = digest
        self.endorsers = endorsers
        self.collection = collection
        self.originalCollection = originalCollection
    }
}

/// What a fetch brought back.
public struct FetchedPrivateData: Sendable {
    /// digest → the collection rwset bytes peers sent for it (several peers may send candidates).
    public var elements: [PrivateDataDigest: [Data]]
    /// Digests some peer reported as already purged (past their block-to-live): not to be asked for again.
    public var purged: Set<PrivateDataDigest>

    /// Creates a result.
    public init(elements: [PrivateDataDigest: [Data]] = [:], purged: Set<PrivateDataDigest> = []) {
        self.elements = elements
        self.purged = purged
    }
}

/// Fetches private data from other peers (Fabric's `Fetcher`: the puller over gossip in production, a real
/// dictionary of data in tests).
public protocol PrivateDataFetcher: Sendable {
    /// Fetches `requests`; digests nobody could serve are simply absent from the result.
    func fetch(_ requests: [PrivateDataRequest]) async throws -> FetchedPrivateData
}
