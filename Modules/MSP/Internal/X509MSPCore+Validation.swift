import Foundation
import Logging
import Wire

extension X509MSPCore {
    /// Validates `identity` (memoised on the identity, successes also cached by identifier).
    func validate(_ identity: X509Identity) throws(MSPError) {
        if let outcome = identity.memoizedOutcome {
            try outcome.get()
            return
        }
        if self.validated.value(for: identity.identifier) != nil { return }
        try identity.memoizedValidation { () throws(MSPError) in try self.validateUncached(identity) }
        self.validated.insert(true, for: identity.identifier)
    }

    /// Fabric's validateIdentity: supported key, not a CA, a unique chain whose issuer is a leaf of the CA tree,
    /// not revoked by the issuer's CRL, and the version's OU rules.
    private func validateUncached(_ identity: X509Identity) throws(MSPError) {
        let certificate = identity.certificate
        try self.checkKeyAlgorithm(certificate)
        guard !certificate.isCA else {
            throw self.error(
                .invalidIdentity,
                certificate,
                "an X509 certificate with Basic Constraint: Certificate Authority equals true cannot be used as an identity"
            )
        }
        let chain = try self.validationChain(certificate, chain: identity.chain)
        try self.checkRevocation(certificate, chain: chain)
        switch self.version {
        case .v1_0: try self.validateOUsV1(identity)
        case .v1_1, .v1_3: try self.validateOUsV11(identity)
        case .v1_4_3, .v3_0: try self.validateOUsV142(identity)
        }
    }

    /// ECDSA always; Ed25519 from MSP v3.0; nothing else.
    func checkKeyAlgorithm(_ certificate: Certificate) throws(MSPError) {
        switch certificate.publicKey.algorithm {
        case .ecdsa: return
        case .ed25519 where self.version >= .v3_0: return
        case .ed25519:
            throw self.error(
                .unsupportedAlgorithm,
                certificate,
                "Ed25519 identities need MSP version v3.0 (this MSP is \(self.version))"
            )
        default:
            throw self.error(
                .unsupportedAlgorithm,
                certificate,
                "\(certificate.publicKey.algorithm) identities are not supported"
            )
        }
    }

    /// Revocation as Fabric checks it: a CRL whose AKI equals the direct issuer's SKI, listing the serial, and
    /// signed by that issuer (a CRL with a bad signature is skipped with a warning).
    func checkRevocation(_ certificate: Certificate, chain: [Certificate]) throws(MSPError) {
        let issuer = chain[1]
        guard let ski = issuer.subjectKeyIdentifier else {
            throw self.error(
                .invalidIdentity,
                certificate,
                "could not obtain Subject Key Identifier for signer cert \(issuer)"
            )
        }
        for crl in self.crls {
            guard let aki = crl.authorityKeyIdentifier else {
                throw self.error(.invalidIdentity, certificate, "could not obtain Authority Key Identifier for crl")
            }
            guard aki == ski, crl.lists(certificate) else { continue }
            guard crl.isSigned(by: issuer) else {
                self.logger.warning(
                    "Invalid signature over the identified CRL",
                    metadata: ["msp": "\(self.name)", "issuer": "\(issuer)", "certificate": "\(certificate)"]
                )
                continue
            }
            throw self.error(.revoked, certificate, "the certificate has been revoked (SN: \(certificate.serialHex))")
        }
    }

    private func ouList(_ identity: X509Identity) -> String {
        "["
            + identity.organizationalUnits.map { "\($0.name):\($0.certifiersIdentifier.hexString.prefix(16))" }
            .joined(separator: ", ") + "]"
    }

    /// v1.0: with OU identifiers configured, at least one OU of the identity must match one (name and certifiers).
    func validateOUsV1(_ identity: X509Identity) throws(MSPError) {
        guard !self.ouIdentifiers.isEmpty else { return }
        let found = identity.organizationalUnits.contains { ou in
            self.ouIdentifiers[ou.name]?.contains(ou.certifiersIdentifier) ?? false
        }
        guard !found else { return }
        if identity.organizationalUnits.isEmpty {
            throw self.error(
                .invalidIdentity,
                identity.certificate,
                "the identity certificate does not contain an Organizational Unit (OU)"
            )
        }
        throw self.error(
            .invalidIdentity,
            identity.certificate,
            "none of the identity's organizational units \(self.ouList(identity)) are in MSP \(self.name)"
        )
    }

