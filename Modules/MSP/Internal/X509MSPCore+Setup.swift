import Foundation
import Wire

extension X509MSPCore {
    /// Sets up an MSP from its configuration, following Fabric's setup for `version` (v1.0, v1.1/v1.3 or v1.4.3+):
    /// crypto defaults, CAs (sanitised, each a CA with an SKI that validates), CRLs, internal nodes, the signing
    /// identity, TLS CAs, OU identifiers, NodeOUs and admins, then the version's admin checks.
    static func setUp(
        config: Msp_FabricMSPConfig,
        version: MSPVersion,
        cacheSizes: X509MSP.CacheSizes,
        now: Date
    ) throws(MSPError) -> (core: X509MSPCore, signer: X509SigningIdentity?) {
        let core = try X509MSPCore(
            name: config.name,
            version: version,
            validateCacheSize: cacheSizes.validate,
            principalCacheSize: cacheSizes.satisfiesPrincipal
        )
        try core.setUpCrypto(config)
        try core.setUpCAs(config)
        try core.setUpCRLs(config)
        try core.finalizeCAs()
        let signer = try core.setUpSigningIdentity(config, now: now)
        try core.setUpTLSCAs(config)
        try core.setUpOUIdentifiers(config)
        if version >= .v1_4_3 {
            try core.setUpNodeOUsV142(config)
        } else if version >= .v1_1 {
            try core.setUpNodeOUsV11(config)
        }
        try core.setUpAdmins(config)
        try core.checkAdmins()
        return (core, signer)
    }

    private func setUpCrypto(_ config: Msp_FabricMSPConfig) throws(MSPError) {
        let family = config.cryptoConfig.signatureHashFamily
        switch family {
        case "", "SHA2": self.signatureHash = .sha256
        case "SHA3": self.signatureHash = .sha3_256
        default: throw MSPError(.badConfiguration, "MSP \(self.name): unsupported signature hash family \(family)")
        }
        let function = config.cryptoConfig.identityIdentifierHashFunction
        if function.isEmpty {
            self.identifierHash = .sha256
        } else if let hash = HashFunction(rawValue: function), hash != .sha512 {
            self.identifierHash = hash
        } else {
            throw MSPError(
                .badConfiguration,
                "MSP \(self.name): unsupported identity identifier hash function \(function)"
            )
        }
    }

    private func parse(_ pem: Data, _ what: String) throws(MSPError) -> Certificate {
        do {
            return try Certificate(pemEncoded: pem)
        } catch {
            throw MSPError(.badConfiguration, "MSP \(self.name): \(what) is not a PEM certificate: \(error.message)")
        }
    }

    private func setUpCAs(_ config: Msp_FabricMSPConfig) throws(MSPError) {
        guard !config.rootCerts.isEmpty else {
            throw MSPError(.badConfiguration, "MSP \(self.name): expected at least one CA certificate")
        }
        var roots: [Certificate] = []
        for (index, pem) in config.rootCerts.enumerated() {
            roots.append(try self.parse(pem, "root certificate \(index)"))
        }
        var intermediates: [Certificate] = []
        for (index, pem) in config.intermediateCerts.enumerated() {
            intermediates.append(try self.parse(pem, "intermediate certificate \(index)"))
        }
        // Sanitise the CA certificates with verify options holding them as given, then rebuild the options from
        // the sanitised certificates (Fabric's order).
        let raw = try CertificateStore(roots: roots, intermediates: intermediates)
        var sanitizedRoots: [Certificate] = []
        for root in roots {
            do {
                sanitizedRoots.append(try self.sanitize(root, in: raw))
            } catch {
                throw MSPError(.badConfiguration, "MSP \(self.name): root \(root): \(error.message)")
            }
        }
        var sanitizedIntermediates: [Certificate] = []
        for intermediate in intermediates {
            do {
                sanitizedIntermediates.append(try self.sanitize(intermediate, in: raw))
            } catch {
                throw MSPError(.badConfiguration, "MSP \(self.name): intermediate \(intermediate): \(error.message)")
            }
        }
        self.store = try CertificateStore(roots: sanitizedRoots, intermediates: sanitizedIntermediates)
    }

