public import Foundation

/// The peer's configuration: core.yaml keys with `CORE_…` overrides, typed, with Fabric's **code** fallbacks
/// where a key is absent (which sometimes differ from core.yaml's sample values: state transfer off,
/// reconciliation off, no private-data pull without pullRetryThreshold, block gossip on, sendBuffSize 20).
public struct PeerConfiguration: Sendable {
    /// peer.id.
    public var peerID: String
    /// peer.networkId.
    public var networkID: String
    /// peer.listenAddress: where the gRPC server (gossip, admin) listens.
    public var listenAddress: String
    /// peer.address: the endpoint other peers of the org reach this peer at.
    public var address: String
    /// peer.fileSystemPath: ledgers and the transient store live below it.
    public var fileSystemPath: URL
    /// peer.mspConfigPath: the local MSP folder.
    public var mspConfigPath: URL
    /// peer.localMspId.
    public var localMSPID: String
    /// peer.validatorPoolSize (code fallback: the number of cores).
    public var validatorPoolSize: Int
    /// peer.tls.*.
    public var tls: TLSSettings
    /// peer.gossip.* that PeerCore itself reads (the gossip module's own knobs are in ``gossipKeys``).
    public var gossip: GossipSettings
    /// peer.gossip.state.*.
    public var state: StateTransferSettings
    /// peer.gossip.pvtData.*.
    public var privateData: PrivateDataSettings
    /// peer.gossip.election.*.
    public var election: ElectionSettings
    /// peer.deliveryclient.*.
    public var deliveryClient: DeliveryClientSettings
    /// operations.*: the Prometheus /metrics and /healthz endpoint.
    public var operations: OperationsSettings
    /// ledger.pvtdataStore.*.
    public var ledger: LedgerSettings
    /// The source, for module-specific keys (the gossip and deliver modules read their own).
    public let source: CoreConfigSource

    /// TLS settings (peer.tls.*).
    public struct TLSSettings: Sendable {
        /// peer.tls.enabled (false).
        public var enabled: Bool
        /// peer.tls.cert.file.
        public var certificate: URL?
        /// peer.tls.key.file.
        public var key: URL?
        /// peer.tls.rootcert.file.
        public var rootCertificate: URL?
        /// peer.tls.clientAuthRequired (false).
        public var clientAuthRequired: Bool
        /// peer.tls.clientRootCAs.files.
        public var clientRootCAs: [URL]
        /// peer.tls.clientCert.file (fallback: the server certificate).
        public var clientCertificate: URL?
        /// peer.tls.clientKey.file (fallback: the server key).
        public var clientKey: URL?
    }

    /// What PeerCore reads of peer.gossip.*.
    public struct GossipSettings: Sendable {
        /// peer.gossip.useLeaderElection (false).
        public var useLeaderElection: Bool
        /// peer.gossip.orgLeader (code fallback false; core.yaml says true).
        public var orgLeader: Bool
        /// peer.gossip.nonBlockingCommitMode (false: blocking commit).
        public var nonBlockingCommitMode: Bool
        /// peer.gossip.endpoint (fallback peer.address).
        public var endpoint: String
        /// peer.gossip.externalEndpoint ("": hidden from other orgs).
        public var externalEndpoint: String
        /// peer.gossip.bootstrap.
        public var bootstrap: [String]
    }

    /// peer.gossip.state.* (state transfer / anti-entropy).
    public struct StateTransferSettings: Sendable {
        /// peer.gossip.state.enabled (code fallback **false** in v3).
        public var enabled: Bool
        /// peer.gossip.state.checkInterval (10s).
        public var checkInterval: Duration
        /// peer.gossip.state.responseTimeout (3s).
        public var responseTimeout: Duration
        /// peer.gossip.state.batchSize (10).
        public var batchSize: Int
        /// peer.gossip.state.blockBufferSize (20).
        public var blockBufferSize: Int
        /// peer.gossip.state.maxRetries (3).
        public var maxRetries: Int
        /// peer.gossip.state.channelSize (100).
        public var channelSize: Int
    }

    /// peer.gossip.pvtData.*.
    public struct PrivateDataSettings: Sendable {
        /// pullRetryThreshold (code fallback **0**: never pull missing private data).
        public var pullRetryThreshold: Duration
        /// transientstoreMaxBlockRetention (20000; 0 → 20000).
        public var transientStoreMaxBlockRetention: UInt64
        /// pushAckTimeout (code fallback **0**).
        public var pushAckTimeout: Duration
        /// btlPullMargin (10; negative ignored → 10).
        public var btlPullMargin: UInt64
        /// reconcileBatchSize (10).
        public var reconcileBatchSize: Int
        /// reconcileSleepInterval (1m).
        public var reconcileSleepInterval: Duration
        /// reconciliationEnabled (code fallback **false**).
        public var reconciliationEnabled: Bool
        /// skipPullingInvalidTransactionsDuringCommit (false).
        public var skipPullingInvalidTransactions: Bool
        /// implicitCollectionDisseminationPolicy.requiredPeerCount (0).
        public var implicitCollectionRequiredPeerCount: Int
        /// implicitCollectionDisseminationPolicy.maxPeerCount (1).
        public var implicitCollectionMaxPeerCount: Int
    }

