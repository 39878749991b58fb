/// What netgen generates: the organisations and nodes of a Fabric network (cryptogen's input) and the channel
/// they share (configtxgen's input), in one value.
///
/// Build one in code (`NetworkProfile(channelID: "mychannel", organizations: 2, peersPerOrganization: 2)` gives a
/// complete network with defaults), or parse the YAML format of `Docs/netgen.md` with
/// ``NetworkProfile/parse(yaml:)``. ``validate()`` checks every rule the YAML parser checks, so a profile built in
/// code is held to the same rules; ``NetGen/generate(_:into:force:)`` calls it.
public struct NetworkProfile: Sendable, Hashable {
    /// The channel id (Fabric's rule: lower-case letters, digits, `.` and `-`, starting with a letter).
    public var channelID: String
    /// The application (peer) organisations, in config order.
    public var peerOrganizations: [PeerOrganization]
    /// The ordering organisation.
    public var ordererOrganization: OrdererOrganization
    /// Channel, application and orderer capabilities.
    public var capabilities: Capabilities
    /// Orderer batching.
    public var batch: Batch
    /// Raft options of the etcdraft consensus metadata.
    public var etcdraft: EtcdraftOptions
    /// The application section's endorsement policies.
    public var policies: Policies
    /// Whether identities carry NodeOUs (client, peer, admin, orderer) and MSP folders enable them, as cryptogen's
    /// `EnableNodeOUs`. Without them, admins are listed in `admincerts` and org policies use `member` roles.
    public var nodeOUs: Bool
    /// Whether each org's identities are issued by an intermediate CA `ica.<domain>` under the root `ca.<domain>`
    /// (cryptogen has no such option; the MSP folders then carry `intermediatecerts`). TLS stays on `tlsca.<domain>`.
    public var intermediateCA: Bool

    /// A network of `organizations` peer orgs (`Org<i>MSP`, `org<i>.example.com`) with `peersPerOrganization`
    /// peers and `usersPerOrganization` users (besides `Admin`) each, one orderer org (`OrdererMSP`,
    /// `example.com`, one node `orderer` at 127.0.0.1:7050), and default channel settings.
    public init(
        channelID: String = "mychannel",
        organizations: Int = 2,
        peersPerOrganization: Int = 2,
        usersPerOrganization: Int = 1
    ) {
        self.channelID = channelID
        self.peerOrganizations = (0..<max(organizations, 0)).map {
            PeerOrganization.numbered($0, peers: peersPerOrganization, users: usersPerOrganization)
        }
        self.ordererOrganization = OrdererOrganization()
        self.capabilities = Capabilities()
        self.batch = Batch()
        self.etcdraft = EtcdraftOptions()
        self.policies = Policies()
        self.nodeOUs = true
        self.intermediateCA = false
    }
}

extension NetworkProfile {
    /// A network endpoint `host:port`.
    public struct Endpoint: Sendable, Hashable, Codable, CustomStringConvertible {
        /// A host name or an IP address (IPv6 without brackets).
        public var host: String
        /// The TCP port (1…65535).
        public var port: Int

        /// Creates an endpoint.
        public init(host: String, port: Int) {
            self.host = host
            self.port = port
        }

        /// Parses `host:port` (`[v6]:port` for IPv6); nil when the text is not of that shape. The port is not
        /// range-checked here (``NetworkProfile/validate()`` does).
        public init?(parsing text: String) {
            if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
                let host = String(text[text.index(after: text.startIndex)..<close])
                let rest = text[text.index(after: close)...]
                guard rest.hasPrefix(":"), let port = Int(rest.dropFirst()), !host.isEmpty else { return nil }
                self.init(host: host, port: port)
                return
            }
            guard let colon = text.lastIndex(of: ":") else { return nil }
            let host = String(text[..<colon])
            guard !host.isEmpty, !host.contains(":"), let port = Int(text[text.index(after: colon)...]) else {
                return nil
            }
            self.init(host: host, port: port)
        }

        /// `host:port`, with brackets around an IPv6 host.
        public var description: String {
            self.host.contains(":") ? "[\(self.host)]:\(self.port)" : "\(self.host):\(self.port)"
        }