    private func setUpCRLs(_ config: Msp_FabricMSPConfig) throws(MSPError) {
        var crls: [CertificateRevocationList] = []
        for (index, bytes) in config.revocationList.enumerated() {
            do {
                crls.append(try CertificateRevocationList(pemOrDER: bytes))
            } catch {
                throw MSPError(.badConfiguration, "MSP \(self.name): revocation list \(index): \(error.message)")
            }
        }
        self.crls = crls
    }

    /// Every CA must be a CA, carry an SKI and validate (roots as chains of one; intermediates also against the
    /// CRLs); then the internal nodes of the certification tree are marked.
    private func finalizeCAs() throws(MSPError) {
        for ca in self.roots + self.intermediates {
            guard ca.isCA else {
                throw MSPError(
                    .badConfiguration,
                    "MSP \(self.name): CA Certificate did not have the CA attribute (SN: \(ca.serialHex), CN=\(ca.commonName))"
                )
            }
            guard ca.subjectKeyIdentifier != nil else {
                throw MSPError(
                    .badConfiguration,
                    "MSP \(self.name): CA Certificate problem with Subject Key Identifier extension (SN: \(ca.serialHex), "
                        + "CN=\(ca.commonName))"
                )
            }
            do {
                let chain = try self.uniqueChain(ca).get()
                if chain.count > 1 { try self.checkRevocation(ca, chain: chain) }
            } catch {
                throw MSPError(
                    .badConfiguration,
                    "MSP \(self.name): CA Certificate is not valid (SN: \(ca.serialHex), CN=\(ca.commonName)): \(error.message)",
                    cause: error
                )
            }
        }
        var nodes: Set<Data> = []
        for intermediate in self.intermediates {
            if case .success(let chain) = self.uniqueChain(intermediate) {
                for parent in chain.dropFirst() { nodes.insert(parent.der) }
            }
        }
        self.internalNodes = nodes
    }

    private func setUpSigningIdentity(_ config: Msp_FabricMSPConfig, now: Date) throws(MSPError) -> X509SigningIdentity?
    {
        guard config.hasSigningIdentity else { return nil }
        let info = config.signingIdentity
        let certificate = try self.parse(info.publicSigner, "signing certificate")
        let identity: X509Identity
        do {
            identity = try self.makeIdentity(certificate, serialized: nil)
        } catch {
            throw MSPError(.badConfiguration, "MSP \(self.name): signing identity: \(error.message)", cause: error)
        }
        if certificate.notAfter <= now {
            throw self.error(
                .expired,
                certificate,
                "signing identity expired \(Int(now.timeIntervalSince(certificate.notAfter)))s ago (NotAfter \(certificate.notAfter))"
            )
        }
        guard info.hasPrivateSigner, !info.privateSigner.keyMaterial.isEmpty else {
            throw self.error(.badConfiguration, certificate, "KeyMaterial not found in SigningIdentityInfo")
        }
        let key: PrivateKey
        do {
            key = try PrivateKey(pemEncoded: info.privateSigner.keyMaterial)
        } catch {
            throw self.error(.badConfiguration, certificate, "signing key: \(error.message)")
        }
        guard key.publicKey.matches(certificate.publicKey) else {
            throw self.error(.badConfiguration, certificate, "the private key does not match the signing certificate")
        }
        return X509SigningIdentity(identity: identity, privateKey: key)
    }

