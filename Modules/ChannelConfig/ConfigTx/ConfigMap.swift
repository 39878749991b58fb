import Wire

/// One element of a flattened config tree: a group, value or policy with its key and parent path.
struct ConfigElement: Sendable {
    enum Kind: Sendable {
        case group(Common_ConfigGroup)
        case value(Common_ConfigValue)
        case policy(Common_ConfigPolicy)
    }

    let kind: Kind
    /// The element's own key.
    let key: String
    /// The path of the group holding it, from the root (`["Channel", "Application"]`); empty for the root group.
    let path: [String]

    var version: UInt64 {
        switch self.kind {
        case .group(let group): return group.version
        case .value(let value): return value.version
        case .policy(let policy): return policy.version
        }
    }

    var modPolicy: String {
        switch self.kind {
        case .group(let group): return group.modPolicy
        case .value(let value): return value.modPolicy
        case .policy(let policy): return policy.modPolicy
        }
    }

    var isGroup: Bool {
        if case .group = self.kind { return true }
        return false
    }
}

/// A config tree flattened to `"[Group]  /Channel/Application"`-style keys, as Fabric's config-update
/// validation compares trees element by element.
enum ConfigMap {
    static let groupPrefix = "[Group]  "
    static let valuePrefix = "[Value]  "
    static let policyPrefix = "[Policy] "
    /// Fabric's upgrade hack: once the orderer has capabilities, empty mod_policies read as "Admins".
    static let ordererCapabilitiesKey = "[Value]  /Channel/Orderer/Capabilities"

    static func flatten(_ root: Common_ConfigGroup, rootKey: String) throws(ChannelConfigError) -> [String: ConfigElement] {
        var result: [String: ConfigElement] = [:]
        try recurse(into: &result, path: [rootKey], group: root)
        return result
    }

    private static func add(_ element: ConfigElement, to result: inout [String: ConfigElement]) throws(ChannelConfigError) {
        let prefix: String
        switch element.kind {
        case .group: prefix = groupPrefix
        case .value: prefix = valuePrefix
        case .policy: prefix = policyPrefix
        }
        do {
            try validateConfigID(element.key)
        } catch {
            throw ChannelConfigError(
                .invalidUpdate,
                "illegal characters in key: \(prefix)\(error.message)",
                cause: error
            )
        }
        let full = prefix + "/" + (element.path + [element.key]).joined(separator: "/")
        result[full] = element
    }

    private static func recurse(
        into result: inout [String: ConfigElement],
        path: [String],
        group: Common_ConfigGroup
    ) throws(ChannelConfigError) {
        try add(ConfigElement(kind: .group(group), key: path.last!, path: Array(path.dropLast())), to: &result)
        for (key, child) in group.groups {
            try recurse(into: &result, path: path + [key], group: child)
        }
        for (key, value) in group.values {
            try add(ConfigElement(kind: .value(value), key: key, path: path), to: &result)
        }
        for (key, policy) in group.policies {
            try add(ConfigElement(kind: .policy(policy), key: key, path: path), to: &result)
        }
    }

    /// Rebuilds the tree under `/rootKey` from a flattened map: each group's children are the keys its own
    /// (possibly updated) entry lists, each child taken from the map.
    static func unflatten(_ map: [String: ConfigElement], rootKey: String) throws(ChannelConfigError) -> Common_ConfigGroup {
        try rebuild("/" + rootKey, map, upgradeModPolicies: map[ordererCapabilitiesKey] != nil)
    }

    private static func rebuild(
        _ path: String,
        _ map: [String: ConfigElement],
        upgradeModPolicies: Bool
    ) throws(ChannelConfigError) -> Common_ConfigGroup {
        guard let element = map[groupPrefix + path] else {
            throw ChannelConfigError(.configMismatch, "missing group at path: \(groupPrefix + path)")
        }
        guard case .group(let source) = element.kind else {
            throw ChannelConfigError(.configMismatch, "ConfigGroup not found at group path: \(groupPrefix + path)")
        }
        var group = Common_ConfigGroup()
        group.version = source.version
        group.modPolicy = source.modPolicy
        for key in source.groups.keys {
            group.groups[key] = try rebuild(path + "/" + key, map, upgradeModPolicies: upgradeModPolicies)
        }
        for key in source.values.keys {
            guard let child = map[valuePrefix + path + "/" + key], case .value(let value) = child.kind else {
                throw ChannelConfigError(.configMismatch, "missing value at path: \(valuePrefix + path)/\(key)")
            }
            group.values[key] = value
        }
        for key in source.policies.keys {
            guard let child = map[policyPrefix + path + "/" + key], case .policy(let policy) = child.kind else {
                throw ChannelConfigError(.configMismatch, "missing policy at path: \(policyPrefix + path)/\(key)")
            }
            group.policies[key] = policy
        }
        if upgradeModPolicies {
            if group.modPolicy.isEmpty { group.modPolicy = "Admins" }
            for key in group.values.keys where group.values[key]!.modPolicy.isEmpty {
                group.values[key]!.modPolicy = "Admins"
            }
            for key in group.policies.keys where group.policies[key]!.modPolicy.isEmpty {
                group.policies[key]!.modPolicy = "Admins"
            }
        }
        return group
    }

    /// A config element name: `[a-zA-Z0-9.-]+`, at most 249 characters, not "." or "..".
    static func validateConfigID(_ id: String) throws(ChannelConfigError) {
        guard !id.isEmpty else { throw ChannelConfigError(.invalidUpdate, "config ID illegal, cannot be empty") }
        guard id.utf8.count <= 249 else {
            throw ChannelConfigError(.invalidUpdate, "config ID illegal, cannot be longer than 249")
        }
        guard id != "." && id != ".." else {
            throw ChannelConfigError(.invalidUpdate, "name '\(id)' for config ID is not allowed")
        }
        for byte in id.utf8 {
            let ok =
                (byte >= 0x61 && byte <= 0x7a) || (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x30 && byte <= 0x39)
                || byte == 0x2e || byte == 0x2d
            guard ok else { throw ChannelConfigError(.invalidUpdate, "config ID '\(id)' contains illegal characters") }
        }
    }
}

/// Checks a channel id: `[a-z][a-z0-9.-]*`, at most 249 characters.
public func validateChannelID(_ id: String) throws(ChannelConfigError) {
    guard !id.isEmpty else { throw ChannelConfigError(.wrongChannel, "channel ID illegal, cannot be empty") }
    guard id.utf8.count <= 249 else {
        throw ChannelConfigError(.wrongChannel, "channel ID illegal, cannot be longer than 249")
    }
    for (index, byte) in id.utf8.enumerated() {
        let lower = byte >= 0x61 && byte <= 0x7a
        let ok = index == 0 ? lower : (lower || (byte >= 0x30 && byte <= 0x39) || byte == 0x2e || byte == 0x2d)
        guard ok else { throw ChannelConfigError(.wrongChannel, "'\(id)' contains illegal characters") }
    }
}
