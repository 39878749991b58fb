public import Foundation
public import Logging
internal import SwiftProtobuf
internal import Synchronization
public import Wire

/// Commits a folder of orderer-delivered blocks (`N.block`) into a ledger: the engine of `bench replay`.
///
/// The ledger under `ledgerRoot` is created from the genesis block, or opened when it exists, in which case
/// the replay continues at its height (blocks already committed are skipped). That makes a killed replay
/// resumable, which the crash tests rely on.
public struct BlockReplay: Sendable {
    /// One committed block.
    public struct BlockResult: Sendable {
        /// The block number.
        public var number: UInt64
        /// The number of transactions.
        public var transactionCount: Int
        /// The TRANSACTIONS_FILTER as stored.
        public var filter: Data
        /// The 32-byte commit hash, or nil (block 0).
        public var commitHash: Data?
        /// From reading the block file to the commit returning (zero for the genesis block, committed when the
        /// ledger is created).
        public var latency: Duration = .zero

        /// The JSON line `bench replay` prints.
        public var jsonLine: String {
            "{\"block\": \(self.number), \"txs\": \(self.transactionCount), \"filter\": \"\(self.filter.hexString)\", "
                + "\"commit_hash\": \"\(self.commitHash?.hexString ?? "")\"}"
        }
    }

    /// The outcome of a replay.
    public struct Summary: Sendable {
        /// Blocks committed by this run (including the genesis block when the ledger was created).
        public var committedBlocks: Int
        /// Transactions in those blocks.
        public var transactions: Int
        /// VALID transactions among them.
        public var validTransactions: Int
        /// The ledger height at the end.
        public var height: UInt64
        /// The commit hash of the last block.
        public var lastCommitHash: Data?
        /// Wall time of the commits.
        public var seconds: Double

        /// The summary JSON line `bench replay` prints last.
        public var jsonLine: String {
            let rate = self.seconds > 0 ? Double(self.transactions) / self.seconds : 0
            return "{\"summary\": true, \"blocks\": \(self.committedBlocks), \"txs\": \(self.transactions), "
                + "\"valid\": \(self.validTransactions), \"height\": \(self.height), "
                + "\"last_commit_hash\": \"\(self.lastCommitHash?.hexString ?? "")\", "
                + "\"seconds\": \(String(format: "%.3f", self.seconds)), \"tx_per_second\": \(String(format: "%.1f", rate))}"
        }
    }

    /// The genesis block.
    public var genesis: Common_Block
    /// The folder of `N.block` files.
    public var blocksDirectory: URL
    /// The ledger manager's root directory.
    public var ledgerRoot: URL
    /// Makes the validator that gives pre-MVCC codes, for the opened ledger (so a resumed replay validates
    /// under the ledger's current channel config, not the genesis one).
    public var makeValidator: @Sendable (PeerLedger) throws -> any TransactionValidator
    /// Storage settings.
    public var configuration: LedgerConfiguration
    /// Where logs go.
    public var logger: Logger
    /// Whether validation of block N+1 overlaps the commit of block N (the ledger's commit pipeline).
    public var pipelined = true
    /// The cleartext private data this peer has for block N, committed with it (nil: no private data). Called
    /// once per block, when the block is read.
    public var privateData: (@Sendable (UInt64) throws -> [TxPrivateData])?

    /// Creates a replay validating with Fabric's rules under the ledger's channel config (real MSPs).
    public init(
        genesis: Common_Block,
        blocksDirectory: URL,
        ledgerRoot: URL,
        configuration: LedgerConfiguration = LedgerConfiguration(),
        logger: Logger = Logger(label: "replay")
    ) {
        self.init(
            genesis: genesis,
            blocksDirectory: blocksDirectory,
            ledgerRoot: ledgerRoot,
            makeValidator: { ledger in try ChannelTransactionValidator(ledger: ledger) },
            configuration: configuration,
            logger: logger
        )
    }

    /// Creates a replay with a fixed validator (a stand-in, for tools and tests).
    public init(
        genesis: Common_Block,
        blocksDirectory: URL,
        ledgerRoot: URL,
        validator: any TransactionValidator,
        configuration: LedgerConfiguration = LedgerConfiguration(),
        logger: Logger = Logger(label: "replay")
    ) {
        self.init(
            genesis: genesis,
            blocksDirectory: blocksDirectory,
            ledgerRoot: ledgerRoot,
            makeValidator: { _ in validator },
            configuration: configuration,
            logger: logger
        )
    }

    /// Creates a replay whose validator is made for the opened ledger.
    public init(
        genesis: Common_Block,
        blocksDirectory: URL,
        ledgerRoot: URL,
        makeValidator: @escaping @Sendable (PeerLedger) throws -> any TransactionValidator,
        configuration: LedgerConfiguration = LedgerConfiguration(),
        logger: Logger = Logger(label: "replay")
    ) {
        self.genesis = genesis
        self.blocksDirectory = blocksDirectory
        self.ledgerRoot = ledgerRoot
        self.makeValidator = makeValidator
        self.configuration = configuration
        self.logger = logger
    }

