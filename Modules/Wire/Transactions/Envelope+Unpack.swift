import Foundation

// One step of Fabric's transaction nesting per function, each naming the layer and field in its error, so a
// validator can map the failing step to Fabric's TxValidationCode and a log line can say exactly what was wrong.

extension Common_Envelope {
    /// `payload` as a `common.Payload`.
    public func unpackPayload() throws(WireError) -> Common_Payload {
        guard !self.payload.isEmpty else { throw WireError.missing("Envelope", field: "payload") }
        return try Common_Payload(decoding: self.payload, field: "Envelope.payload")
    }
}

extension Common_Payload {
    /// `header.channel_header` as a `common.ChannelHeader`.
    public func unpackChannelHeader() throws(WireError) -> Common_ChannelHeader {
        guard self.hasHeader else { throw WireError.missing("Payload", field: "header") }
        return try Common_ChannelHeader(decoding: self.header.channelHeader, field: "Payload.header.channel_header")
    }

    /// `header.signature_header` as a `common.SignatureHeader`.
    public func unpackSignatureHeader() throws(WireError) -> Common_SignatureHeader {
        guard self.hasHeader else { throw WireError.missing("Payload", field: "header") }
        return try Common_SignatureHeader(
            decoding: self.header.signatureHeader,
            field: "Payload.header.signature_header"
        )
    }

    /// `data` as a `protos.Transaction` (endorser transactions).
    public func unpackTransaction() throws(WireError) -> Protos_Transaction {
        try Protos_Transaction(decoding: self.data, field: "Payload.data")
    }

    /// `data` as a `common.ConfigEnvelope` (CONFIG transactions).
    public func unpackConfigEnvelope() throws(WireError) -> Common_ConfigEnvelope {
        guard !self.data.isEmpty else { throw WireError.missing("Payload", field: "data") }
        return try Common_ConfigEnvelope(decoding: self.data, field: "Payload.data")
    }
}

extension Common_ChannelHeader {
    /// The header type, or nil when the value is not one Fabric defines.
    public var headerType: Common_HeaderType? {
        Common_HeaderType(rawValue: Int(self.type)).flatMap { type in
            if case .UNRECOGNIZED = type { return nil }
            return type
        }
    }

    /// `extension` as a `protos.ChaincodeHeaderExtension` (endorser transactions).
    public func unpackChaincodeHeaderExtension() throws(WireError) -> Protos_ChaincodeHeaderExtension {
        try Protos_ChaincodeHeaderExtension(decoding: self.extension, field: "ChannelHeader.extension")
    }
}

extension Protos_TransactionAction {
    /// `header` as a `common.SignatureHeader`.
    public func unpackSignatureHeader() throws(WireError) -> Common_SignatureHeader {
        try Common_SignatureHeader(decoding: self.header, field: "TransactionAction.header")
    }

    /// `payload` as a `protos.ChaincodeActionPayload`.
    public func unpackChaincodeActionPayload() throws(WireError) -> Protos_ChaincodeActionPayload {
        try Protos_ChaincodeActionPayload(decoding: self.payload, field: "TransactionAction.payload")
    }
}

extension Protos_ChaincodeActionPayload {
    /// `action.proposal_response_payload` as a `protos.ProposalResponsePayload`.
    public func unpackProposalResponsePayload() throws(WireError) -> Protos_ProposalResponsePayload {
        guard self.hasAction else { throw WireError.missing("ChaincodeActionPayload", field: "action") }
        return try Protos_ProposalResponsePayload(
            decoding: self.action.proposalResponsePayload,
            field: "ChaincodeActionPayload.action.proposal_response_payload"
        )
    }

    /// `chaincode_proposal_payload` as a `protos.ChaincodeProposalPayload`.
    public func unpackChaincodeProposalPayload() throws(WireError) -> Protos_ChaincodeProposalPayload {
        try Protos_ChaincodeProposalPayload(
            decoding: self.chaincodeProposalPayload,
            field: "ChaincodeActionPayload.chaincode_proposal_payload"
        )
    }
}

extension Protos_ProposalResponsePayload {
    /// `extension` as a `protos.ChaincodeAction`.
    public func unpackChaincodeAction() throws(WireError) -> Protos_ChaincodeAction {
        try Protos_ChaincodeAction(decoding: self.extension, field: "ProposalResponsePayload.extension")
    }
}

extension Protos_ChaincodeAction {
    /// `results` as a `rwset.TxReadWriteSet`.
    public func unpackReadWriteSet() throws(WireError) -> Rwset_TxReadWriteSet {
        try Rwset_TxReadWriteSet(decoding: self.results, field: "ChaincodeAction.results")
    }
}

extension Rwset_NsReadWriteSet {
    /// `rwset` as a `kvrwset.KVRWSet`.
    public func unpackKVRWSet() throws(WireError) -> Kvrwset_KVRWSet {
        try Kvrwset_KVRWSet(decoding: self.rwset, field: "NsReadWriteSet(\(self.namespace)).rwset")
    }
}

extension Rwset_CollectionHashedReadWriteSet {
    /// `hashed_rwset` as a `kvrwset.HashedRWSet`.
    public func unpackHashedRWSet() throws(WireError) -> Kvrwset_HashedRWSet {
        try Kvrwset_HashedRWSet(
            decoding: self.hashedRwset,
            field: "CollectionHashedReadWriteSet(\(self.collectionName)).hashed_rwset"
        )
    }
}

extension Rwset_CollectionPvtReadWriteSet {
    /// `rwset` as a `kvrwset.KVRWSet` (the cleartext private writes of one collection).
    public func unpackKVRWSet() throws(WireError) -> Kvrwset_KVRWSet {
        try Kvrwset_KVRWSet(decoding: self.rwset, field: "CollectionPvtReadWriteSet(\(self.collectionName)).rwset")
    }
}

extension Protos_Transaction {
    /// One action of an endorser transaction decoded down to its read-write set.
    public struct DecodedAction: Sendable {
        /// The action's `payload`.
        public var payload: Protos_ChaincodeActionPayload
        /// `payload.action.proposal_response_payload` → `extension` → `results`.
        public var readWriteSet: Rwset_TxReadWriteSet
    }

    /// The actions whose payload decodes down to a read-write set, in order; an action that does not decode is
    /// left out.
    ///
    /// For readers of committed blocks that need only what the actions wrote (private data coordination,
    /// reconciliation). Validation decodes each step itself, to give Fabric's code for the step that fails.
    public var decodableActions: [DecodedAction] {
        self.actions.compactMap { action in
            guard let payload = try? action.unpackChaincodeActionPayload(),
                let readWriteSet = try? payload.unpackProposalResponsePayload().unpackChaincodeAction()
                    .unpackReadWriteSet()
            else { return nil }
            return DecodedAction(payload: payload, readWriteSet: readWriteSet)
        }
    }
}
