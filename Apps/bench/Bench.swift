import ArgumentParser
import BenchKit
import Foundation
import Ledger
import Wire

@main
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measurements and replays of the Swift Fabric peer.",
        subcommands: [Commit.self, Replay.self, GossipCommand.self],
        defaultSubcommand: Commit.self
    )
}

/// Storage flags shared by the subcommands.
struct StorageOptions: ParsableArguments {
    @Flag(help: "Store blocks uncompressed.")
    var noCompression = false

    @Option(help: "How blocks are compressed: zstd (the default) or zlib.")
    var compression = BlockStoreConfiguration().compression.rawValue

    @Flag(help: "Skip fsync (SQLite synchronous=NORMAL, no block-file flush): crash-safe, not power-loss-safe.")
    var noSync = false

    @Option(
        help: "Key ranges of the tx index: block n's commit writes the staged rows of range n mod N (1: every row at its block's commit)."
    )
    var txIndexSlices = BlockStoreConfiguration().txIndexSlices

    @Option(help: "Bits of the tx-id filter that answers DUPLICATE_TXID look-ups of new tx ids in memory (0: off).")
    var txIDFilterBits = BlockStoreConfiguration().txIDFilterBits

    mutating func validate() throws {
        guard BlockStoreConfiguration.Compression(rawValue: self.compression) != nil else {
            throw ValidationError("--compression must be zstd or zlib, not '\(self.compression)'")
        }
    }

    var configuration: LedgerConfiguration {
        var configuration = LedgerConfiguration()
        configuration.blockStore.compress = !self.noCompression
        configuration.blockStore.compression = BlockStoreConfiguration.Compression(rawValue: self.compression) ?? .zstd
        configuration.blockStore.syncWrites = !self.noSync
        configuration.blockStore.txIndexSlices = self.txIndexSlices
        configuration.blockStore.txIDFilterBits = self.txIDFilterBits
        configuration.synchronousDatabase = !self.noSync
        return configuration
    }
}

