import ArgumentParser
import Foundation
import Logging
import Metrics
import PeerCore
import Prometheus
import ServiceLifecycle
import SwiftProtobuf
import UnixSignals
import Wire

@main
struct PeerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "peer",
        abstract: "The Swift Fabric peer: commits a Fabric v3 channel's blocks from an ordering service and gossip.",
        discussion: """
            Configuration is Fabric's: core.yaml in FABRIC_CFG_PATH (or --config), overridden by CORE_PEER_* \
            environment variables (CORE_PEER_GOSSIP_USELEADERELECTION=true sets peer.gossip.useLeaderElection).
            """,
        subcommands: [Node.self, Channel.self]
    )
}

/// Where core.yaml is: --config, else $FABRIC_CFG_PATH/core.yaml, else none (code defaults + environment).
struct ConfigOptions: ParsableArguments {
    @Option(name: .customLong("config"), help: "core.yaml to read (default: $FABRIC_CFG_PATH/core.yaml).")
    var file: String?

    func load() throws -> PeerConfiguration {
        let environment = ProcessInfo.processInfo.environment
        var url: URL?
        if let file {
            url = URL(fileURLWithPath: file)
        } else if let directory = environment["FABRIC_CFG_PATH"] {
            let candidate = URL(fileURLWithPath: directory).appendingPathComponent("core.yaml")
            if FileManager.default.fileExists(atPath: candidate.path) { url = candidate }
        }
        return try PeerConfiguration(CoreConfigSource(file: url, environment: environment))
    }
}

struct Node: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the peer node.",
        subcommands: [Start.self]
    )

    struct Start: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Start the peer: open the joined channels' ledgers, serve the admin service, and commit blocks.",
            discussion: "SIGTERM or SIGINT stops it gracefully: every commit in progress completes first."
        )

        @OptionGroup var config: ConfigOptions

        func run() async throws {
            LoggingSystem.bootstrap { label in
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = Logger.Level(
                    rawValue: ProcessInfo.processInfo.environment["FABRIC_LOGGING_SPEC"]?.lowercased() ?? ""
                ) ?? .info
                return handler
            }
            let registry = PrometheusCollectorRegistry()
            MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
            let logger = Logger(label: "peer")
            let node: PeerNode
            do {
                node = try PeerNode(configuration: try config.load(), registry: registry, logger: logger)
            } catch {
                FileHandle.standardError.write(Data("peer: cannot start: \(error)\n".utf8))
                throw ExitCode.failure
            }
            let group = ServiceGroup(
                configuration: ServiceGroupConfiguration(
                    services: [.init(service: node)],
                    gracefulShutdownSignals: [.sigterm, .sigint],
                    logger: logger
                )
            )
            try await group.run()
        }
    }
}

struct Channel: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Operate on the running peer's channels through its admin service.",
        discussion: """
            The request is signed with the identity of CORE_PEER_MSPCONFIGPATH / CORE_PEER_LOCALMSPID (an admin \
            of the peer's MSP for join) and sent to peer.adminService.listenAddress (or --peer-address).
            """,
        subcommands: [Join.self, List.self, GetInfo.self]
    )

    struct Connection: ParsableArguments {
        @OptionGroup var config: ConfigOptions

        @Option(help: "host:port of the peer's admin service (default: peer.adminService.listenAddress).")
        var peerAddress: String?

        @Flag(help: "Use TLS towards the peer (default: peer.tls.enabled).")
        var tls = false

        @Option(help: "PEM of the CA the peer's TLS certificate chains to (default: peer.tls.rootcert.file).")
        var cafile: String?

        @Option(help: "The host name to expect in the peer's TLS certificate (default: the address's host).")
        var serverHostname: String?

        func client() throws -> AdminClient {
            let configuration = try self.config.load()
            let identity = try LocalIdentity(mspDirectory: configuration.mspConfigPath, mspID: configuration.localMSPID)
            var tlsSettings: AdminClient.TLS?
            if self.tls || configuration.tls.enabled {
                guard let root = self.cafile.map({ URL(fileURLWithPath: $0) }) ?? configuration.tls.rootCertificate else {
                    throw ValidationError("TLS is on but no CA is given: pass --cafile or set peer.tls.rootcert.file")
                }
                var settings = AdminClient.TLS(rootCertificatesPEM: try Data(contentsOf: root))
                if configuration.tls.clientAuthRequired, let certificate = configuration.tls.clientCertificate,
                    let key = configuration.tls.clientKey
                {
                    settings.clientCertificatePEM = try Data(contentsOf: certificate)
                    settings.clientKeyPEM = try Data(contentsOf: key)
                }
                tlsSettings = settings
            }
            return AdminClient(
                address: self.peerAddress ?? configuration.adminListenAddress,
                signer: identity.signer,
                tls: tlsSettings,
                serverHostname: self.serverHostname
            )
        }
    }

    struct Join: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Join the peer to a channel from its genesis block.")

        @Option(name: [.customShort("b"), .customLong("blockpath")], help: "The channel's genesis block file.")
        var blockPath: String

        @OptionGroup var connection: Connection

        func run() async throws {
            let bytes: Data
            do {
                bytes = try Data(contentsOf: URL(fileURLWithPath: self.blockPath))
            } catch {
                throw ValidationError("cannot read the block file \(self.blockPath): \(error.localizedDescription)")
            }
            let block: Common_Block
            do {
                block = try Common_Block(serializedBytes: bytes)
            } catch {
                throw ValidationError("\(self.blockPath) is not a common.Block: \(error)")
            }
            let id = try await self.connection.client().joinChannel(block: block)
            print("Successfully submitted proposal to join channel \(id)")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the channels the peer has joined.")

        @OptionGroup var connection: Connection

        func run() async throws {
            let channels = try await self.connection.client().listChannels()
            print("Channels peers has joined: ")
            for channel in channels { print(channel) }
        }
    }

    struct GetInfo: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "getinfo",
            abstract: "Print a channel's height, current and previous block hash (and commit hash, state fingerprint)."
        )

        @Option(name: [.customShort("c"), .customLong("channelID")], help: "The channel.")
        var channelID: String

        @OptionGroup var connection: Connection

        func run() async throws {
            let info = try await self.connection.client().channelInfo(self.channelID)
            let object: [String: Any] = [
                "height": info.height,
                "currentBlockHash": info.currentBlockHash.base64EncodedString(),
                "previousBlockHash": info.previousBlockHash.base64EncodedString(),
                "commitHash": info.commitHash.map { String(format: "%02x", $0) }.joined(),
                "stateFingerprint": info.stateFingerprint.map { String(format: "%02x", $0) }.joined(),
            ]
            let json = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            print("Blockchain info: \(String(decoding: json, as: UTF8.self))")
        }
    }
}
