import ArgumentParser
import DevOrderer
import Foundation
import Logging
import MSP
import NetGen
import ServiceLifecycle
import UnixSignals
import Wire

/// `dev-orderer`: the command-line front end of the DevOrderer library (all logic lives there).
@main
struct DevOrdererCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dev-orderer",
        abstract: "A development ordering service: Broadcast and Deliver for channels made from genesis blocks.",
        discussion: """
            Either from a netgen output directory:
              dev-orderer --network DIR [--orderer NAME] [--listen HOST:PORT] [--data DIR] [--tls]
            or explicitly:
              dev-orderer --genesis-block FILE [--genesis-block FILE …] --msp-dir DIR [--msp-id ID] \\
                          --listen HOST:PORT --data DIR [--tls-cert FILE --tls-key FILE [--tls-client-ca FILE …]]
            --channels-dir DIR serves every *.block in DIR and picks up new ones while running.
            Once listening it prints one line to standard output: "listening on HOST:PORT". Logs go to standard
            error. SIGTERM or SIGINT stop it. See Docs/devorderer.md.
            """
    )

    @Option(name: .long, help: ArgumentHelp("A netgen output directory (with network.json).", valueName: "dir"))
    var network: String?

    @Option(
        name: .long,
        help: ArgumentHelp("With --network: the orderer node to run (default: the first).", valueName: "name")
    )
    var orderer: String?

    @Option(name: .long, help: ArgumentHelp("A channel genesis block; repeat for more channels.", valueName: "file"))
    var genesisBlock: [String] = []

    @Option(
        name: .long,
        help: ArgumentHelp("Serve every *.block in this directory, and new ones as they appear.", valueName: "dir")
    )
    var channelsDir: String?

    @Option(name: .long, help: ArgumentHelp("Seconds between scans of --channels-dir.", valueName: "seconds"))
    var scanInterval: Double = 2

    @Option(name: .long, help: ArgumentHelp("The orderer's local MSP folder (signs blocks).", valueName: "dir"))
    var mspDir: String?

    @Option(
        name: .long,
        help: ArgumentHelp("The MSP id of --msp-dir (default: found from the channels' orderer orgs).", valueName: "id")
    )
    var mspID: String?

    @Option(name: .long, help: ArgumentHelp("host:port to listen on (port 0: any free port).", valueName: "address"))
    var listen: String?

    @Option(name: .long, help: ArgumentHelp("Where the chains are stored.", valueName: "dir"))
    var data: String?

    @Flag(name: .long, help: "With --network: serve TLS with the orderer node's tls/server.crt and server.key.")
    var tls = false

    @Option(name: .long, help: ArgumentHelp("TLS server certificate (PEM).", valueName: "file"))
    var tlsCert: String?

    @Option(name: .long, help: ArgumentHelp("TLS server key (PEM).", valueName: "file"))
    var tlsKey: String?

    @Option(
        name: .long,
        help: ArgumentHelp("Require client certificates from this CA (PEM); repeatable.", valueName: "file")
    )
    var tlsClientCa: [String] = []

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Fault injection for peer tests: deliver block N with a broken orderer signature the first COUNT times "
                + "(default 1); repeatable.",
            valueName: "N[:COUNT]"
        )
    )
    var tamperSignature: [String] = []

    @Option(
        name: .long,
        help: ArgumentHelp("trace, debug, info, notice, warning, error or critical.", valueName: "level")
    )
    var logLevel: String = "info"

    func validate() throws {
        _ = try self.tamperedSignatures()
        if self.network != nil {
            guard self.mspDir == nil, self.mspID == nil else {
                throw ValidationError("--network takes the orderer's MSP from network.json; drop --msp-dir/--msp-id")
            }
        } else {
            guard !self.genesisBlock.isEmpty || self.channelsDir != nil else {
                throw ValidationError("give --network DIR, or --genesis-block FILE (or --channels-dir DIR)")
            }
            guard self.mspDir != nil else { throw ValidationError("missing --msp-dir DIR") }
            guard self.listen != nil else { throw ValidationError("missing --listen HOST:PORT") }
            guard self.data != nil else { throw ValidationError("missing --data DIR") }
            guard !self.tls else {
                throw ValidationError("--tls needs --network; otherwise give --tls-cert and --tls-key")
            }
        }
        guard (self.tlsCert == nil) == (self.tlsKey == nil) else {
            throw ValidationError("--tls-cert and --tls-key go together")
        }
        guard Logger.Level(rawValue: self.logLevel) != nil else {
            throw ValidationError("--log-level: '\(self.logLevel)' is not a log level")
        }
        guard self.scanInterval > 0 else { throw ValidationError("--scan-interval must be positive") }
    }

    func run() async throws {
        let level = Logger.Level(rawValue: self.logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "dev-orderer")
        do {
            let (configuration, signer) = try self.makeConfiguration()
            let orderer = try DevOrderer(configuration: configuration, signer: signer, logger: logger)
            var services: [any Service] = [orderer, AddressPrinter(orderer: orderer)]
            if let channelsDir = self.channelsDir {
                services.append(
                    ChannelDirectoryWatcher(
                        orderer: orderer,
                        directory: URL(fileURLWithPath: channelsDir),
                        interval: .milliseconds(Int64(self.scanInterval * 1000)),
                        logger: logger
                    )
                )
            }
            let group = ServiceGroup(
                configuration: .init(
                    services: services.map { .init(service: $0, successTerminationBehavior: .gracefullyShutdownGroup) },
                    gracefulShutdownSignals: [.sigterm, .sigint],
                    logger: logger
                )
            )
            try await group.run()
        } catch let error as DevOrdererError {
            FileHandle.standardError.write(Data("dev-orderer: \(error.message)\n".utf8))
            throw ExitCode(1)
        } catch let error as NetGenError {
            FileHandle.standardError.write(Data("dev-orderer: \(error.message)\n".utf8))
            throw ExitCode(1)
        }
    }

    /// `--tamper-signature N[:COUNT]` as block number → count.
    private func tamperedSignatures() throws -> [UInt64: Int] {
        var result: [UInt64: Int] = [:]
        for value in self.tamperSignature {
            let parts = value.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count <= 2, let number = UInt64(parts[0]),
                let count = parts.count == 2 ? Int(parts[1]) : 1, count > 0
            else {
                throw ValidationError("--tamper-signature \(value): expected a block number and an optional count, N[:COUNT]")
            }
            result[number, default: 0] += count
        }
        return result
    }

    private func makeConfiguration() throws -> (DevOrdererConfiguration, any SigningIdentity) {
        var (configuration, signer) = try self.makeBaseConfiguration()
        configuration.tamperedSignatures = try self.tamperedSignatures()
        return (configuration, signer)
    }

    private func makeBaseConfiguration() throws -> (DevOrdererConfiguration, any SigningIdentity) {
        var genesisFiles = self.genesisBlock.map { URL(fileURLWithPath: $0) }
        if let channelsDir = self.channelsDir {
            genesisFiles += ChannelDirectoryWatcher.blockFiles(in: URL(fileURLWithPath: channelsDir))
        }
        var tls: DevOrdererConfiguration.TLS?
        if let cert = self.tlsCert, let key = self.tlsKey {
            tls = .init(
                certificateChainPEM: try Self.read(cert),
                privateKeyPEM: try Self.read(key),
                clientRootCAsPEM: self.tlsClientCa.isEmpty ? nil : try self.tlsClientCa.map(Self.read)
            )
        }
        if let network = self.network {
            let directory = URL(fileURLWithPath: network)
            let manifest = try NetworkManifest.load(from: directory)
            let org = manifest.ordererOrganization
            guard let node = self.orderer.map({ name in org.orderers.first { $0.name == name } }) ?? org.orderers.first
            else {
                throw DevOrdererError(
                    .badConfiguration,
                    "network.json has no orderer \(self.orderer ?? "") (orderers: "
                        + "\(org.orderers.map(\.name).joined(separator: ", ")))"
                )
            }
            genesisFiles.insert(NetworkManifest.url(manifest.genesisBlock, in: directory), at: 0)
            if self.tls, tls == nil {
                tls = .init(
                    certificateChainPEM: try Self.read(
                        NetworkManifest.url(node.identity.tlsCertificate, in: directory).path
                    ),
                    privateKeyPEM: try Self.read(NetworkManifest.url(node.identity.tlsKey, in: directory).path),
                    clientRootCAsPEM: self.tlsClientCa.isEmpty ? nil : try self.tlsClientCa.map(Self.read)
                )
            }
            let signer = try manifest.signingIdentity(of: node.identity, in: org, directory: directory)
            let data =
                self.data.map { URL(fileURLWithPath: $0) }
                ?? directory.appendingPathComponent("orderer-data").appendingPathComponent(node.name)
            let blocks = try genesisFiles.map { url throws(DevOrdererError) in try DevOrderer.readBlock(url) }
            return (
                DevOrdererConfiguration(
                    dataDirectory: data,
                    listenAddress: self.listen ?? node.endpoint,
                    tls: tls,
                    genesisBlocks: blocks
                ),
                signer
            )
        }
        let blocks = try genesisFiles.map { url throws(DevOrdererError) in try DevOrderer.readBlock(url) }
        let signer = try DevOrderer.loadSigner(
            mspDirectory: URL(fileURLWithPath: self.mspDir ?? ""),
            mspID: self.mspID,
            genesisBlocks: blocks
        )
        return (
            DevOrdererConfiguration(
                dataDirectory: URL(fileURLWithPath: self.data ?? ""),
                listenAddress: self.listen ?? "",
                tls: tls,
                genesisBlocks: blocks
            ),
            signer
        )
    }

    private static func read(_ path: String) throws(DevOrdererError) -> Data {
        do {
            return try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw DevOrdererError(.badConfiguration, "cannot read \(path)", cause: error)
        }
    }
}

