public import Foundation

/// The deliver client's settings (`peer.deliveryclient.*`, the TLS keys of `peer.tls.*` it uses, and the
/// keepalive of `peer.keepalive.deliveryClient.*`).
///
/// Every default is Fabric's **code** fallback for an unset key, not the value in the sample core.yaml: a peer whose
/// config file leaves a key out behaves as Fabric's would. The peer's config loader fills this value.
public struct DeliverConfig: Sendable {
    /// The consensus-specific deliverer to use on BFT channels (`peer.deliveryclient.policy`).
    public enum Policy: String, Sendable, Hashable {
        /// Fabric's BFT deliverer (block source plus censorship monitor). Not implemented here: BFT channels are
        /// served by the CFT loop with BFT's hand-off rules (see Docs/deliver.md).
        case cluster
        /// The CFT deliverer on BFT channels too.
        case simple

        /// Parses the knob; an unknown value falls back to `cluster`, as in Fabric.
        public init(parsing text: String) { self = Policy(rawValue: text) ?? .cluster }
    }

    /// Whether blocks pulled from the orderer are also pushed to the org's peers by gossip
    /// (`peer.deliveryclient.blockGossipEnabled`; yaml false, **code fallback true**). CFT only.
    public var blockGossipEnabled: Bool = true
    /// How long a leader keeps reconnecting before it gives up and yields leadership
    /// (`peer.deliveryclient.reconnectTotalTimeThreshold`, 1 h). A static org leader never gives up.
    public var reconnectTotalTimeThreshold: Duration = .seconds(3600)
    /// How long a dial to an orderer may take (`peer.deliveryclient.connTimeout`, 3 s).
    public var connTimeout: Duration = .seconds(3)
    /// The longest single backoff sleep between reconnections (`peer.deliveryclient.reConnectBackoffThreshold`,
    /// 1 h): Fabric's MaxRetryInterval.
    public var reConnectBackoffThreshold: Duration = .seconds(3600)
    /// BFT censorship timeout (`peer.deliveryclient.blockCensorshipTimeoutKey`, 30 s). Read, not used: the
    /// censorship monitor is not implemented.
    public var blockCensorshipTimeout: Duration = .seconds(30)
    /// BFT backoff base (`peer.deliveryclient.minimalReconnectInterval`, 100 ms); the CFT loop uses a fixed
    /// 100 ms base, as Fabric does.
    public var minimalReconnectInterval: Duration = .milliseconds(100)
    /// Orderer address overrides (`peer.deliveryclient.addressOverrides`).
    public var addressOverrides: [AddressOverride] = []
    /// `peer.deliveryclient.policy` (cluster).
    public var policy: Policy = .cluster
    /// gRPC keepalive ping interval towards orderers (`peer.keepalive.deliveryClient.interval`, 60 s).
    public var keepaliveInterval: Duration = .seconds(60)
    /// gRPC keepalive ping timeout (`peer.keepalive.deliveryClient.timeout`, 20 s).
    public var keepaliveTimeout: Duration = .seconds(20)
    /// The largest message accepted from an orderer (Fabric's comm default MaxRecvMsgSize, 100 MiB).
    public var maxReceiveMessageBytes: Int = 100 * 1024 * 1024
    /// TLS towards the orderers.
    public var tls: TLS = TLS()

    /// The code fallbacks for every knob.
    public init() {}

    /// One `peer.deliveryclient.addressOverrides` entry: connect to `to` wherever the channel config says `from`,
    /// trusting the certificates of `caCertsFile` (PEM) instead of the config's TLS CAs.
    public struct AddressOverride: Sendable, Hashable {
        /// The address as it appears in the channel config.
        public var from: String
        /// The address to connect to instead.
        public var to: String
        /// A PEM file of CA certificates to trust for `to`; nil for none.
        public var caCertsFile: String?

        /// Creates an override.
        public init(from: String, to: String, caCertsFile: String? = nil) {
            self.from = from
            self.to = to
            self.caCertsFile = caCertsFile
        }
    }

    /// TLS settings of the peer's client side towards orderers (`peer.tls.*`).
    public struct TLS: Sendable {
        /// `peer.tls.enabled` (false): TLS to every orderer, trusting the endpoint's TLS CAs; plaintext otherwise.
        public var enabled: Bool = false
        /// `peer.tls.clientAuthRequired` (false): present a client certificate (mutual TLS) and bind it into the
        /// seek request's `tls_cert_hash`.
        public var clientAuthRequired: Bool = false
        /// The client certificate, PEM (`peer.tls.clientCert.file`, falling back to `peer.tls.cert.file`).
        public var clientCertificatePEM: Data?
        /// The client private key, PEM (`peer.tls.clientKey.file`, falling back to `peer.tls.key.file`).
        public var clientKeyPEM: Data?

        /// TLS off.
        public init() {}

        /// TLS settings.
        public init(
            enabled: Bool,
            clientAuthRequired: Bool = false,
            clientCertificatePEM: Data? = nil,
            clientKeyPEM: Data? = nil
        ) {
            self.enabled = enabled
            self.clientAuthRequired = clientAuthRequired
            self.clientCertificatePEM = clientCertificatePEM
            self.clientKeyPEM = clientKeyPEM
        }
    }
}
