public import Foundation

/// An envelope unpacked to its headers: Envelope → Payload → Header → ChannelHeader and SignatureHeader.
///
/// Keeps the raw bytes that Fabric hashes and signs (the payload, the channel header) next to the decoded
/// messages, so nothing needs to be re-encoded to verify it.
public struct TransactionEnvelope: Sendable {
    /// The envelope as received.
    public var envelope: Common_Envelope
    /// The decoded payload.
    public var payload: Common_Payload
    /// The decoded channel header.
    public var channelHeader: Common_ChannelHeader
    /// The decoded signature header (creator and nonce).
    public var signatureHeader: Common_SignatureHeader

    /// Unpacks `bytes` (a marshalled `common.Envelope`, as carried in `BlockData.data`).
    public init(bytes: Data) throws(WireError) {
        try self.init(envelope: Common_Envelope(decoding: bytes, field: "BlockData.data[]"))
    }

    /// Unpacks an already decoded envelope.
    public init(envelope: Common_Envelope) throws(WireError) {
        self.envelope = envelope
        self.payload = try envelope.unpackPayload()
        self.channelHeader = try self.payload.unpackChannelHeader()
        self.signatureHeader = try self.payload.unpackSignatureHeader()
    }

    /// The transaction id from the channel header (empty for orderer-made CONFIG transactions).
    public var txID: String { self.channelHeader.txID }

    /// The channel header type, or nil when it is not one Fabric defines.
    public var headerType: Common_HeaderType? { self.channelHeader.headerType }

    /// The tx id computed from the signature header: hex(SHA-256(nonce ‖ creator)).
    public var computedTxID: String {
        TxID.compute(nonce: self.signatureHeader.nonce, creator: self.signatureHeader.creator)
    }
}

/// An endorser transaction unpacked down to its read-write sets.
///
/// Fabric's validator accepts exactly one action per transaction; this type holds that action.
public struct EndorserTransaction: Sendable {
    /// The headers.
    public var envelope: TransactionEnvelope
    /// The chaincode header extension from the channel header (names the invoked chaincode).
    public var headerExtension: Protos_ChaincodeHeaderExtension
    /// The single action.
    public var action: EndorsedAction

    /// Unpacks `bytes` (a marshalled `common.Envelope` of type ENDORSER_TRANSACTION).
    public init(bytes: Data) throws(WireError) {
        try self.init(envelope: TransactionEnvelope(bytes: bytes))
    }

    /// Unpacks the transaction of an already unpacked envelope.
    public init(envelope: TransactionEnvelope) throws(WireError) {
        guard envelope.headerType == .endorserTransaction else {
            throw WireError.unexpected(
                "ChannelHeader",
                field: "type",
                "\(envelope.channelHeader.type) is not ENDORSER_TRANSACTION (3)"
            )
        }
        self.envelope = envelope
        self.headerExtension = try envelope.channelHeader.unpackChaincodeHeaderExtension()
        let transaction = try envelope.payload.unpackTransaction()
        guard transaction.actions.count == 1 else {
            throw WireError.unexpected(
                "Transaction",
                field: "actions",
                "holds \(transaction.actions.count) actions; exactly one is allowed"
            )
        }
        self.action = try EndorsedAction(transaction.actions[0])
    }
}

/// One `TransactionAction` of an endorser transaction, unpacked.
public struct EndorsedAction: Sendable {
    /// The action's signature header bytes as received (part of the proposal hash).
    public var signatureHeaderBytes: Data
    /// The decoded action signature header.
    public var signatureHeader: Common_SignatureHeader
    /// The chaincode proposal payload bytes as received (part of the proposal hash).
    public var chaincodeProposalPayloadBytes: Data
    /// The proposal response payload bytes as received: what every endorser signed (with its own identity).
    public var proposalResponsePayloadBytes: Data
    /// The decoded proposal response payload.
    public var proposalResponsePayload: Protos_ProposalResponsePayload
    /// The decoded chaincode action (results, events, response, chaincode id).
    public var chaincodeAction: Protos_ChaincodeAction
    /// The endorsements in order.
    public var endorsements: [Protos_Endorsement]
    /// The decoded read-write sets.
    public var readWriteSet: ReadWriteSet

    /// Unpacks one transaction action.
    public init(_ action: Protos_TransactionAction) throws(WireError) {
        self.signatureHeaderBytes = action.header
        self.signatureHeader = try action.unpackSignatureHeader()
        let payload = try action.unpackChaincodeActionPayload()
        self.chaincodeProposalPayloadBytes = payload.chaincodeProposalPayload
        self.proposalResponsePayloadBytes = payload.action.proposalResponsePayload
        self.proposalResponsePayload = try payload.unpackProposalResponsePayload()
        self.chaincodeAction = try self.proposalResponsePayload.unpackChaincodeAction()
        self.endorsements = payload.action.endorsements
        self.readWriteSet = try ReadWriteSet(self.chaincodeAction.unpackReadWriteSet())
    }

    /// The bytes endorser `index` signed: ProposalResponsePayload bytes ‖ endorser (SerializedIdentity) bytes.
    public func endorsementSignedBytes(_ index: Int) -> Data {
        var bytes = self.proposalResponsePayloadBytes
        bytes.append(self.endorsements[index].endorser)
        return bytes
    }
}

/// A transaction's read-write set with every nested `bytes` layer decoded, in the order of the transaction.
public struct ReadWriteSet: Sendable {
    /// One namespace (chaincode) of the read-write set.
    public struct Namespace: Sendable {
        /// The namespace name.
        public var name: String
        /// Public reads, range queries, writes and metadata writes.
        public var kvRWSet: Kvrwset_KVRWSet
        /// Hashed private read-write sets per collection.
        public var collections: [Collection]
    }

    /// The hashed read-write set of one private data collection.
    public struct Collection: Sendable {
        /// The collection name.
        public var name: String
        /// Key hashes, value hashes and versions.
        public var hashedRWSet: Kvrwset_HashedRWSet
        /// SHA-256 of the collection's cleartext KVRWSet bytes.
        public var pvtRWSetHash: Data
    }

    /// The namespaces in transaction order.
    public var namespaces: [Namespace]

    /// Decodes every nested layer of `rwset`.
    public init(_ rwset: Rwset_TxReadWriteSet) throws(WireError) {
        var namespaces: [Namespace] = []
        namespaces.reserveCapacity(rwset.nsRwset.count)
        for ns in rwset.nsRwset {
            var collections: [Collection] = []
            for collection in ns.collectionHashedRwset {
                collections.append(
                    Collection(
                        name: collection.collectionName,
                        hashedRWSet: try collection.unpackHashedRWSet(),
                        pvtRWSetHash: collection.pvtRwsetHash
                    )
                )
            }
            namespaces.append(Namespace(name: ns.namespace, kvRWSet: try ns.unpackKVRWSet(), collections: collections))
        }
        self.namespaces = namespaces
    }
}
