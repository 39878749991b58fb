public import Foundation

/// `network.json`: what netgen wrote and where, so other tools (bench, the local-network script, the dev orderer)
/// read paths and endpoints instead of re-deriving cryptogen's layout.
///
/// Every path is relative to the directory holding `network.json` (the output directory), so the directory can
/// be moved; ``url(_:in:)`` resolves one. The schema is documented in `Docs/netgen.md`; ``version`` changes when
/// a field changes meaning or disappears (new fields may be added without a change).
public struct NetworkManifest: Codable, Sendable, Hashable {
    /// The file name netgen writes in the output directory.
    public static let fileName = "network.json"
    /// The schema version netgen writes.
    public static let currentVersion = 1

    /// The schema version.
    public var version: Int
    /// The channel id.
    public var channelID: String
    /// The genesis block (a raw serialized `common.Block`): `<channel>.genesis.block`.
    public var genesisBlock: String
    /// The cryptogen tree: `crypto-config`.
    public var cryptoConfig: String
    /// Whether identities carry NodeOUs.
    public var nodeOUs: Bool
    /// Whether identities are issued by an intermediate CA.
    public var intermediateCA: Bool
    /// The capabilities written into the channel config.
    public var capabilities: Capabilities
    /// The ordering organisation.
    public var ordererOrganization: Organization
    /// The application organisations, in config order.
    public var peerOrganizations: [Organization]

    /// Capability names per config level (`V3_0`, `V2_5`, `V2_0`).
    public struct Capabilities: Codable, Sendable, Hashable {
        /// `/Channel`.
        public var channel: String
        /// `/Channel/Application`.
        public var application: String
        /// `/Channel/Orderer`.
        public var orderer: String

        /// Creates the capability names.
        public init(channel: String, application: String, orderer: String) {
            self.channel = channel
            self.application = application
            self.orderer = orderer
        }
    }

    /// An organisation and every identity netgen enrolled for it.
    public struct Organization: Codable, Sendable, Hashable {
        /// The group name in the channel config.
        public var name: String
        /// The MSP id.
        public var mspID: String
        /// The domain.
        public var domain: String
        /// The organisation's folder (`crypto-config/peerOrganizations/<domain>`).
        public var directory: String
        /// The verifying MSP folder (what the channel config carries): `<directory>/msp`.
        public var mspDirectory: String
        /// The root CA certificate (`<directory>/ca/ca.<domain>-cert.pem`; its key is `ca/priv_sk`).
        public var caCertificate: String
        /// The intermediate CA certificate (`<directory>/ica/ica.<domain>-cert.pem`), with an intermediate CA.
        public var intermediateCACertificate: String?
        /// The TLS CA certificate (`<directory>/tlsca/tlsca.<domain>-cert.pem`).
        public var tlsCACertificate: String
        /// The org's admin, `Admin@<domain>` (NodeOU admin).
        public var admin: Member
        /// The org's users `User<i>@<domain>` (NodeOU client), in order.
        public var users: [Member]
        /// The peers (empty for the orderer org), in order.
        public var peers: [Node]
        /// The orderer nodes (empty for peer orgs), in order.
        public var orderers: [Node]
        /// The anchor peers written into the genesis block, `host:port`.
        public var anchorPeers: [String]

        enum CodingKeys: String, CodingKey {
            case name, mspID, domain
            case directory = "dir"
            case mspDirectory = "mspDir"
            case caCertificate = "caCert"
            case intermediateCACertificate = "intermediateCACert"
            case tlsCACertificate = "tlsCACert"
            case admin, users, peers, orderers, anchorPeers
        }
    }

    /// An enrolled identity and its folders, as cryptogen lays them out.
    public struct Member: Codable, Sendable, Hashable {
        /// The certificate's common name (`peer0.org1.example.com`, `Admin@org1.example.com`).
        public var name: String
        /// The NodeOU role: `peer`, `orderer`, `admin` or `client` (recorded even when NodeOUs are off).
        public var role: String
        /// The local MSP folder (signcerts, keystore/priv_sk, cacerts, tlscacerts, config.yaml).
        public var mspDirectory: String
        /// The signing certificate (`<mspDir>/signcerts/<name>-cert.pem`).
        public var signingCertificate: String
        /// The signing key, PKCS#8 PEM (`<mspDir>/keystore/priv_sk`).
        public var privateKey: String
        /// The TLS folder.
        public var tlsDirectory: String
        /// The TLS certificate (`tls/server.crt` for nodes, `tls/client.crt` for users).
        public var tlsCertificate: String
        /// The TLS key (`tls/server.key` or `tls/client.key`).
        public var tlsKey: String
        /// The TLS CA certificate (`tls/ca.crt`).
        public var tlsCACertificate: String

        enum CodingKeys: String, CodingKey {
            case name, role
            case mspDirectory = "mspDir"
            case signingCertificate = "signCert"
            case privateKey
            case tlsDirectory = "tlsDir"
            case tlsCertificate = "tlsCert"
            case tlsKey
            case tlsCACertificate = "tlsCACert"
        }
    }

    /// A peer or orderer node.
    public struct Node: Codable, Sendable, Hashable {
        /// The host name in the org's domain (`peer0`).
        public var name: String
        /// Where the node listens, `host:port`.
        public var endpoint: String
        /// Orderers: the Raft cluster endpoint written into the etcdraft consenter set.
        public var clusterEndpoint: String?
        /// Peers: whether the peer is an anchor peer in the genesis block.
        public var anchor: Bool?
        /// The node's identity and folders (`name` is the FQDN `peer0.<domain>`).
        public var identity: Member
    }

    /// Every organisation: the orderer org first, then the peer orgs.
    public var organizations: [Organization] { [self.ordererOrganization] + self.peerOrganizations }

    /// The organisation whose MSP id is `mspID`.
    public func organization(mspID: String) -> Organization? {
        self.organizations.first { $0.mspID == mspID }
    }

    /// The absolute URL of `path` (a path of this manifest) for a network written to `directory`.
    public static func url(_ path: String, in directory: URL) -> URL {
        directory.appendingPathComponent(path)
    }

    /// Reads `network.json` from `directory` (the output directory of ``NetGen/generate(_:into:force:)``).
    public static func load(from directory: URL) throws(NetGenError) -> NetworkManifest {
        let url = directory.appendingPathComponent(Self.fileName)
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw NetGenError(.io, "could not read \(url.path)", cause: error)
        }
        let manifest: NetworkManifest
        do {
            manifest = try JSONDecoder().decode(NetworkManifest.self, from: data)
        } catch {
            throw NetGenError(.badManifest, "\(url.path) is not a netgen network.json", cause: error)
        }
        guard manifest.version == Self.currentVersion else {
            throw NetGenError(
                .badManifest,
                "\(url.path) has schema version \(manifest.version); this netgen reads version \(Self.currentVersion)"
            )
        }
        return manifest
    }

    /// The JSON netgen writes: sorted keys, pretty-printed, no escaped slashes, newline at the end.
    public func encoded() throws(NetGenError) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        do {
            return try encoder.encode(self) + Data("\n".utf8)
        } catch {
            throw NetGenError(.badManifest, "network.json does not encode", cause: error)
        }
    }

    enum CodingKeys: String, CodingKey {
        case version
        case channelID = "channel"
        case genesisBlock, cryptoConfig, nodeOUs, intermediateCA, capabilities
        case ordererOrganization = "ordererOrg"
        case peerOrganizations = "peerOrgs"
    }
}
