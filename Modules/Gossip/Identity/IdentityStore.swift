public import Foundation

/// What the identity store knows about one peer identity.
public struct StoredIdentity: Sendable, Hashable {
    /// The PKI-ID.
    public var pkiID: PKIID
    /// The serialised identity.
    public var identity: Data
    /// The organisation (MSP id) the security advisor tells, if any.
    public var organization: String?
    /// When the identity expires (removed 1 ms after), nil for never.
    public var expiresAt: GossipInstant?
    /// When the identity was last used (looked up for a verification or a routing decision).
    public var lastAccess: GossipInstant
}

/// The identity mapper (§9.1): PKI-ID → identity, with expiry at the certificate's NotAfter, a purge of identities
/// unused for an hour, and re-validation of suspected peers.
///
/// A pure value over the crypto protocols; the self identity is never purged.
public struct IdentityStore: Sendable {
    private var identities: [PKIID: StoredIdentity] = [:]
    private let mcs: any MessageCryptoService
    private let advisor: any SecurityAdvisor
    /// The local peer's PKI-ID (never purged for non-use).
    public let selfPKIID: PKIID
    /// Identities unused for longer than this are purged.
    public var usageThreshold: Duration

    /// Creates a store holding the local identity.
    public init(
        selfIdentity: Data,
        mcs: any MessageCryptoService,
        advisor: any SecurityAdvisor,
        usageThreshold: Duration = .seconds(3600),
        now: GossipInstant
    ) throws(GossipError) {
        self.mcs = mcs
        self.advisor = advisor
        self.usageThreshold = usageThreshold
        self.selfPKIID = try mcs.pkiID(of: selfIdentity)
        try self.put(self.selfPKIID, identity: selfIdentity, now: now)
    }

    /// Stores `identity` for `pkiID`: the identity must have a readable expiry, validate, not be expired, and hash
    /// to `pkiID`. An already known PKI-ID is left as it is (no error).
    public mutating func put(_ pkiID: PKIID, identity: Data, now: GossipInstant) throws(GossipError) {
        guard !pkiID.isEmpty else { throw GossipError(.invalidIdentity, "PKI-ID is empty") }
        guard !identity.isEmpty else { throw GossipError(.invalidIdentity, "identity of \(pkiID) is empty") }
        let expiration: Date?
        do {
            expiration = try self.mcs.expiration(of: identity)
        } catch {
            throw GossipError(.invalidIdentity, "failed classifying identity of \(pkiID)", cause: error)
        }
        do {
            try self.mcs.validateIdentity(identity)
        } catch {
            throw GossipError(.invalidIdentity, "identity of \(pkiID) does not validate", cause: error)
        }
        let computed = try self.mcs.pkiID(of: identity)
        guard computed == pkiID else {
            throw GossipError(
                .invalidIdentity,
                "identity doesn't match the computed PKI-ID: claimed \(pkiID.hex), computed \(computed.hex)"
            )
        }
        if self.identities[pkiID] != nil { return }
        let expiresAt = expiration.map { GossipInstant($0).advanced(by: .milliseconds(1)) }
        if let expiration, GossipInstant(expiration) < now {
            throw GossipError(.invalidIdentity, "identity of \(pkiID) expired at \(expiration)")
        }
        self.identities[pkiID] = StoredIdentity(
            pkiID: pkiID,
            identity: identity,
            organization: self.advisor.organization(of: identity),
            expiresAt: expiresAt,
            lastAccess: now
        )
    }

    /// The identity of `pkiID`, marking it used. Throws ``GossipError/Code/unknownIdentity`` when unknown.
    public mutating func get(_ pkiID: PKIID, now: GossipInstant) throws(GossipError) -> Data {
        guard var stored = self.identities[pkiID] else {
            throw GossipError(.unknownIdentity, "PKI-ID \(pkiID.hex) wasn't found")
        }
        stored.lastAccess = now
        self.identities[pkiID] = stored
        return stored.identity
    }

    /// The stored entry of `pkiID` without marking it used.
    public func lookup(_ pkiID: PKIID) -> StoredIdentity? { self.identities[pkiID] }

    /// The organisation of `pkiID`, if its identity is known.
    public func organization(of pkiID: PKIID) -> String? { self.identities[pkiID]?.organization }

    /// Verifies `signature` over `message` by the stored identity of `pkiID`.
    public mutating func verify(
        _ pkiID: PKIID,
        signature: Data,
        message: Data,
        now: GossipInstant
    ) throws(GossipError) {
        let identity = try self.get(pkiID, now: now)
        try self.mcs.verify(identity: identity, signature: signature, message: message)
    }

    /// Removes identities past their expiry and identities (other than self) unused for longer than the usage
    /// threshold; returns the removed PKI-IDs (their connections should be closed).
    public mutating func purge(now: GossipInstant) -> [PKIID] {
        var removed: [PKIID] = []
        for (pkiID, stored) in self.identities {
            if let expiresAt = stored.expiresAt, expiresAt <= now {
                removed.append(pkiID)
            } else if pkiID != self.selfPKIID, stored.lastAccess.advanced(by: self.usageThreshold) < now {
                removed.append(pkiID)
            }
        }
        for pkiID in removed { self.identities[pkiID] = nil }
        return removed.sorted()
    }

    /// Re-validates the identities `isSuspected` selects and removes those that no longer validate (revoked,
    /// expired CA, …); returns the removed PKI-IDs.
    public mutating func suspect(_ isSuspected: (StoredIdentity) -> Bool) -> [PKIID] {
        var removed: [PKIID] = []
        for (pkiID, stored) in self.identities where pkiID != self.selfPKIID && isSuspected(stored) {
            if (try? self.mcs.validateIdentity(stored.identity)) == nil {
                removed.append(pkiID)
            }
        }
        for pkiID in removed { self.identities[pkiID] = nil }
        return removed.sorted()
    }

    /// Removes `pkiID`.
    public mutating func remove(_ pkiID: PKIID) { self.identities[pkiID] = nil }

    /// Every stored identity.
    public var all: [StoredIdentity] { self.identities.values.sorted { $0.pkiID < $1.pkiID } }

    /// The earliest expiry among stored identities.
    public var nextExpiry: GossipInstant? { self.identities.values.compactMap(\.expiresAt).min() }
}
