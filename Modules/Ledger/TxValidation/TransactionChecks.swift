import ChannelConfig
import Foundation
import MSP
import SwiftProtobuf
import Wire

/// A transaction that passed Fabric's message-level checks (`ValidateTransaction`), with what later steps need.
struct CheckedTransaction: Sendable {
    var payload: Common_Payload
    var channelHeader: Common_ChannelHeader
    var signatureHeader: Common_SignatureHeader
    var headerType: Common_HeaderType
    /// For an endorser transaction, the action's payload and proposal response payload as the checks decoded
    /// them, so that later steps do not decode the same bytes again.
    var endorserAction: EndorserAction?
}

/// The decoded action of an endorser transaction that passed `validateEndorserTransaction`.
struct EndorserAction: Sendable {
    var actionPayload: Protos_ChaincodeActionPayload
    var responsePayload: Protos_ProposalResponsePayload
}

/// A signature whose check is left for later, so that the verifies of many transactions run back to back.
struct PendingSignature: Sendable {
    var identity: any Identity
    var signature: Data
    var message: Data

    /// Verifies the signature; the error says why it does not verify.
    func verify() throws(MSPError) {
        try self.identity.verify(signature: self.signature, over: self.message)
    }
}

/// The message-level checks of one transaction, with the creator's signature not yet verified.
struct CheckOutcome: Sendable {
    /// The creator's signature over the payload, when the checks got as far as a deserialised, valid creator.
    /// If it does not verify, the transaction is BAD_CREATOR_SIGNATURE whatever `result` says: Fabric checks the
    /// signature before everything that produced `result` after it.
    var creatorSignature: PendingSignature?
    /// The outcome of the checks with the creator's signature assumed valid.
    var result: Result<CheckedTransaction, TxFailure>
}

/// Fabric's `ValidateTransaction`: the message-level checks every transaction gets before dispatch, each
/// failure mapped to the validation code a Fabric v3 peer gives.
enum TransactionChecks {
    typealias Code = Protos_TxValidationCode

    /// Checks `envelope` of channel `channelID` against the channel's MSPs in Fabric's order, but leaves the
    /// creator's signature to verify (``UnverifiedTransaction/verified(msps:)``).
    static func checkDeferringSignature(
        _ envelope: Common_Envelope,
        channelID: String,
        msps: any IdentityDeserializer
    ) -> CheckOutcome {
        var creatorSignature: PendingSignature?
        let result = self.check(envelope, channelID: channelID, msps: msps, creatorSignature: &creatorSignature)
        return CheckOutcome(creatorSignature: creatorSignature, result: result)
    }

