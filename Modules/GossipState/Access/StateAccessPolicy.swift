public import ChannelConfig
public import Foundation
public import Gossip

/// Who sent a state request or response, as the connection's handshake proved it: the PKI-ID, the serialised
/// identity, and the signed ConnEstablish (the SignedData Fabric checks against the channel's Readers policy).
public struct StateRequester: Sendable, Hashable, CustomStringConvertible {
    /// The PKI-ID.
    public var pkiID: PKIID
    /// The marshalled `msp.SerializedIdentity`.
    public var identity: Data
    /// The ConnEstablish GossipMessage bytes the peer signed in its handshake.
    public var signedData: Data
    /// The signature over ``signedData``.
    public var signature: Data
    /// The endpoint of the connection.
    public var endpoint: String

    /// The requester behind `connection`.
    public init(connection: ConnectionInfo) {
        self.pkiID = connection.pkiID
        self.identity = connection.identity
        self.signedData = connection.auth.signedData
        self.signature = connection.auth.signature
        self.endpoint = connection.endpoint
    }

    /// The handshake as a SignedData triple for policy evaluation.
    public var signedDataTriple: SignedData {
        SignedData(data: self.signedData, identity: self.identity, signature: self.signature)
    }

    public var description: String { "\(self.endpoint)(\(self.pkiID))" }
}

/// Decides whether a peer may exchange state transfer messages on a channel: Fabric requires its handshake to
/// satisfy `/Channel/Application/Readers` (spec §6.1, §10.4), across organisations too.
public protocol StateAccessPolicy: Sendable {
    /// Returns normally when `requester` satisfies the Readers policy of `channel`; throws
    /// ``GossipStateError/Code-swift.struct/accessDenied`` otherwise.
    func authorize(_ requester: StateRequester, channel: ChannelID) throws(GossipStateError)
}

/// The Readers check through the gossip ``MessageCryptoService`` (`VerifyByChannel` over the handshake), which is
/// literally what Fabric's state provider calls.
public struct MessageCryptoReadersPolicy: StateAccessPolicy {
    /// The crypto service whose `verifyByChannel` evaluates the Readers policy.
    public let mcs: any MessageCryptoService

    /// Creates the policy.
    public init(mcs: any MessageCryptoService) { self.mcs = mcs }

    public func authorize(_ requester: StateRequester, channel: ChannelID) throws(GossipStateError) {
        do {
            try self.mcs.verifyByChannel(
                channel,
                identity: requester.identity,
                signature: requester.signature,
                message: requester.signedData
            )
        } catch {
            throw GossipStateError(
                .accessDenied,
                "\(requester) does not satisfy the Readers policy of \(channel)",
                cause: error
            )
        }
    }
}

/// The Readers check on the channel configuration itself: `/Channel/Application/Readers` of the current bundle,
/// evaluated over the requester's handshake SignedData.
public struct ChannelReadersPolicy: StateAccessPolicy {
    private let bundle: @Sendable () -> ChannelBundle

    /// Creates the policy over the current bundle (PeerCore passes `{ bundleSource.bundle }`, so config updates
    /// apply at once).
    public init(bundle: @escaping @Sendable () -> ChannelBundle) { self.bundle = bundle }

    public func authorize(_ requester: StateRequester, channel: ChannelID) throws(GossipStateError) {
        let bundle = self.bundle()
        guard bundle.channelID == channel else {
            throw GossipStateError(
                .accessDenied,
                "the policy of channel \(bundle.channelID) cannot authorise \(requester) on \(channel)"
            )
        }
        do {
            try bundle.policyManager.evaluate(
                ChannelBundle.PolicyPath.applicationReaders,
                signedData: [requester.signedDataTriple]
            )
        } catch {
            throw GossipStateError(
                .accessDenied,
                "\(requester) does not satisfy /Channel/Application/Readers of \(channel)",
                cause: error
            )
        }
    }
}
