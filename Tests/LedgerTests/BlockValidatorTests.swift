import ChannelConfig
import Foundation
import Ledger
import MSP
import SwiftProtobuf
import TestSupport
import Testing
import Wire

/// Transaction validation as a Fabric v3 peer's v2.0 validator does it (ports of txvalidator/v20 validator_test,
/// msgvalidation_test, statebased v20_test/keylevel tests, valinforetriever shim tests).
@Suite("Block validator")
struct BlockValidatorTests {
    @Test("a transaction endorsed per the chaincode policy is VALID; one endorsement short is EPF (TestInvokeOK)")
    func invokeOK() async throws {
        let f = try ValidatorFixture()
        try f.state.define("basic", policy: ValidatorFixture.channelEndorsement)
        let codes = try await f.validate([
            f.transaction(endorsers: [f.peer1, f.peer2]),
            f.transaction(endorsers: [f.peer1]),
            f.transaction(endorsers: [f.peer1, f.peer1]),
            f.transaction(endorsers: [f.peer1, f.client]),
            f.transaction(endorsers: [f.peer3, f.peer2]),
        ])
        #expect(codes == [.valid, .endorsementPolicyFailure, .endorsementPolicyFailure, .endorsementPolicyFailure, .valid])
    }

    @Test("an undefined chaincode is INVALID_CHAINCODE whatever its endorsements")
    func undefinedChaincode() async throws {
        let f = try ValidatorFixture()
        let codes = try await f.validate([f.transaction(endorsers: [f.peer1, f.peer2, f.peer3])])
        #expect(codes == [.invalidChaincode])
    }

