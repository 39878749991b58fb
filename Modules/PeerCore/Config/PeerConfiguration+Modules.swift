import Deliver
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
