import ArgumentParser
import Foundation
import Ledger
import Wire

@main
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measurements and replays of the Swift Fabric peer.",
        subcommands: [Replay.self, GossipCommand.self]
    )
}

struct Replay: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Commit a folder of orderer-delivered blocks (N.block) into a fresh ledger.",
        discussion: """
            Writes one JSON line per committed block ({"block", "txs", "filter", "commit_hash"}) and a summary \
            line. The ledger is created from --genesis in a temporary folder, or in --ledger DIR (an existing \
            ledger there is continued from its height, so a killed replay can be resumed).

            Validation is Fabric's v2.0 validation under the channel config the ledger holds (real X.509 MSPs \
            from the config, creator and endorsement signatures, chaincode definitions from `_lifecycle` state, \
            key-level policies, config updates applied), then MVCC and commit, as a Fabric v3 peer does. \
            Two stand-ins exist for comparing: --reference DIR takes each block's pre-MVCC codes from DIR/N.block \
            (blocks committed by a Fabric peer) with MVCC_READ_CONFLICT and PHANTOM_READ_CONFLICT reset to VALID, \
            so only this ledger's MVCC and commit are exercised; --structural runs only decoding, header, tx id \
            and duplicate checks.
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

    @Flag(help: "Store blocks uncompressed.")
    var noCompression = false

    @Flag(help: "Skip fsync (SQLite synchronous=NORMAL, no block-file flush): crash-safe, not power-loss-safe.")
    var noSync = false

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
        var configuration = LedgerConfiguration()
        configuration.blockStore.compress = !self.noCompression
        configuration.blockStore.syncWrites = !self.noSync
        configuration.synchronousDatabase = !self.noSync
        let output = try Output(path: self.out)
        let replay: BlockReplay
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
        let summary = try await replay.run { result in output.write(result.jsonLine) }
        output.write(summary.jsonLine)
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
