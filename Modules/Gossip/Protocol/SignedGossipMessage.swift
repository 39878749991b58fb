public import Foundation
internal import SwiftProtobuf
public import Wire

/// A gossip message together with the envelope it travels in.
///
/// `envelope.payload` is the marshalled ``message``; signatures are always checked over `envelope.payload` as
/// received, never over a re-encoding. Messages made here are encoded once and the bytes are kept.
public struct SignedGossipMessage: Sendable, Hashable {
    /// The decoded message.
    public var message: Gossip_GossipMessage
    /// The envelope: payload bytes, signature (empty when NoopSigned), optional secret envelope.
    public var envelope: Gossip_Envelope

    /// Decodes `envelope.payload`. Throws when the payload is not a GossipMessage.
    public init(envelope: Gossip_Envelope) throws(GossipError) {
        do {
            self.message = try Gossip_GossipMessage(serializedBytes: envelope.payload)
        } catch {
            throw GossipError(.malformedMessage, "envelope payload is not a GossipMessage", cause: error)
        }
        self.envelope = envelope
    }

    /// Decodes a marshalled `gossip.Envelope`.
    public init(serializedEnvelope bytes: Data) throws(GossipError) {
        let envelope: Gossip_Envelope
        do {
            envelope = try Gossip_Envelope(serializedBytes: bytes)
        } catch {
            throw GossipError(.malformedMessage, "bytes are not a gossip Envelope", cause: error)
        }
        try self.init(envelope: envelope)
    }

    private init(message: Gossip_GossipMessage, envelope: Gossip_Envelope) {
        self.message = message
        self.envelope = envelope
    }

    /// Wraps `message` unsigned (Fabric's NoopSign): the payload is set, the signature left empty.
    public static func noopSign(_ message: Gossip_GossipMessage) throws(GossipError) -> SignedGossipMessage {
        var envelope = Gossip_Envelope()
        envelope.payload = try Self.encode(message)
        return SignedGossipMessage(message: message, envelope: envelope)
    }

    /// Encodes `message` and signs the payload with `signer`.
    public static func sign(
        _ message: Gossip_GossipMessage,
        with signer: (Data) throws(GossipError) -> Data
    ) throws(GossipError) -> SignedGossipMessage {
        var envelope = Gossip_Envelope()
        envelope.payload = try Self.encode(message)
        envelope.signature = try signer(envelope.payload)
        return SignedGossipMessage(message: message, envelope: envelope)
    }

    /// Adds a secret envelope holding `internalEndpoint`, signed with `signer` (alive messages only).
    public mutating func signSecret(
        internalEndpoint: String,
        with signer: (Data) throws(GossipError) -> Data
    ) throws(GossipError) {
        var secret = Gossip_Secret()
        secret.internalEndpoint = internalEndpoint
        var secretEnvelope = Gossip_SecretEnvelope()
        do {
            secretEnvelope.payload = try secret.serializedBytes()
        } catch {
            throw GossipError(.malformedMessage, "secret does not encode", cause: error)
        }
        secretEnvelope.signature = try signer(secretEnvelope.payload)
        self.envelope.secretEnvelope = secretEnvelope
    }

    /// Whether the envelope carries both a payload and a signature.
    public var isSigned: Bool { !self.envelope.payload.isEmpty && !self.envelope.signature.isEmpty }

    /// The internal endpoint from the secret envelope, if there is one that decodes.
    public var internalEndpoint: String? {
        guard self.envelope.hasSecretEnvelope,
            let secret = try? Gossip_Secret(serializedBytes: self.envelope.secretEnvelope.payload),
            case .internalEndpoint(let endpoint)? = secret.content
        else { return nil }
        return endpoint
    }

    /// The same message with the secret envelope removed (what peers of other organisations receive).
    public var withoutSecret: SignedGossipMessage {
        var copy = self
        copy.envelope.clearSecretEnvelope()
        return copy
    }

    /// Verifies the signature (and the secret envelope's, if present) with `verifier`, which checks one signature
    /// over one message by the signer's identity. Unsigned envelopes fail.
    public func verify(
        _ verifier: (_ signature: Data, _ message: Data) throws(GossipError) -> Void
    ) throws(GossipError) {
        guard self.isSigned else {
            throw GossipError(.notSigned, "\(self.message.contentName) message is not signed")
        }
        try verifier(self.envelope.signature, self.envelope.payload)
        if self.envelope.hasSecretEnvelope {
            let secret = self.envelope.secretEnvelope
            guard !secret.payload.isEmpty, !secret.signature.isEmpty else {
                throw GossipError(.notSigned, "secret envelope of \(self.message.contentName) message is not signed")
            }
            try verifier(secret.signature, secret.payload)
        }
    }

    /// Verifies with `identity` through `mcs` (see ``verify(_:)``).
    public func verify(identity: Data, using mcs: any MessageCryptoService) throws(GossipError) {
        try self.verify { (signature, payload) throws(GossipError) in
            try mcs.verify(identity: identity, signature: signature, message: payload)
        }
    }

    private static func encode(_ message: Gossip_GossipMessage) throws(GossipError) -> Data {
        do {
            return try message.serializedBytes()
        } catch {
            throw GossipError(.malformedMessage, "\(message.contentName) message does not encode", cause: error)
        }
    }
}

extension Gossip_GossipMessage {
    /// Creates a message with the given header fields and content.
    public init(nonce: UInt64 = 0, channel: ChannelID? = nil, tag: Tag, content: OneOf_Content) {
        self.init()
        self.nonce = nonce
        if let channel { self.channel = Data(channel.utf8) }
        self.tag = tag
        self.content = content
    }
}
