import Foundation
import SwiftProtobuf
import TestSupport
import Testing
import Wire

/// Damaged transactions fail with an error naming the layer and field that did not decode.
@Suite("Unpacking errors")
struct UnpackErrorTests {
    /// A small, valid endorser transaction built field by field.
    static func endorserTransaction(
        rwsetResults: Data? = nil,
        actionPayload: Data? = nil,
        actions: Int = 1
    ) throws -> Data {
        var kv = Kvrwset_KVRWSet()
        var write = Kvrwset_KVWrite()
        write.key = "k"
        write.value = Data("v".utf8)
        kv.writes = [write]
        var ns = Rwset_NsReadWriteSet()
        ns.namespace = "basic"
        ns.rwset = try kv.serializedBytes()
        var rwset = Rwset_TxReadWriteSet()
        rwset.nsRwset = [ns]

        var chaincodeAction = Protos_ChaincodeAction()
        chaincodeAction.results = try rwsetResults ?? rwset.serializedBytes()
        chaincodeAction.chaincodeID.name = "basic"
        chaincodeAction.chaincodeID.version = "1.0"
        var prp = Protos_ProposalResponsePayload()
        prp.proposalHash = Data(repeating: 1, count: 32)
        prp.extension = try chaincodeAction.serializedBytes()
        var endorsed = Protos_ChaincodeEndorsedAction()
        endorsed.proposalResponsePayload = try prp.serializedBytes()
        var endorsement = Protos_Endorsement()
        endorsement.endorser = Data("endorser".utf8)
        endorsement.signature = Data("sig".utf8)
        endorsed.endorsements = [endorsement]
        var cap = Protos_ChaincodeActionPayload()
        cap.action = endorsed
        cap.chaincodeProposalPayload = Data([0x0a, 0x00])

        var signatureHeader = Common_SignatureHeader()
        signatureHeader.creator = Data("creator".utf8)
        signatureHeader.nonce = Data([9, 9])
        var action = Protos_TransactionAction()
        action.header = try signatureHeader.serializedBytes()
        action.payload = try actionPayload ?? cap.serializedBytes()
        var transaction = Protos_Transaction()
        transaction.actions = Array(repeating: action, count: actions)

        var extensionMessage = Protos_ChaincodeHeaderExtension()
        extensionMessage.chaincodeID.name = "basic"
        var channelHeader = Common_ChannelHeader()
        channelHeader.type = Int32(Common_HeaderType.endorserTransaction.rawValue)
        channelHeader.channelID = "mychannel"
        channelHeader.txID = TxID.compute(nonce: signatureHeader.nonce, creator: signatureHeader.creator)
        channelHeader.extension = try extensionMessage.serializedBytes()
        var payload = Common_Payload()
        payload.header.channelHeader = try channelHeader.serializedBytes()
        payload.header.signatureHeader = try signatureHeader.serializedBytes()
        payload.data = try transaction.serializedBytes()
        var envelope = Common_Envelope()
        envelope.payload = try payload.serializedBytes()
        envelope.signature = Data("signature".utf8)
        return try envelope.serializedBytes()
    }

    @Test("a well-formed transaction unpacks")
    func wellFormed() throws {
        let tx = try EndorserTransaction(bytes: Self.endorserTransaction())
        #expect(tx.envelope.txID == tx.envelope.computedTxID)
        #expect(tx.action.readWriteSet.namespaces.map(\.name) == ["basic"])
        #expect(tx.action.readWriteSet.namespaces[0].kvRWSet.writes[0].key == "k")
        #expect(tx.action.endorsementSignedBytes(0) == tx.action.proposalResponsePayloadBytes + Data("endorser".utf8))
    }

