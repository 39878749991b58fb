import ChannelConfig
public import Foundation
internal import GRPCCore
internal import GRPCNIOTransportHTTP2
import Ledger
import MSP
public import NetGen
public import PeerCore
import SwiftProtobuf
public import Wire

/// A local Fabric network of this project's processes on 127.0.0.1: netgen's crypto material and genesis block,
/// one `dev-orderer` and `orgs × peersPerOrg` `peer node start` processes with leader election and state transfer,
/// each peer joined through its admin service. Drives endorsed transactions through Broadcast and compares the
/// peers' ledgers.
public final class LocalNetwork: Sendable {
    /// What to run.
    public struct Options: Sendable {
        /// Where everything goes: `net/` (netgen), `orderer/`, `peers/<name>/{core.yaml,data}`, `logs/`.
        public var directory: URL
        /// Where `peer` and `dev-orderer` are (the build folder).
        public var executables: URL
        public var organizations: Int = 2
        public var peersPerOrganization: Int = 2
        /// The orderer listens on basePort, org k's peer i on basePort + 1 + 1000·k + 100·i (admin +4, operations +3).
        public var basePort: Int = 7050
        /// Transactions per block the orderer cuts at most.
        public var maxMessageCount: UInt32 = 50
        /// The batch timeout.
        public var batchTimeout: String = "500ms"
        /// Leader election timings (short, so that a killed leader is replaced in seconds).
        public var leaderAliveThreshold: String = "4s"
        /// TLS everywhere: mutual TLS between peers (gossip) and on the peers' admin services, TLS on the
        /// orderer (Broadcast and Deliver), each node with its netgen `tls/` certificate.
        public var tls: Bool = false
        /// Extra arguments for `dev-orderer` (fault injection in tests, e.g. `--tamper-signature 3`).
        public var ordererArguments: [String] = []
        /// peer.gossip.pvtData.reconcileSleepInterval (short, so that a peer that missed private data gets it in
        /// seconds).
        public var reconcileSleepInterval: String = "2s"
        /// ledger.pvtdataStore.deprioritizedDataReconcilerInterval (short, so that data a peer could not fetch
        /// once, for example right after a restart, is retried within seconds).
        public var deprioritizedDataReconcilerInterval: String = "4s"

        public init(directory: URL, executables: URL) {
            self.directory = directory
            self.executables = executables
        }
    }

    /// One peer of the network.
    public struct PeerNode: Sendable {
        public let name: String
        public let organization: NetworkManifest.Organization
        public let member: NetworkManifest.Member
        public let endpoint: String
        public let adminAddress: String
        public let operationsAddress: String
        public let configFile: URL
        /// peer.fileSystemPath (beside core.yaml).
        public var fileSystemPath: URL { self.configFile.deletingLastPathComponent().appendingPathComponent("data") }
        /// Where the peer's ledgers are (PeerConfiguration's `<fileSystemPath>/ledgersData`), to open them once it
        /// has stopped.
        public var ledgersDirectory: URL { self.fileSystemPath.appendingPathComponent("ledgersData") }
    }

    public let options: Options
    public let manifest: NetworkManifest
    public let genesis: Common_Block
    public let peers: [PeerNode]
    public let ordererAddress: String
    /// Where netgen wrote the network (crypto material, genesis block, network.json).
    public var netDirectory: URL { self.options.directory.appendingPathComponent("net") }