    /// peer.gossip.election.*.
    public struct ElectionSettings: Sendable {
        /// startupGracePeriod (15s).
        public var startupGracePeriod: Duration
        /// membershipSampleInterval (1s).
        public var membershipSampleInterval: Duration
        /// leaderAliveThreshold (10s).
        public var leaderAliveThreshold: Duration
        /// leaderElectionDuration (5s).
        public var leaderElectionDuration: Duration
    }

    /// peer.deliveryclient.*.
    public struct DeliveryClientSettings: Sendable {
        /// blockGossipEnabled (code fallback **true**; core.yaml says false).
        public var blockGossipEnabled: Bool
        /// reconnectTotalTimeThreshold (1h).
        public var reconnectTotalTimeThreshold: Duration
        /// connTimeout (3s).
        public var connectionTimeout: Duration
        /// reConnectBackoffThreshold (1h).
        public var reconnectBackoffThreshold: Duration
        /// addressOverrides: config address → (address, CA file).
        public var addressOverrides: [String: (address: String, caCertificate: URL?)]
    }

    /// operations.*.
    public struct OperationsSettings: Sendable {
        /// operations.listenAddress ("": off).
        public var listenAddress: String
    }

    /// ledger.pvtdataStore.*.
    public struct LedgerSettings: Sendable {
        /// ledger.pvtdataStore.purgeInterval (100).
        public var purgeInterval: UInt64
        /// ledger.state.totalQueryLimit (100000).
        public var totalQueryLimit: Int
        /// ledger.pvtdataStore.deprioritizedDataReconcilerInterval (60m; zero or negative → 60m).
        public var deprioritizedDataReconcilerInterval: Duration
    }