    @Test("garbage envelope bytes name the envelope")
    func garbageEnvelope() {
        let error = #expect(throws: WireError.self) {
            try TransactionEnvelope(bytes: Data([0xff, 0xff, 0xff]))
        }
        #expect(error?.code == .malformedMessage)
        #expect(error?.message.contains("common.Envelope") == true)
    }

    @Test("an empty payload is reported missing")
    func emptyPayload() throws {
        var envelope = Common_Envelope()
        envelope.signature = Data([1])
        let error = #expect(throws: WireError.self) {
            try TransactionEnvelope(bytes: try envelope.serializedBytes())
        }
        #expect(error?.code == .missingField)
        #expect(error?.message.contains("Envelope.payload") == true)
    }

    @Test("a damaged rwset names the ChaincodeAction.results field")
    func damagedRWSet() throws {
        let bytes = try Self.endorserTransaction(rwsetResults: Data([0x12, 0x05, 0x01]))
        let error = #expect(throws: WireError.self) { try EndorserTransaction(bytes: bytes) }
        #expect(error?.code == .malformedMessage)
        #expect(error?.message.contains("ChaincodeAction.results") == true)
        #expect(error?.message.contains("rwset.TxReadWriteSet") == true)
    }

    @Test("a damaged action payload names TransactionAction.payload")
    func damagedActionPayload() throws {
        let bytes = try Self.endorserTransaction(actionPayload: Data([0x0a, 0x7f]))
        let error = #expect(throws: WireError.self) { try EndorserTransaction(bytes: bytes) }
        #expect(error?.message.contains("TransactionAction.payload") == true)
    }

    @Test("two actions are refused")
    func twoActions() throws {
        let bytes = try Self.endorserTransaction(actions: 2)
        let error = #expect(throws: WireError.self) { try EndorserTransaction(bytes: bytes) }
        #expect(error?.code == .unexpectedValue)
        #expect(error?.message.contains("exactly one") == true)
    }

    @Test("encodings that do not round-trip are not canonical")
    func nonCanonical() throws {
        let payload = Data([1, 2, 3])
        let signature = Data([4, 5])
        let canonical = Data([0x0a, 3, 1, 2, 3, 0x12, 2, 4, 5])
        #expect(Common_Envelope.isCanonicalEncoding(canonical))
        // Fields out of order decode to the same message but re-encode differently.
        #expect(!Common_Envelope.isCanonicalEncoding(Data([0x12, 2, 4, 5, 0x0a, 3, 1, 2, 3])))
        // A repeated singular field: the last one wins, the first disappears on re-encoding.
        #expect(!Common_Envelope.isCanonicalEncoding(Data([0x0a, 1, 9, 0x0a, 3, 1, 2, 3, 0x12, 2, 4, 5])))
        // A non-minimal length varint (0x83 0x00 = 3).
        #expect(!Common_Envelope.isCanonicalEncoding(Data([0x0a, 0x83, 0x00, 1, 2, 3, 0x12, 2, 4, 5])))
        // Bytes that do not decode at all.
        #expect(!Common_Envelope.isCanonicalEncoding(Data([0xff])))
        // An unknown field is kept and re-emitted after the known ones, as Go's protobuf does, so it round-trips.
        #expect(Common_Envelope.isCanonicalEncoding(canonical + Data([0x78, 0x01])))
        let decoded = try Common_Envelope(serializedBytes: canonical)
        #expect(decoded.payload == payload && decoded.signature == signature)
    }

    @Test("every truncation of a valid transaction fails with a WireError, never a crash")
    func truncations() throws {
        let bytes = try Self.endorserTransaction()
        // The envelope's last field is the signature (tag, length, 9 bytes): cutting all of it leaves a valid
        // envelope without a signature, which unpacks (the signature check is the validator's business).
        let withoutSignature = bytes.count - 11
        for length in 0..<bytes.count {
            do {
                let tx = try EndorserTransaction(bytes: bytes.prefix(length))
                #expect(length == withoutSignature, "prefix of \(length) bytes unpacked")
                #expect(tx.envelope.envelope.signature.isEmpty)
            } catch {
                #expect(length != withoutSignature)
            }
        }
    }
}
