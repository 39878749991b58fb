import Foundation
import Yams

/// Reads a YAML profile into a ``NetworkProfile``, remembering the line of every key it saw so errors found later
/// (by validation) can still point at the line.
struct ProfileParser {
    private var lines: [String: Int] = [:]

    static let topKeys = [
        "channel", "orgs", "peersPerOrg", "usersPerOrg", "peerOrgs", "ordererOrg", "capabilities", "batch", "etcdraft",
        "policies", "nodeOUs", "intermediateCA",
    ]

    mutating func parse(_ text: String) throws(NetGenError) -> NetworkProfile {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch {
            throw NetGenError(.badProfile, "the profile is not valid YAML: \(error)")
        }
        guard let root else {
            throw NetGenError(.badProfile, "the profile is empty; it needs at least 'channel: <channel id>'")
        }
        let top = try self.mapping(root, key: "", allowed: Self.topKeys)

        guard let channelNode = top["channel"] else {
            throw NetGenError(.badProfile, "the profile has no 'channel' key; add e.g. 'channel: mychannel'")
        }
        var profile = NetworkProfile(channelID: try Self.string(channelNode, key: "channel"), organizations: 0)
        let peersPerOrg = try top["peersPerOrg"].map { node throws(NetGenError) in
            try Self.int(node, key: "peersPerOrg", in: 1...1000, why: "each organization needs at least one peer")
        }
        let usersPerOrg = try top["usersPerOrg"].map { node throws(NetGenError) in
            try Self.int(node, key: "usersPerOrg", in: 0...NetworkProfile.maximumUsers, why: "users besides Admin")
        }

        switch (top["orgs"], top["peerOrgs"]) {
        case (.some, .some):
            throw NetGenError.profile(
                "orgs",
                "give either 'orgs' (a number of generated organizations) or 'peerOrgs' (a list), not both"
            )
        case (.some(let node), nil):
            let count = try Self.int(
                node,
                key: "orgs",
                in: 1...100,
                why: "a network needs at least one peer organization"
            )
            profile.peerOrganizations = (0..<count).map {
                .numbered($0, peers: peersPerOrg ?? 2, users: usersPerOrg ?? 1)
            }
        case (nil, .some(let node)):
            let entries = try self.sequence(node, key: "peerOrgs")
            guard !entries.isEmpty else {
                throw NetGenError.profile(
                    "peerOrgs",
                    "the list is empty; a network needs at least one peer organization"
                )
            }
            for (index, entry) in entries.enumerated() {
                profile.peerOrganizations.append(
                    try self.peerOrganization(entry, index: index, peers: peersPerOrg ?? 2, users: usersPerOrg ?? 1)
                )
            }
        case (nil, nil):
            profile.peerOrganizations = (0..<2).map { .numbered($0, peers: peersPerOrg ?? 2, users: usersPerOrg ?? 1) }
        }

        if let node = top["ordererOrg"] { profile.ordererOrganization = try self.ordererOrganization(node) }
        if let node = top["capabilities"] { profile.capabilities = try self.capabilities(node) }
        if let node = top["batch"] { profile.batch = try self.batch(node) }
        if let node = top["etcdraft"] { profile.etcdraft = try self.etcdraft(node) }
        if let node = top["policies"] { profile.policies = try self.policies(node) }
        if let node = top["nodeOUs"] { profile.nodeOUs = try Self.bool(node, key: "nodeOUs") }
        if let node = top["intermediateCA"] { profile.intermediateCA = try Self.bool(node, key: "intermediateCA") }
        return profile
    }

    /// Adds the line of the error's key (or of the nearest enclosing key the YAML had) to a profile error.
    func locate(_ error: NetGenError) -> NetGenError {
        guard error.line == nil, var key = error.key else { return error }
        var located = error
        while !key.isEmpty {
            if let line = self.lines[key] {
                located.line = line
                break
            }
            if key.hasSuffix("]"), let open = key.lastIndex(of: "[") {
                key = String(key[..<open])
            } else if let dot = key.lastIndex(of: ".") {
                key = String(key[..<dot])
            } else {
                break
            }
        }
        return located
    }

    // MARK: - Sections

