public import Foundation
public import Wire

/// Fabric's connection handshake (§9.1 Comm): each side first sends a signed ConnEstablish{pki_id, identity,
/// tls_cert_hash, probe} with tag EMPTY and nonce 0; the receiver checks it before accepting anything else.
///
/// Pure functions shared by every transport (in-memory and gRPC).
public enum Handshake {
    /// The signed ConnEstablish envelope this peer sends first.
    ///
    /// - Parameters:
    ///   - identity: the local serialised identity.
    ///   - tlsCertHash: SHA-256 of the local TLS certificate DER (client cert when dialling, server cert when
    ///     accepting), empty without TLS.
    ///   - probe: whether this is a probe-only connection.
    public static func connEstablish(
        identity: Data,
        tlsCertHash: Data = Data(),
        probe: Bool = false,
        mcs: any MessageCryptoService
    ) throws(GossipError) -> Gossip_Envelope {
        var conn = Gossip_ConnEstablish()
        conn.pkiID = try mcs.pkiID(of: identity).bytes
        conn.identity = identity
        conn.tlsCertHash = tlsCertHash
        conn.probe = probe
        let message = Gossip_GossipMessage(tag: .empty, content: .conn(conn))
        return try SignedGossipMessage.sign(message) { (payload) throws(GossipError) in try mcs.sign(payload) }
            .envelope
    }

    /// Checks the first envelope received on a connection and returns who the remote peer is.
    ///
    /// Checks: it is a ConnEstablish; pki_id is present and equals SHA-256(mspid ‖ id_bytes) of the identity it
    /// carries; the identity validates; with TLS, tls_cert_hash equals the hash of the certificate the remote
    /// presented (`presentedTLSCertHash`, nil without TLS); the envelope is signed by that identity; and, when the
    /// dialler expected a PKI-ID, it matches (unless ``allowsRenewal`` accepts a same-org replacement).
    public static func verify(
        _ envelope: Gossip_Envelope,
        endpoint: String,
        expectedPKIID: PKIID? = nil,
        presentedTLSCertHash: Data? = nil,
        mcs: any MessageCryptoService,
        allowsRenewal: (_ old: PKIID, _ newIdentity: Data) -> Bool = { _, _ in false }
    ) throws(GossipError) -> ConnectionInfo {
        let signed = try SignedGossipMessage(envelope: envelope)
        guard case .conn(let conn)? = signed.message.content else {
            throw GossipError(
                .handshakeFailed,
                "first message from \(endpoint) is \(signed.message.contentName), not a ConnEstablish"
            )
        }
        guard !conn.pkiID.isEmpty else {
            throw GossipError(.handshakeFailed, "ConnEstablish from \(endpoint) has no PKI-ID")
        }
        let claimed = PKIID(conn.pkiID)
        let computed = try mcs.pkiID(of: conn.identity)
        guard computed == claimed else {
            throw GossipError(
                .handshakeFailed,
                "ConnEstablish from \(endpoint) claims PKI-ID \(claimed.hex) but its identity has \(computed.hex)"
            )
        }
        if let presentedTLSCertHash {
            guard conn.tlsCertHash == presentedTLSCertHash else {
                throw GossipError(
                    .handshakeFailed,
                    "ConnEstablish from \(endpoint): tls_cert_hash does not match the TLS certificate presented"
                )
            }
        }
        do {
            try mcs.validateIdentity(conn.identity)
        } catch {
            throw GossipError(.handshakeFailed, "identity of \(endpoint) (\(claimed)) does not validate", cause: error)
        }
        do {
            try signed.verify(identity: conn.identity, using: mcs)
        } catch {
            throw GossipError(
                .handshakeFailed,
                "ConnEstablish of \(endpoint) (\(claimed)) is not signed by it",
                cause: error
            )
        }
        if let expectedPKIID, expectedPKIID != claimed, !allowsRenewal(expectedPKIID, conn.identity) {
            throw GossipError(
                .handshakeFailed,
                "\(endpoint) authenticated as \(claimed.hex) but \(expectedPKIID.hex) was expected"
            )
        }
        return ConnectionInfo(
            pkiID: claimed,
            identity: conn.identity,
            endpoint: endpoint,
            auth: AuthInfo(signedData: envelope.payload, signature: envelope.signature)
        )
    }
}