struct Commit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure block commit against the machine's signature ceiling.",
        discussion: """
            Generates a network with netgen's code and a workload of signed, endorsed transactions (client and \
            endorsing peers of the network, chaincode `basic` defined in `_lifecycle` by a committed block), \
            writes every block to disk, then commits them through the real ledger (Fabric's validation, MVCC, \
            block files, state, private data, fsync per block) and reports tx/s, blocks/s, p50/p99 block commit \
            latency, CPU, peak RSS, bytes on disk, and the signature ceiling measured in the same run: ECDSA \
            verifies/s per core (every core verifying at once) × cores ÷ signatures per tx. Every committed code is checked against the code \
            the workload intended; a difference fails the run.
            """
    )

    @Option(help: "Workload blocks (after the chaincode-definition block).")
    var blocks = 200

    @Option(name: .customLong("txs"), help: "Transactions per block.")
    var transactionsPerBlock = 500

    @Option(help: "Endorsements per transaction (the network gets one org per endorsement).")
    var endorsements = 2

    @Option(help: "Public reads per transaction (at the versions earlier blocks wrote).")
    var reads = 2

    @Option(help: "Public writes per transaction.")
    var writes = 2

    @Option(help: "Bytes per written value.")
    var valueSize = 100

    @Option(help: "Fraction of transactions that also write private data (0…1).")
    var privateFraction = 0.0

    @Option(help: "Fraction of transactions that read a stale version (MVCC_READ_CONFLICT).")
    var conflictFraction = 0.0

    @Option(help: "Fraction of transactions with a bad creator or endorsement signature.")
    var badSignatureFraction = 0.0

    @Option(help: "Seed of the workload's nonces and values.")
    var seed: UInt64 = 1

    @Option(help: "Keep the workload and the ledger in this (empty) folder instead of a temporary one.")
    var workDir: String?

    @Flag(help: "Validate and commit one block at a time (no overlap of validation and commit).")
    var noPipeline = false

    @Option(help: "Seconds for each signature-ceiling measurement.")
    var ceilingSeconds = 1.5

    @Option(
        help: "Measure the ceiling again after every N committed blocks (the commit paused, its time left out), besides before and after; 0: only before and after."
    )
    var ceilingEvery = 50

    @Option(help: "Threads verifying at once in the ceiling measurements (default: one per core).")
    var ceilingThreads = ProcessInfo.processInfo.activeProcessorCount

    @Option(help: "Blocks fetched and prepared (decoded, signatures verified) while one commits.")
    var prepareAhead = 2

    @Option(
        name: .customLong("repeat"),
        help: "Timed runs of the one generated workload (each into a fresh ledger, with its own ceiling); the figures are those of the run with the median ratio, and run_ratios lists every run's."
    )
    var repeats = 1

    @OptionGroup var storage: StorageOptions

    @Flag(help: "Print one JSON object with every figure instead of the summary.")
    var json = false

    func run() async throws {
        let options = WorkloadOptions(
            blocks: self.blocks,
            transactionsPerBlock: self.transactionsPerBlock,
            endorsementsPerTransaction: self.endorsements,
            readsPerTransaction: self.reads,
            writesPerTransaction: self.writes,
            valueSize: self.valueSize,
            privateFraction: self.privateFraction,
            conflictFraction: self.conflictFraction,
            badSignatureFraction: self.badSignatureFraction,
            seed: self.seed
        )
        var benchmark = CommitBenchmark(
            options: options,
            workDirectory: self.workDir.map { URL(fileURLWithPath: $0) },
            configuration: self.storage.configuration,
            pipelined: !self.noPipeline,
            ceilingSeconds: self.ceilingSeconds,
            ceilingThreads: self.ceilingThreads,
            prepareAhead: self.prepareAhead
        )
        guard self.repeats >= 1 else {
            FileHandle.standardError.write(Data("bench commit: --repeat must be at least 1\n".utf8))
            throw ExitCode.validationFailure
        }
        benchmark.repeats = self.repeats
        guard self.ceilingEvery >= 0 else {
            FileHandle.standardError.write(Data("bench commit: --ceiling-every must not be negative\n".utf8))
            throw ExitCode.validationFailure
        }
        benchmark.ceilingEvery = self.ceilingEvery
        let bar = ProgressBar()
        let report: BenchReport
        do {
            report = try await benchmark.run { phase, done, total in bar.update(phase.rawValue, done, total) }
        } catch {
            bar.finish()
            FileHandle.standardError.write(Data("bench commit: \(error)\n".utf8))
            throw ExitCode.failure
        }
        bar.finish()
        print(self.json ? report.json : report.text)
    }
}