    private func setUpTLSCAs(_ config: Msp_FabricMSPConfig) throws(MSPError) {
        var roots: [Certificate] = []
        for (index, pem) in config.tlsRootCerts.enumerated() {
            roots.append(try self.parse(pem, "TLS root certificate \(index)"))
        }
        var intermediates: [Certificate] = []
        for (index, pem) in config.tlsIntermediateCerts.enumerated() {
            intermediates.append(try self.parse(pem, "TLS intermediate certificate \(index)"))
        }
        let store = try CertificateStore(roots: roots, intermediates: intermediates)
        for ca in roots + intermediates {
            guard ca.isCA else {
                throw MSPError(
                    .badConfiguration,
                    "MSP \(self.name): TLS CA Certificate did not have the CA attribute (SN: \(ca.serialHex), CN=\(ca.commonName))"
                )
            }
            guard ca.subjectKeyIdentifier != nil else {
                throw MSPError(
                    .badConfiguration,
                    "MSP \(self.name): TLS CA Certificate problem with Subject Key Identifier extension (CN=\(ca.commonName))"
                )
            }
            if case .failure(let failure) = store.chain(for: ca, at: Self.verificationTime(ca)) {
                throw MSPError(
                    .badConfiguration,
                    "MSP \(self.name): TLS CA Certificate is not valid (SN: \(ca.serialHex), CN=\(ca.commonName)): \(failure)"
                )
            }
        }
        self.tlsRoots = roots.map(\.der)
        self.tlsIntermediates = intermediates.map(\.der)
    }

    /// The certifiers identifier of a CA certificate given in the configuration: it must be one of the MSP's
    /// roots or intermediates (after sanitisation); the hash covers its chain from itself up to the root.
    func certifiersIdentifier(_ pem: Data) throws(MSPError) -> Data {
        let certificate = try self.parse(pem, "OU identifier certificate")
        let sanitized: Certificate
        do {
            sanitized = try self.sanitize(certificate)
        } catch {
            throw MSPError(
                .badConfiguration,
                "MSP \(self.name): failed adding OU. Certificate \(certificate) not in root or intermediate certs: "
                    + error.message
            )
        }
        let chain: [Certificate]
        if self.roots.contains(sanitized) {
            chain = [sanitized]
        } else if self.intermediates.contains(sanitized) {
            chain = try self.validationChain(sanitized, chain: self.uniqueChain(sanitized), isIntermediateChain: true)
        } else {
            throw MSPError(
                .badConfiguration,
                "MSP \(self.name): failed adding OU. Certificate \(certificate) not in root or intermediate certs"
            )
        }
        return self.identifierHash.digest(concatenating: chain.map(\.der))
    }

    private func setUpOUIdentifiers(_ config: Msp_FabricMSPConfig) throws(MSPError) {
        var identifiers: [String: [Data]] = [:]
        for ou in config.organizationalUnitIdentifiers {
            let certifiers = try self.certifiersIdentifier(ou.certificate)
            if !(identifiers[ou.organizationalUnitIdentifier]?.contains(certifiers) ?? false) {
                identifiers[ou.organizationalUnitIdentifier, default: []].append(certifiers)
            }
        }
        self.ouIdentifiers = identifiers
    }

    private func nodeOU(_ identifier: Msp_FabricOUIdentifier) throws(MSPError) -> NodeOU {
        var ou = NodeOU(name: identifier.organizationalUnitIdentifier, certifiersIdentifier: Data())
        if !identifier.certificate.isEmpty {
            ou.certifiersIdentifier = try self.certifiersIdentifier(identifier.certificate)
        }
        return ou
    }

    /// v1.1 rules: with NodeOUs present both the client and the peer OU are required.
    private func setUpNodeOUsV11(_ config: Msp_FabricMSPConfig) throws(MSPError) {
        guard config.hasFabricNodeOus else {
            self.ouEnforcement = false
            return
        }
        let nodeOUs = config.fabricNodeOus
        self.ouEnforcement = nodeOUs.enable
        guard nodeOUs.hasClientOuIdentifier, !nodeOUs.clientOuIdentifier.organizationalUnitIdentifier.isEmpty else {
            throw MSPError(
                .badConfiguration,
                "MSP \(self.name): Failed setting up NodeOUs. ClientOU must be different from nil."
            )
        }
        guard nodeOUs.hasPeerOuIdentifier, !nodeOUs.peerOuIdentifier.organizationalUnitIdentifier.isEmpty else {
            throw MSPError(
                .badConfiguration,
                "MSP \(self.name): Failed setting up NodeOUs. PeerOU must be different from nil."
            )
        }
        self.clientOU = try self.nodeOU(nodeOUs.clientOuIdentifier)
        self.peerOU = try self.nodeOU(nodeOUs.peerOuIdentifier)
    }

