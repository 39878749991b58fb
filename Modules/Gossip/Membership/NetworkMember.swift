public import Foundation
public import Wire

/// A peer as membership knows it.
public struct NetworkMember: Sendable, Hashable, CustomStringConvertible {
    /// The PKI-ID.
    public var pkiID: PKIID
    /// The external endpoint (empty: the peer is invisible to other organisations).
    public var endpoint: String
    /// The internal endpoint, known only for peers of the own organisation (from the secret envelope).
    public var internalEndpoint: String
    /// Opaque metadata from the alive message.
    public var metadata: Data
    /// Channel properties (ledger height, chaincodes) when returned by ``GossipCore/peersOfChannel(_:)``.
    public var properties: Gossip_Properties?
    /// The StateInfo envelope when returned by ``GossipCore/peersOfChannel(_:)``.
    public var envelope: Gossip_Envelope?

    /// Creates a member.
    public init(
        pkiID: PKIID,
        endpoint: String,
        internalEndpoint: String = "",
        metadata: Data = Data(),
        properties: Gossip_Properties? = nil,
        envelope: Gossip_Envelope? = nil
    ) {
        self.pkiID = pkiID
        self.endpoint = endpoint
        self.internalEndpoint = internalEndpoint
        self.metadata = metadata
        self.properties = properties
        self.envelope = envelope
    }

    /// The internal endpoint when known, else the external one.
    public var preferredEndpoint: String { self.internalEndpoint.isEmpty ? self.endpoint : self.internalEndpoint }

    /// How to reach the member.
    public var remotePeer: RemotePeer { RemotePeer(endpoint: self.preferredEndpoint, pkiID: self.pkiID) }

    public var description: String { "\(self.preferredEndpoint)(\(self.pkiID))" }
}

/// An anchor peer of an organisation, from the channel configuration.
public struct AnchorPeer: Sendable, Hashable {
    /// Host name or address.
    public var host: String
    /// Port.
    public var port: Int
    /// The organisation (MSP id) whose anchor peer it is.
    public var organization: String

    /// Creates an anchor peer.
    public init(host: String, port: Int, organization: String) {
        self.host = host
        self.port = port
        self.organization = organization
    }

    /// host:port.
    public var endpoint: String { "\(self.host):\(self.port)" }
}

/// What joining (or reconfiguring) a channel tells gossip: the channel config sequence, the member organisations
/// and their anchor peers (Fabric's `JoinChannelMessage`).
public struct JoinChannelMessage: Sendable, Hashable {
    /// The config sequence; a lower one than already applied is ignored, an equal one is accepted.
    public var sequence: UInt64
    /// The member organisations (MSP ids).
    public var organizations: [String]
    /// Anchor peers of the organisations.
    public var anchorPeers: [AnchorPeer]

    /// Creates a join message.
    public init(sequence: UInt64, organizations: [String], anchorPeers: [AnchorPeer] = []) {
        self.sequence = sequence
        self.organizations = organizations
        self.anchorPeers = anchorPeers
    }
}

/// A message the core hands to local consumers (election, state transfer, private data), with the connection it
/// came on so the consumer can answer or check the sender's handshake identity.
public struct ReceivedMessage: Sendable {
    /// The message as received.
    public var message: SignedGossipMessage
    /// The sender's connection (PKI-ID, identity, handshake auth info).
    public var connection: ConnectionInfo

    /// Creates a received message.
    public init(message: SignedGossipMessage, connection: ConnectionInfo) {
        self.message = message
        self.connection = connection
    }

    /// The channel of the message (for StateInfo-class messages, the channel the core matched by MAC).
    public var channel: ChannelID { self.message.message.channelID }
}

/// What the gossip core asks its shell to do.
public enum GossipAction: Sendable {
    /// Send an envelope to a peer (connecting first if needed).
    case send(Gossip_Envelope, to: RemotePeer)
    /// Probe-handshake a peer to learn its identity; report the result with ``GossipCore/probed(_:result:now:)``.
    case probe(RemotePeer)
    /// Close the connection to a peer (it is dead, expired or revoked).
    case closeConnection(PKIID)
    /// Hand a message to local consumers.
    case deliver(ReceivedMessage)
}