    /// Reads every key PeerCore needs from `source`, applying Fabric's code fallbacks, and checks ranges.
    public init(_ source: CoreConfigSource) throws(PeerCoreError) {
        self.source = source
        self.peerID = source.string("peer.id") ?? "jdoe"
        self.networkID = source.string("peer.networkId") ?? "dev"
        self.listenAddress = source.string("peer.listenAddress") ?? "0.0.0.0:7051"
        self.address = source.string("peer.address") ?? "0.0.0.0:7051"
        self.fileSystemPath = source.path("peer.fileSystemPath") ?? URL(fileURLWithPath: "/var/hyperledger/production")
        self.mspConfigPath = source.path("peer.mspConfigPath") ?? source.resolve("msp")
        self.localMSPID = source.string("peer.localMspId") ?? "SampleOrg"
        self.validatorPoolSize = try source.int("peer.validatorPoolSize") ?? ProcessInfo.processInfo.activeProcessorCount
        guard self.validatorPoolSize > 0 else {
            throw PeerCoreError(.badConfiguration, "peer.validatorPoolSize must be positive, not \(self.validatorPoolSize)")
        }

        let certificate = source.path("peer.tls.cert.file")
        let key = source.path("peer.tls.key.file")
        self.tls = TLSSettings(
            enabled: try source.bool("peer.tls.enabled") ?? false,
            certificate: certificate,
            key: key,
            rootCertificate: source.path("peer.tls.rootcert.file"),
            clientAuthRequired: try source.bool("peer.tls.clientAuthRequired") ?? false,
            clientRootCAs: source.paths("peer.tls.clientRootCAs.files") ?? [],
            clientCertificate: source.path("peer.tls.clientCert.file") ?? certificate,
            clientKey: source.path("peer.tls.clientKey.file") ?? key
        )
        if self.tls.enabled, self.tls.certificate == nil || self.tls.key == nil {
            throw PeerCoreError(
                .badConfiguration,
                "peer.tls.enabled is true but peer.tls.cert.file or peer.tls.key.file is not set"
            )
        }

        self.gossip = GossipSettings(
            useLeaderElection: try source.bool("peer.gossip.useLeaderElection") ?? false,
            orgLeader: try source.bool("peer.gossip.orgLeader") ?? false,
            nonBlockingCommitMode: try source.bool("peer.gossip.nonBlockingCommitMode") ?? false,
            endpoint: source.string("peer.gossip.endpoint") ?? self.address,
            externalEndpoint: source.string("peer.gossip.externalEndpoint") ?? "",
            bootstrap: source.list("peer.gossip.bootstrap") ?? []
        )

        self.state = StateTransferSettings(
            enabled: try source.bool("peer.gossip.state.enabled") ?? false,
            checkInterval: try source.duration("peer.gossip.state.checkInterval") ?? .seconds(10),
            responseTimeout: try source.duration("peer.gossip.state.responseTimeout") ?? .seconds(3),
            batchSize: try source.int("peer.gossip.state.batchSize") ?? 10,
            blockBufferSize: try source.int("peer.gossip.state.blockBufferSize") ?? 20,
            maxRetries: try source.int("peer.gossip.state.maxRetries") ?? 3,
            channelSize: try source.int("peer.gossip.state.channelSize") ?? 100
        )
        for (key, value) in [
            ("batchSize", self.state.batchSize), ("blockBufferSize", self.state.blockBufferSize),
            ("channelSize", self.state.channelSize),
        ] where value <= 0 {
            throw PeerCoreError(.badConfiguration, "peer.gossip.state.\(key) must be positive, not \(value)")
        }

        let retention = try source.int("peer.gossip.pvtData.transientstoreMaxBlockRetention") ?? 20000
        let margin = try source.int("peer.gossip.pvtData.btlPullMargin") ?? 10
        let required = try source.int("peer.gossip.pvtData.implicitCollectionDisseminationPolicy.requiredPeerCount") ?? 0
        let maximum = try source.int("peer.gossip.pvtData.implicitCollectionDisseminationPolicy.maxPeerCount") ?? 1
        guard required >= 0 else {
            throw PeerCoreError(
                .badConfiguration,
                "peer.gossip.pvtData.implicitCollectionDisseminationPolicy.requiredPeerCount must not be negative"
            )
        }
        guard maximum >= required else {
            throw PeerCoreError(
                .badConfiguration,
                "peer.gossip.pvtData.implicitCollectionDisseminationPolicy.maxPeerCount (\(maximum)) is below "
                    + "requiredPeerCount (\(required))"
            )
        }
        self.privateData = PrivateDataSettings(
            pullRetryThreshold: try source.duration("peer.gossip.pvtData.pullRetryThreshold") ?? .zero,
            transientStoreMaxBlockRetention: retention <= 0 ? 20000 : UInt64(retention),
            pushAckTimeout: try source.duration("peer.gossip.pvtData.pushAckTimeout") ?? .zero,
            btlPullMargin: margin < 0 ? 10 : UInt64(margin),
            reconcileBatchSize: try source.int("peer.gossip.pvtData.reconcileBatchSize") ?? 10,
            reconcileSleepInterval: try source.duration("peer.gossip.pvtData.reconcileSleepInterval") ?? .seconds(60),
            reconciliationEnabled: try source.bool("peer.gossip.pvtData.reconciliationEnabled") ?? false,
            skipPullingInvalidTransactions: try source.bool(
                "peer.gossip.pvtData.skipPullingInvalidTransactionsDuringCommit"
            ) ?? false,
            implicitCollectionRequiredPeerCount: required,
            implicitCollectionMaxPeerCount: maximum
        )

        self.election = ElectionSettings(
            startupGracePeriod: try source.duration("peer.gossip.election.startupGracePeriod") ?? .seconds(15),
            membershipSampleInterval: try source.duration("peer.gossip.election.membershipSampleInterval")
                ?? .seconds(1),
            leaderAliveThreshold: try source.duration("peer.gossip.election.leaderAliveThreshold") ?? .seconds(10),
            leaderElectionDuration: try source.duration("peer.gossip.election.leaderElectionDuration") ?? .seconds(5)
        )

        var overrides: [String: (address: String, caCertificate: URL?)] = [:]
        if let entries = source.overrideEntries("peer.deliveryclient.addressOverrides") {
            for entry in entries {
                guard let from = entry["from"], let to = entry["to"] else {
                    throw PeerCoreError(
                        .badConfiguration,
                        "peer.deliveryclient.addressOverrides entries need 'from' and 'to'"
                    )
                }
                overrides[from] = (to, entry["caCertsFile"].map(source.resolve))
            }
        }
        self.deliveryClient = DeliveryClientSettings(
            blockGossipEnabled: try source.bool("peer.deliveryclient.blockGossipEnabled") ?? true,
            reconnectTotalTimeThreshold: try source.duration("peer.deliveryclient.reconnectTotalTimeThreshold")
                ?? .seconds(3600),
            connectionTimeout: try source.duration("peer.deliveryclient.connTimeout") ?? .seconds(3),
            reconnectBackoffThreshold: try source.duration("peer.deliveryclient.reConnectBackoffThreshold")
                ?? .seconds(3600),
            addressOverrides: overrides
        )

        self.operations = OperationsSettings(listenAddress: source.string("operations.listenAddress") ?? "")
        let purge = try source.int("ledger.pvtdataStore.purgeInterval") ?? 100
        let deprioritized =
            try source.duration("ledger.pvtdataStore.deprioritizedDataReconcilerInterval") ?? .seconds(3600)
        self.ledger = LedgerSettings(
            purgeInterval: purge <= 0 ? 100 : UInt64(purge),
            totalQueryLimit: try source.int("ledger.state.totalQueryLimit") ?? 100000,
            deprioritizedDataReconcilerInterval: deprioritized <= .zero ? .seconds(3600) : deprioritized
        )
        if self.gossip.useLeaderElection, self.gossip.orgLeader {
            throw PeerCoreError(
                .badConfiguration,
                "peer.gossip.useLeaderElection and peer.gossip.orgLeader are both true; set only one (Fabric "
                    + "refuses to start with both)"
            )
        }
    }
}