    private mutating func peerOrganization(
        _ node: Node,
        index: Int,
        peers: Int,
        users: Int
    ) throws(NetGenError)
        -> NetworkProfile.PeerOrganization
    {
        let key = "peerOrgs[\(index)]"
        let fields = try self.mapping(
            node,
            key: key,
            allowed: ["name", "mspID", "domain", "peers", "users", "anchorPeers"]
        )
        var org = NetworkProfile.PeerOrganization.numbered(index, peers: peers, users: users)
        if let value = fields["name"] {
            org.name = try Self.string(value, key: "\(key).name")
            org.mspID = org.name
        }
        if let value = fields["mspID"] {
            org.mspID = try Self.string(value, key: "\(key).mspID")
            if fields["name"] == nil { org.name = org.mspID }
        }
        if let value = fields["domain"] { org.domain = try Self.string(value, key: "\(key).domain") }
        if let value = fields["users"] {
            org.users = try Self.int(
                value,
                key: "\(key).users",
                in: 0...NetworkProfile.maximumUsers,
                why: "users besides Admin"
            )
        }
        if let value = fields["peers"] {
            org.peers = try self.nodes(
                value,
                key: "\(key).peers",
                what: "peer",
                fields: ["name", "endpoint"],
                numbered: { NetworkProfile.Peer.numbered($0, organization: index) },
                apply: { fields, key, peer throws(NetGenError) in
                    if let value = fields["name"] { peer.name = try Self.string(value, key: "\(key).name") }
                    if let value = fields["endpoint"] {
                        peer.endpoint = try Self.endpoint(value, key: "\(key).endpoint")
                    }
                }
            )
            org.anchorPeers = org.peers.first.map { [$0.name] } ?? []
        }
        if let value = fields["anchorPeers"] {
            let entries = try self.sequence(value, key: "\(key).anchorPeers")
            var anchors: [String] = []
            for (anchorIndex, entry) in entries.enumerated() {
                anchors.append(try Self.string(entry, key: "\(key).anchorPeers[\(anchorIndex)]"))
            }
            org.anchorPeers = anchors
        }
        return org
    }

    private mutating func ordererOrganization(_ node: Node) throws(NetGenError) -> NetworkProfile.OrdererOrganization {
        let key = "ordererOrg"
        let fields = try self.mapping(node, key: key, allowed: ["name", "mspID", "domain", "orderers", "users"])
        var org = NetworkProfile.OrdererOrganization()
        if let value = fields["mspID"] { org.mspID = try Self.string(value, key: "\(key).mspID") }
        if let value = fields["name"] { org.name = try Self.string(value, key: "\(key).name") }
        if let value = fields["domain"] { org.domain = try Self.string(value, key: "\(key).domain") }
        if let value = fields["users"] {
            org.users = try Self.int(
                value,
                key: "\(key).users",
                in: 0...NetworkProfile.maximumUsers,
                why: "users besides Admin"
            )
        }
        if let value = fields["orderers"] {
            org.orderers = try self.nodes(
                value,
                key: "\(key).orderers",
                what: "orderer",
                fields: ["name", "endpoint", "cluster"],
                numbered: NetworkProfile.Orderer.numbered
            ) { fields, key, orderer throws(NetGenError) in
                if let value = fields["name"] { orderer.name = try Self.string(value, key: "\(key).name") }
                if let value = fields["endpoint"] {
                    orderer.endpoint = try Self.endpoint(value, key: "\(key).endpoint")
                    orderer.clusterEndpoint = orderer.endpoint
                }
                if let value = fields["cluster"] {
                    orderer.clusterEndpoint = try Self.endpoint(value, key: "\(key).cluster")
                }
            }
        }
        return org
    }

    private mutating func capabilities(_ node: Node) throws(NetGenError) -> NetworkProfile.Capabilities {
        let fields = try self.mapping(node, key: "capabilities", allowed: ["channel", "application", "orderer"])
        var capabilities = NetworkProfile.Capabilities()
        if let value = fields["channel"] {
            capabilities.channel = try Self.enumeration(value, key: "capabilities.channel", what: "channel capability")
        }
        if let value = fields["application"] {
            capabilities.application = try Self.enumeration(
                value,
                key: "capabilities.application",
                what: "application capability"
            )
        }
        if let value = fields["orderer"] {
            capabilities.orderer = try Self.enumeration(value, key: "capabilities.orderer", what: "orderer capability")
        }
        return capabilities
    }