        public init(from decoder: any Decoder) throws {
            let text = try decoder.singleValueContainer().decode(String.self)
            guard let endpoint = Endpoint(parsing: text) else {
                throw DecodingError.dataCorrupted(
                    DecodingError.Context(
                        codingPath: decoder.codingPath,
                        debugDescription: "'\(text)' is not host:port"
                    )
                )
            }
            self = endpoint
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            try container.encode(self.description)
        }
    }

    /// A peer of a ``PeerOrganization``.
    public struct Peer: Sendable, Hashable {
        /// The host name inside the org's domain (`peer0` gives `peer0.<domain>`).
        public var name: String
        /// Where the peer listens (and, as an anchor peer, where other orgs reach it).
        public var endpoint: Endpoint

        /// Creates a peer.
        public init(name: String, endpoint: Endpoint) {
            self.name = name
            self.endpoint = endpoint
        }
    }

    /// An application organisation (a cryptogen `PeerOrgs` entry and a configtx.yaml organisation).
    public struct PeerOrganization: Sendable, Hashable {
        /// The org's group name in the channel config (configtx.yaml `Name`).
        public var name: String
        /// The MSP id.
        public var mspID: String
        /// The org's domain (`org1.example.com`): CAs are `ca.<domain>` and `tlsca.<domain>`.
        public var domain: String
        /// The peers, in order.
        public var peers: [Peer]
        /// How many users `User1`…`UserN` to enroll, besides `Admin`.
        public var users: Int
        /// Names of the peers (of ``peers``) that are the org's anchor peers in the genesis block.
        public var anchorPeers: [String]

        /// Creates an org.
        public init(name: String, mspID: String, domain: String, peers: [Peer], users: Int = 1, anchorPeers: [String]) {
            self.name = name
            self.mspID = mspID
            self.domain = domain
            self.peers = peers
            self.users = users
            self.anchorPeers = anchorPeers
        }

        /// The default org number `index` (0-based): `Org<index+1>MSP`, `org<index+1>.example.com`, peers
        /// `peer0`… at 127.0.0.1 port `7051 + 1000·index + 100·peer`, the first peer as anchor peer.
        public static func numbered(_ index: Int, peers: Int, users: Int) -> PeerOrganization {
            let number = index + 1
            let peerList = (0..<max(peers, 0)).map { Peer.numbered($0, organization: index) }
            return PeerOrganization(
                name: "Org\(number)MSP",
                mspID: "Org\(number)MSP",
                domain: "org\(number).example.com",
                peers: peerList,
                users: users,
                anchorPeers: peerList.first.map { [$0.name] } ?? []
            )
        }
    }

    /// An orderer node of the ``OrdererOrganization``.
    public struct Orderer: Sendable, Hashable {
        /// The host name inside the org's domain (`orderer` gives `orderer.<domain>`).
        public var name: String
        /// Where clients (peers' deliver, broadcast) reach the node: the org's `Endpoints` in the channel config.
        public var endpoint: Endpoint
        /// Where the Raft cluster reaches the node: the etcdraft consenter's host and port.
        public var clusterEndpoint: Endpoint

        /// Creates an orderer node; the cluster endpoint defaults to the client endpoint.
        public init(name: String, endpoint: Endpoint, clusterEndpoint: Endpoint? = nil) {
            self.name = name
            self.endpoint = endpoint
            self.clusterEndpoint = clusterEndpoint ?? endpoint
        }
    }

    /// The ordering organisation (a cryptogen `OrdererOrgs` entry).
    public struct OrdererOrganization: Sendable, Hashable {
        /// The org's group name in the channel config.
        public var name: String
        /// The MSP id.
        public var mspID: String
        /// The org's domain.
        public var domain: String
        /// The orderer nodes (at least one): every one is a Raft consenter and an endpoint of the org.
        public var orderers: [Orderer]
        /// How many users `User1`…`UserN` to enroll, besides `Admin` (cryptogen's default for orderer orgs is 0).
        public var users: Int

        /// Creates the orderer org; the defaults are the conformance network's (`OrdererOrg`, `OrdererMSP`,
        /// `example.com`, one node `orderer` at 127.0.0.1:7050).
        public init(
            name: String = "OrdererOrg",
            mspID: String = "OrdererMSP",
            domain: String = "example.com",
            orderers: [Orderer] = [Orderer.numbered(0)],
            users: Int = 0
        ) {
            self.name = name
            self.mspID = mspID
            self.domain = domain
            self.orderers = orderers
            self.users = users
        }
    }

    /// Channel capabilities netgen writes.
    public enum ChannelCapability: String, Sendable, Hashable, CaseIterable {
        case v2_0 = "V2_0"
        case v3_0 = "V3_0"
    }

    /// Application capabilities netgen writes.
    public enum ApplicationCapability: String, Sendable, Hashable, CaseIterable {
        case v2_0 = "V2_0"
        case v2_5 = "V2_5"
    }

    /// Orderer capabilities netgen writes.
    public enum OrdererCapability: String, Sendable, Hashable, CaseIterable {
        case v2_0 = "V2_0"
    }

    /// The capabilities of the three config levels.
    public struct Capabilities: Sendable, Hashable {
        /// `/Channel` (default V3_0, as the conformance network).
        public var channel: ChannelCapability
        /// `/Channel/Application` (default V2_5).
        public var application: ApplicationCapability
        /// `/Channel/Orderer` (V2_0).
        public var orderer: OrdererCapability

        /// Creates capabilities; the defaults are Fabric v3's.
        public init(
            channel: ChannelCapability = .v3_0,
            application: ApplicationCapability = .v2_5,
            orderer: OrdererCapability = .v2_0
        ) {
            self.channel = channel
            self.application = application
            self.orderer = orderer
        }
    }

    /// Orderer batching (`BatchSize`, `BatchTimeout`).
    public struct Batch: Sendable, Hashable {
        /// A Go duration (`2s`, `500ms`, `1m30s`), more than zero.
        public var timeout: String
        /// The most transactions in a block (> 0).
        public var maxMessageCount: UInt32
        /// The largest block in bytes (> 0).
        public var absoluteMaxBytes: UInt32
        /// The preferred block size in bytes (> 0, at most ``absoluteMaxBytes``).
        public var preferredMaxBytes: UInt32

        /// Creates batch settings; the defaults are 2s, 500 messages, 10 MB and 2 MB.
        public init(
            timeout: String = "2s",
            maxMessageCount: UInt32 = 500,
            absoluteMaxBytes: UInt32 = 10 * 1024 * 1024,
            preferredMaxBytes: UInt32 = 2 * 1024 * 1024
        ) {
            self.timeout = timeout
            self.maxMessageCount = maxMessageCount
            self.absoluteMaxBytes = absoluteMaxBytes
            self.preferredMaxBytes = preferredMaxBytes
        }
    }

    /// The `Options` of the etcdraft `ConfigMetadata` (configtxgen's defaults).
    public struct EtcdraftOptions: Sendable, Hashable {
        /// A Go duration, more than zero.
        public var tickInterval: String
        /// Ticks before an election (> heartbeatTick).
        public var electionTick: UInt32
        /// Ticks between heartbeats (> 0).
        public var heartbeatTick: UInt32
        /// In-flight append messages (> 0).
        public var maxInflightBlocks: UInt32
        /// Bytes between snapshots (> 0).
        public var snapshotIntervalSize: UInt32

        /// Creates options; the defaults are configtxgen's (500ms, 10, 1, 5, 16 MB).
        public init(
            tickInterval: String = "500ms",
            electionTick: UInt32 = 10,
            heartbeatTick: UInt32 = 1,
            maxInflightBlocks: UInt32 = 5,
            snapshotIntervalSize: UInt32 = 16 * 1024 * 1024
        ) {
            self.tickInterval = tickInterval
            self.electionTick = electionTick
            self.heartbeatTick = heartbeatTick
            self.maxInflightBlocks = maxInflightBlocks
            self.snapshotIntervalSize = snapshotIntervalSize
        }
    }

    /// The application section's endorsement policies, as implicit-meta rules `<ANY|ALL|MAJORITY> <policy>`.
    /// The other section policies are configtxgen's fixed defaults (see `Docs/netgen.md`).
    public struct Policies: Sendable, Hashable {
        /// `/Channel/Application/Endorsement`, the default chaincode endorsement policy.
        public var endorsement: String
        /// `/Channel/Application/LifecycleEndorsement`, for `_lifecycle` transactions.
        public var lifecycleEndorsement: String

        /// Creates the policies; the defaults are configtxgen's (`MAJORITY Endorsement` for both).
        public init(
            endorsement: String = "MAJORITY Endorsement",
            lifecycleEndorsement: String = "MAJORITY Endorsement"
        ) {
            self.endorsement = endorsement
            self.lifecycleEndorsement = lifecycleEndorsement
        }
    }
}

extension NetworkProfile.Peer {
    /// Peer `peer<index>` of org number `organization` (0-based) at 127.0.0.1 port `7051 + 1000·organization +
    /// 100·index`.
    public static func numbered(_ index: Int, organization: Int) -> NetworkProfile.Peer {
        NetworkProfile.Peer(
            name: "peer\(index)",
            endpoint: NetworkProfile.Endpoint(host: "127.0.0.1", port: 7051 + 1000 * organization + 100 * index)
        )
    }
}

extension NetworkProfile.Orderer {
    /// Orderer node number `index`: `orderer` for the first, `orderer<index+1>` after it, at 127.0.0.1 port
    /// `7050 + 100·index`, the cluster on the same endpoint.
    public static func numbered(_ index: Int) -> NetworkProfile.Orderer {
        NetworkProfile.Orderer(
            name: index == 0 ? "orderer" : "orderer\(index + 1)",
            endpoint: NetworkProfile.Endpoint(host: "127.0.0.1", port: 7050 + 100 * index)
        )
    }
}