    /// v1.1/v1.3: v1.0 rules, and with NodeOUs enforced exactly one of the client/peer OUs.
    func validateOUsV11(_ identity: X509Identity) throws(MSPError) {
        try self.validateOUsV1(identity)
        guard self.ouEnforcement, let client = self.clientOU, let peer = self.peerOU else { return }
        var counter = 0
        for ou in identity.organizationalUnits {
            let nodeOU: NodeOU
            if ou.name == client.name {
                nodeOU = client
            } else if ou.name == peer.name {
                nodeOU = peer
            } else {
                continue
            }
            if !nodeOU.certifiersIdentifier.isEmpty && nodeOU.certifiersIdentifier != ou.certifiersIdentifier {
                throw self.error(
                    .invalidIdentity,
                    identity.certificate,
                    "certifiersIdentifier does not match: \(self.ouList(identity))"
                )
            }
            counter += 1
            if counter > 1 { break }
        }
        guard counter == 1 else {
            throw self.error(
                .invalidIdentity,
                identity.certificate,
                "the identity must be a client or a peer identity to be valid, not a combination of them. OUs: \(self.ouList(identity))"
            )
        }
    }

    /// v1.4.2+: v1.0 rules, and with NodeOUs enforced exactly one of the client/peer/admin/orderer OUs (with the
    /// pinned certifiers identifier, when configured).
    func validateOUsV142(_ identity: X509Identity) throws(MSPError) {
        try self.validateOUsV1(identity)
        guard self.ouEnforcement else { return }
        var valid: [String: NodeOU] = [:]
        for ou in [self.clientOU, self.peerOU, self.adminOU, self.ordererOU].compactMap({ $0 }) { valid[ou.name] = ou }
        var counter = 0
        for ou in identity.organizationalUnits {
            guard let nodeOU = valid[ou.name] else { continue }
            if !nodeOU.certifiersIdentifier.isEmpty && nodeOU.certifiersIdentifier != ou.certifiersIdentifier {
                throw self.error(
                    .invalidIdentity,
                    identity.certificate,
                    "certifiersIdentifier does not match: \(self.ouList(identity))"
                )
            }
            counter += 1
            if counter > 1 { break }
        }
        if counter == 0 {
            throw self.error(
                .invalidIdentity,
                identity.certificate,
                "the identity does not have an OU that resolves to client, peer, admin or orderer. OUs: \(self.ouList(identity))"
            )
        }
        if counter > 1 {
            throw self.error(
                .invalidIdentity,
                identity.certificate,
                "the identity must be a client, a peer, an orderer or an admin identity to be valid, not a combination "
                    + "of them. OUs: \(self.ouList(identity))"
            )
        }
    }

    /// Whether the identity carries the OU of `role` (by name only, as Fabric's hasOURole).
    func hasOURole(_ identity: X509Identity, _ role: Common_MSPRole.MSPRoleType) throws(MSPError) {
        guard self.ouEnforcement else {
            throw self.error(
                .badPrincipal,
                identity.certificate,
                "NodeOUs not activated. Cannot tell apart identities."
            )
        }
        let nodeOU: NodeOU?
        switch role {
        case .client: nodeOU = self.clientOU
        case .peer: nodeOU = self.peerOU
        case .admin: nodeOU = self.adminOU
        case .orderer: nodeOU = self.ordererOU
        default:
            throw self.error(
                .badPrincipal,
                identity.certificate,
                "invalid MSPRoleType \(role). It must be CLIENT, PEER, ADMIN or ORDERER"
            )
        }
        guard let nodeOU else {
            throw self.error(
                .badPrincipal,
                identity.certificate,
                "cannot test for classification, node ou for type [\(role)] not defined"
            )
        }
        guard identity.organizationalUnits.contains(where: { $0.name == nodeOU.name }) else {
            throw self.error(
                .principalNotSatisfied,
                identity.certificate,
                "the identity does not contain OU [\(nodeOU.name)] for role \(role)"
            )
        }
    }
}
