import Deliver
public import Gossip
public import Foundation

extension PeerConfiguration {
    /// peer.adminService.listenAddress: where the admin service (`peer channel join|list|getinfo`) listens. Fabric
    /// v1.4's key; without it, port 7055 on the host of peer.listenAddress (loopback when that is 0.0.0.0).
    public var adminListenAddress: String {
        if let address = self.source.string("peer.adminService.listenAddress") { return address }
        let host = (try? GRPCAddress.split(self.listenAddress).host) ?? "127.0.0.1"
        return "\(host == "0.0.0.0" ? "127.0.0.1" : host):7055"
    }

    /// peer.authentication.timewindow (15m): how far a signed admin request's timestamp may be from the peer's clock.
    public var authenticationTimeWindow: Duration {
        (try? self.source.duration("peer.authentication.timewindow")) ?? nil ?? .seconds(15 * 60)
    }

    /// The ledgers' root: `<peer.fileSystemPath>/ledgersData`, as Fabric lays it out.
    public var ledgersDirectory: URL { self.fileSystemPath.appendingPathComponent("ledgersData") }

    /// The Deliver module's settings from peer.deliveryclient.* and peer.tls.*.
    func deliverConfig() throws(PeerCoreError) -> DeliverConfig {
        var config = DeliverConfig()
        config.blockGossipEnabled = self.deliveryClient.blockGossipEnabled
        config.reconnectTotalTimeThreshold = self.deliveryClient.reconnectTotalTimeThreshold
        config.connTimeout = self.deliveryClient.connectionTimeout
        config.reConnectBackoffThreshold = self.deliveryClient.reconnectBackoffThreshold
        config.addressOverrides = self.deliveryClient.addressOverrides.keys.sorted().map { from in
            let entry = self.deliveryClient.addressOverrides[from]!
            return DeliverConfig.AddressOverride(from: from, to: entry.address, caCertsFile: entry.caCertificate?.path)
        }
        if let policy = self.source.string("peer.deliveryclient.policy") {
            config.policy = DeliverConfig.Policy(parsing: policy)
        }
        if let timeout = try self.source.duration("peer.deliveryclient.blockCensorshipTimeoutKey") {
            config.blockCensorshipTimeout = timeout
        }
        config.tls.enabled = self.tls.enabled
        config.tls.clientAuthRequired = self.tls.clientAuthRequired
        if self.tls.enabled {
            config.tls.clientCertificatePEM = try self.tls.clientCertificate.map(Self.read)
            config.tls.clientKeyPEM = try self.tls.clientKey.map(Self.read)
        }
        return config
    }

    static func read(_ url: URL) throws(PeerCoreError) -> Data {
        do {
            return try Data(contentsOf: url)
        } catch {
            throw PeerCoreError(.badConfiguration, "cannot read \(url.path)", cause: error)
        }
    }
}

extension PeerConfiguration {
    /// The Gossip module's settings from peer.gossip.* (spec §9.2), with Fabric's code fallbacks where a key is
    /// absent (GossipConfig's defaults are those fallbacks).
    public func gossipConfig() throws(PeerCoreError) -> GossipConfig {
        var config = GossipConfig()
        let source = self.source
        func duration(_ key: String, _ apply: (Duration) -> Void) throws(PeerCoreError) {
            if let value = try source.duration("peer.gossip.\(key)") { apply(value) }
        }
        func int(_ key: String, _ apply: (Int) -> Void) throws(PeerCoreError) {
            if let value = try source.int("peer.gossip.\(key)") {
                guard value > 0 else {
                    throw PeerCoreError(.badConfiguration, "peer.gossip.\(key) must be positive, not \(value)")
                }
                apply(value)
            }
        }
        config.bootstrapPeers = self.gossip.bootstrap
        config.internalEndpoint = self.gossip.endpoint
        config.externalEndpoint = self.gossip.externalEndpoint
        try duration("membershipTrackerInterval") { config.membershipTrackerInterval = $0 }
        try int("maxBlockCountToStore") { config.maxBlockCountToStore = $0 }
        try duration("maxPropagationBurstLatency") { config.maxPropagationBurstLatency = $0 }
        try int("maxPropagationBurstSize") { config.maxPropagationBurstSize = $0 }
        try int("propagateIterations") { config.propagateIterations = $0 }
        try int("propagatePeerNum") { config.propagatePeerNum = $0 }
        try duration("pullInterval") { config.pullInterval = $0 }
        try int("pullPeerNum") { config.pullPeerNum = $0 }
        try duration("requestStateInfoInterval") { config.requestStateInfoInterval = $0 }
        try duration("publishStateInfoInterval") { config.publishStateInfoInterval = $0 }
        try duration("publishCertPeriod") { config.publishCertPeriod = $0 }
        if let skip = try source.bool("peer.gossip.skipBlockVerification") { config.skipBlockVerification = skip }
        try duration("dialTimeout") { config.dialTimeout = $0 }
        try duration("connTimeout") { config.connTimeout = $0 }
        try int("recvBuffSize") { config.recvBuffSize = $0 }
        try int("sendBuffSize") { config.sendBuffSize = $0 }
        try duration("digestWaitTime") { config.digestWaitTime = $0 }
        try duration("requestWaitTime") { config.requestWaitTime = $0 }
        try duration("responseWaitTime") { config.responseWaitTime = $0 }
        try duration("aliveTimeInterval") { config.aliveTimeInterval = $0 }
        try duration("aliveExpirationTimeout") { config.aliveExpirationTimeoutOverride = $0 }
        try duration("reconnectInterval") { config.reconnectIntervalOverride = $0 }
        try int("maxConnectionAttempts") { config.maxConnectionAttempts = $0 }
        try int("msgExpirationFactor") { config.msgExpirationFactor = $0 }
        config.leaderAliveThreshold = self.election.leaderAliveThreshold
        do {
            try config.validate()
        } catch {
            throw PeerCoreError(.badConfiguration, "invalid peer.gossip settings", cause: error)
        }
        return config
    }
}
