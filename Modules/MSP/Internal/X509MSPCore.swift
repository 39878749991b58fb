import Foundation
import Logging
import Wire

/// The set-up state of one X.509 MSP and the algorithms over it (identity creation, validation, principals).
///
/// Built once by ``setUp(config:version:cacheSizes:)`` and never mutated after it returns; identities keep a strong
/// reference to it (it references no identity, so there is no cycle). The two caches it owns are keyed by
/// identity ids only.
final class X509MSPCore: @unchecked Sendable {  // `var`s are written only inside setUp, before the core is shared
    /// A NodeOU classification: the OU name and, when pinned to a CA, that CA's certifiers identifier.
    struct NodeOU: Sendable {
        var name: String
        var certifiersIdentifier: Data
    }

    let name: String
    let version: MSPVersion
    let logger = Logger(label: "fabric.msp")
    var signatureHash: HashFunction = .sha256
    var identifierHash: HashFunction = .sha256
    var store: CertificateStore
    var crls: [CertificateRevocationList] = []
    var internalNodes: Set<Data> = []
    var admins: [Data] = []
    var ouIdentifiers: [String: [Data]] = [:]
    var ouEnforcement = false
    var clientOU: NodeOU?
    var peerOU: NodeOU?
    var adminOU: NodeOU?
    var ordererOU: NodeOU?
    var tlsRoots: [Data] = []
    var tlsIntermediates: [Data] = []
    /// Identities (by identifier) that validated; only successes are cached, as in Fabric's cachedMSP.
    let validated: BoundedCache<IdentityIdentifier, Bool>
    /// Principal outcomes by (identity id, principal bytes); nil is success.
    let principalOutcomes: BoundedCache<PrincipalKey, MSPError?>

    /// The key of the principal cache.
    struct PrincipalKey: Hashable, Sendable {
        var identityID: String
        var classification: Int
        var principal: Data
    }

    init(name: String, version: MSPVersion, validateCacheSize: Int, principalCacheSize: Int) throws(MSPError) {
        self.name = name
        self.version = version
        self.store = try CertificateStore(roots: [], intermediates: [])
        self.validated = BoundedCache(capacity: validateCacheSize)
        self.principalOutcomes = BoundedCache(capacity: principalCacheSize)
    }

    var roots: [Certificate] { self.store.roots }
    var intermediates: [Certificate] { self.store.intermediates }

    // MARK: - Errors

    func error(
        _ code: MSPError.Code,
        _ certificate: Certificate?,
        _ what: String,
        cause: (any Error)? = nil,
        file: String = #fileID,
        line: Int = #line
    ) -> MSPError {
        var text = "MSP \(self.name)"
        if let certificate { text += ", identity CN=\(certificate.commonName)" }
        return MSPError(code, "\(text): \(what)", cause: cause, file: file, line: line)
    }

    // MARK: - Chains and identities

    /// The verification time Fabric uses: NotBefore + 1 s, so expiry is never what fails.
    static func verificationTime(_ certificate: Certificate) -> Date { certificate.notBefore.addingTimeInterval(1) }

    /// The unique chain of `certificate` (itself first) in `store`, with the legacy name-constraints mitigation.
    func uniqueChain(_ certificate: Certificate, in store: CertificateStore? = nil) -> Result<[Certificate], MSPError> {
        switch (store ?? self.store).chain(for: certificate, at: Self.verificationTime(certificate)) {
        case .failure(let failure):
            return .failure(
                self.error(.invalidIdentity, certificate, "could not obtain certification chain: \(failure)")
            )
        case .success(let chain):
            if chain.count >= 2, !certificate.hasSubjectAlternativeName, Self.isHostname(certificate.commonName),
                chain.dropFirst().contains(where: \.hasNameConstraints)
            {
                return .failure(
                    self.error(
                        .invalidIdentity,
                        certificate,
                        "x509: a root or intermediate certificate specifies name constraints, but the leaf has no SANs "
                            + "and a hostname as CN (legacy name constraints check)"
                    )
                )
            }
            return .success(chain)
        }
    }

    /// Fabric's validation chain: unique, at least two long, and the issuer (for an intermediate CA's own chain:
    /// the intermediate itself) must be a leaf of the certification tree.
    func validationChain(
        _ certificate: Certificate,
        chain: Result<[Certificate], MSPError>,
        isIntermediateChain: Bool = false
    ) throws(MSPError) -> [Certificate] {
        let chain = try chain.get()
        guard chain.count >= 2 else {
            throw self.error(.invalidIdentity, certificate, "expected a chain of length at least 2, got \(chain.count)")
        }
        guard !self.internalNodes.contains(chain[isIntermediateChain ? 0 : 1].der) else {
            throw self.error(
                .invalidIdentity,
                certificate,
                "invalid validation chain: parent certificate should be a leaf of the certification tree"
            )
        }
        return chain
    }

    /// The certificate with its ECDSA signature in low-S form relative to `parent`'s curve, re-encoded; the same
    /// certificate when nothing changes.
    func sanitize(_ certificate: Certificate, parent: Certificate) throws(MSPError) -> Certificate {
        guard certificate.isECDSASigned, case .ecdsa(let curve) = parent.publicKey.algorithm else { return certificate }
        let signature: ECDSASignature
        do {
            signature = try ECDSASignature(der: certificate.signatureValue)
        } catch {
            throw self.error(.malformedIdentity, certificate, "certificate signature does not parse: \(error)")
        }
        let (lowS, modified) = signature.normalized(curve)
        guard modified else { return certificate }
        return try certificate.replacingSignature(with: lowS.derEncoded)
    }