    private mutating func batch(_ node: Node) throws(NetGenError) -> NetworkProfile.Batch {
        let fields = try self.mapping(
            node,
            key: "batch",
            allowed: ["timeout", "maxMessageCount", "absoluteMaxBytes", "preferredMaxBytes"]
        )
        var batch = NetworkProfile.Batch()
        if let value = fields["timeout"] { batch.timeout = try Self.string(value, key: "batch.timeout") }
        if let value = fields["maxMessageCount"] {
            batch.maxMessageCount = try Self.uint32(value, key: "batch.maxMessageCount")
        }
        if let value = fields["absoluteMaxBytes"] {
            batch.absoluteMaxBytes = try Self.byteSize(value, key: "batch.absoluteMaxBytes")
        }
        if let value = fields["preferredMaxBytes"] {
            batch.preferredMaxBytes = try Self.byteSize(value, key: "batch.preferredMaxBytes")
        }
        return batch
    }

    private mutating func etcdraft(_ node: Node) throws(NetGenError) -> NetworkProfile.EtcdraftOptions {
        let fields = try self.mapping(
            node,
            key: "etcdraft",
            allowed: ["tickInterval", "electionTick", "heartbeatTick", "maxInflightBlocks", "snapshotIntervalSize"]
        )
        var options = NetworkProfile.EtcdraftOptions()
        if let value = fields["tickInterval"] {
            options.tickInterval = try Self.string(value, key: "etcdraft.tickInterval")
        }
        if let value = fields["electionTick"] {
            options.electionTick = try Self.uint32(value, key: "etcdraft.electionTick")
        }
        if let value = fields["heartbeatTick"] {
            options.heartbeatTick = try Self.uint32(value, key: "etcdraft.heartbeatTick")
        }
        if let value = fields["maxInflightBlocks"] {
            options.maxInflightBlocks = try Self.uint32(value, key: "etcdraft.maxInflightBlocks")
        }
        if let value = fields["snapshotIntervalSize"] {
            options.snapshotIntervalSize = try Self.byteSize(value, key: "etcdraft.snapshotIntervalSize")
        }
        return options
    }

    private mutating func policies(_ node: Node) throws(NetGenError) -> NetworkProfile.Policies {
        let fields = try self.mapping(node, key: "policies", allowed: ["endorsement", "lifecycleEndorsement"])
        var policies = NetworkProfile.Policies()
        if let value = fields["endorsement"] {
            policies.endorsement = try Self.string(value, key: "policies.endorsement")
        }
        if let value = fields["lifecycleEndorsement"] {
            policies.lifecycleEndorsement = try Self.string(value, key: "policies.lifecycleEndorsement")
        }
        return policies
    }

    /// A node list: either a count (`peers: 3`, every node numbered) or a list of mappings whose missing fields
    /// take the numbered node's values.
    private mutating func nodes<Element>(
        _ node: Node,
        key: String,
        what: String,
        fields allowed: [String],
        numbered: (Int) -> Element,
        apply: ([String: Node], String, inout Element) throws(NetGenError) -> Void
    ) throws(NetGenError) -> [Element] {
        if case .scalar = node {
            let count = try Self.int(node, key: key, in: 1...1000, why: "a count of \(what)s, at least one")
            return (0..<count).map(numbered)
        }
        guard case .sequence(let sequence) = node else {
            throw Self.error(key, node, "expected a number of \(what)s or a list of \(what)s, found \(Self.kind(node))")
        }
        var result: [Element] = []
        for (index, entry) in sequence.enumerated() {
            let entryKey = "\(key)[\(index)]"
            let fields = try self.mapping(entry, key: entryKey, allowed: allowed)
            var element = numbered(index)
            try apply(fields, entryKey, &element)
            result.append(element)
        }
        return result
    }

    // MARK: - Values

    private mutating func mapping(_ node: Node, key: String, allowed: [String]) throws(NetGenError) -> [String: Node] {
        guard case .mapping(let mapping) = node else {
            throw Self.error(
                key.isEmpty ? "(top level)" : key,
                node,
                "expected a mapping of keys, found \(Self.kind(node))"
            )
        }
        if !key.isEmpty, let line = node.mark?.line, self.lines[key] == nil { self.lines[key] = line }
        var result: [String: Node] = [:]
        for (keyNode, value) in mapping {
            guard case .scalar(let scalar) = keyNode else {
                throw Self.error(key.isEmpty ? "(top level)" : key, keyNode, "keys must be plain names")
            }
            let name = scalar.string
            let path = key.isEmpty ? name : "\(key).\(name)"
            guard allowed.contains(name) else {
                var message = "unknown key '\(name)'"
                if let hint = ProfileSyntax.closest(to: name, in: allowed) { message += "; did you mean '\(hint)'?" }
                message += " (known keys\(key.isEmpty ? "" : " of \(key)"): \(allowed.joined(separator: ", ")))"
                throw Self.error(path, keyNode, message)
            }
            guard result[name] == nil else { throw Self.error(path, keyNode, "the key '\(name)' is given twice") }
            if let line = keyNode.mark?.line { self.lines[path] = line }
            result[name] = value
        }
        return result
    }