    /// Generates the network (replacing an earlier one in the same directory) and each peer's core.yaml.
    public init(options: Options) throws {
        self.options = options
        let files = FileManager.default
        try? files.removeItem(at: options.directory)
        try files.createDirectory(
            at: options.directory.appendingPathComponent("logs"),
            withIntermediateDirectories: true
        )
        var profile = NetworkProfile(
            channelID: "mychannel",
            organizations: options.organizations,
            peersPerOrganization: options.peersPerOrganization
        )
        profile.batch.maxMessageCount = options.maxMessageCount
        profile.batch.timeout = options.batchTimeout
        profile.ordererOrganization.orderers[0].endpoint = .init(host: "127.0.0.1", port: options.basePort)
        profile.ordererOrganization.orderers[0].clusterEndpoint = .init(host: "127.0.0.1", port: options.basePort + 900)
        for org in profile.peerOrganizations.indices {
            for peer in profile.peerOrganizations[org].peers.indices {
                profile.peerOrganizations[org].peers[peer].endpoint = .init(
                    host: "127.0.0.1",
                    port: options.basePort + 1 + 1000 * org + 100 * peer
                )
            }
        }
        let netDirectory = options.directory.appendingPathComponent("net")
        self.manifest = try NetGen.generate(profile, into: netDirectory)
        self.genesis = try Common_Block(
            serializedBytes: Data(contentsOf: NetworkManifest.url(self.manifest.genesisBlock, in: netDirectory))
        )
        self.ordererAddress = self.manifest.ordererOrganization.orderers[0].endpoint
        var peers: [PeerNode] = []
        for org in self.manifest.peerOrganizations {
            for (index, node) in org.peers.enumerated() {
                let port = Int(node.endpoint.split(separator: ":").last!)!
                let directory = options.directory.appendingPathComponent("peers/\(node.identity.name)")
                try files.createDirectory(at: directory, withIntermediateDirectories: true)
                let peer = PeerNode(
                    name: node.identity.name,
                    organization: org,
                    member: node.identity,
                    endpoint: node.endpoint,
                    adminAddress: "127.0.0.1:\(port + 4)",
                    operationsAddress: "127.0.0.1:\(port + 3)",
                    configFile: directory.appendingPathComponent("core.yaml")
                )
                // Same-org peers bootstrap from each other; every peer publishes its endpoint to the other org.
                let bootstrap = org.peers.enumerated().filter { $0.offset != index }.map(\.element.endpoint)
                func path(_ relative: String) -> String { NetworkManifest.url(relative, in: netDirectory).path }
                // The peer trusts its own org's TLS CA from the start; the channel's other orgs (and the
                // orderer org) are added by the trusted-roots callback when it joins.
                let tls = options.tls ? """

                      tls:
                        enabled: true
                        clientAuthRequired: true
                        cert:
                          file: \(path(node.identity.tlsCertificate))
                        key:
                          file: \(path(node.identity.tlsKey))
                        rootcert:
                          file: \(path(org.tlsCACertificate))
                    """ : ""
                let yaml = """
                    # Written by localnet for \(node.identity.name).
                    peer:
                      id: \(node.identity.name)
                      networkId: localnet
                      listenAddress: \(node.endpoint)
                      address: \(node.endpoint)
                      localMspId: \(org.mspID)
                      mspConfigPath: \(NetworkManifest.url(node.identity.mspDirectory, in: netDirectory).path)
                      fileSystemPath: \(peer.fileSystemPath.path)
                      adminService:
                        listenAddress: \(peer.adminAddress)\(tls)
                      gossip:
                        bootstrap: [\(bootstrap.joined(separator: ", "))]
                        endpoint: \(node.endpoint)
                        externalEndpoint: \(node.endpoint)
                        useLeaderElection: true
                        orgLeader: false
                        pullInterval: 2s
                        digestWaitTime: 500ms
                        requestWaitTime: 750ms
                        responseWaitTime: 1s
                        aliveTimeInterval: 1s
                        aliveExpirationTimeout: 5s
                        reconnectInterval: 2s
                        election:
                          startupGracePeriod: 3s
                          membershipSampleInterval: 500ms
                          leaderAliveThreshold: \(options.leaderAliveThreshold)
                          leaderElectionDuration: 1s
                        state:
                          enabled: true
                          checkInterval: 1s
                          responseTimeout: 2s
                        pvtData:
                          pullRetryThreshold: 10s
                          pushAckTimeout: 3s
                          reconciliationEnabled: true
                          reconcileSleepInterval: \(options.reconcileSleepInterval)
                      deliveryclient:
                        reconnectTotalTimeThreshold: 10s
                    operations:
                      listenAddress: \(peer.operationsAddress)
                    ledger:
                      pvtdataStore:
                        deprioritizedDataReconcilerInterval: \(options.deprioritizedDataReconcilerInterval)
                    """
                try yaml.write(to: peer.configFile, atomically: true, encoding: .utf8)
                peers.append(peer)
            }
        }
        self.peers = peers
    }