    /// The checks, with the creator's signature set aside in `creatorSignature` once the creator deserialised.
    private static func check(
        _ envelope: Common_Envelope,
        channelID: String,
        msps: any IdentityDeserializer,
        creatorSignature: inout PendingSignature?
    ) -> Result<CheckedTransaction, TxFailure> {
        guard let payload = try? Common_Payload(decoding: envelope.payload, field: "Envelope.payload") else {
            return .failure(TxFailure(.badPayload, "payload does not decode as common.Payload"))
        }
        guard payload.hasHeader else { return .failure(TxFailure(.badCommonHeader, "nil header")) }
        guard let channelHeader = try? payload.unpackChannelHeader() else {
            return .failure(TxFailure(.badCommonHeader, "channel header does not decode"))
        }
        guard let signatureHeader = try? payload.unpackSignatureHeader() else {
            return .failure(TxFailure(.badCommonHeader, "signature header does not decode"))
        }
        let headerType: Common_HeaderType
        switch channelHeader.headerType {
        case .endorserTransaction?, .configUpdate?, .config?: headerType = channelHeader.headerType!
        default: return .failure(TxFailure(.badCommonHeader, "invalid header type \(channelHeader.type)"))
        }
        guard channelHeader.epoch == 0 else {
            return .failure(TxFailure(.badCommonHeader, "invalid epoch \(channelHeader.epoch), expected 0"))
        }
        guard !signatureHeader.nonce.isEmpty else {
            return .failure(TxFailure(.badCommonHeader, "invalid nonce specified in the header"))
        }
        guard !signatureHeader.creator.isEmpty else {
            return .failure(TxFailure(.badCommonHeader, "invalid creator specified in the header"))
        }

        // Creator signature. Fabric looks up the MSPs of the channel named in the header; a transaction naming
        // another channel finds no MSP that can deserialise its creator.
        guard channelHeader.channelID == channelID else {
            return .failure(
                TxFailure(
                    .badCreatorSignature,
                    "transaction is for channel '\(channelHeader.channelID)', not '\(channelID)'"
                )
            )
        }
        guard !envelope.signature.isEmpty, !envelope.payload.isEmpty else {
            return .failure(TxFailure(.badCreatorSignature, "envelope has no signature"))
        }
        do {
            let creator = try msps.deserializeIdentity(signatureHeader.creator)
            try creator.validate()
            creatorSignature = PendingSignature(
                identity: creator,
                signature: envelope.signature,
                message: envelope.payload
            )
        } catch {
            return .failure(TxFailure(.badCreatorSignature, "creator check failed: \(error.message)"))
        }

        var checked = CheckedTransaction(
            payload: payload,
            channelHeader: channelHeader,
            signatureHeader: signatureHeader,
            headerType: headerType
        )
        switch headerType {
        case .endorserTransaction:
            let expected = TxID.compute(nonce: signatureHeader.nonce, creator: signatureHeader.creator)
            guard channelHeader.txID == expected else {
                return .failure(
                    TxFailure(.badProposalTxid, "tx id \(channelHeader.txID) does not match computed \(expected)")
                )
            }
            switch checkEndorserTransaction(payload) {
            case .failure(let failure): return .failure(failure)
            case .success(let action): checked.endorserAction = action
            }
            return .success(checked)
        case .config:
            guard !payload.data.isEmpty else {
                return .failure(TxFailure(.invalidConfigTransaction, "config transaction has no data"))
            }
            return .success(checked)
        default:
            return .failure(TxFailure(.unsupportedTxPayload, "header type \(channelHeader.type) is not validated"))
        }
    }

    /// Fabric's `validateEndorserTransaction`: one action, a well-formed action header, and a proposal hash that
    /// matches what the endorsers signed.
    private static func checkEndorserTransaction(_ payload: Common_Payload) -> Result<EndorserAction, TxFailure> {
        func invalid(_ message: String) -> Result<EndorserAction, TxFailure> {
            .failure(TxFailure(.invalidEndorserTransaction, message))
        }
        guard let transaction = try? payload.unpackTransaction() else {
            return invalid("payload data does not decode as protos.Transaction")
        }
        guard transaction.actions.count == 1 else {
            return invalid("only one action per transaction is supported, tx contains \(transaction.actions.count)")
        }
        let action = transaction.actions[0]
        guard let actionHeader = try? action.unpackSignatureHeader() else {
            return invalid("action header does not decode")
        }
        guard !actionHeader.nonce.isEmpty, !actionHeader.creator.isEmpty else {
            return invalid("action header has no nonce or creator")
        }
        guard let actionPayload = try? action.unpackChaincodeActionPayload(),
            actionPayload.hasAction
        else {
            return invalid("action payload does not decode as ChaincodeActionPayload with an action")
        }
        guard let responsePayload = try? actionPayload.unpackProposalResponsePayload() else {
            return invalid("proposal response payload does not decode")
        }
        let hash = Digest.sha256(
            concatenating: [payload.header.channelHeader, action.header, actionPayload.chaincodeProposalPayload]
        )
        guard hash == responsePayload.proposalHash else { return invalid("proposal hash does not match") }
        return .success(EndorserAction(actionPayload: actionPayload, responsePayload: responsePayload))
    }
}

/// A transaction's validation code and why.
struct TxFailure: Error, Sendable {
    var code: Protos_TxValidationCode
    var reason: String

    init(_ code: Protos_TxValidationCode, _ reason: String) {
        self.code = code
        self.reason = reason
    }
}
