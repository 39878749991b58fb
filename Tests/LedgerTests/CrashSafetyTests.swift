import Foundation
import GRDB
import Ledger
import SwiftProtobuf
import TestSupport
import Testing
import Wire

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Kill -9 at random moments: a child process (`bench replay --ledger DIR --private-data DIR`) commits the
/// conformance chain with the private data peer0.org1 held, and is killed with SIGKILL; after every kill the ledger
/// reopens (recovering) to exactly the state a clean run has at the same height — same blocks, same public and
/// private state, same private data store, no transaction indexed twice — and the next child resumes.
///
/// `LEDGER_CRASH_KILLS` sets the number of kills (default 20); `Tools/crash-loop.sh` runs many more.
@Suite(
    "Crash safety (SIGKILL)",
    .enabled(if: Conformance.isAvailable, Conformance.missingReason),
    .enabled(
        if: BuiltProducts.executable("bench") != nil,
        "the bench executable is not built next to the tests (swift build --build-tests)"
    )
)
struct CrashSafetyTests {
    /// What a clean run looks like at each height.
    struct Reference {
        var blockBytes: [Data] = []
        var fingerprints: [Data] = []  // index h-1: state after h blocks
        var privateStores: [Data] = []  // index h-1: the private data store's content after h blocks
    }