    // MARK: Processes

    /// Starts the orderer and waits until it listens.
    public func startOrderer() async throws -> ManagedProcess {
        let process = ManagedProcess(
            name: "orderer",
            executable: self.options.executables.appendingPathComponent("dev-orderer"),
            arguments: [
                "--network", self.netDirectory.path,
                "--data", self.options.directory.appendingPathComponent("orderer").path,
            ] + (self.options.tls ? ["--tls"] : []) + self.options.ordererArguments,
            log: self.options.directory.appendingPathComponent("logs/orderer.log")
        )
        try process.start()
        try await self.waitUntil("the orderer to listen on \(self.ordererAddress)", process) {
            process.logText().contains("listening on")
        }
        return process
    }

    /// Starts peer `index` (`peer node start`) and waits until its admin service answers.
    public func startPeer(_ index: Int) async throws -> ManagedProcess {
        let peer = self.peers[index]
        let process = ManagedProcess(
            name: peer.name,
            executable: self.options.executables.appendingPathComponent("peer"),
            arguments: ["node", "start", "--config", peer.configFile.path],
            log: self.options.directory.appendingPathComponent("logs/\(peer.name).log")
        )
        try process.start()
        let admin = try self.adminClient(index)
        try await self.waitUntil("\(peer.name)'s admin service on \(peer.adminAddress)", process) {
            (try? await admin.listChannels()) != nil
        }
        return process
    }

    /// An admin client of peer `index`, signing as its org's admin.
    public func adminClient(_ index: Int) throws -> AdminClient {
        let peer = self.peers[index]
        let admin = try self.manifest.signingIdentity(
            of: peer.organization.admin,
            in: peer.organization,
            directory: self.netDirectory
        )
        guard self.options.tls else { return AdminClient(address: peer.adminAddress, signer: admin) }
        let org = peer.organization
        let tls = AdminClient.TLS(
            rootCertificatesPEM: try Data(contentsOf: NetworkManifest.url(org.tlsCACertificate, in: self.netDirectory)),
            clientCertificatePEM: try Data(contentsOf: NetworkManifest.url(org.admin.tlsCertificate, in: self.netDirectory)),
            clientKeyPEM: try Data(contentsOf: NetworkManifest.url(org.admin.tlsKey, in: self.netDirectory))
        )
        // netgen's TLS certificates name localhost and 127.0.0.1.
        return AdminClient(address: peer.adminAddress, signer: admin, tls: tls, serverHostname: "localhost")
    }

    /// Joins peer `index` to the channel unless it already is.
    public func join(_ index: Int) async throws {
        let client = try self.adminClient(index)
        if try await client.listChannels().contains(self.manifest.channelID) { return }
        _ = try await client.joinChannel(block: self.genesis)
    }

    /// The endorser's part for `transaction`: peer `index` stores its private data and pushes it to eligible
    /// peers. Retried until `timeout`: right after the join the peer's gossip view may not hold enough of the
    /// channel's peers for a collection's required acknowledgements yet, as a client would retry.
    public func distribute(
        _ transaction: PrivateTransaction,
        via index: Int,
        blockHeight: UInt64,
        timeout: Duration = .seconds(90)
    ) async throws {
        let endorser = try self.adminClient(index)
        let deadline = ContinuousClock.now + timeout
        while true {
            do {
                try await endorser.distributePrivateData(
                    channelID: self.manifest.channelID,
                    txID: transaction.txID,
                    data: transaction.privateData,
                    blockHeight: blockHeight
                )
                return
            } catch {
                guard ContinuousClock.now < deadline else { throw error }
                try await Task.sleep(for: .milliseconds(500))
            }
        }
    }

    /// Height, commit hash and state fingerprint of every peer (nil where a peer does not answer).
    public func infos() async -> [Swiftpeer_Admin_ChannelInfo?] {
        var result: [Swiftpeer_Admin_ChannelInfo?] = []
        for index in self.peers.indices {
            result.append(try? await self.adminClient(index).channelInfo(self.manifest.channelID))
        }
        return result
    }

