public import Foundation
import SwiftProtobuf
public import Wire

/// Builds syntactically complete Fabric blocks and endorser transactions for ledger tests: every layer
/// decodes, hashes chain correctly; signatures are placeholders (validation is not under test).
public enum TestBlocks {
    /// The channel the builders use.
    public static let channel = "testchannel"

    /// A read of `key` at `version` (nil: read of an absent key).
    public static func read(_ key: String, _ version: (UInt64, UInt64)?) -> Kvrwset_KVRead {
        var read = Kvrwset_KVRead()
        read.key = key
        if let version {
            var v = Kvrwset_Version()
            v.blockNum = version.0
            v.txNum = version.1
            read.version = v
        }
        return read
    }

    /// A write (a delete when `value` is nil).
    public static func write(_ key: String, _ value: String?) -> Kvrwset_KVWrite {
        var write = Kvrwset_KVWrite()
        write.key = key
        if let value { write.value = Data(value.utf8) } else { write.isDelete = true }
        return write
    }

    /// A range query with raw reads.
    public static func range(
        _ start: String,
        _ end: String,
        exhausted: Bool,
        _ reads: [Kvrwset_KVRead]
    ) -> Kvrwset_RangeQueryInfo {
        var info = Kvrwset_RangeQueryInfo()
        info.startKey = start
        info.endKey = end
        info.itrExhausted = exhausted
        var raw = Kvrwset_QueryReads()
        raw.kvReads = reads
        info.rawReads = raw
        return info
    }

    /// One namespace of a read-write set.
    public static func namespace(
        _ name: String,
        reads: [Kvrwset_KVRead] = [],
        ranges: [Kvrwset_RangeQueryInfo] = [],
        writes: [Kvrwset_KVWrite] = [],
        metadataWrites: [Kvrwset_KVMetadataWrite] = [],
        collections: [Rwset_CollectionHashedReadWriteSet] = []
    ) -> Rwset_NsReadWriteSet {
        var kv = Kvrwset_KVRWSet()
        kv.reads = reads
        kv.rangeQueriesInfo = ranges
        kv.writes = writes
        kv.metadataWrites = metadataWrites
        var ns = Rwset_NsReadWriteSet()
        ns.namespace = name
        ns.rwset = try! kv.serializedBytes()
        ns.collectionHashedRwset = collections
        return ns
    }

    /// The cleartext KVRWSet bytes of private writes.
    public static func privateRWSetBytes(_ writes: [Kvrwset_KVWrite]) -> Data {
        var kv = Kvrwset_KVRWSet()
        kv.writes = writes
        return try! kv.serializedBytes()
    }

    /// A hashed collection rwset matching cleartext `writes` (and hashed reads of `reads`).
    public static func collection(
        _ name: String,
        writes: [Kvrwset_KVWrite],
        reads: [Kvrwset_KVRead] = []
    ) -> Rwset_CollectionHashedReadWriteSet {
        var hashed = Kvrwset_HashedRWSet()
        hashed.hashedWrites = writes.map { write in
            var hashedWrite = Kvrwset_KVWriteHash()
            hashedWrite.keyHash = Digest.sha256(Data(write.key.utf8))
            hashedWrite.isDelete = write.isDelete
            if !write.isDelete { hashedWrite.valueHash = Digest.sha256(write.value) }
            return hashedWrite
        }
        hashed.hashedReads = reads.map { read in
            var hashedRead = Kvrwset_KVReadHash()
            hashedRead.keyHash = Digest.sha256(Data(read.key.utf8))
            if read.hasVersion { hashedRead.version = read.version }
            return hashedRead
        }
        var collection = Rwset_CollectionHashedReadWriteSet()
        collection.collectionName = name
        collection.hashedRwset = try! hashed.serializedBytes()
        collection.pvtRwsetHash = Digest.sha256(privateRWSetBytes(writes))
        return collection
    }

    /// The private write set of one transaction, matching ``collection(_:writes:reads:)``.
    public static func privateWriteSet(
        _ namespace: String,
        _ collections: [String: [Kvrwset_KVWrite]]
    )
        -> Rwset_TxPvtReadWriteSet
    {
        var ns = Rwset_NsPvtReadWriteSet()
        ns.namespace = namespace
        ns.collectionPvtRwset = collections.keys.sorted().map { name in
            var collection = Rwset_CollectionPvtReadWriteSet()
            collection.collectionName = name
            collection.rwset = privateRWSetBytes(collections[name]!)
            return collection
        }
        var set = Rwset_TxPvtReadWriteSet()
        set.nsPvtRwset = [ns]
        return set
    }

