internal import ChannelConfig
public import Foundation
public import MSP
internal import SwiftProtobuf
internal import Wire

/// The production ``MessageCryptoService``: identities through the local MSP and the channel MSP managers,
/// signatures with the peer's signing identity, channel-scoped verification with `/Channel/Application/Readers`,
/// blocks with `/Channel/Orderer/BlockValidation` (Fabric's `internal/peer/gossip/mcs.go`, spec §9.1).
///
/// - PKI-ID is SHA-256(mspid ‖ id_bytes) of the SerializedIdentity (§11), computed without deserialising.
/// - ``validateIdentity(_:)``: an identity the local MSP deserialises must be well formed there and, when it is of
///   the local MSP id, validate; otherwise the first channel (by id) whose MSP manager deserialises it, finds it
///   well formed and validates it accepts it. Unlike Fabric, an identity whose certificate has expired (NotAfter
///   before `now()`) is refused here too: Fabric refuses it one step later, in the identity mapper's `Put`, which
///   every caller of ValidateIdentity goes through, so the outcome is the same and the handshake fails early.
/// - ``verify(identity:signature:message:)``: local-MSP identities by a plain signature check, others through
///   ``verifyByChannel(_:identity:signature:message:)`` of the channel that validated them.
public final class MSPMessageCryptoService: MessageCryptoService {
    private let localMSP: any MembershipServiceProvider
    private let signer: any SigningIdentity
    /// The channel configs consulted (shared with PeerCore, which updates them).
    public let channels: ChannelMSPRegistry
    private let now: @Sendable () -> Date

    /// Creates the service.
    ///
    /// - Parameters:
    ///   - localMSP: the peer's local MSP (the one its own certificate belongs to).
    ///   - signer: the peer's signing identity (signs alive, StateInfo, leadership and handshake messages).
    ///   - channels: the channel configs; update them as channels are joined and reconfigured.
    ///   - now: the clock expiry is checked against.
    public init(
        localMSP: any MembershipServiceProvider,
        signer: any SigningIdentity,
        channels: ChannelMSPRegistry = ChannelMSPRegistry(),
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.localMSP = localMSP
        self.signer = signer
        self.channels = channels
        self.now = now
    }

    /// The local serialised identity (what gossip advertises and hands to ``GossipCore``).
    public var localIdentity: Data { self.signer.serialized }

    public func pkiID(of identity: Data) throws(GossipError) -> PKIID {
        guard !identity.isEmpty else { throw GossipError(.invalidIdentity, "the identity is empty") }
        return try PKIID.of(serializedIdentity: identity)
    }

    public func validateIdentity(_ identity: Data) throws(GossipError) {
        _ = try self.validatedIdentity(identity)
    }

    public func sign(_ message: Data) throws(GossipError) -> Data {
        do {
            return try self.signer.sign(message)
        } catch {
            throw GossipError(.signingFailed, "the local identity \(self.signer.mspID) could not sign", cause: error)
        }
    }

    public func verify(identity: Data, signature: Data, message: Data) throws(GossipError) {
        let (validated, channel) = try self.validatedIdentity(identity)
        guard let channel else {
            do {
                try validated.verify(signature: signature, over: message)
            } catch {
                throw GossipError(
                    .badSignature,
                    "signature of \(validated.mspID) identity \(validated.id.prefix(16)) does not verify",
                    cause: error
                )
            }
            return
        }
        try self.verifyByChannel(channel, identity: identity, signature: signature, message: message)
    }

    public func verifyByChannel(
        _ channel: ChannelID,
        identity: Data,
        signature: Data,
        message: Data
    ) throws(GossipError) {
        guard !identity.isEmpty else { throw GossipError(.invalidIdentity, "the identity is empty") }
        guard let bundle = self.channels.bundle(of: channel) else {
            throw GossipError(.unknownChannel, "no config for channel \(channel) to verify a signature with")
        }
        do {
            try bundle.policyManager.evaluate(
                ChannelBundle.PolicyPath.applicationReaders,
                signedData: [SignedData(data: message, identity: identity, signature: signature)]
            )
        } catch {
            throw GossipError(
                .badSignature,
                "signature does not satisfy \(ChannelBundle.PolicyPath.applicationReaders) of channel \(channel)",
                cause: error
            )
        }
    }