    /// Writes `privateData` as `bench replay --private-data` reads it: N.pvtdata, a gossip Payload whose
    /// private_data elements are PvtDataPayloads (built here from the generated messages, not by BenchKit).
    static func writePrivateData(_ privateData: [UInt64: [TxPrivateData]], to directory: URL) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        for (block, txs) in privateData {
            var payload = Gossip_Payload()
            payload.seqNum = block
            payload.privateData = try txs.map { tx in
                var element = Gossip_PvtDataPayload()
                element.txSeqInBlock = tx.txIndex
                element.payload = try tx.writeSet.serializedBytes()
                return try element.serializedBytes()
            }
            try (payload.serializedBytes() as Data).write(to: directory.appendingPathComponent("\(block).pvtdata"))
        }
    }

    /// The private data store's content below the ledger's height, as one digest.
    static func privateStore(_ ledger: PeerLedger) throws -> Data {
        let hasher = DigestHasher()
        for number in 0..<ledger.height {
            for tx in try ledger.privateData(block: number) {
                hasher.update(Data("\(number)/\(tx.txIndex):".utf8))
                hasher.update(try tx.writeSet.serializedBytes() as Data)
            }
        }
        return hasher.finalize()
    }

    static func reference(_ directory: TemporaryDirectory) async throws -> Reference {
        let manager = try LedgerManager(rootDirectory: directory.url, configuration: LedgerFixtures.configuration())
        defer { manager.close() }
        let ledger = try manager.createLedger(genesisBlock: try Conformance.block(0))
        let validator = ReferenceFilterValidator(directory: try Conformance.url("peer0.org1"))
        var reference = Reference()
        func record() throws {
            reference.blockBytes.append(try #require(try ledger.blockStore.blockBytes(number: ledger.height - 1)))
            reference.fingerprints.append(try ledger.stateFingerprint())
            try Self.checkTxIndex(ledger, against: reference.blockBytes, height: ledger.height)
            reference.privateStores.append(try Self.privateStore(ledger))
        }
        try record()
        let privateData = try LedgerFixtures.conformancePrivateData()
        #expect(!privateData.isEmpty)
        for number in try Conformance.blockNumbers() where number > 0 {
            try await ledger.commit(
                try Conformance.block(number),
                validator: validator,
                privateData: privateData[number] ?? []
            )
            try record()
        }
        return reference
    }

    /// Checks the ledger's tx index through its API (rows may still be staged in memory): every tx id of the
    /// clean run's blocks has exactly the entries of the blocks below `height`, with their stored codes.
    static func checkTxIndex(_ ledger: PeerLedger, against blocks: [Data], height: UInt64) throws {
        var expected: [String: [TxIndexEntry]] = [:]
        for (number, bytes) in blocks.enumerated() {
            let block = try Common_Block(serializedBytes: bytes)
            let filter = PeerLedger.filter(of: block)
            for (index, txID) in BlockStore.txIDs(of: block).enumerated() where !txID.isEmpty {
                expected[txID, default: []].append(
                    TxIndexEntry(
                        blockNumber: UInt64(number),
                        txNumber: UInt64(index),
                        validationCode: index < filter.count
                            ? Protos_TxValidationCode(rawValue: Int(filter[filter.startIndex + index]))
                                ?? .invalidOtherReason : .valid
                    )
                )
            }
        }
        #expect(!expected.isEmpty)
        for (txID, entries) in expected {
            let below = entries.filter { $0.blockNumber < height }
            #expect(try ledger.transactionEntries(txID: txID) == below, "tx \(txID) at height \(height)")
            #expect(try ledger.txIDExists(txID) == !below.isEmpty, "tx \(txID) at height \(height)")
        }
    }

    /// Opens the ledger under `root` (running recovery) and checks it against the clean run; returns its height.
    static func verify(_ root: URL, against reference: Reference) throws -> UInt64 {
        let manager = try LedgerManager(rootDirectory: root, configuration: LedgerFixtures.configuration())
        defer { manager.close() }
        guard manager.ledgerExists(id: "conformance") else { return 0 }
        let ledger = try manager.openLedger(id: "conformance")
        let height = ledger.height
        #expect(height >= 1 && height <= UInt64(reference.blockBytes.count))
        guard height >= 1 else { return height }
        for number in 0..<height {
            #expect(
                try ledger.blockStore.blockBytes(number: number) == reference.blockBytes[Int(number)],
                "block \(number)"
            )
        }
        #expect(ledger.blockStore.height == height, "no unindexed block left after recovery")
        #expect(try ledger.stateFingerprint() == reference.fingerprints[Int(height) - 1], "state at height \(height)")
        try Self.checkTxIndex(ledger, against: reference.blockBytes, height: height)
        #expect(
            try Self.privateStore(ledger) == reference.privateStores[Int(height) - 1],
            "private data store at height \(height)"
        )
        return height
    }

    /// Starts `bench replay` into `ledgerRoot`; it appends one JSON line to `progress` after each block it commits.
    static func launch(_ bench: URL, ledgerRoot: URL, privateData: URL, progress: URL) throws -> ChildProcess {
        let conformance = try #require(Conformance.directory)
        let process = ChildProcess(executable: bench, arguments: [
            "replay",
            "--genesis", conformance.appendingPathComponent("genesis.block").path,
            "--blocks", conformance.appendingPathComponent("orderer").path,
            "--ledger", ledgerRoot.path,
            "--private-data", privateData.path,
            "--out", progress.path,
            "--ceiling-seconds", "0",
            // A process kill loses nothing the kernel already has; fsync only matters for power loss.
            "--no-sync",
        ])
        try process.start()
        return process
    }

    /// Waits until `progress` holds at least `lines` lines or the child has exited.
    static func waitForProgress(_ progress: URL, lines: Int, of process: ChildProcess) async throws {
        let deadline = ContinuousClock.now + .seconds(120)
        while process.isRunning, ContinuousClock.now < deadline {
            let text = (try? Data(contentsOf: progress)) ?? Data()
            if text.reduce(0, { $0 + ($1 == 0x0A ? 1 : 0) }) >= lines { return }
            try await Task.sleep(for: .milliseconds(1))
        }
    }

    @Test func killedReplaysRecoverToTheCleanState() async throws {
        let bench = try #require(BuiltProducts.executable("bench"))
        let kills = Int(ProcessInfo.processInfo.environment["LEDGER_CRASH_KILLS"] ?? "") ?? 20
        let scratch = try TemporaryDirectory("crash")
        defer { scratch.remove() }
        let reference = try await Self.reference(TemporaryDirectory("crash-clean"))
        #expect(Set(reference.privateStores).count > 2, "the clean chain's private data store changes with its blocks")
        let privateData = scratch.appending("pvtdata")
        try Self.writePrivateData(try LedgerFixtures.conformancePrivateData(), to: privateData)

        // A clean child run gives the clean chain.
        let cleanRoot = scratch.appending("clean")
        let clean = try Self.launch(
            bench,
            ledgerRoot: cleanRoot,
            privateData: privateData,
            progress: scratch.appending("clean.jsonl")
        )
        #expect(await clean.wait() == 0)
        #expect(try Self.verify(cleanRoot, against: reference) == 30)

        // Each kill is aimed by the child's own progress, not by a clock: after a random number of further
        // committed blocks (0: during start-up or recovery), at a random moment of the next commit. So kills land
        // at different heights however fast or loaded the machine is.
        var generator = SystemRandomNumberGenerator()
        var round = 0
        var root = scratch.appending("run-\(round)")
        var killed = 0
        var completed = 0
        var heightsSeen: Set<UInt64> = []
        var height: UInt64 = 0
        while killed < kills {
            let progress = scratch.appending("progress-\(killed)-\(completed).jsonl")
            let process = try Self.launch(bench, ledgerRoot: root, privateData: privateData, progress: progress)
            let blocksLeft = max(Int(30) - Int(height), 1)
            let target = Int.random(in: 0..<blocksLeft, using: &generator)
            try await Self.waitForProgress(progress, lines: target, of: process)
            try await Task.sleep(for: .microseconds(Int.random(in: 0...4000, using: &generator)))
            if process.isRunning {
                process.kill()
                killed += 1
            }
            _ = await process.wait()
            height = try Self.verify(root, against: reference)
            heightsSeen.insert(height)
            if height == 30 {
                // This chain is complete: start another from scratch.
                completed += 1
                round += 1
                root = scratch.appending("run-\(round)")
                height = 0
            }
        }
        // Finish the last chain without a kill: the result must be the clean chain.
        let last = try Self.launch(
            bench,
            ledgerRoot: root,
            privateData: privateData,
            progress: scratch.appending("last.jsonl")
        )
        #expect(await last.wait() == 0)
        #expect(try Self.verify(root, against: reference) == 30)
        #expect(heightsSeen.count > 1, "kills should land at different heights (saw \(heightsSeen.sorted()))")
    }
}
