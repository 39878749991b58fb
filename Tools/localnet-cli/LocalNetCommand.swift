import ArgumentParser
import Foundation
import LocalNet
import UnixSignals
import Wire

@main
struct LocalNetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "localnet",
        abstract: "Run a local Fabric network of this project's processes and drive a workload through it.",
        discussion: """
            Generates a network with netgen (2 orgs × 2 peers, channel mychannel), starts the dev orderer and \
            four `peer node start` processes on 127.0.0.1 (leader election, state transfer), joins every peer, \
            sends endorsed transactions through Broadcast, and prints each peer's height, commit hash and state \
            fingerprint and whether all agree. Ctrl-C stops every process cleanly. Logs: DIR/logs/.
            """
    )

    @Option(help: "Folder for the network, ledgers and logs (replaced).")
    var dir: String = ".localnet"

    @Option(help: "Endorsed transactions to send after the chaincode definition.")
    var transactions: Int = 1000

    @Option(
        help: "Transactions with private data (one org-only collection, one of all orgs, one with BTL 2), each distributed by peer0 of the first org before it is ordered."
    )
    var privateTransactions: Int = 10

    @Option(help: "The orderer's port; peers use ports above it (org k, peer i: +1+1000k+100i).")
    var basePort: Int = 7050

    @Flag(help: "Keep the network running after the workload until Ctrl-C.")
    var keepRunning = false

    @Flag(help: "TLS everywhere: mutual TLS for gossip and the admin services, TLS to the orderer.")
    var tls = false

    func run() async throws {
        let executables = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
            .deletingLastPathComponent()
        var options = LocalNetwork.Options(directory: URL(fileURLWithPath: self.dir), executables: executables)
        options.basePort = self.basePort
        options.tls = self.tls
        for tool in ["peer", "dev-orderer"]
        where !FileManager.default.isExecutableFile(atPath: executables.appendingPathComponent(tool).path) {
            throw ValidationError("\(tool) is not built next to localnet in \(executables.path); run `swift build` first")
        }
        print("generating the network in \(options.directory.path) …")
        let network = try LocalNetwork(options: options)
        let processes = ProcessList()
        let signals = await UnixSignalsSequence(trapping: .sigint, .sigterm)
        let interrupted = Task {
            for await _ in signals {
                print("\nstopping …")
                await processes.stopAll()
                Foundation.exit(130)
            }
        }
        defer { interrupted.cancel() }
        do {
            try await self.drive(network, processes)
        } catch {
            print("error: \(error)")
            await processes.stopAll()
            throw ExitCode.failure
        }
        if self.keepRunning {
            print("the network keeps running; Ctrl-C stops it")
            try await Task.sleep(for: .seconds(365 * 24 * 3600))
        }
        await processes.stopAll()
    }

    private func drive(_ network: LocalNetwork, _ processes: ProcessList) async throws {
        let orderer = try await network.startOrderer()
        await processes.add(orderer)
        print("orderer listening on \(network.ordererAddress)")
        for index in network.peers.indices {
            let peer = try await network.startPeer(index)
            await processes.add(peer)
            try await network.join(index)
            print("\(network.peers[index].name) started on \(network.peers[index].endpoint) and joined mychannel")
        }
        let workload = try network.workload()
        _ = try await network.broadcast([try workload.definition()])
        try await self.waitForAgreement(network, minimumHeight: 2, label: "chaincode definition")
        var height: UInt64 = 2
        if self.privateTransactions > 0 {
            // The endorser's part: peer0 of the first org stores the private writes and pushes them to eligible
            // peers (retried until its gossip view holds the channel's other peers), then the transactions are
            // ordered; each peer commits the values of its collections and the hashes of the others.
            var envelopes: [Common_Envelope] = []
            for index in 0..<self.privateTransactions {
                let transaction = try workload.privateTransaction(index, height: height)
                try await network.distribute(transaction, via: 0, blockHeight: height)
                envelopes.append(transaction.envelope)
                Self.progress("distributed private data", fraction: Double(index + 1) / Double(self.privateTransactions),
                              detail: "\(index + 1)/\(self.privateTransactions)")
            }
            print("")
            let accepted = try await network.broadcast(envelopes)
            guard accepted == envelopes.count else {
                throw LocalNetworkError("the orderer accepted \(accepted) of \(envelopes.count) private transactions")
            }
            let max = Int(network.options.maxMessageCount)
            height += UInt64((envelopes.count + max - 1) / max)
            try await self.waitForAgreement(network, minimumHeight: height, label: "private transactions")
            print("")
            height = await network.infos().compactMap { $0?.height }.min() ?? height
        }
        let chunk = 100
        var sent = 0
        let started = ContinuousClock.now
        while sent < self.transactions {
            let count = min(chunk, self.transactions - sent)
            let envelopes = try (sent..<(sent + count)).map { try workload.transaction($0) }
            let accepted = try await network.broadcast(envelopes)
            guard accepted == count else {
                throw LocalNetworkError("the orderer accepted \(accepted) of \(count) transactions; see the orderer log")
            }
            sent += count
            let heights = await network.infos().map { $0.map { "\($0.height)" } ?? "-" }
            Self.progress("sent \(sent)/\(self.transactions)", fraction: Double(sent) / Double(self.transactions),
                          detail: "heights \(heights.joined(separator: " "))")
        }
        print("")
        let blocks = Int(height) + (self.transactions + Int(network.options.maxMessageCount) - 1) / Int(network.options.maxMessageCount)
        try await self.waitForAgreement(network, minimumHeight: UInt64(blocks), label: "workload")
        let elapsed = ContinuousClock.now - started
        let infos = await network.infos()
        print("")
        print("peer                         height  commit hash        state fingerprint")
        for (peer, info) in zip(network.peers, infos) {
            guard let info else {
                print("\(peer.name.padding(toLength: 28, withPad: " ", startingAt: 0)) (no answer)")
                continue
            }
            print(
                "\(peer.name.padding(toLength: 28, withPad: " ", startingAt: 0)) \(String(info.height).padding(toLength: 7, withPad: " ", startingAt: 0)) "
                    + "\(Self.hex(info.commitHash.prefix(8)))   \(Self.hex(info.stateFingerprint.prefix(8)))"
            )
        }
        let agree = Set(infos.compactMap { $0.map { "\($0.height)/\(Self.hex($0.commitHash))/\(Self.hex($0.stateFingerprint))" } })
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        print(String(format: "%d transactions in %.1f s (%.0f tx/s end to end)", self.transactions, seconds, Double(self.transactions) / seconds))
        print(agree.count == 1 && infos.allSatisfy { $0 != nil } ? "all peers agree" : "PEERS DISAGREE")
        if agree.count != 1 { throw LocalNetworkError("the peers' ledgers differ") }
    }

    /// Waits until every peer answers with the same height (at least `minimumHeight`), commit hash and fingerprint.
    private func waitForAgreement(_ network: LocalNetwork, minimumHeight: UInt64, label: String) async throws {
        let deadline = ContinuousClock.now + .seconds(300)
        while ContinuousClock.now < deadline {
            let infos = await network.infos()
            let heights = infos.map { $0?.height ?? 0 }
            Self.progress("committing \(label)", fraction: Double(heights.min() ?? 0) / Double(minimumHeight),
                          detail: "heights \(heights.map(String.init).joined(separator: " "))")
            if let first = infos.first, let first, first.height >= minimumHeight,
                infos.allSatisfy({ $0?.height == first.height && $0?.commitHash == first.commitHash
                    && $0?.stateFingerprint == first.stateFingerprint })
            {
                return
            }
            try await Task.sleep(for: .milliseconds(250))
        }
        throw LocalNetworkError("the peers did not agree on the \(label) within 300 s; see \(network.options.directory.path)/logs")
    }

    static func progress(_ title: String, fraction: Double, detail: String) {
        let width = 30
        let filled = max(0, min(width, Int(fraction * Double(width))))
        let bar = String(repeating: "#", count: filled) + String(repeating: " ", count: width - filled)
        FileHandle.standardOutput.write(Data("\r[\(bar)] \(title)  \(detail)   ".utf8))
    }

    static func hex(_ data: Data) -> String { data.map { String(format: "%02x", $0) }.joined() }
}

/// The started processes, stopped in reverse order (peers first, then the orderer).
actor ProcessList {
    private var processes: [ManagedProcess] = []

    func add(_ process: ManagedProcess) { self.processes.append(process) }

    func stopAll() async {
        for process in self.processes.reversed() where process.isRunning {
            let status = await process.stop()
            print("\(process.name) stopped (status \(status))")
        }
        self.processes = []
    }
}
