public import Foundation
public import MSP

/// A compiled policy: something a set of signatures or identities either satisfies or not.
public protocol Policy: Sendable {
    /// Deserialises the signers, drops duplicates and bad signatures, and evaluates the rest.
    func evaluate(signedData: [SignedData]) throws(ChannelConfigError)

    /// Evaluates already validated, de-duplicated identities.
    func evaluate(identities: [any Identity]) throws(ChannelConfigError)
}

/// The policy returned for a name that does not resolve: it rejects everything, naming the missing policy.
public struct RejectPolicy: Policy {
    /// The name that did not resolve.
    public let name: String

    /// Creates a reject-all policy for `name`.
    public init(name: String) { self.name = name }

    public func evaluate(signedData: [SignedData]) throws(ChannelConfigError) {
        throw ChannelConfigError(.policyNotFound, "no such policy: '\(self.name)'")
    }

    public func evaluate(identities: [any Identity]) throws(ChannelConfigError) {
        throw ChannelConfigError(.policyNotFound, "no such policy: '\(self.name)'")
    }
}

/// Turns a signature set into the identities a policy evaluates, as Fabric does: deserialise each signer
/// (failures dropped), skip an identity already accepted (same MSP id and identity id), verify the signature
/// (failures dropped). An identity whose first signature was bad may still count with a later good one.
public func validIdentities(
    _ signedData: [SignedData],
    deserializer: any IdentityDeserializer
) -> [any Identity] {
    validIdentities(signedData, deserializer: deserializer, signer: \.identity) { identity, item throws(MSPError) in
        try identity.verify(signature: item.signature, over: item.data)
    }
}

/// ``validIdentities(_:deserializer:)`` over signatures of any shape: `signer` gives an item's serialised
/// identity and `verify` checks its signature with the deserialised identity (an endorsement's signed bytes,
/// for instance, are verified from their two parts without being concatenated).
public func validIdentities<Signed>(
    _ items: [Signed],
    deserializer: any IdentityDeserializer,
    signer: (Signed) -> Data,
    verify: (any Identity, Signed) throws(MSPError) -> Void
) -> [any Identity] {
    // A transaction has a few endorsements: comparing identifiers in a list is cheaper than hashing their
    // strings into a set, which takes over for long signature sets.
    var seenList: [IdentityIdentifier] = []
    var seenSet: Set<IdentityIdentifier>?
    var identities: [any Identity] = []
    identities.reserveCapacity(items.count)
    for item in items {
        guard let identity = try? deserializer.deserializeIdentity(signer(item)) else { continue }
        let identifier = identity.identifier
        if seenSet?.contains(identifier) ?? seenList.contains(identifier) { continue }
        guard (try? verify(identity, item)) != nil else { continue }
        if seenSet != nil {
            seenSet!.insert(identifier)
        } else if seenList.count < 16 {
            seenList.append(identifier)
        } else {
            seenSet = Set(seenList + [identifier])
        }
        identities.append(identity)
    }
    return identities
}