    @Test("message-level checks map to Fabric's codes")
    func messageChecks() async throws {
        let f = try ValidatorFixture()
        try f.state.define("basic", policy: ValidatorFixture.channelEndorsement)
        // Creator signature over other bytes.
        var badSignature = try f.transaction()
        badSignature.signature = try f.client.sign(Data("other".utf8))
        // Signed by someone other than the creator.
        var wrongSigner = try f.transaction()
        try wrongSigner.resign(f.peer1)
        // A tx id that is not SHA-256(nonce ‖ creator).
        var badTxID = try f.transaction()
        try badTxID.editChannelHeader { $0.txID = String(repeating: "0", count: 64) }
        try badTxID.resign(f.client)
        // A channel header with epoch 1.
        var epoch = try f.transaction()
        try epoch.editChannelHeader { $0.epoch = 1 }
        try epoch.resign(f.client)
        // A CONFIG_UPDATE envelope (valid header, but not a committed tx type).
        var update = try f.transaction()
        try update.editChannelHeader { $0.type = Int32(Common_HeaderType.configUpdate.rawValue) }
        try update.resign(f.client)
        // Garbage payload, and the wrong channel.
        var garbage = Common_Envelope()
        garbage.payload = Data([0xff, 0xff])
        garbage.signature = Data([1])
        let otherChannel = try f.transaction(channel: "otherchannel")
        // A creator of an MSP that is not on the channel.
        let stranger = FakeMSP(name: "StrangerMSP").identity("x", roles: [.client])
        let strangerTx = try f.transaction(creator: stranger)

        let codes = try await f.validate([
            badSignature, wrongSigner, badTxID, epoch, update, garbage, otherChannel, strangerTx,
        ])
        #expect(
            codes == [
                .badCreatorSignature, .badCreatorSignature, .badProposalTxid, .badCommonHeader, .unsupportedTxPayload,
                .badPayload, .badCreatorSignature, .badCreatorSignature,
            ]
        )
    }

    /// The creator's signature is verified after the rest of a chunk's transactions are decoded (so that the
    /// verifies run back to back), but its failure still wins over every check Fabric makes after it.
    @Test("a bad creator signature wins over the checks after it, and a bad one is not saved by a good rest")
    func creatorSignatureBeforeLaterChecks() async throws {
        let f = try ValidatorFixture()
        try f.state.define("basic", policy: ValidatorFixture.channelEndorsement)
        // A wrong tx id (BAD_PROPOSAL_TXID on its own) under a bad signature.
        var badTxID = try f.transaction()
        try badTxID.editChannelHeader { $0.txID = String(repeating: "0", count: 64) }
        badTxID.signature = try f.client.sign(Data("other".utf8))
        // A proposal hash that does not match (INVALID_ENDORSER_TRANSACTION on its own) under a bad signature.
        var badHash = try f.transaction()
        try badHash.editActionPayload { $0.chaincodeProposalPayload = Data([0x0a, 0x01, 0x00]) }
        badHash.signature = try f.client.sign(Data("other".utf8))
        // Fully endorsed, but signed over other bytes; and the same transaction signed properly.
        let good = try f.transaction(endorsers: [f.peer1, f.peer2])
        var forged = good
        forged.signature = try f.client.sign(Data("other".utf8))

        // More than one chunk of the validator's parallel half, in both orders.
        var envelopes: [Common_Envelope] = []
        for _ in 0..<12 { envelopes += [badTxID, badHash, forged, try f.transaction(endorsers: [f.peer1, f.peer2])] }
        let codes = try await f.validate(envelopes)
        #expect(codes.count == 48)
        for index in stride(from: 0, to: 48, by: 4) {
            #expect(
                codes[index..<index + 4] == [.badCreatorSignature, .badCreatorSignature, .badCreatorSignature, .valid]
            )
        }
    }

    @Test("envelope bytes that do not decode are INVALID_OTHER_REASON, and the rest of the block is validated")
    func garbageEnvelope() async throws {
        let f = try ValidatorFixture()
        try f.state.define("basic", policy: ValidatorFixture.channelEndorsement)
        var block = try f.block([f.transaction()])
        block.data.data.insert(Data([0x0a, 0xff, 0x01]), at: 0)
        let codes = try await f.validator.validate(block, bundle: f.bundle, state: f.state) { _ in }
        #expect(codes == [.invalidOtherReason, .valid])
    }

    @Test("a proposal hash that does not match is INVALID_ENDORSER_TRANSACTION")
    func proposalHash() async throws {
        let f = try ValidatorFixture()
        try f.state.define("basic", policy: ValidatorFixture.channelEndorsement)
        var envelope = try f.transaction()
        try envelope.editActionPayload { $0.chaincodeProposalPayload = Data([0x0a, 0x01, 0x00]) }
        try envelope.resign(f.client)
        #expect(try await f.validate([envelope]) == [.invalidEndorserTransaction])
    }

    @Test("duplicate tx ids: in the ledger, and later copies in the block (TestDuplicateTxId)")
    func duplicates() async throws {
        let f = try ValidatorFixture()
        try f.state.define("basic", policy: ValidatorFixture.channelEndorsement)
        let first = try f.transaction(nonce: Data(repeating: 1, count: 24))
        let copy = first
        let committed = try f.transaction(nonce: Data(repeating: 2, count: 24))
        let committedID = try TransactionEnvelope(envelope: committed).txID
        f.state.addTxID(committedID)
        // A copy of an invalid tx does not make a later valid one a duplicate.
        let invalidFirst = try f.transaction(endorsers: [f.peer1], nonce: Data(repeating: 3, count: 24))
        let validSecond = try f.transaction(nonce: Data(repeating: 3, count: 24))
        let codes = try await f.validate([first, copy, committed, invalidFirst, validSecond])
        #expect(codes == [.valid, .duplicateTxid, .duplicateTxid, .endorsementPolicyFailure, .valid])
    }

    @Test("chaincode id and event checks")
    func chaincodeChecks() async throws {
        let f = try ValidatorFixture()
        try f.state.define("basic", policy: ValidatorFixture.channelEndorsement)
        func mutateAction(_ body: (inout Protos_ChaincodeAction) throws -> Void) throws -> Common_Envelope {
            var envelope = try f.transaction()
            try envelope.editActionPayload { actionPayload in
                var response = try Protos_ProposalResponsePayload(
                    serializedBytes: actionPayload.action.proposalResponsePayload
                )
                var action = try Protos_ChaincodeAction(serializedBytes: response.extension)
                try body(&action)
                response.extension = try action.serializedBytes()
                let responseBytes: Data = try response.serializedBytes()
                actionPayload.action.proposalResponsePayload = responseBytes
                actionPayload.action.endorsements = try [f.peer1, f.peer2].map { peer in
                    var endorsement = Protos_Endorsement()
                    endorsement.endorser = peer.serialized
                    endorsement.signature = try peer.sign(responseBytes + peer.serialized)
                    return endorsement
                }
            }
            try envelope.resign(f.client)
            return envelope
        }
        let noVersion = try mutateAction { $0.chaincodeID.version = "" }
        let otherName = try mutateAction { $0.chaincodeID.name = "other" }
        let noID = try mutateAction { $0.clearChaincodeID() }
        let badEvent = try mutateAction { $0.events = Data([0xff]) }
        let otherEvent = try mutateAction {
            $0.events = try Protos_ChaincodeEvent.with { $0.chaincodeID = "other" }.serializedBytes()
        }
        let goodEvent = try mutateAction {
            $0.events = try Protos_ChaincodeEvent.with { $0.chaincodeID = "basic"; $0.eventName = "e" }.serializedBytes()
        }
        let badRWSet = try mutateAction { $0.results = Data([0x12, 0x04, 0x0a]) }
        let duplicateNamespace = try mutateAction {
            var rwset = try Rwset_TxReadWriteSet(serializedBytes: $0.results)
            rwset.nsRwset.append(rwset.nsRwset[0])
            $0.results = try rwset.serializedBytes()
        }
        let codes = try await f.validate([
            noVersion, otherName, noID, badEvent, otherEvent, goodEvent, badRWSet, duplicateNamespace,
        ])
        #expect(
            codes == [
                .invalidChaincode, .invalidChaincode, .invalidOtherReason, .invalidOtherReason, .invalidOtherReason,
                .valid, .badRwset, .illegalWriteset,
            ]
        )
    }

    @Test("every written namespace needs a definition and its own policy")
    func crossNamespace() async throws {
        let f = try ValidatorFixture()
        try f.state.define("basic", policy: ValidatorFixture.channelEndorsement)
        try f.state.define("strict", policy: ValidatorFixture.signaturePolicy("OR('Org3MSP.peer')"))
        let toUndefined = try f.transaction { rw in
            rw.write("basic", "k", value: Data("v".utf8))
            rw.write("nosuchcc", "k", value: Data("v".utf8))
        }
        let toStrict = try f.transaction { rw in
            rw.write("basic", "k", value: Data("v".utf8))
            rw.write("strict", "k", value: Data("v".utf8))
        }
        let toStrictEndorsed = try f.transaction(endorsers: [f.peer1, f.peer3]) { rw in
            rw.write("basic", "k", value: Data("v".utf8))
            rw.write("strict", "k", value: Data("v".utf8))
        }
        // Reading another namespace needs no definition.
        let readsUndefined = try f.transaction { rw in
            rw.write("basic", "k", value: Data("v".utf8))
            rw.read("nosuchcc", "k", version: nil)
        }
        let codes = try await f.validate([toUndefined, toStrict, toStrictEndorsed, readsUndefined])
        #expect(codes == [.invalidChaincode, .endorsementPolicyFailure, .valid, .valid])
    }

    @Test("_lifecycle is validated under LifecycleEndorsement, and an approval under its org's Endorsement")
    func lifecycleNamespace() async throws {
        let f = try ValidatorFixture()
        let commit = try f.transaction(chaincode: "_lifecycle", endorsers: [f.peer1, f.peer2]) { rw in
            rw.write("_lifecycle", "namespaces/fields/cc/Sequence", value: Data([0x08, 0x01]))
        }
        let commitOneOrg = try f.transaction(chaincode: "_lifecycle", endorsers: [f.peer1]) { rw in
            rw.write("_lifecycle", "namespaces/fields/cc/Sequence", value: Data([0x08, 0x01]))
        }
        let approval = try f.transaction(chaincode: "_lifecycle", endorsers: [f.peer1]) { rw in
            rw.writePrivate("_lifecycle", collection: "_implicit_org_Org1MSP", "namespaces/fields/cc#1/X", value: Data([1]))
        }
        let approvalByOtherOrg = try f.transaction(chaincode: "_lifecycle", endorsers: [f.peer2]) { rw in
            rw.writePrivate("_lifecycle", collection: "_implicit_org_Org1MSP", "namespaces/fields/cc#1/X", value: Data([1]))
        }
        let unknownOrgCollection = try f.transaction(chaincode: "_lifecycle", endorsers: [f.peer1, f.peer2]) { rw in
            rw.writePrivate("_lifecycle", collection: "_implicit_org_Org9MSP", "k", value: Data([1]))
        }
        let explicitCollection = try f.transaction(chaincode: "_lifecycle", endorsers: [f.peer1, f.peer2]) { rw in
            rw.writePrivate("_lifecycle", collection: "coll", "k", value: Data([1]))
        }
        let codes = try await f.validate([
            commit, commitOneOrg, approval, approvalByOtherOrg, unknownOrgCollection, explicitCollection,
        ])
        #expect(
            codes == [
                .valid, .endorsementPolicyFailure, .valid, .endorsementPolicyFailure, .endorsementPolicyFailure,
                .endorsementPolicyFailure,
            ]
        )
    }

    @Test("collection endorsement policies replace the chaincode's for writes to that collection")
    func collectionPolicies() async throws {
        let f = try ValidatorFixture()
        var strict = Protos_StaticCollectionConfig()
        strict.name = "strict"
        strict.endorsementPolicy = try ValidatorFixture.signaturePolicy("OR('Org3MSP.peer')")
        var plain = Protos_StaticCollectionConfig()
        plain.name = "plain"
        var collections = Protos_CollectionConfigPackage()
        collections.config = [.with { $0.staticCollectionConfig = strict }, .with { $0.staticCollectionConfig = plain }]
        try f.state.define("kv", policy: ValidatorFixture.channelEndorsement, collections: collections)
        func tx(_ collection: String, _ endorsers: [FakeIdentity]) throws -> Common_Envelope {
            try f.transaction(chaincode: "kv", endorsers: endorsers) { rw in
                rw.writePrivate("kv", collection: collection, "k", value: Data([1]))
            }
        }
        let codes = try await f.validate([
            tx("strict", [f.peer3]), tx("strict", [f.peer1, f.peer2]), tx("plain", [f.peer1, f.peer2]),
            tx("plain", [f.peer3]), tx("undefined", [f.peer1, f.peer2, f.peer3]),
        ])
        #expect(codes == [.valid, .endorsementPolicyFailure, .valid, .endorsementPolicyFailure, .endorsementPolicyFailure])
    }

    @Test("a committed key-level policy replaces the chaincode policy for that key (statebased Test0..)")
    func keyLevelPolicies() async throws {
        let f = try ValidatorFixture()
        try f.state.define("basic", policy: ValidatorFixture.channelEndorsement)
        let org3Only: Data = try PolicyDSL.parse("OR('Org3MSP.peer')").serializedBytes()
        f.state.putMetadata("basic", "guarded", ["VALIDATION_PARAMETER": org3Only])
        let guardedByOrg3 = try f.transaction(endorsers: [f.peer3]) { $0.write("basic", "guarded", value: Data([1])) }
        let guardedByMajority = try f.transaction(endorsers: [f.peer1, f.peer2]) {
            $0.write("basic", "guarded", value: Data([1]))
        }
        // Writing a guarded and an unguarded key needs both policies.
        let mixedOrg3 = try f.transaction(endorsers: [f.peer3]) { rw in
            rw.write("basic", "guarded", value: Data([1]))
            rw.write("basic", "free", value: Data([1]))
        }
        let mixedAll = try f.transaction(endorsers: [f.peer3, f.peer1]) { rw in
            rw.write("basic", "guarded", value: Data([1]))
            rw.write("basic", "free", value: Data([1]))
        }
        // A read-only tx only needs the chaincode policy.
        let readOnly = try f.transaction(endorsers: [f.peer1, f.peer2]) { $0.read("basic", "guarded", version: nil) }
        let codes = try await f.validate([guardedByOrg3, guardedByMajority, mixedOrg3, mixedAll, readOnly])
        #expect(codes == [.valid, .endorsementPolicyFailure, .endorsementPolicyFailure, .valid, .valid])
    }

    @Test("an earlier tx of the block that validly updates a key's policy invalidates later writers (TestDependencyConflict)")
    func intraBlockDependency() async throws {
        let f = try ValidatorFixture()
        try f.state.define("basic", policy: ValidatorFixture.channelEndorsement)
        let parameter: Data = try PolicyDSL.parse("OR('Org1MSP.peer')").serializedBytes()
        let setPolicy = try f.transaction { $0.writeMetadata("basic", "k", entries: ["VALIDATION_PARAMETER": parameter]) }
        let writer = try f.transaction { $0.write("basic", "k", value: Data([1])) }
        let otherKey = try f.transaction { $0.write("basic", "other", value: Data([1])) }
        #expect(try await f.validate([setPolicy, writer, otherKey]) == [.valid, .endorsementPolicyFailure, .valid])

        // If the metadata writer fails its plugin run, later writers are judged on their own.
        let failedSet = try f.transaction(endorsers: [f.peer1]) {
            $0.writeMetadata("basic", "k", entries: ["VALIDATION_PARAMETER": parameter])
        }
        let writer2 = try f.transaction { $0.write("basic", "k", value: Data([2])) }
        #expect(try await f.validate([failedSet, writer2]) == [.endorsementPolicyFailure, .valid])

        // A later metadata writer does not affect an earlier writer.
        let writer3 = try f.transaction { $0.write("basic", "k", value: Data([3])) }
        let setPolicy2 = try f.transaction { $0.writeMetadata("basic", "k", entries: ["VALIDATION_PARAMETER": parameter]) }
        #expect(try await f.validate([writer3, setPolicy2]) == [.valid, .valid])
    }

    @Test("legacy lscc definitions are used when _lifecycle has none (TestValidationInfoRetrieverFromLegacy)")
    func legacyDefinitions() async throws {
        let f = try ValidatorFixture()
        var legacy = Protos_ChaincodeData()
        legacy.name = "old"
        legacy.vscc = "vscc"
        legacy.policy = try PolicyDSL.parse("OR('Org2MSP.peer')")
        f.state.put("lscc", "old", try legacy.serializedBytes())
        let codes = try await f.validate([
            f.transaction(chaincode: "old", endorsers: [f.peer2]) { $0.write("old", "k", value: Data([1])) },
            f.transaction(chaincode: "old", endorsers: [f.peer1]) { $0.write("old", "k", value: Data([1])) },
        ])
        #expect(codes == [.valid, .endorsementPolicyFailure])
    }

    @Test("unreadable chaincode definitions and unknown plugins halt the block")
    func halts() async throws {
        let f = try ValidatorFixture()
        f.state.put("_lifecycle", "namespaces/metadata/basic", Data([0xff, 0xff]))
        await #expect(throws: LedgerError(.validationHalted, "")) { try await f.validate([f.transaction()]) }

        let g = try ValidatorFixture()
        try g.state.define("basic", policy: ValidatorFixture.channelEndorsement, plugin: "custom")
        await #expect(throws: LedgerError(.validationHalted, "")) { try await g.validate([g.transaction()]) }

        // A definition without a plugin is INVALID_CHAINCODE, not a halt.
        let h = try ValidatorFixture()
        try h.state.define("basic", policy: ValidatorFixture.channelEndorsement, plugin: "")
        #expect(try await h.validate([h.transaction()]) == [.invalidChaincode])
    }

    @Test("CONFIG transactions are applied in block order; a failure halts the block")
    func configTransactions() async throws {
        let f = try ValidatorFixture()
        let orderer = FakeMSP(name: "OrdererMSP").identity("orderer", roles: [.orderer])
        var configEnvelope = Common_ConfigEnvelope()
        configEnvelope.config.sequence = 1
        var channelHeader = Common_ChannelHeader()
        channelHeader.type = Int32(Common_HeaderType.config.rawValue)
        channelHeader.channelID = ValidatorFixture.channel
        var signatureHeader = Common_SignatureHeader()
        signatureHeader.creator = orderer.serialized
        signatureHeader.nonce = Data([1])
        var payload = Common_Payload()
        payload.header.channelHeader = try channelHeader.serializedBytes()
        payload.header.signatureHeader = try signatureHeader.serializedBytes()
        payload.data = try configEnvelope.serializedBytes()
        var envelope = Common_Envelope()
        envelope.payload = try payload.serializedBytes()
        try envelope.resign(orderer)
        let block = try f.block([envelope])

        final class Applied: @unchecked Sendable {
            // Only touched by the validator's sequential pass, which runs on the caller's task.
            var sequences: [UInt64] = []
        }
        let applied = Applied()
        let codes = try await f.validator.validate(block, bundle: f.bundle, state: f.state) { config in
            applied.sequences.append(config.config.sequence)
        }
        #expect(codes == [.valid])
        #expect(applied.sequences == [1])
        await #expect(throws: LedgerError(.validationHalted, "")) {
            try await f.validator.validate(block, bundle: f.bundle, state: f.state) { _ in
                throw ChannelConfigError(.wrongSequence, "refused")
            }
        }
    }
}