struct Replay: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Commit a folder of orderer-delivered blocks (N.block) into a fresh ledger.",
        discussion: """
            Writes one JSON line per committed block ({"block", "txs", "filter", "commit_hash"}) and a summary \
            line with the figures `bench commit` reports (tx_per_s, p50_ms, p99_ms, peak_rss_mb, bytes_on_disk, \
            ceiling_tx_per_s, ratio, …; the genesis block is not counted) plus height, valid and \
            last_commit_hash. The ledger is created from --genesis in a temporary folder, or in --ledger DIR (an \
            existing ledger there is continued from its height, so a killed replay can be resumed).

            Validation is Fabric's v2.0 validation under the channel config the ledger holds (real X.509 MSPs \
            from the config, creator and endorsement signatures, chaincode definitions from `_lifecycle` state, \
            key-level policies, config updates applied), then MVCC and commit, as a Fabric v3 peer does. \
            Two stand-ins exist for comparing: --reference DIR takes each block's pre-MVCC codes from DIR/N.block \
            (blocks committed by a Fabric peer) with MVCC_READ_CONFLICT and PHANTOM_READ_CONFLICT reset to VALID, \
            so only this ledger's MVCC and commit are exercised; --structural runs only decoding, header, tx id \
            and duplicate checks. With --private-data DIR each block is committed with the private data of \
            DIR/N.pvtdata, checked against the block's hashes, stored and applied to private state.
            """
    )

    @Option(help: "The channel's genesis block.")
    var genesis: String

    @Option(help: "Folder of raw blocks named N.block (0.block, if present, is the genesis block itself).")
    var blocks: String

    @Option(help: "Write the JSON lines here instead of standard output.")
    var out: String?

    @Option(help: "Ledger root folder (default: a new temporary folder, removed afterwards).")
    var ledger: String?

    @Option(help: "Stand-in validation: folder of blocks committed by a Fabric peer to take codes from.")
    var reference: String?

    @Flag(help: "Stand-in validation: structural checks only (no signatures or policies).")
    var structural = false

    @Option(
        help: """
            Folder of private data committed with the blocks: N.pvtdata holds block N's as a serialized gossip \
            Payload (seq_num N, one PvtDataPayload per transaction in private_data), as in Fabric's state transfer.
            """
    )
    var privateData: String?

    @OptionGroup var storage: StorageOptions

    @Option(help: "Seconds for each of the two signature-ceiling measurements (0: skip the ceiling).")
    var ceilingSeconds = 1.0

    @Flag(help: "Validate and commit one block at a time (no overlap of validation and commit).")
    var noPipeline = false

    @Flag(help: "Print only one JSON object with every figure (the per-block lines still go to --out).")
    var json = false

    func run() async throws {
        let genesisBlock = try Common_Block(
            decoding: Data(contentsOf: URL(fileURLWithPath: self.genesis)),
            field: self.genesis
        )
        let temporary = self.ledger == nil
        let root =
            self.ledger.map { URL(fileURLWithPath: $0) }
            ?? FileManager.default.temporaryDirectory.appendingPathComponent("bench-replay-\(UUID().uuidString)")
        defer { if temporary { try? FileManager.default.removeItem(at: root) } }
        let configuration = self.storage.configuration
        let output = try Output(path: self.out ?? (self.json ? "/dev/null" : nil))
        var replay: BlockReplay
        if let reference = self.reference {
            replay = BlockReplay(
                genesis: genesisBlock,
                blocksDirectory: URL(fileURLWithPath: self.blocks),
                ledgerRoot: root,
                validator: ReferenceFilterValidator(directory: URL(fileURLWithPath: reference)),
                configuration: configuration
            )
        } else if self.structural {
            replay = BlockReplay(
                genesis: genesisBlock,
                blocksDirectory: URL(fileURLWithPath: self.blocks),
                ledgerRoot: root,
                validator: StructuralValidator(),
                configuration: configuration
            )
        } else {
            replay = BlockReplay(
                genesis: genesisBlock,
                blocksDirectory: URL(fileURLWithPath: self.blocks),
                ledgerRoot: root,
                configuration: configuration
            )
        }
        replay.pipelined = !self.noPipeline
        if let privateData = self.privateData {
            let files = try PrivateDataFiles(directory: URL(fileURLWithPath: privateData))
            replay.privateData = { number in try files.privateData(block: number) }
        }
        var summary: BlockReplay.Summary?
        let report = try await ReplayBenchmark(replay: replay, ceilingSeconds: self.ceilingSeconds).run(
            onBlock: { result in output.write(result.jsonLine) },
            onSummary: { summary = $0 }
        )
        if self.json {
            print(report.json)
        } else if let summary {
            output.write(
                report.summaryLine(
                    height: summary.height,
                    valid: summary.validTransactions,
                    lastCommitHash: summary.lastCommitHash
                )
            )
        }
    }
}

/// Standard output or a file; every line is written (and flushed) at once.
final class Output {
    private let handle: FileHandle

    init(path: String?) throws {
        if let path {
            _ = FileManager.default.createFile(atPath: path, contents: nil)
            guard let handle = FileHandle(forWritingAtPath: path) else {
                throw ValidationError("cannot write \(path)")
            }
            self.handle = handle
        } else {
            self.handle = FileHandle.standardOutput
        }
    }

    func write(_ line: String) {
        self.handle.write(Data((line + "\n").utf8))
    }
}