    /// The block numbers of the `N.block` files in `directory`, ascending.
    public static func blockNumbers(in directory: URL) throws -> [UInt64] {
        try FileManager.default.contentsOfDirectory(atPath: directory.path).compactMap { name in
            name.hasSuffix(".block") ? UInt64(name.dropLast(".block".count)) : nil
        }.sorted()
    }

    /// Runs the replay, calling `onBlock` after each commit.
    public func run(onBlock: (BlockResult) throws -> Void) async throws -> Summary {
        let manager = try LedgerManager(
            rootDirectory: self.ledgerRoot,
            configuration: self.configuration,
            logger: self.logger
        )
        defer { manager.close() }
        let id = try LedgerManager.channelID(of: self.genesis)
        let clock = ContinuousClock()
        let start = clock.now
        var summary = Summary(committedBlocks: 0, transactions: 0, validTransactions: 0, height: 0, seconds: 0)
        func record(_ committed: CommittedBlock, latency: Duration = .zero) throws {
            let codes = committed.validationCodes
            summary.committedBlocks += 1
            summary.transactions += codes.count
            summary.validTransactions += codes.filter { $0 == .valid }.count
            try onBlock(
                BlockResult(
                    number: committed.number,
                    transactionCount: codes.count,
                    filter: PeerLedger.filter(of: committed.block),
                    commitHash: committed.commitHash,
                    latency: latency
                )
            )
        }
        let ledger: PeerLedger
        if manager.ledgerExists(id: id) {
            ledger = try manager.openLedger(id: id)
        } else {
            ledger = try manager.createLedger(genesisBlock: self.genesis)
            if let block = try ledger.block(number: 0) {
                let filter = PeerLedger.filter(of: block)
                try record(
                    CommittedBlock(
                        block: block,
                        validationCodes: filter.map { Protos_TxValidationCode(rawValue: Int($0)) ?? .valid },
                        commitHash: nil
                    )
                )
            }
        }
        let validator = try self.makeValidator(ledger)
        let files = BlockFileFeed(
            directory: self.blocksDirectory,
            numbers: try Self.blockNumbers(in: self.blocksDirectory).filter { $0 >= ledger.height },
            privateData: self.privateData
        )
        if self.pipelined {
            try await ledger.commit(files, validator: validator) { committed in
                try record(committed, latency: clock.now - files.loadedAt(committed.number))
            }
        } else {
            for try await request in files {
                let committed = try await ledger.commit(
                    request.block,
                    validator: validator,
                    privateData: request.privateData
                )
                try record(committed, latency: clock.now - files.loadedAt(committed.number))
            }
        }
        summary.height = ledger.height
        summary.lastCommitHash = ledger.lastCommitHash
        let elapsed = clock.now - start
        summary.seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return summary
    }
}

/// The `N.block` files of a folder as an asynchronous sequence of commit requests (with the block's private data,
/// when there is a source of it), read one at a time when the ledger asks for the next block; remembers when each
/// was read.
final class BlockFileFeed: AsyncSequence, Sendable {
    typealias Element = BlockCommitRequest

    let directory: URL
    let numbers: [UInt64]
    let privateData: (@Sendable (UInt64) throws -> [TxPrivateData])?
    private let loaded = Mutex<[UInt64: ContinuousClock.Instant]>([:])

    init(directory: URL, numbers: [UInt64], privateData: (@Sendable (UInt64) throws -> [TxPrivateData])? = nil) {
        self.directory = directory
        self.numbers = numbers
        self.privateData = privateData
    }

    /// When block `number` was read (and forgets it).
    func loadedAt(_ number: UInt64) -> ContinuousClock.Instant {
        self.loaded.withLock { $0.removeValue(forKey: number) } ?? ContinuousClock().now
    }

    struct Iterator: AsyncIteratorProtocol {
        let feed: BlockFileFeed
        var index = 0

        mutating func next() async throws -> BlockCommitRequest? {
            guard self.index < self.feed.numbers.count else { return nil }
            let number = self.feed.numbers[self.index]
            self.index += 1
            let start = ContinuousClock().now
            let url = self.feed.directory.appendingPathComponent("\(number).block")
            let block = try Common_Block(serializedBytes: try Data(contentsOf: url))
            let privateData = try self.feed.privateData?(number) ?? []
            self.feed.loaded.withLock { $0[number] = start }
            return BlockCommitRequest(block: block, privateData: privateData)
        }
    }

    func makeAsyncIterator() -> Iterator { Iterator(feed: self) }
}
