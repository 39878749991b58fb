public import Foundation
public import Wire

/// Verifies blocks from the ordering service (or from other peers) against a channel's config, as Fabric's
/// deliver client and gossip message crypto service do: the hash chain, the data hash over well-formed
/// envelopes, and the orderer signatures under `/Channel/Orderer/BlockValidation`.
///
/// Every check works on the bytes as received; nothing is re-encoded to hash or verify.
public struct BlockVerifier: Sendable {
    /// The config whose BlockValidation policy and consenter set are used.
    public let bundle: ChannelBundle

    /// A verifier for blocks of `bundle`'s channel.
    public init(bundle: ChannelBundle) { self.bundle = bundle }

    /// Full verification of the next block of a chain whose last block is `previous` (number and header hash),
    /// or of any block when `previous` is nil (the previous-hash check is then skipped, as Fabric does when no
    /// last hash is known).
    public func verify(_ block: Common_Block, previous: (number: UInt64, hash: Data)?) throws(ChannelConfigError) {
        guard block.hasHeader else { throw ChannelConfigError(.badBlock, "block has no header") }
        let number = block.header.number
        if let previous {
            guard number == previous.number + 1 else {
                throw ChannelConfigError(
                    .badBlock,
                    "block number \(number) does not follow \(previous.number) on channel \(self.bundle.channelID)"
                )
            }
            guard block.header.previousHash == previous.hash else {
                throw ChannelConfigError(
                    .badBlock,
                    "block \(number): previous_hash \(block.header.previousHash.hexString) is not the hash of block "
                        + "\(previous.number) (\(previous.hash.hexString))"
                )
            }
        }
        guard block.hasMetadata, block.metadata.metadata.count >= 5 else {
            throw ChannelConfigError(.badBlock, "block \(number) has \(block.metadata.metadata.count) metadata entries, expected 5")
        }
        try Self.verifyData(block)
        try self.verifySignatures(block)
    }

    /// The well-formedness and data-hash checks: data is non-empty; unless the block is a single CONFIG
    /// envelope, each envelope decodes, has a payload and a signature, and re-encodes to exactly its bytes; the
    /// header's data hash is SHA-256 over the raw envelopes.
    public static func verifyData(_ block: Common_Block) throws(ChannelConfigError) {
        let number = block.header.number
        let data = block.data.data
        guard !data.isEmpty else { throw ChannelConfigError(.badBlock, "block \(number) is empty") }
        if !Self.isConfigBlock(block) {
            for (index, raw) in data.enumerated() {
                guard let envelope = try? Common_Envelope(decoding: raw, field: "block data") else {
                    throw ChannelConfigError(.badBlock, "block \(number) transaction \(index) is not an envelope")
                }
                guard !envelope.payload.isEmpty else {
                    throw ChannelConfigError(.badBlock, "block \(number) transaction \(index) has no payload")
                }
                guard !envelope.signature.isEmpty else {
                    throw ChannelConfigError(.badBlock, "block \(number) transaction \(index) has no signature")
                }
                guard Common_Envelope.isCanonicalEncoding(raw) else {
                    throw ChannelConfigError(
                        .badBlock,
                        "block \(number) transaction \(index) does not match its canonical encoding"
                    )
                }
            }
        }
        guard block.data.hash == block.header.dataHash else {
            throw ChannelConfigError(
                .badBlock,
                "block \(number): data hash \(block.header.dataHash.hexString) does not match the data "
                    + "(\(block.data.hash.hexString))"
            )
        }
    }

    /// Whether the block holds exactly one envelope, of type CONFIG.
    public static func isConfigBlock(_ block: Common_Block) -> Bool {
        guard block.data.data.count == 1, let envelope = try? TransactionEnvelope(bytes: block.data.data[0]) else {
            return false
        }
        return envelope.headerType == .config
    }