    private mutating func sequence(_ node: Node, key: String) throws(NetGenError) -> [Node] {
        guard case .sequence(let sequence) = node else {
            throw Self.error(key, node, "expected a list, found \(Self.kind(node))")
        }
        for (index, entry) in sequence.enumerated() {
            if let line = entry.mark?.line { self.lines["\(key)[\(index)]"] = line }
        }
        return Array(sequence)
    }

    private static func scalar(_ node: Node, key: String, expected: String) throws(NetGenError) -> String {
        guard case .scalar(let scalar) = node else {
            throw Self.error(key, node, "expected \(expected), found \(Self.kind(node))")
        }
        return scalar.string
    }

    private static func string(_ node: Node, key: String) throws(NetGenError) -> String {
        let text = try Self.scalar(node, key: key, expected: "a text value")
        guard !text.isEmpty else { throw Self.error(key, node, "the value is empty") }
        return text
    }

    private static func int(
        _ node: Node,
        key: String,
        in range: ClosedRange<Int>,
        why: String
    ) throws(NetGenError) -> Int {
        let text = try Self.scalar(node, key: key, expected: "a whole number")
        guard let value = node.int else { throw Self.error(key, node, "'\(text)' is not a whole number") }
        guard range.contains(value) else {
            throw Self.error(key, node, "\(value) is out of range \(range.lowerBound)…\(range.upperBound) (\(why))")
        }
        return value
    }

    private static func uint32(_ node: Node, key: String) throws(NetGenError) -> UInt32 {
        let text = try Self.scalar(node, key: key, expected: "a whole number")
        guard let value = node.int else { throw Self.error(key, node, "'\(text)' is not a whole number") }
        guard let result = UInt32(exactly: value) else {
            throw Self.error(key, node, "\(value) is out of range 0…\(UInt32.max)")
        }
        return result
    }

    private static func byteSize(_ node: Node, key: String) throws(NetGenError) -> UInt32 {
        let text = try Self.scalar(node, key: key, expected: "a size")
        guard let value = ProfileSyntax.byteSize(text) else {
            throw Self.error(
                key,
                node,
                "'\(text)' is not a size: write bytes (1048576) or a number with KB, MB or GB (10 MB), below 4 GB"
            )
        }
        return value
    }

    private static func bool(_ node: Node, key: String) throws(NetGenError) -> Bool {
        let text = try Self.scalar(node, key: key, expected: "true or false")
        guard let value = node.bool else { throw Self.error(key, node, "'\(text)' is not true or false") }
        return value
    }

    private static func endpoint(_ node: Node, key: String) throws(NetGenError) -> NetworkProfile.Endpoint {
        let text = try Self.scalar(node, key: key, expected: "an endpoint host:port")
        guard let endpoint = NetworkProfile.Endpoint(parsing: text) else {
            throw Self.error(key, node, "'\(text)' is not an endpoint host:port (e.g. 127.0.0.1:7051)")
        }
        return endpoint
    }

    private static func enumeration<Value: RawRepresentable & CaseIterable>(
        _ node: Node,
        key: String,
        what: String
    )
        throws(NetGenError) -> Value
    where Value.RawValue == String {
        let text = try Self.scalar(node, key: key, expected: "a \(what)")
        guard let value = Value(rawValue: text) else {
            let known = Value.allCases.map(\.rawValue).sorted(by: >).joined(separator: " or ")
            throw Self.error(key, node, "'\(text)' is not a \(what) netgen supports (use \(known))")
        }
        return value
    }

    private static func error(_ key: String, _ node: Node, _ message: String) -> NetGenError {
        NetGenError(.badProfile, message, key: key, line: node.mark?.line)
    }

    private static func kind(_ node: Node) -> String {
        switch node {
        case .scalar(let scalar): "the value '\(scalar.string)'"
        case .mapping: "a mapping"
        case .sequence: "a list"
        case .alias: "an alias"
        }
    }
}
