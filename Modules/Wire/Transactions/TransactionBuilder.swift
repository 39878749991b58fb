import SwiftProtobuf
public import Foundation

/// Something that signs for a serialized identity: a client creating a transaction, or an endorsing peer.
public struct TransactionSigner: Sendable {
    /// The signer's marshalled `msp.SerializedIdentity`.
    public var identity: Data
    /// Signs bytes (ECDSA over SHA-256, low-S, DER, for Fabric's X.509 identities).
    public var sign: @Sendable (Data) throws -> Data

    /// Creates a signer.
    public init(identity: Data, sign: @escaping @Sendable (Data) throws -> Data) {
        self.identity = identity
        self.sign = sign
    }
}

/// Builds signed, endorsed transactions exactly as a Fabric client assembles them from endorsers' responses, for
/// tools and workloads that play the client and endorser parts (endorsement itself is out of this peer's scope).
public enum TransactionBuilder {
    /// An endorser transaction for chaincode `chaincode` (version `version`) on `channelID` with read-write set
    /// `rwset`, created and signed by `creator` and endorsed by each of `endorsers` over the same response.
    ///
    /// - Parameters:
    ///   - nonce: the signature header nonce (24 random bytes if nil); the tx id is SHA-256(nonce ‖ creator).
    ///   - arguments: the chaincode invocation arguments recorded in the proposal payload.
    public static func endorserTransaction(
        channelID: String,
        chaincode: String,
        version: String = "1.0",
        rwset: Rwset_TxReadWriteSet,
        creator: TransactionSigner,
        endorsers: [TransactionSigner],
        nonce: Data? = nil,
        arguments: [Data] = [],
        timestamp: Date = Date()
    ) throws -> Common_Envelope {
        let nonce = nonce ?? randomBytes(24)
        var headerExtension = Protos_ChaincodeHeaderExtension()
        headerExtension.chaincodeID.name = chaincode
        var channelHeader = Common_ChannelHeader()
        channelHeader.type = Int32(Common_HeaderType.endorserTransaction.rawValue)
        channelHeader.channelID = channelID
        channelHeader.txID = TxID.compute(nonce: nonce, creator: creator.identity)
        channelHeader.timestamp = .init(date: timestamp)
        channelHeader.extension = try headerExtension.encoded()
        var signatureHeader = Common_SignatureHeader()
        signatureHeader.creator = creator.identity
        signatureHeader.nonce = nonce
        let channelHeaderBytes = try channelHeader.encoded()
        let signatureHeaderBytes = try signatureHeader.encoded()

        var invocation = Protos_ChaincodeInvocationSpec()
        invocation.chaincodeSpec.type = .golang
        invocation.chaincodeSpec.chaincodeID.name = chaincode
        invocation.chaincodeSpec.input.args = arguments
        var proposalPayload = Protos_ChaincodeProposalPayload()
        proposalPayload.input = try invocation.encoded()
        let proposalPayloadBytes = try proposalPayload.encoded()

        var action = Protos_ChaincodeAction()
        action.results = try rwset.encoded()
        action.response.status = 200
        action.chaincodeID.name = chaincode
        action.chaincodeID.version = version
        var response = Protos_ProposalResponsePayload()
        response.proposalHash = Digest.sha256(
            concatenating: [channelHeaderBytes, signatureHeaderBytes, proposalPayloadBytes]
        )
        response.extension = try action.encoded()
        let responseBytes = try response.encoded()

        var endorsed = Protos_ChaincodeEndorsedAction()
        endorsed.proposalResponsePayload = responseBytes
        endorsed.endorsements = try endorsers.map { endorser in
            var endorsement = Protos_Endorsement()
            endorsement.endorser = endorser.identity
            endorsement.signature = try endorser.sign(responseBytes + endorser.identity)
            return endorsement
        }
        var actionPayload = Protos_ChaincodeActionPayload()
        actionPayload.chaincodeProposalPayload = proposalPayloadBytes
        actionPayload.action = endorsed
        var transactionAction = Protos_TransactionAction()
        transactionAction.header = signatureHeaderBytes
        transactionAction.payload = try actionPayload.encoded()
        var transaction = Protos_Transaction()
        transaction.actions = [transactionAction]

        var payload = Common_Payload()
        payload.header.channelHeader = channelHeaderBytes
        payload.header.signatureHeader = signatureHeaderBytes
        payload.data = try transaction.encoded()
        var envelope = Common_Envelope()
        envelope.payload = try payload.encoded()
        envelope.signature = try creator.sign(envelope.payload)
        return envelope
    }

    /// `count` random bytes.
    public static func randomBytes(_ count: Int) -> Data {
        var generator = SystemRandomNumberGenerator()
        return Data((0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) })
    }
}