    /// Sanitises `certificate` using its chain in `store` (itself for a root).
    func sanitize(_ certificate: Certificate, in store: CertificateStore? = nil) throws(MSPError) -> Certificate {
        guard certificate.isECDSASigned else { return certificate }
        let chain = try self.uniqueChain(certificate, in: store).get()
        let parent = chain.count == 1 ? certificate : chain[1]
        return try self.sanitize(certificate, parent: parent)
    }

    /// Creates the identity of `certificate`: builds its chain, sanitises it, computes its id and OUs.
    func makeIdentity(_ certificate: Certificate, serialized: Data?) throws(MSPError) -> X509Identity {
        let chain = self.uniqueChain(certificate)
        var sanitized = certificate
        if certificate.isECDSASigned {
            let links = try chain.get()
            sanitized = try self.sanitize(certificate, parent: links.count == 1 ? certificate : links[1])
        }
        let id = self.identifierHash.digest(sanitized.der).hexString
        var units: [OrganizationalUnit] = []
        if !certificate.isCA, let links = try? self.validationChain(certificate, chain: chain) {
            let certifiers = self.identifierHash.digest(concatenating: links.dropFirst().map(\.der))
            units = certificate.organizationalUnits.map {
                OrganizationalUnit(name: $0, certifiersIdentifier: certifiers, mspID: self.name)
            }
        }
        let bytes: Data
        if let serialized {
            bytes = serialized
        } else {
            var message = Msp_SerializedIdentity()
            message.mspid = self.name
            message.idBytes = PEM.encode(type: "CERTIFICATE", sanitized.der)
            do {
                bytes = try message.encoded()
            } catch {
                throw self.error(.crypto, certificate, "could not serialize identity", cause: error)
            }
        }
        return X509Identity(
            core: self,
            certificate: certificate,
            sanitizedDER: sanitized.der,
            id: id,
            serialized: bytes,
            chain: chain,
            organizationalUnits: units
        )
    }

    /// Deserialises a marshalled `msp.SerializedIdentity` of this MSP (no cache).
    func deserialize(_ serialized: Data) throws(MSPError) -> X509Identity {
        let message = try MSPManager.decode(serialized)
        guard message.mspid == self.name else {
            throw MSPError(.unknownMSP, "MSP \(self.name): expected MSP ID \(self.name), received \(message.mspid)")
        }
        guard let (block, _) = PEM.decode(message.idBytes) else {
            throw MSPError(.malformedIdentity, "MSP \(self.name): could not decode the PEM structure of the identity")
        }
        let certificate: Certificate
        do {
            certificate = try Certificate(derEncoded: block.bytes)
        } catch {
            throw MSPError(.malformedIdentity, "MSP \(self.name): parseCertificate failed: \(error.message)")
        }
        return try self.makeIdentity(certificate, serialized: serialized)
    }

    /// Fabric's IsWellFormed: one PEM block, no trailing bytes, type CERTIFICATE or empty, canonical ECDSA
    /// signature encoding.
    func isWellFormed(_ identity: Msp_SerializedIdentity) throws(MSPError) {
        guard let (block, rest) = PEM.decode(identity.idBytes) else {
            throw MSPError(.notWellFormed, "MSP \(self.name): PEM decoding resulted in an empty block")
        }
        guard rest.isEmpty else {
            throw MSPError(
                .notWellFormed,
                "MSP \(self.name): identity for MSP \(identity.mspid) has \(rest.count) trailing bytes after its PEM block"
            )
        }
        guard block.type == "CERTIFICATE" || block.type.isEmpty else {
            throw MSPError(
                .notWellFormed,
                "MSP \(self.name): pem type is \(block.type), should be 'CERTIFICATE' or missing"
            )
        }
        let certificate = try Certificate(derEncoded: block.bytes)
        guard certificate.isECDSASigned else { return }
        let signature: ECDSASignature
        do {
            signature = try ECDSASignature(der: certificate.signatureValue)
        } catch {
            throw self.error(.notWellFormed, certificate, "certificate signature does not parse: \(error)")
        }
        guard signature.derEncoded == certificate.signatureValue else {
            throw self.error(
                .notWellFormed,
                certificate,
                "identity for MSP \(identity.mspid) has a non canonical signature"
            )
        }
    }

    /// Go 1.15's validHostname, used by the legacy name-constraints mitigation.
    static func isHostname(_ name: String) -> Bool {
        var host = Substring(name)
        if host.hasSuffix(".") { host = host.dropLast() }
        guard !host.isEmpty else { return false }
        for (index, part) in host.split(separator: ".", omittingEmptySubsequences: false).enumerated() {
            if part.isEmpty { return false }
            if index == 0 && part == "*" { continue }
            for (position, character) in part.unicodeScalars.enumerated() {
                switch character {
                case "a"..."z", "A"..."Z", "0"..."9", "_", ":": continue
                case "-" where position != 0: continue
                default: return false
                }
            }
        }
        return true
    }
}