    /// The signature set of metadata[SIGNATURES]: per orderer signature the signer identity, the signed bytes
    /// (`Metadata.value ‖ signature_header ‖ header DER`, or `… ‖ identifier_header ‖ …` for BFT consenters that
    /// sign by id) and the signature. Unknown consenter ids are skipped.
    public func signatureSet(_ block: Common_Block) throws(ChannelConfigError) -> [SignedData] {
        let number = block.header.number
        guard block.metadata.metadata.count > 0 else {
            throw ChannelConfigError(.badBlockSignature, "block \(number) has no signatures in its metadata")
        }
        let metadata: Common_Metadata
        do {
            metadata = try Common_Metadata(decoding: block.metadata.metadata[0], field: "metadata[SIGNATURES]")
        } catch {
            throw ChannelConfigError(.badBlockSignature, "block \(number): signatures metadata does not decode", cause: error)
        }
        let headerBytes = block.header.derEncoding
        let bft = self.bundle.channel.capabilities.consensusTypeBFT
        let consenters = self.bundle.orderer?.consenters ?? self.bundle.channel.consenters
        var set: [SignedData] = []
        for signature in metadata.signatures {
            if bft, signature.signatureHeader.isEmpty, !signature.identifierHeader.isEmpty {
                let identifier: Common_IdentifierHeader
                do {
                    identifier = try Common_IdentifierHeader(decoding: signature.identifierHeader, field: "identifier_header")
                } catch {
                    throw ChannelConfigError(
                        .badBlockSignature,
                        "block \(number): failed unmarshalling identifier header",
                        cause: error
                    )
                }
                guard let consenter = consenters.first(where: { $0.id == identifier.identifier }) else { continue }
                var identity = Msp_SerializedIdentity()
                identity.mspid = consenter.mspID
                identity.idBytes = consenter.identity
                guard let identityBytes = try? identity.encoded() else { continue }
                set.append(
                    SignedData(
                        data: metadata.value + signature.identifierHeader + headerBytes,
                        identity: identityBytes,
                        signature: signature.signature
                    )
                )
            } else {
                let header: Common_SignatureHeader
                do {
                    header = try Common_SignatureHeader(decoding: signature.signatureHeader, field: "signature_header")
                } catch {
                    throw ChannelConfigError(
                        .badBlockSignature,
                        "block \(number): failed unmarshalling signature header",
                        cause: error
                    )
                }
                set.append(
                    SignedData(
                        data: metadata.value + signature.signatureHeader + headerBytes,
                        identity: header.creator,
                        signature: signature.signature
                    )
                )
            }
        }
        return set
    }

    /// Checks the orderer signatures of `block` against `/Channel/Orderer/BlockValidation`.
    public func verifySignatures(_ block: Common_Block) throws(ChannelConfigError) {
        let set = try self.signatureSet(block)
        do {
            try self.bundle.policyManager.evaluate(ChannelBundle.PolicyPath.blockValidation, signedData: set)
        } catch {
            throw ChannelConfigError(
                .badBlockSignature,
                "block \(block.header.number) of channel \(self.bundle.channelID): orderer signatures do not satisfy "
                    + "\(ChannelBundle.PolicyPath.blockValidation): \(error.message)",
                cause: error
            )
        }
    }

    /// The last-config index of a block: from the OrdererBlockMetadata in metadata[SIGNATURES], falling back to
    /// metadata[LAST_CONFIG] when that value is empty.
    public static func lastConfigIndex(_ block: Common_Block) throws(ChannelConfigError) -> UInt64 {
        let number = block.header.number
        func metadata(_ index: Int) throws(ChannelConfigError) -> Common_Metadata {
            guard block.metadata.metadata.count > index else {
                throw ChannelConfigError(.badBlock, "block \(number) has no metadata at index \(index)")
            }
            do {
                return try Common_Metadata(decoding: block.metadata.metadata[index], field: "metadata[\(index)]")
            } catch {
                throw ChannelConfigError(.badBlock, "block \(number): metadata \(index) does not decode", cause: error)
            }
        }
        let signatures = try metadata(0)
        do {
            if signatures.value.isEmpty {
                return try Common_LastConfig(decoding: try metadata(1).value, field: "LastConfig").index
            }
            return try Common_OrdererBlockMetadata(decoding: signatures.value, field: "OrdererBlockMetadata")
                .lastConfig.index
        } catch let error as ChannelConfigError {
            throw error
        } catch {
            throw ChannelConfigError(.badBlock, "block \(number): last config index does not decode", cause: error)
        }
    }
}
