extension NetworkProfile {
    /// Checks every rule netgen needs before it writes anything; throws `.badProfile` naming the key
    /// (`peerOrgs[1].mspID`, as the YAML format spells it) and what is wrong with it.
    public func validate() throws(NetGenError) {
        guard ProfileSyntax.isChannelID(self.channelID) else {
            throw .profile(
                "channel",
                "'\(self.channelID)' is not a valid channel id: use lower-case letters, digits, '.' and '-', "
                    + "starting with a letter (fewer than 250 characters)"
            )
        }
        guard !self.peerOrganizations.isEmpty else {
            throw .profile("peerOrgs", "a network needs at least one peer organization")
        }

        var mspIDs: [String: String] = [:]
        var names: [String: String] = [:]
        var domains: [String: String] = [:]
        var endpoints: [Endpoint: String] = [:]
        func claim(_ value: String, in seen: inout [String: String], key: String, what: String) throws(NetGenError) {
            if let other = seen[value] {
                throw .profile(key, "duplicate \(what) '\(value)' (also used by \(other))")
            }
            seen[value] = key
        }
        func claim(_ endpoint: Endpoint, key: String) throws(NetGenError) {
            try Self.check(endpoint, key: key)
            if let other = endpoints[endpoint] {
                throw .profile(key, "endpoint \(endpoint) is already used by \(other)")
            }
            endpoints[endpoint] = key
        }
        func checkOrganization(
            name: String,
            mspID: String,
            domain: String,
            users: Int,
            key: String
        )
            throws(NetGenError)
        {
            guard ProfileSyntax.isMSPID(mspID) else {
                throw .profile(
                    "\(key).mspID",
                    "'\(mspID)' is not a valid MSP id: use letters, digits, '.' and '-' (policies name it as "
                        + "'<MSP id>.<role>')"
                )
            }
            guard ProfileSyntax.isConfigName(name) else {
                throw .profile(
                    "\(key).name",
                    "'\(name)' is not a valid organization name: use letters, digits, '.', '_' and '-'"
                )
            }
            guard ProfileSyntax.isDomain(domain) else {
                throw .profile(
                    "\(key).domain",
                    "'\(domain)' is not a domain name (dot-separated labels of letters, digits and '-')"
                )
            }
            guard (0...Self.maximumUsers).contains(users) else {
                throw .profile("\(key).users", "\(users) users: the number of users must be 0…\(Self.maximumUsers)")
            }
            try claim(mspID, in: &mspIDs, key: "\(key).mspID", what: "MSP id")
            try claim(name, in: &names, key: "\(key).name", what: "organization name")
            try claim(domain.lowercased(), in: &domains, key: "\(key).domain", what: "domain")
        }

        for (index, org) in self.peerOrganizations.enumerated() {
            let key = "peerOrgs[\(index)]"
            try checkOrganization(name: org.name, mspID: org.mspID, domain: org.domain, users: org.users, key: key)
            guard !org.peers.isEmpty else { throw .profile("\(key).peers", "an organization needs at least one peer") }
            var peerNames: [String: String] = [:]
            for (peerIndex, peer) in org.peers.enumerated() {
                let peerKey = "\(key).peers[\(peerIndex)]"
                try Self.checkNodeName(peer.name, key: "\(peerKey).name")
                try claim(peer.name.lowercased(), in: &peerNames, key: "\(peerKey).name", what: "peer name")
                try claim(peer.endpoint, key: "\(peerKey).endpoint")
            }
            var anchors: Set<String> = []
            for (anchorIndex, anchor) in org.anchorPeers.enumerated() {
                let anchorKey = "\(key).anchorPeers[\(anchorIndex)]"
                guard org.peers.contains(where: { $0.name == anchor }) else {
                    throw .profile(
                        anchorKey,
                        "'\(anchor)' is not a peer of \(org.name) (its peers are "
                            + "\(org.peers.map(\.name).joined(separator: ", ")))"
                    )
                }
                guard anchors.insert(anchor).inserted else {
                    throw .profile(anchorKey, "anchor peer '\(anchor)' is listed twice")
                }
            }
        }

        let orderer = self.ordererOrganization
        try checkOrganization(
            name: orderer.name,
            mspID: orderer.mspID,
            domain: orderer.domain,
            users: orderer.users,
            key: "ordererOrg"
        )
        guard !orderer.orderers.isEmpty else {
            throw .profile("ordererOrg.orderers", "the orderer organization needs at least one orderer node")
        }
        var ordererNames: [String: String] = [:]
        var clusterEndpoints: [Endpoint: String] = [:]
        for (index, node) in orderer.orderers.enumerated() {
            let key = "ordererOrg.orderers[\(index)]"
            try Self.checkNodeName(node.name, key: "\(key).name")
            try claim(node.name.lowercased(), in: &ordererNames, key: "\(key).name", what: "orderer name")
            if let other = clusterEndpoints[node.endpoint] {
                throw .profile("\(key).endpoint", "endpoint \(node.endpoint) is already used by \(other)")
            }
            try claim(node.endpoint, key: "\(key).endpoint")
            try Self.check(node.clusterEndpoint, key: "\(key).cluster")
            if let other = clusterEndpoints[node.clusterEndpoint] {
                throw .profile("\(key).cluster", "cluster endpoint \(node.clusterEndpoint) is already used by \(other)")
            }
            if node.clusterEndpoint != node.endpoint, let other = endpoints[node.clusterEndpoint] {
                throw .profile("\(key).cluster", "cluster endpoint \(node.clusterEndpoint) is already used by \(other)")
            }
            clusterEndpoints[node.clusterEndpoint] = "\(key).cluster"
        }

        try self.validateChannelSettings()
    }

