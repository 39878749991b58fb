public import MSP
public import Wire

/// An implicit meta policy: the named sub-policy of each direct child group, with a threshold.
///
/// ANY needs 1, ALL needs n, MAJORITY needs floor(n/2)+1 of the n children; with no children the threshold is 0
/// and the policy is always satisfied. A child without the sub-policy contributes a reject-all policy.
public struct ImplicitMetaPolicy: Policy {
    /// The sub-policy name each child is asked for.
    public let subPolicyName: String
    /// The rule as configured.
    public let rule: Common_ImplicitMetaPolicy.Rule
    /// How many sub-policies must be satisfied.
    public let threshold: Int
    /// (child group name, that child's sub-policy), children in name order.
    public let subPolicies: [(group: String, policy: any Policy)]

    init(definition: Common_ImplicitMetaPolicy, children: [(name: String, manager: PolicyManager)]) {
        self.subPolicyName = definition.subPolicy
        self.rule = definition.rule
        self.subPolicies = children.map { child in
            (child.name, child.manager.policy(definition.subPolicy).policy)
        }
        let count = self.subPolicies.count
        switch definition.rule {
        case .any: self.threshold = count == 0 ? 0 : 1
        case .all: self.threshold = count
        case .majority: self.threshold = count == 0 ? 0 : count / 2 + 1
        // Fabric leaves the threshold at 0 for a rule value it does not know; see `evaluate` for what that means.
        case .UNRECOGNIZED: self.threshold = 0
        }
    }

    public func evaluate(signedData: [SignedData]) throws(ChannelConfigError) {
        try self.evaluate { (policy: any Policy) throws(ChannelConfigError) in try policy.evaluate(signedData: signedData) }
    }

    public func evaluate(identities: [any Identity]) throws(ChannelConfigError) {
        try self.evaluate { (policy: any Policy) throws(ChannelConfigError) in try policy.evaluate(identities: identities) }
    }

    private func evaluate(_ body: (any Policy) throws(ChannelConfigError) -> Void) throws(ChannelConfigError) {
        // Literally Fabric's loop: with a threshold of 0 (no children, or an unknown rule) the policy passes only
        // while no sub-policy is satisfied, since the first success takes `remaining` below zero.
        var remaining = self.threshold
        for (_, policy) in self.subPolicies {
            if (try? body(policy)) != nil {
                remaining -= 1
                if remaining == 0 { return }
            }
        }
        if remaining == 0 { return }
        throw ChannelConfigError(
            .policyNotSatisfied,
            "implicit policy evaluation failed - \(self.threshold - remaining) sub-policies were satisfied, but "
                + "this policy requires \(self.threshold) of the '\(self.subPolicyName)' sub-policies of ["
                + self.subPolicies.map(\.group).joined(separator: ", ") + "]"
        )
    }
}
