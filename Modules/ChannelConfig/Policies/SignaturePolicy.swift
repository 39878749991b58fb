public import Foundation
public import MSP
public import Wire

/// A compiled `common.SignaturePolicyEnvelope` (Fabric's "cauthdsl").
///
/// Evaluation is greedy and order-dependent, exactly as Fabric's: `n_out_of` evaluates its rules in order, each on
/// a scratch copy of the "used" flags, keeping the copy only when the rule passed; `signed_by` consumes the first
/// unused identity that satisfies its principal. A smarter matcher would change outcomes, so this is not one.
public struct SignaturePolicy: Policy {
    indirect enum Rule: Sendable {
        case signedBy(Common_MSPPrincipal, index: Int32)
        case nOutOf(n: Int32, rules: [Rule])
    }

    let rule: Rule
    /// The envelope the policy was compiled from.
    public let envelope: Common_SignaturePolicyEnvelope
    let deserializer: any IdentityDeserializer

    /// Compiles `bytes` (a marshalled `SignaturePolicyEnvelope`).
    public init(bytes: Data, deserializer: any IdentityDeserializer) throws(ChannelConfigError) {
        let envelope: Common_SignaturePolicyEnvelope
        do {
            envelope = try Common_SignaturePolicyEnvelope(decoding: bytes, field: "Policy.value")
        } catch {
            throw ChannelConfigError(.badPolicy, "signature policy does not decode", cause: error)
        }
        try self.init(envelope: envelope, deserializer: deserializer)
    }

    /// Compiles an envelope. Only version 0 is understood; every `signed_by` index must name an identity.
    public init(envelope: Common_SignaturePolicyEnvelope, deserializer: any IdentityDeserializer)
        throws(ChannelConfigError)
    {
        guard envelope.version == 0 else {
            throw ChannelConfigError(
                .badPolicy,
                "signature policy version \(envelope.version) is not understood (only 0)"
            )
        }
        guard envelope.hasRule else { throw ChannelConfigError(.badPolicy, "signature policy has no rule") }
        self.rule = try Self.compile(envelope.rule, identities: envelope.identities)
        self.envelope = envelope
        self.deserializer = deserializer
    }

    private static func compile(
        _ policy: Common_SignaturePolicy,
        identities: [Common_MSPPrincipal]
    ) throws(ChannelConfigError) -> Rule {
        switch policy.type {
        case .signedBy(let index):
            guard index >= 0, Int(index) < identities.count else {
                throw ChannelConfigError(
                    .badPolicy,
                    "identity index out of range, requested \(index), but identities length is \(identities.count)"
                )
            }
            return .signedBy(identities[Int(index)], index: index)
        case .nOutOf(let nOutOf):
            var rules: [Rule] = []
            for rule in nOutOf.rules { rules.append(try compile(rule, identities: identities)) }
            return .nOutOf(n: nOutOf.n, rules: rules)
        case nil:
            throw ChannelConfigError(.badPolicy, "empty policy element")
        }
    }

    public func evaluate(signedData: [SignedData]) throws(ChannelConfigError) {
        try self.evaluate(identities: validIdentities(signedData, deserializer: self.deserializer))
    }

    public func evaluate(identities: [any Identity]) throws(ChannelConfigError) {
        var used = [Bool](repeating: false, count: identities.count)
        guard Self.run(self.rule, identities, &used) else {
            throw ChannelConfigError(
                .policyNotSatisfied,
                "signature set did not satisfy policy (\(identities.count) valid signer(s): "
                    + identities.map { "\($0.mspID)" }.joined(separator: ", ") + ")"
            )
        }
    }

    private static func run(_ rule: Rule, _ identities: [any Identity], _ used: inout [Bool]) -> Bool {
        switch rule {
        case .signedBy(let principal, _):
            for (index, identity) in identities.enumerated() where !used[index] {
                if (try? identity.satisfiesPrincipal(principal)) != nil {
                    used[index] = true
                    return true
                }
            }
            return false
        case .nOutOf(let n, let rules):
            var verified: Int32 = 0
            for rule in rules {
                var scratch = used
                if run(rule, identities, &scratch) {
                    verified += 1
                    used = scratch
                }
            }
            return verified >= n
        }
    }
}