    public func verifyBlock(channel: ChannelID, sequence: UInt64, block bytes: Data) throws(GossipError) {
        let block: Common_Block
        do {
            block = try Common_Block(serializedBytes: bytes)
        } catch {
            throw GossipError(.badBlock, "block \(sequence) of channel \(channel) does not decode", cause: error)
        }
        guard block.hasHeader else {
            throw GossipError(.badBlock, "block \(sequence) of channel \(channel) has no header")
        }
        guard block.header.number == sequence else {
            throw GossipError(
                .badBlock,
                "block of channel \(channel) claims number \(block.header.number) but was gossiped as \(sequence)"
            )
        }
        guard let first = block.data.data.first, let envelope = try? TransactionEnvelope(bytes: first) else {
            throw GossipError(
                .badBlock,
                "block \(sequence) of channel \(channel): no channel header in its first envelope"
            )
        }
        guard envelope.channelHeader.channelID == channel else {
            throw GossipError(
                .badBlock,
                "block \(sequence) belongs to channel \(envelope.channelHeader.channelID), not \(channel)"
            )
        }
        guard block.hasMetadata, !block.metadata.metadata.isEmpty else {
            throw GossipError(.badBlock, "block \(sequence) of channel \(channel) has no metadata")
        }
        guard block.data.hash == block.header.dataHash else {
            throw GossipError(.badBlock, "block \(sequence) of channel \(channel): data hash does not match the data")
        }
        guard let bundle = self.channels.bundle(of: channel) else {
            throw GossipError(.unknownChannel, "no config for channel \(channel) to verify block \(sequence) with")
        }
        do {
            try BlockVerifier(bundle: bundle).verifySignatures(block)
        } catch {
            throw GossipError(
                .badBlock,
                "block \(sequence) of channel \(channel) is not signed as its BlockValidation policy requires",
                cause: error
            )
        }
    }

    public func expiration(of identity: Data) throws(GossipError) -> Date? {
        try self.deserialize(identity).expiresAt
    }

    // MARK: - Identities

    /// Fabric's `getValidatedIdentity`: the identity, validated, and the channel whose MSPs validated it (nil for
    /// the local MSP).
    func validatedIdentity(_ serialized: Data) throws(GossipError) -> (any Identity, ChannelID?) {
        guard !serialized.isEmpty else { throw GossipError(.invalidIdentity, "the identity is empty") }
        let decoded: Msp_SerializedIdentity
        do {
            decoded = try MSPManager.decode(serialized)
        } catch {
            throw GossipError(.invalidIdentity, "the identity is not a SerializedIdentity", cause: error)
        }
        let result: (any Identity, ChannelID?)
        if let local = try? self.localMSP.deserializeIdentity(serialized) {
            do {
                try self.localMSP.isWellFormed(decoded)
            } catch {
                throw GossipError(.invalidIdentity, "identity of \(decoded.mspid) is not well formed", cause: error)
            }
            if decoded.mspid == self.localMSP.name {
                do {
                    try local.validate()
                } catch {
                    throw GossipError(
                        .invalidIdentity,
                        "identity of \(decoded.mspid) does not validate against the local MSP",
                        cause: error
                    )
                }
                result = (local, nil)
            } else if let found = self.validateByChannel(serialized, decoded) {
                result = found
            } else {
                throw GossipError(.invalidIdentity, "identity of \(decoded.mspid) is not known to any channel")
            }
        } else if let found = self.validateByChannel(serialized, decoded) {
            result = found
        } else {
            throw GossipError(
                .invalidIdentity,
                "identity of MSP \(decoded.mspid) cannot be validated: no MSP found able to do that"
            )
        }
        if let expiry = result.0.expiresAt, expiry <= self.now() {
            throw GossipError(.invalidIdentity, "identity of \(decoded.mspid) expired at \(expiry)")
        }
        return result
    }

    private func validateByChannel(
        _ serialized: Data,
        _ decoded: Msp_SerializedIdentity
    ) -> (any Identity, ChannelID?)? {
        for (channel, bundle) in self.channels.all {
            guard let identity = try? bundle.mspManager.deserializeIdentity(serialized) else { continue }
            guard (try? bundle.mspManager.isWellFormed(decoded)) != nil else { continue }
            guard (try? identity.validate()) != nil else { continue }
            return (identity, channel)
        }
        return nil
    }

    /// Deserialises `serialized` with the local MSP or, failing that, any channel's MSP manager.
    func deserialize(_ serialized: Data) throws(GossipError) -> any Identity {
        if let identity = try? self.localMSP.deserializeIdentity(serialized) { return identity }
        for (_, bundle) in self.channels.all {
            if let identity = try? bundle.mspManager.deserializeIdentity(serialized) { return identity }
        }
        throw GossipError(.invalidIdentity, "no MSP can deserialize the identity")
    }
}

/// The production ``SecurityAdvisor``: the organisation of an identity is its MSP id, once the local MSP or some
/// channel's MSP manager deserialises it (Fabric's `mspSecurityAdvisor.OrgByPeerIdentity`).
public struct MSPSecurityAdvisor: SecurityAdvisor {
    private let localMSP: any MembershipServiceProvider
    private let channels: ChannelMSPRegistry

    /// An advisor over the local MSP and `channels` (share the registry with the ``MSPMessageCryptoService``).
    public init(localMSP: any MembershipServiceProvider, channels: ChannelMSPRegistry) {
        self.localMSP = localMSP
        self.channels = channels
    }

    public func organization(of identity: Data) -> String? {
        guard !identity.isEmpty else { return nil }
        if let local = try? self.localMSP.deserializeIdentity(identity) { return local.mspID }
        for (_, bundle) in self.channels.all {
            if let found = try? bundle.mspManager.deserializeIdentity(identity) { return found.mspID }
        }
        return nil
    }
}