    /// v1.4.2+ rules: any of client, peer, admin, orderer OU; none set turns enforcement off.
    private func setUpNodeOUsV142(_ config: Msp_FabricMSPConfig) throws(MSPError) {
        guard config.hasFabricNodeOus else {
            self.ouEnforcement = false
            return
        }
        let nodeOUs = config.fabricNodeOus
        self.ouEnforcement = nodeOUs.enable
        self.clientOU = nodeOUs.hasClientOuIdentifier ? try self.nodeOU(nodeOUs.clientOuIdentifier) : nil
        self.peerOU = nodeOUs.hasPeerOuIdentifier ? try self.nodeOU(nodeOUs.peerOuIdentifier) : nil
        self.adminOU = nodeOUs.hasAdminOuIdentifier ? try self.nodeOU(nodeOUs.adminOuIdentifier) : nil
        self.ordererOU = nodeOUs.hasOrdererOuIdentifier ? try self.nodeOU(nodeOUs.ordererOuIdentifier) : nil
        if self.clientOU == nil && self.peerOU == nil && self.adminOU == nil && self.ordererOU == nil {
            self.ouEnforcement = false
        }
    }

    private func setUpAdmins(_ config: Msp_FabricMSPConfig) throws(MSPError) {
        var admins: [Data] = []
        for (index, pem) in config.admins.enumerated() {
            let certificate = try self.parse(pem, "admin certificate \(index)")
            do {
                admins.append(try self.makeIdentity(certificate, serialized: nil).sanitizedDER)
            } catch {
                throw MSPError(.badConfiguration, "MSP \(self.name): admin \(index): \(error.message)", cause: error)
            }
        }
        self.admins = admins
        if self.version >= .v1_4_3 && admins.isEmpty && (!self.ouEnforcement || self.adminOU == nil) {
            throw MSPError(
                .badConfiguration,
                "MSP \(self.name): administrators must be declared when no admin ou classification is set"
            )
        }
    }

    /// The post-setup admin rules: v1.0 (or NodeOUs off) every admin validates; v1.1/v1.3 every admin is a
    /// client; v1.4.3+ every admin carries the client or the admin OU.
    private func checkAdmins() throws(MSPError) {
        for (index, der) in self.admins.enumerated() {
            let identity: X509Identity
            do {
                identity = try self.makeIdentity(Certificate(derEncoded: der), serialized: nil)
            } catch {
                throw MSPError(.badConfiguration, "MSP \(self.name): admin \(index) is invalid: \(error.message)")
            }
            do {
                if !self.ouEnforcement || self.version < .v1_1 {
                    try self.validate(identity)
                } else if self.version < .v1_4_3 {
                    try self.satisfiesPrincipal(identity, Self.rolePrincipal(.client, mspID: self.name))
                } else {
                    do {
                        try self.hasOURole(identity, .client)
                    } catch {
                        try self.hasOURole(identity, .admin)
                    }
                }
            } catch {
                throw MSPError(
                    .badConfiguration,
                    "MSP \(self.name): admin \(index) (CN=\(identity.certificate.commonName)) is invalid: \(error.message)",
                    cause: error
                )
            }
        }
    }

    /// A ROLE principal.
    static func rolePrincipal(_ role: Common_MSPRole.MSPRoleType, mspID: String) -> Common_MSPPrincipal {
        var mspRole = Common_MSPRole()
        mspRole.mspIdentifier = mspID
        mspRole.role = role
        var principal = Common_MSPPrincipal()
        principal.principalClassification = .role
        principal.principal = (try? mspRole.encoded()) ?? Data()
        return principal
    }
}