/// Builds read-write sets: public reads and writes per namespace, and private writes per collection with the
/// hashed form that goes into the block and the cleartext form that travels as private data.
public struct ReadWriteSetBuilder: Sendable {
    private struct Namespace: Sendable {
        var kv = Kvrwset_KVRWSet()
        var collections: [String: (hashed: Kvrwset_HashedRWSet, cleartext: Kvrwset_KVRWSet)] = [:]
        var collectionOrder: [String] = []
    }

    private var namespaces: [String: Namespace] = [:]
    private var order: [String] = []

    /// An empty builder.
    public init() {}

    private mutating func edit(_ namespace: String, _ body: (inout Namespace) -> Void) {
        if self.namespaces[namespace] == nil {
            self.namespaces[namespace] = Namespace()
            self.order.append(namespace)
        }
        body(&self.namespaces[namespace]!)
    }

    /// Records a read of `key` at `version` ((block, tx), or nil for a key that did not exist).
    public mutating func read(_ namespace: String, _ key: String, version: (block: UInt64, tx: UInt64)?) {
        self.edit(namespace) { ns in
            var read = Kvrwset_KVRead()
            read.key = key
            if let version {
                read.version.blockNum = version.block
                read.version.txNum = version.tx
            }
            ns.kv.reads.append(read)
        }
    }

    /// Records a write (or a delete) of `key`.
    public mutating func write(_ namespace: String, _ key: String, value: Data, delete: Bool = false) {
        self.edit(namespace) { ns in
            var write = Kvrwset_KVWrite()
            write.key = key
            write.value = value
            write.isDelete = delete
            ns.kv.writes.append(write)
        }
    }

    /// Records a metadata write (for example a key-level endorsement policy under `VALIDATION_PARAMETER`).
    public mutating func writeMetadata(_ namespace: String, _ key: String, entries: [String: Data]) {
        self.edit(namespace) { ns in
            var write = Kvrwset_KVMetadataWrite()
            write.key = key
            write.entries = entries.keys.sorted().map { name in
                var entry = Kvrwset_KVMetadataEntry()
                entry.name = name
                entry.value = entries[name]!
                return entry
            }
            ns.kv.metadataWrites.append(write)
        }
    }

    /// Records a private write to `collection`: the block gets SHA-256 of key and value, the private data the
    /// cleartext.
    public mutating func writePrivate(_ namespace: String, collection: String, _ key: String, value: Data) {
        self.edit(namespace) { ns in
            if ns.collections[collection] == nil {
                ns.collections[collection] = (Kvrwset_HashedRWSet(), Kvrwset_KVRWSet())
                ns.collectionOrder.append(collection)
            }
            var hashed = Kvrwset_KVWriteHash()
            hashed.keyHash = Digest.sha256(Data(key.utf8))
            hashed.valueHash = Digest.sha256(value)
            ns.collections[collection]!.hashed.hashedWrites.append(hashed)
            var write = Kvrwset_KVWrite()
            write.key = key
            write.value = value
            ns.collections[collection]!.cleartext.writes.append(write)
        }
    }

    /// The public read-write set for the transaction (with hashed private writes).
    public func readWriteSet() throws -> Rwset_TxReadWriteSet {
        var rwset = Rwset_TxReadWriteSet()
        for name in self.order {
            let ns = self.namespaces[name]!
            var nsRWSet = Rwset_NsReadWriteSet()
            nsRWSet.namespace = name
            nsRWSet.rwset = try ns.kv.encoded()
            for collection in ns.collectionOrder {
                let sets = ns.collections[collection]!
                var hashed = Rwset_CollectionHashedReadWriteSet()
                hashed.collectionName = collection
                hashed.hashedRwset = try sets.hashed.encoded()
                hashed.pvtRwsetHash = Digest.sha256(try sets.cleartext.encoded())
                nsRWSet.collectionHashedRwset.append(hashed)
            }
            rwset.nsRwset.append(nsRWSet)
        }
        return rwset
    }

    /// The cleartext private read-write set (nil if the transaction wrote no private data).
    public func privateReadWriteSet() throws -> Rwset_TxPvtReadWriteSet? {
        var pvt = Rwset_TxPvtReadWriteSet()
        for name in self.order {
            let ns = self.namespaces[name]!
            guard !ns.collectionOrder.isEmpty else { continue }
            var nsPvt = Rwset_NsPvtReadWriteSet()
            nsPvt.namespace = name
            for collection in ns.collectionOrder {
                var collectionSet = Rwset_CollectionPvtReadWriteSet()
                collectionSet.collectionName = collection
                collectionSet.rwset = try ns.collections[collection]!.cleartext.encoded()
                nsPvt.collectionPvtRwset.append(collectionSet)
            }
            pvt.nsPvtRwset.append(nsPvt)
        }
        return pvt.nsPvtRwset.isEmpty ? nil : pvt
    }
}
