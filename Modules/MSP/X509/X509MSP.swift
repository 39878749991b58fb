public import Foundation
public import Wire

/// An X.509 membership service provider (Fabric's `bccspmsp` with its `cachedMSP` wrapper), on OpenSSL.
///
/// Set up from an `msp.FabricMSPConfig` and an ``MSPVersion``. Thread-safe: all state is immutable after init
/// except three bounded caches behind mutexes — deserialised identities (by serialized bytes), validated
/// identities (by identifier) and principal outcomes (by identity id and principal).
public final class X509MSP: MembershipServiceProvider, CustomStringConvertible {
    /// Capacities of the caches (Fabric's defaults are 100 each).
    public struct CacheSizes: Sendable, Hashable {
        /// Deserialised identities, by serialized bytes.
        public var deserialize: Int
        /// Validation successes, by identity identifier.
        public var validate: Int
        /// satisfiesPrincipal outcomes, by identity id and principal.
        public var satisfiesPrincipal: Int

        /// Creates cache sizes; the defaults are Fabric's.
        public init(deserialize: Int = 100, validate: Int = 100, satisfiesPrincipal: Int = 100) {
            self.deserialize = deserialize
            self.validate = validate
            self.satisfiesPrincipal = satisfiesPrincipal
        }
    }

    let core: X509MSPCore
    /// The local signing identity, when the configuration carries one (with its key material).
    public let signingIdentity: X509SigningIdentity?
    private let identities: BoundedCache<SerializedIdentityKey, X509Identity>

    /// Sets up the MSP. Throws `.badConfiguration` (or `.expired` for an expired signing identity) naming the MSP
    /// and what is wrong.
    ///
    /// - Parameter now: the time the signing identity must not have expired by.
    public init(
        config: Msp_FabricMSPConfig,
        version: MSPVersion,
        cacheSizes: CacheSizes = CacheSizes(),
        now: Date = Date()
    ) throws(MSPError) {
        let (core, signer) = try X509MSPCore.setUp(config: config, version: version, cacheSizes: cacheSizes, now: now)
        self.core = core
        self.signingIdentity = signer
        self.identities = BoundedCache(capacity: cacheSizes.deserialize)
    }

    /// Sets up the MSP from an `msp.MSPConfig` as found in a channel config (type 0 = FABRIC).
    public convenience init(
        mspConfig: Msp_MSPConfig,
        version: MSPVersion,
        cacheSizes: CacheSizes = CacheSizes()
    ) throws(MSPError) {
        guard mspConfig.type == 0 else {
            throw MSPError(.badConfiguration, "MSP type \(mspConfig.type) is not supported (only FABRIC, 0)")
        }
        let config: Msp_FabricMSPConfig
        do {
            config = try Msp_FabricMSPConfig(decoding: mspConfig.config, field: "MSPConfig.config")
        } catch {
            throw MSPError(.badConfiguration, "could not decode FabricMSPConfig", cause: error)
        }
        try self.init(config: config, version: version, cacheSizes: cacheSizes)
    }

    public var name: String { self.core.name }
    public var version: MSPVersion { self.core.version }
    public var tlsRootCertificates: [Data] { self.core.tlsRoots }
    public var tlsIntermediateCertificates: [Data] { self.core.tlsIntermediates }
    public var description: String { "X509MSP(\(self.name), \(self.version))" }

    /// The root CA certificates (sanitised).
    package var rootCertificates: [Certificate] { self.core.roots }
    /// The intermediate CA certificates (sanitised).
    package var intermediateCertificates: [Certificate] { self.core.intermediates }
    /// How many deserialised identities are cached.
    package var cachedIdentityCount: Int { self.identities.count }

    /// Whether NodeOU classification is enforced.
    public var nodeOUsEnforced: Bool { self.core.ouEnforcement }

    public func deserializeIdentity(_ serialized: Data) throws(MSPError) -> any Identity {
        try self.deserializeX509Identity(serialized)
    }

    /// Deserialises (through the cache) to the concrete identity type.
    public func deserializeX509Identity(_ serialized: Data) throws(MSPError) -> X509Identity {
        if let cached = self.identities.value(for: SerializedIdentityKey(serialized)) { return cached }
        let identity = try self.core.deserialize(serialized)
        self.identities.insert(identity, for: SerializedIdentityKey(serialized))
        return identity
    }

    public func isWellFormed(_ identity: Msp_SerializedIdentity) throws(MSPError) {
        try self.core.isWellFormed(identity)
    }

    public func validate(_ identity: any Identity) throws(MSPError) {
        try self.own(identity).validate()
    }

    public func satisfiesPrincipal(_ identity: any Identity, _ principal: Common_MSPPrincipal) throws(MSPError) {
        try self.own(identity).satisfiesPrincipal(principal)
    }

    /// Checks `identity` by this MSP's rules: identities of this MSP object are used as they are, others are
    /// deserialised again from their serialized form.
    private func own(_ identity: any Identity) throws(MSPError) -> X509Identity {
        if let x509 = identity as? X509Identity, x509.core === self.core { return x509 }
        if let signer = identity as? X509SigningIdentity, signer.identity.core === self.core { return signer.identity }
        guard identity.mspID == self.name else {
            throw MSPError(.unknownMSP, "MSP \(self.name): the identity belongs to MSP \(identity.mspID)")
        }
        return try self.deserializeX509Identity(identity.serialized)
    }
}