    /// At most this many users per organization (a guard against a typo generating thousands of keys).
    public static let maximumUsers = 1000

    private func validateChannelSettings() throws(NetGenError) {
        let batch = self.batch
        guard let timeout = ProfileSyntax.goDuration(batch.timeout) else {
            throw .profile(
                "batch.timeout",
                "'\(batch.timeout)' is not a duration: write it as Go does, e.g. 2s, 500ms, 1m30s"
            )
        }
        guard timeout > 0 else {
            throw .profile("batch.timeout", "'\(batch.timeout)': the batch timeout must be more than zero")
        }
        guard batch.maxMessageCount > 0 else {
            throw .profile("batch.maxMessageCount", "the max message count must be at least 1")
        }
        guard batch.absoluteMaxBytes > 0 else {
            throw .profile("batch.absoluteMaxBytes", "the absolute max bytes must be more than zero")
        }
        guard batch.preferredMaxBytes > 0 else {
            throw .profile("batch.preferredMaxBytes", "the preferred max bytes must be more than zero")
        }
        guard batch.preferredMaxBytes <= batch.absoluteMaxBytes else {
            throw .profile(
                "batch.preferredMaxBytes",
                "\(batch.preferredMaxBytes) bytes is more than absoluteMaxBytes (\(batch.absoluteMaxBytes)); the "
                    + "orderer refuses such a config"
            )
        }

        let raft = self.etcdraft
        guard let tick = ProfileSyntax.goDuration(raft.tickInterval), tick > 0 else {
            throw .profile(
                "etcdraft.tickInterval",
                "'\(raft.tickInterval)' is not a positive duration (e.g. 500ms)"
            )
        }
        guard raft.heartbeatTick > 0 else {
            throw .profile("etcdraft.heartbeatTick", "the heartbeat tick must be at least 1")
        }
        guard raft.electionTick > raft.heartbeatTick else {
            throw .profile(
                "etcdraft.electionTick",
                "the election tick (\(raft.electionTick)) must be greater than the heartbeat tick (\(raft.heartbeatTick))"
            )
        }
        guard raft.maxInflightBlocks > 0 else {
            throw .profile("etcdraft.maxInflightBlocks", "max inflight blocks must be at least 1")
        }

        for (key, rule) in [
            ("policies.endorsement", self.policies.endorsement),
            ("policies.lifecycleEndorsement", self.policies.lifecycleEndorsement),
        ] where !ProfileSyntax.isImplicitMetaRule(rule) {
            throw .profile(
                key,
                "'\(rule)' is not an implicit-meta rule '<ANY|ALL|MAJORITY> <policy>' (e.g. MAJORITY Endorsement)"
            )
        }
    }

    private static func checkNodeName(_ name: String, key: String) throws(NetGenError) {
        guard ProfileSyntax.isHostLabel(name) else {
            throw .profile(key, "'\(name)' is not a host name label (letters, digits and inner '-', at most 63)")
        }
    }

    private static func check(_ endpoint: Endpoint, key: String) throws(NetGenError) {
        guard ProfileSyntax.isHost(endpoint.host) else {
            throw .profile(key, "'\(endpoint.host)' is neither a host name nor an IP address")
        }
        guard (1...65535).contains(endpoint.port) else {
            throw .profile(key, "port \(endpoint.port) is out of range (1…65535)")
        }
    }
}
