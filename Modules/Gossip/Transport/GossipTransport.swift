public import Foundation
public import Wire

/// Where to reach a peer: its endpoint, and its PKI-ID when known (bootstrap and anchor peers are dialled
/// before their PKI-ID is known).
public struct RemotePeer: Hashable, Sendable, CustomStringConvertible {
    /// host:port.
    public var endpoint: String
    /// The expected PKI-ID; a connection to a different identity is refused (unless same-org renewal).
    public var pkiID: PKIID?

    /// Creates a peer address.
    public init(endpoint: String, pkiID: PKIID? = nil) {
        self.endpoint = endpoint
        self.pkiID = pkiID
    }

    public var description: String { "\(self.endpoint)(\(self.pkiID?.description ?? "?"))" }
}

/// The signed handshake a connection was authenticated with: the remote ConnEstablish payload and its signature.
///
/// Pass-through consumers use it as the requester's SignedData (state-transfer ACL, private data eligibility).
public struct AuthInfo: Hashable, Sendable {
    /// The ConnEstablish GossipMessage bytes, as received.
    public var signedData: Data
    /// The signature over ``signedData``.
    public var signature: Data

    /// Creates auth info.
    public init(signedData: Data, signature: Data) {
        self.signedData = signedData
        self.signature = signature
    }
}

/// What a connection knows about the remote peer after the handshake.
public struct ConnectionInfo: Hashable, Sendable, CustomStringConvertible {
    /// The remote PKI-ID (verified against its identity).
    public var pkiID: PKIID
    /// The remote serialised identity from its ConnEstablish.
    public var identity: Data
    /// The remote endpoint (as dialled, or as seen by the server).
    public var endpoint: String
    /// The handshake envelope of the remote side.
    public var auth: AuthInfo

    /// Creates connection info.
    public init(pkiID: PKIID, identity: Data, endpoint: String, auth: AuthInfo) {
        self.pkiID = pkiID
        self.identity = identity
        self.endpoint = endpoint
        self.auth = auth
    }

    public var description: String { "\(self.endpoint)(\(self.pkiID))" }
}

/// An envelope received from a peer, with that peer's connection info.
public struct ReceivedEnvelope: Sendable {
    /// The envelope as received.
    public var envelope: Gossip_Envelope
    /// Who sent it (from the connection's handshake, never from the message).
    public var connection: ConnectionInfo

    /// Creates a received envelope.
    public init(envelope: Gossip_Envelope, connection: ConnectionInfo) {
        self.envelope = envelope
        self.connection = connection
    }
}

/// The connection layer gossip runs on: the in-memory transport in tests and simulations, gRPC
/// (`gossip.Gossip/GossipStream`) in production.
///
/// Implementations do Fabric's ConnEstablish handshake (``Handshake``) on every new connection, keep one
/// connection per remote PKI-ID, and never block the caller of ``send(_:to:)``: a message that cannot be queued
/// (buffer full, peer unreachable) is dropped and counted.
public protocol GossipTransport: Sendable {
    /// Queues `envelope` for `peer`, connecting (and handshaking) first if needed. Never blocks.
    func send(_ envelope: Gossip_Envelope, to peer: RemotePeer)

    /// Connects to `peer` only to learn who it is (a probe handshake), without keeping the connection.
    func probe(_ peer: RemotePeer) async throws(GossipError) -> ConnectionInfo

    /// Closes the connection to `pkiID`, if any.
    func closeConnection(to pkiID: PKIID)

    /// Every envelope received from any peer, after the connection's handshake. One consumer.
    var incoming: AsyncStream<ReceivedEnvelope> { get }
}