/// Prints "listening on HOST:PORT" once the orderer has bound its address, so a script can wait for it.
struct AddressPrinter: Service {
    let orderer: DevOrderer

    func run() async throws {
        let address = try await self.orderer.listeningAddress()
        let channels = self.orderer.channelIDs.joined(separator: ",")
        FileHandle.standardOutput.write(Data("listening on \(address) channels=\(channels)\n".utf8))
        try? await gracefulShutdown()
    }
}

/// Serves the genesis blocks that appear in a directory while the orderer runs (an admin's way to add a channel).
struct ChannelDirectoryWatcher: Service {
    let orderer: DevOrderer
    let directory: URL
    let interval: Duration
    let logger: Logger

    static func blockFiles(in directory: URL) -> [URL] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { $0.hasSuffix(".block") }.sorted().map { directory.appendingPathComponent($0) }
    }

    func run() async throws {
        await cancelWhenGracefulShutdown { await self.scan() }
    }

    private func scan() async {
        var refused: Set<String> = []
        while !Task.isCancelled {
            for url in Self.blockFiles(in: self.directory) where !refused.contains(url.path) {
                do throws(DevOrdererError) {
                    let block = try DevOrderer.readBlock(url)
                    let known = self.orderer.channelIDs
                    let channel = try self.orderer.addChannel(genesisBlock: block)
                    if !known.contains(channel.channelID) {
                        self.logger.info("added channel \(channel.channelID) from \(url.path)")
                    }
                } catch {
                    refused.insert(url.path)
                    self.logger.error("\(url.path) not served: \(error.message)")
                }
            }
            try? await Task.sleep(for: self.interval)
        }
    }
}
