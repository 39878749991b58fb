public import Foundation
public import Wire

/// The MSPs of a channel (or of the local peer), routing deserialisation by the identity's MSP id.
public final class MSPManager: IdentityDeserializer, Sendable {
    /// The providers by MSP id.
    public let providers: [String: any MembershipServiceProvider]

    /// Deserialised identities by serialized bytes, so the commit path skips even the protobuf decode.
    private let identities: BoundedCache<SerializedIdentityKey, any Identity>

    /// Creates a manager over `providers`; two providers with the same name are a configuration error.
    ///
    /// - Parameter cacheSize: how many deserialised identities the manager keeps (by serialized bytes).
    public init(_ providers: [any MembershipServiceProvider], cacheSize: Int = 256) throws(MSPError) {
        self.identities = BoundedCache(capacity: cacheSize)
        var byName: [String: any MembershipServiceProvider] = [:]
        for provider in providers {
            guard byName[provider.name] == nil else {
                throw MSPError(.badConfiguration, "MSP \(provider.name) is defined twice")
            }
            byName[provider.name] = provider
        }
        self.providers = byName
    }

    /// The provider for `mspID`, if defined.
    public func provider(_ mspID: String) -> (any MembershipServiceProvider)? { self.providers[mspID] }

    /// The MSP ids, sorted.
    public var mspIDs: [String] { self.providers.keys.sorted() }

    public func deserializeIdentity(_ serialized: Data) throws(MSPError) -> any Identity {
        if let cached = self.identities.value(for: SerializedIdentityKey(serialized)) { return cached }
        // The bytes may be a slice of a whole transaction or block (lean decoding shares storage): the cache and
        // the identity keep a compact copy, not the buffer around it.
        let serialized = Data(serialized)
        let identity = try Self.decode(serialized)
        guard let provider = self.providers[identity.mspid] else {
            throw MSPError(.unknownMSP, "MSP \(identity.mspid) is not defined on channel")
        }
        let deserialized = try provider.deserializeIdentity(serialized)
        self.identities.insert(deserialized, for: SerializedIdentityKey(serialized))
        return deserialized
    }

    public func isWellFormed(_ identity: Msp_SerializedIdentity) throws(MSPError) {
        guard let provider = self.providers[identity.mspid] else {
            throw MSPError(.unknownMSP, "MSP \(identity.mspid) is not defined on channel")
        }
        try provider.isWellFormed(identity)
    }

    /// Decodes a marshalled `msp.SerializedIdentity`.
    public static func decode(_ serialized: Data) throws(MSPError) -> Msp_SerializedIdentity {
        do {
            return try Msp_SerializedIdentity(decoding: serialized, field: "serialized identity")
        } catch {
            throw MSPError(.malformedIdentity, "could not deserialize a SerializedIdentity", cause: error)
        }
    }
}
