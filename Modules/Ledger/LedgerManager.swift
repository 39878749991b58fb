public import Foundation
public import Logging
internal import Synchronization
public import Wire

/// Creates and opens the ledgers (one per channel) under a root directory.
///
/// Layout: `<root>/ledgers/<ledger id>/` holds `ledger.sqlite` (block index, state, private data) and
/// `chains/blockfile_NNNNNN`. A ledger counts as existing once its genesis block is committed and the `ready`
/// marker is written; a directory without the marker is the remains of an interrupted creation and is removed
/// when the manager starts. One process at a time may use a root (`<root>/ledgers.lock`).
public final class LedgerManager: Sendable {
    /// The root directory.
    public let rootDirectory: URL
    let configuration: LedgerConfiguration
    let logger: Logger
    private let lock: Mutex<DirectoryLock?>
    private let opened = Mutex<[String: PeerLedger]>([:])

    private var ledgersDirectory: URL { self.rootDirectory.appendingPathComponent("ledgers") }

    /// Opens the manager on `rootDirectory`, creating it when absent.
    public init(
        rootDirectory: URL,
        configuration: LedgerConfiguration = LedgerConfiguration(),
        logger: Logger = Logger(label: "ledger.manager")
    ) throws(LedgerError) {
        self.rootDirectory = rootDirectory
        self.configuration = configuration
        self.logger = logger
        let ledgers = rootDirectory.appendingPathComponent("ledgers")
        try LedgerError.wrapping("cannot create \(ledgers.path)") {
            try FileManager.default.createDirectory(at: ledgers, withIntermediateDirectories: true)
        }
        self.lock = Mutex(try DirectoryLock(path: rootDirectory.appendingPathComponent("ledgers.lock").path))
        for name in try self.directoryNames() where !self.isReady(name) {
            logger.warning("removing ledger \(name): its creation was interrupted before the genesis block committed")
            try? FileManager.default.removeItem(at: ledgers.appendingPathComponent(name))
        }
    }

    private func directoryNames() throws(LedgerError) -> [String] {
        try LedgerError.wrapping("cannot list \(self.ledgersDirectory.path)") {
            try FileManager.default.contentsOfDirectory(atPath: self.ledgersDirectory.path)
        }.filter { !$0.hasPrefix(".") }.sorted()
    }

    private func isReady(_ id: String) -> Bool {
        FileManager.default.fileExists(
            atPath: self.ledgersDirectory.appendingPathComponent(id).appendingPathComponent("ready").path
        )
    }

    /// The ids of the existing ledgers, sorted.
    public func ledgerIDs() throws(LedgerError) -> [String] {
        try self.directoryNames().filter { self.isReady($0) }
    }

    /// Creates the ledger of the channel that `genesisBlock` starts and commits the block (all its transactions
    /// valid, as Fabric does for a genesis block). Refuses an id that already exists.
    public func createLedger(genesisBlock: Common_Block) throws(LedgerError) -> PeerLedger {
        try self.checkOpen()
        let id = try Self.channelID(of: genesisBlock)
        try Self.checkID(id)
        guard genesisBlock.header.number == 0 else {
            throw LedgerError(
                code: .invalidArgument,
                message: "a ledger is created from block 0; block \(genesisBlock.header.number) was given"
            )
        }
        return try self.opened.withLock { (opened) throws(LedgerError) -> PeerLedger in
            if opened[id] != nil || self.isReady(id) {
                throw LedgerError(code: .ledgerExists, message: "ledger \(id) already exists")
            }
            let directory = self.ledgersDirectory.appendingPathComponent(id)
            try? FileManager.default.removeItem(at: directory)
            let ledger = try PeerLedger(
                id: id,
                directory: directory,
                configuration: self.configuration,
                logger: self.logger
            )
            try ledger.commit(
                genesisBlock,
                validationCodes: Array(repeating: .valid, count: genesisBlock.data.data.count)
            )
            let marker = directory.appendingPathComponent("ready")
            try LedgerError.wrapping("cannot mark ledger \(id) ready") {
                try Data(id.utf8).write(to: marker, options: .atomic)
            }
            syncDirectory(directory.path)
            opened[id] = ledger
            return ledger
        }
    }

    /// Opens an existing ledger (the same instance when it is already open), recovering it if needed.
    public func openLedger(id: String) throws(LedgerError) -> PeerLedger {
        try self.checkOpen()
        try Self.checkID(id)
        return try self.opened.withLock { (opened) throws(LedgerError) -> PeerLedger in
            if let ledger = opened[id] { return ledger }
            guard self.isReady(id) else {
                throw LedgerError(code: .ledgerNotFound, message: "ledger \(id) does not exist")
            }
            let ledger = try PeerLedger(
                id: id,
                directory: self.ledgersDirectory.appendingPathComponent(id),
                configuration: self.configuration,
                logger: self.logger
            )
            opened[id] = ledger
            return ledger
        }
    }

    private func checkOpen() throws(LedgerError) {
        guard self.lock.withLock({ $0 != nil }) else {
            throw LedgerError(code: .closed, message: "the ledger manager of \(self.rootDirectory.path) is closed")
        }
    }

    /// Whether a ledger with `id` exists.
    public func ledgerExists(id: String) -> Bool { self.isReady(id) }

    /// Closes every open ledger and releases the root directory for another manager or process.
    public func close() {
        let ledgers = self.opened.withLock { opened in
            defer { opened.removeAll() }
            return Array(opened.values)
        }
        for ledger in ledgers { ledger.close() }
        self.lock.withLock { $0 = nil }
    }

    /// The channel id from the first transaction's channel header.
    public static func channelID(of block: Common_Block) throws(LedgerError) -> String {
        guard let first = block.data.data.first else {
            throw LedgerError(code: .malformedBlock, message: "block \(block.header.number) has no transactions")
        }
        do {
            let envelope = try TransactionEnvelope(bytes: first)
            return envelope.channelHeader.channelID
        } catch {
            throw LedgerError(
                code: .malformedBlock,
                message: "block \(block.header.number) tx 0 has no readable channel header",
                cause: error
            )
        }
    }

    static func checkID(_ id: String) throws(LedgerError) {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
        guard !id.isEmpty, !id.hasPrefix("."), id.count <= 249, id.allSatisfy({ allowed.contains($0) }) else {
            throw LedgerError(code: .invalidArgument, message: "\"\(id)\" is not a valid ledger id")
        }
    }
}