    private func waitUntil(
        _ what: String,
        _ process: ManagedProcess,
        timeout: Duration = .seconds(120),
        _ condition: () async -> Bool
    ) async throws {
        let deadline = ContinuousClock.now + timeout
        while await !condition() {
            guard process.isRunning else {
                throw LocalNetworkError("\(process.name) exited while waiting for \(what); see \(process.log.path)")
            }
            guard ContinuousClock.now < deadline else {
                throw LocalNetworkError("timed out waiting for \(what); see \(process.log.path)")
            }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    // MARK: Workload

    /// Signers of the workload: a client of org 1, the first peer of every org as endorsers, org 1's admin.
    public func workload() throws -> Workload {
        func signer(_ member: NetworkManifest.Member, _ org: NetworkManifest.Organization) throws -> TransactionSigner {
            let identity = try self.manifest.signingIdentity(of: member, in: org, directory: self.netDirectory)
            return TransactionSigner(identity: identity.serialized) { try identity.sign($0) }
        }
        let org1 = self.manifest.peerOrganizations[0]
        return Workload(
            channelID: self.manifest.channelID,
            organizations: self.manifest.peerOrganizations.map(\.mspID),
            admin: try signer(org1.admin, org1),
            client: try signer(org1.users[0], org1),
            endorsers: try self.manifest.peerOrganizations.map { try signer($0.peers[0].identity, $0) }
        )
    }

    /// Sends `envelopes` to the orderer on one Broadcast stream; returns how many it accepted.
    public func broadcast(_ envelopes: [Common_Envelope]) async throws -> Int {
        let port = Int(self.ordererAddress.split(separator: ":").last!)!
        let security: HTTP2ClientTransport.Posix.TransportSecurity
        if self.options.tls {
            let ca = NetworkManifest.url(self.manifest.ordererOrganization.tlsCACertificate, in: self.netDirectory)
            let roots = TLSConfig.TrustRootsSource.certificates([.file(path: ca.path, format: .pem)])
            security = .tls { config in config.trustRoots = roots }
        } else {
            security = .plaintext
        }
        var config = HTTP2ClientTransport.Posix.Config.defaults
        config.http2.authority = "localhost"
        let transport = try HTTP2ClientTransport.Posix(
            target: .ipv4(address: "127.0.0.1", port: port),
            transportSecurity: security,
            config: config
        )
        return try await withGRPCClient(transport: transport) { client in
            let broadcast = Orderer_AtomicBroadcast.Client(wrapping: client)
            return try await broadcast.broadcast(
                requestProducer: { writer in
                    for envelope in envelopes { try await writer.write(envelope) }
                },
                onResponse: { response in
                    var accepted = 0
                    for try await message in response.messages where message.status == .success { accepted += 1 }
                    return accepted
                }
            )
        }
    }
}

/// The endorsed transactions of the local network's workload: a `basic` chaincode definition, then writes.
public struct Workload: Sendable {
    public let channelID: String
    /// The peer organisations' MSP IDs, the first being the one of ``collectionFirstOrg``.
    public let organizations: [String]
    public let admin: TransactionSigner
    public let client: TransactionSigner
    public let endorsers: [TransactionSigner]

    /// The collection only the first organisation is a member of.
    public static let collectionFirstOrg = "collFirstOrg"
    /// The collection every organisation is a member of.
    public static let collectionAll = "collAll"
    /// A collection of every organisation whose data lives 2 blocks (BTL 2).
    public static let collectionExpiring = "collExpiring"

    /// The private data collections of `basic`; with `firstOrgCollectionOpened`, ``collectionFirstOrg`` has every
    /// organisation as a member (the others join it).
    public func collections(firstOrgCollectionOpened: Bool = false) throws -> [Protos_StaticCollectionConfig] {
        func collection(_ name: String, members: [String], required: Int32, maximum: Int32, btl: UInt64) throws
            -> Protos_StaticCollectionConfig
        {
            var config = Protos_StaticCollectionConfig()
            config.name = name
            config.memberOrgsPolicy.signaturePolicy = try PolicyDSL.parse(
                "OR(" + members.map { "'\($0).member'" }.joined(separator: ", ") + ")"
            )
            config.requiredPeerCount = required
            config.maximumPeerCount = maximum
            config.blockToLive = btl
            return config
        }
        return [
            try collection(
                Self.collectionFirstOrg,
                members: firstOrgCollectionOpened ? self.organizations : [self.organizations[0]],
                required: 0,
                maximum: 1,
                btl: 0
            ),
            try collection(Self.collectionAll, members: self.organizations, required: 1, maximum: 3, btl: 0),
            try collection(Self.collectionExpiring, members: self.organizations, required: 0, maximum: 3, btl: 2),
        ]
    }

    /// The `_lifecycle` transaction defining chaincode `basic` (endorsed by every org), with ``collections()``;
    /// a later `sequence` with `firstOrgCollectionOpened` redefines it so that every organisation joins
    /// ``collectionFirstOrg``.
    public func definition(sequence: Int64 = 1, firstOrgCollectionOpened: Bool = false) throws -> Common_Envelope {
        var definition = ChaincodeDefinitionWrites(name: "basic")
        definition.sequence = sequence
        definition.collections = try self.collections(firstOrgCollectionOpened: firstOrgCollectionOpened)
        return try definition.transaction(
            channelID: self.channelID,
            creator: self.admin,
            endorsers: self.endorsers
        )
    }

    /// A transaction writing private data to each collection (`secret<i>`, `shared<i>`, `temp<i>`), with what
    /// its endorser distributes: the cleartext writes and the collection configs, simulated at `height`.
    public func privateTransaction(_ index: Int, height: UInt64) throws -> PrivateTransaction {
        var rwset = ReadWriteSetBuilder()
        rwset.write("basic", "private-tx\(index)", value: Data("\(index)".utf8))
        rwset.writePrivate("basic", collection: Self.collectionFirstOrg, "secret\(index)", value: Data("first-org-\(index)".utf8))
        rwset.writePrivate("basic", collection: Self.collectionAll, "shared\(index)", value: Data("shared-\(index)".utf8))
        rwset.writePrivate("basic", collection: Self.collectionExpiring, "temp\(index)", value: Data("temp-\(index)".utf8))
        let envelope = try TransactionBuilder.endorserTransaction(
            channelID: self.channelID,
            chaincode: "basic",
            rwset: try rwset.readWriteSet(),
            creator: self.client,
            endorsers: self.endorsers
        )
        let payload = try Common_Payload(serializedBytes: envelope.payload)
        let header = try Common_ChannelHeader(serializedBytes: payload.header.channelHeader)
        var data = Transientstore_TxPvtReadWriteSetWithConfigInfo()
        data.endorsedAt = height
        data.pvtRwset = try rwset.privateReadWriteSet() ?? Rwset_TxPvtReadWriteSet()
        var package = Protos_CollectionConfigPackage()
        package.config = try self.collections().map { collection in .with { $0.staticCollectionConfig = collection } }
        data.collectionConfigs = ["basic": package]
        return PrivateTransaction(envelope: envelope, txID: header.txID, privateData: data)
    }

    /// Transaction `index`: writes key `asset<index>` and `counter<index % 10>`.
    public func transaction(_ index: Int) throws -> Common_Envelope {
        var rwset = ReadWriteSetBuilder()
        rwset.write("basic", "asset\(index)", value: Data("value-\(index)".utf8))
        rwset.write("basic", "counter\(index % 10)", value: Data("\(index)".utf8))
        return try TransactionBuilder.endorserTransaction(
            channelID: self.channelID,
            chaincode: "basic",
            rwset: try rwset.readWriteSet(),
            creator: self.client,
            endorsers: self.endorsers
        )
    }
}

/// An endorsed transaction with private writes, and the private data its endorser distributes.
public struct PrivateTransaction: Sendable {
    public let envelope: Common_Envelope
    public let txID: String
    public let privateData: Transientstore_TxPvtReadWriteSetWithConfigInfo
}

/// A failure of the local network, with what to look at.
public struct LocalNetworkError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