    /// An endorser transaction envelope carrying `namespaces` as its results.
    public static func endorserTransaction(txID: String, _ namespaces: [Rwset_NsReadWriteSet]) -> Data {
        var rwset = Rwset_TxReadWriteSet()
        rwset.nsRwset = namespaces
        var action = Protos_ChaincodeAction()
        action.results = try! rwset.serializedBytes()
        var response = Protos_ProposalResponsePayload()
        response.proposalHash = Data(repeating: 1, count: 32)
        response.extension = try! action.serializedBytes()
        var endorsed = Protos_ChaincodeEndorsedAction()
        endorsed.proposalResponsePayload = try! response.serializedBytes()
        var actionPayload = Protos_ChaincodeActionPayload()
        actionPayload.action = endorsed
        var signatureHeader = Common_SignatureHeader()
        signatureHeader.creator = Data("creator".utf8)
        signatureHeader.nonce = Data(txID.utf8)
        var transactionAction = Protos_TransactionAction()
        transactionAction.header = try! signatureHeader.serializedBytes()
        transactionAction.payload = try! actionPayload.serializedBytes()
        var transaction = Protos_Transaction()
        transaction.actions = [transactionAction]
        return envelope(
            type: .endorserTransaction,
            txID: txID,
            signatureHeader: signatureHeader,
            data: try! transaction.serializedBytes()
        )
    }

    /// A config envelope with an empty config at sequence 0 (present, so its bytes are not empty).
    public static var defaultConfig: Common_ConfigEnvelope {
        var envelope = Common_ConfigEnvelope()
        envelope.config = Common_Config()
        return envelope
    }

    /// A CONFIG envelope carrying `config` (a ConfigEnvelope) as payload data.
    public static func configTransaction(txID: String, config: Common_ConfigEnvelope = defaultConfig) -> Data {
        var signatureHeader = Common_SignatureHeader()
        signatureHeader.creator = Data("orderer".utf8)
        signatureHeader.nonce = Data(txID.utf8)
        return envelope(
            type: .config,
            txID: txID,
            signatureHeader: signatureHeader,
            data: try! config.serializedBytes()
        )
    }

    static func envelope(
        type: Common_HeaderType,
        txID: String,
        signatureHeader: Common_SignatureHeader,
        data: Data
    )
        -> Data
    {
        var channelHeader = Common_ChannelHeader()
        channelHeader.type = Int32(type.rawValue)
        channelHeader.channelID = channel
        channelHeader.txID = txID
        var header = Common_Header()
        header.channelHeader = try! channelHeader.serializedBytes()
        header.signatureHeader = try! signatureHeader.serializedBytes()
        var payload = Common_Payload()
        payload.header = header
        payload.data = data
        var envelope = Common_Envelope()
        envelope.payload = try! payload.serializedBytes()
        envelope.signature = Data("signature".utf8)
        return try! envelope.serializedBytes()
    }

    /// A block `number` holding `envelopes`, chained to `previous` (nil for block 0).
    public static func block(_ number: UInt64, previous: Common_Block?, _ envelopes: [Data]) -> Common_Block {
        var block = Common_Block()
        block.header.number = number
        block.header.previousHash = previous?.header.hash ?? Data()
        block.data.data = envelopes
        block.header.dataHash = block.data.hash
        block.metadata.metadata = Array(repeating: Data(), count: 5)
        return block
    }

    /// A genesis block with one CONFIG transaction.
    public static func genesis() -> Common_Block {
        block(0, previous: nil, [configTransaction(txID: "genesis")])
    }

    /// A chain of `count` blocks after `genesis`, each with `txsPerBlock` transactions writing distinct keys of
    /// namespace "cc" (tx ids are unique across the chain).
    public static func chain(after genesis: Common_Block, count: Int, txsPerBlock: Int = 3) -> [Common_Block] {
        var blocks: [Common_Block] = []
        var previous = genesis
        for number in 1...UInt64(max(count, 1)) where blocks.count < count {
            let envelopes = (0..<txsPerBlock).map { tx in
                endorserTransaction(
                    txID: "tx-\(number)-\(tx)",
                    [
                        namespace(
                            "cc",
                            writes: [write("key\(tx)", "value-\(number)-\(tx)"), write("b\(number)t\(tx)", "x")]
                        )
                    ]
                )
            }
            let block = block(number, previous: previous, envelopes)
            blocks.append(block)
            previous = block
        }
        return blocks
    }
}
