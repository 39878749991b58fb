public import MSP
public import Wire

/// The policies of a config group and, under relative paths `child/…/name`, of all its descendants.
///
/// Built recursively from the config tree (root path `Channel`). Lookup by absolute path (`/Channel/Orderer/
/// BlockValidation`) or by a path relative to this group. A name that does not resolve yields a ``RejectPolicy``
/// and `found == false`: callers that evaluate it anyway get a clear "no such policy" failure, as in Fabric.
public final class PolicyManager: Sendable {
    /// The group path of this manager without a leading slash (`Channel`, `Channel/Application`).
    public let path: String
    /// Every policy of this group and its descendants, by relative path.
    public let policies: [String: any Policy]
    /// The managers of the direct child groups.
    public let children: [String: PolicyManager]

    /// Builds the manager of `group` at `path`, compiling signature policies against `deserializer`.
    public init(path: String, group: Common_ConfigGroup, deserializer: any IdentityDeserializer)
        throws(ChannelConfigError)
    {
        var children: [String: PolicyManager] = [:]
        for (name, child) in group.groups {
            children[name] = try PolicyManager(path: path + "/" + name, group: child, deserializer: deserializer)
        }
        let orderedChildren = children.keys.sorted().map { (name: $0, manager: children[$0]!) }

        var policies: [String: any Policy] = [:]
        for (name, configPolicy) in group.policies {
            guard configPolicy.hasPolicy else {
                throw ChannelConfigError(.badPolicy, "policy \(name) at path \(path) was nil")
            }
            let policy = configPolicy.policy
            switch Common_Policy.PolicyType(rawValue: Int(policy.type)) {
            case .implicitMeta:
                let definition: Common_ImplicitMetaPolicy
                do {
                    definition = try Common_ImplicitMetaPolicy(decoding: policy.value, field: "/\(path)/\(name)")
                } catch {
                    throw ChannelConfigError(
                        .badPolicy,
                        "implicit policy \(name) at path \(path) did not compile",
                        cause: error
                    )
                }
                policies[name] = ImplicitMetaPolicy(definition: definition, children: orderedChildren)
            case .signature:
                do {
                    policies[name] = try SignaturePolicy(bytes: policy.value, deserializer: deserializer)
                } catch {
                    throw ChannelConfigError(
                        .badPolicy,
                        "policy \(name) at path \(path) did not compile: \(error.message)",
                        cause: error
                    )
                }
            default:
                throw ChannelConfigError(
                    .badPolicy,
                    "policy \(name) at path \(path) has unknown policy type: \(policy.type)"
                )
            }
        }
        for (childName, child) in children {
            for (name, policy) in child.policies {
                policies[childName + "/" + name] = policy
            }
        }
        self.path = path
        self.policies = policies
        self.children = children
    }

    /// Resolves `id`: an absolute path must start with `/` + this manager's path; anything else is relative.
    public func policy(_ id: String) -> (policy: any Policy, found: Bool) {
        guard !id.isEmpty else { return (RejectPolicy(name: id), false) }
        let relative: String
        if id.hasPrefix("/") {
            let prefix = "/" + self.path
            guard id.hasPrefix(prefix), id.count > prefix.count + 1 else { return (RejectPolicy(name: id), false) }
            relative = String(id.dropFirst(prefix.count + 1))
        } else {
            relative = id
        }
        guard let policy = self.policies[relative] else { return (RejectPolicy(name: relative), false) }
        return (policy, true)
    }

    /// The manager of the descendant group at `path` (relative names), or nil.
    public func manager(_ path: [String]) -> PolicyManager? {
        var current = self
        for name in path {
            guard let next = current.children[name] else { return nil }
            current = next
        }
        return current
    }

    /// Evaluates the policy `id` over `signedData`; a missing policy fails with `policyNotFound`.
    public func evaluate(_ id: String, signedData: [SignedData]) throws(ChannelConfigError) {
        try self.policy(id).policy.evaluate(signedData: signedData)
    }
}
