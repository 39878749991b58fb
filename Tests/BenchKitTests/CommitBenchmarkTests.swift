import BenchKit
import Foundation
import Ledger
import TestSupport
import Testing
import Wire

/// Smoke tests of `bench commit` on tiny workloads. They check what the workload means (codes, private data,
/// JSON keys), never how fast anything is.
@Suite("bench commit")
struct CommitBenchmarkTests {
    static let tiny = WorkloadOptions(
        blocks: 3,
        transactionsPerBlock: 10,
        privateFraction: 0.3,
        conflictFraction: 0.2,
        badSignatureFraction: 0.2
    )

    static func configuration() -> LedgerConfiguration {
        var configuration = LedgerConfiguration()
        configuration.blockStore.syncWrites = false
        configuration.synchronousDatabase = false
        return configuration
    }

    /// The tiny workload's benchmark in `directory`, with a short ceiling measurement.
    static func benchmark(in directory: TemporaryDirectory) -> CommitBenchmark {
        CommitBenchmark(
            options: Self.tiny,
            workDirectory: directory.url,
            configuration: Self.configuration(),
            ceilingSeconds: 0.05
        )
    }

    @Test("the intended codes come out, private data is stored, and every figure is filled in")
    func tinyWorkload() async throws {
        try await TemporaryDirectory.with("bench-commit") { directory in
            let report = try await Self.benchmark(in: directory).run()
            #expect(report.blocks == 3)
            #expect(report.transactions == 30)
            // Six bad signatures (half creator, half endorsement) and six conflicts in 30 transactions; the
            // benchmark itself fails when any code differs from the intended one.
            #expect(report.codes["BAD_CREATOR_SIGNATURE"] == 3)
            #expect(report.codes["ENDORSEMENT_POLICY_FAILURE"] == 3)
            #expect(report.codes["MVCC_READ_CONFLICT"] == 6)
            #expect(report.validTransactions == 18)
            #expect(report.verifiesPerSecondPerCore > 0)
            #expect(report.ceilingTransactionsPerSecond > 0)
            #expect(report.signaturesPerTransaction == 3)
            #expect(report.peakRSSMegabytes > 0)
            #expect(report.bytesOnDisk > 0)

            // The private writes of the valid private transactions are in the ledger's private state.
            let manager = try LedgerManager(
                rootDirectory: directory.appending("ledger"),
                configuration: Self.configuration()
            )
            defer { manager.close() }
            let ledger = try manager.openLedger(id: Workload.channelID)
            #expect(ledger.height == 5)
            var stored = 0
            for index in 0..<10 {
                if try ledger.privateState(
                    namespace: Workload.chaincode,
                    collection: Workload.collection,
                    key: "p\(index)"
                )
                    != nil
                {
                    stored += 1
                }
            }
            #expect(stored > 0)
            // Tx 1 is valid in every block (read-modify-write at the version the block before wrote), so its first
            // key carries the last block's version.
            let value = try #require(try ledger.state(namespace: Workload.chaincode, key: "key2"))
            #expect(value.version == Height(blockNumber: 4, txNumber: 1))
        }
    }

    /// `--repeat`: one workload, several timed runs into fresh ledgers; the report is the median-ratio run, with
    /// every run's ratio; only the last run's ledger stays in the work directory.
    @Test("repeated runs report the median run and every run's ratio")
    func repeatedRuns() async throws {
        try await TemporaryDirectory.with("bench-commit-repeat") { directory in
            var benchmark = Self.benchmark(in: directory)
            benchmark.repeats = 3
            let report = try await benchmark.run()
            #expect(report.repeats == 3)
            #expect(report.runRatios.count == 3)
            #expect(report.runRatios.allSatisfy { $0 > 0 })
            #expect(report.ratio == report.runRatios.sorted()[1])
            #expect(report.validTransactions == 18)  // every run checked its codes; the median run's figures
            let files = FileManager.default
            #expect(!files.fileExists(atPath: directory.appending("ledger").path))
            #expect(!files.fileExists(atPath: directory.appending("ledger-2").path))
            #expect(files.fileExists(atPath: directory.appending("ledger-3").path))
            #expect(report.json.contains("\"run_ratios\""))
        }
    }

    /// `--ceiling-every`: the ceiling is measured before, between segments of the commit, and after; the
    /// segments commit the same blocks to the same codes.
    @Test("the ceiling is measured between segments of the commit too")
    func ceilingBetweenSegments() async throws {
        try await TemporaryDirectory.with("bench-commit-segments") { directory in
            var benchmark = Self.benchmark(in: directory)
            benchmark.ceilingEvery = 1
            let report = try await benchmark.run()
            #expect(report.blocks == 3)
            #expect(report.validTransactions == 18)
            #expect(report.ceilingEvery == 1)
            #expect(report.verifySamples.count == 4)  // before, after blocks 2 and 3 of the workload, after
            #expect(report.verifySamples.allSatisfy { $0 > 0 })
            #expect(report.json.contains("\"ceiling_every\":1"))
        }
        try await TemporaryDirectory.with("bench-commit-no-segments") { directory in
            var benchmark = Self.benchmark(in: directory)
            benchmark.ceilingEvery = 0
            let report = try await benchmark.run()
            #expect(report.ceilingEvery == 0)
            #expect(report.verifySamples.count == 2)
        }
    }

    @Test("a workload replays to the same codes through bench replay's engine")
    func replayOfAWorkload() async throws {
        try await TemporaryDirectory.with("bench-replay-workload") { directory in
            let options = WorkloadOptions(
                blocks: 2,
                transactionsPerBlock: 8,
                conflictFraction: 0.25,
                badSignatureFraction: 0.25
            )
            let workload = try await WorkloadGenerator(options: options, directory: directory.appending("workload"))
                .generate()
            let replay = BlockReplay(
                genesis: try workload.genesisBlock(),
                blocksDirectory: workload.blocksDirectory,
                ledgerRoot: directory.appending("ledger"),
                configuration: Self.configuration()
            )
            var filters: [UInt64: Data] = [:]
            let report = try await ReplayBenchmark(replay: replay, ceilingSeconds: 0.05).run { result in
                filters[result.number] = result.filter
            }
            for number in workload.workloadBlocks {
                let expected = try workload.expectedCodes(number).map { UInt8($0.rawValue) }
                #expect(filters[number] == Data(expected), "block \(number)")
            }
            #expect(report.blocks == 3)  // the definition block and the two workload blocks
            #expect(report.signaturesPerTransaction == 3)
            #expect(report.ceilingTransactionsPerSecond > 0)
        }
    }

    @Test("options out of range are refused")
    func badOptions() {
        #expect(throws: BenchError(.badOptions, "")) {
            try WorkloadOptions(blocks: 0).validate()
        }
        #expect(throws: BenchError(.badOptions, "")) {
            try WorkloadOptions(conflictFraction: 0.7, badSignatureFraction: 0.5).validate()
        }
        #expect(throws: BenchError(.badOptions, "")) {
            try WorkloadOptions(readsPerTransaction: 0, conflictFraction: 0.1).validate()
        }
    }

    @Test(
        "bench commit --json prints one object with every figure",
        .enabled(if: BuiltProducts.executable("bench") != nil, "the bench executable is not built")
    )
    func commandLine() throws {
        let bench = try #require(BuiltProducts.executable("bench"))
        let process = Process()
        process.executableURL = bench
        process.arguments = [
            "commit", "--blocks", "3", "--txs", "10", "--bad-signature-fraction", "0.2", "--conflict-fraction", "0.1",
            "--private-fraction", "0.2", "--ceiling-seconds", "0.05", "--no-sync", "--json",
        ]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        let object = try #require(try JSONSerialization.jsonObject(with: output) as? [String: Any])
        for key in [
            "tx_per_s", "blocks_per_s", "ceiling_tx_per_s", "ratio", "p50_ms", "p99_ms", "peak_rss_mb", "cpu_percent",
            "bytes_on_disk", "verifies_per_s_per_core", "cores", "signatures_per_tx", "codes", "txs", "valid_txs",
        ] {
            #expect(object[key] != nil, "key \(key)")
        }
        let codes = try #require(object["codes"] as? [String: Int])
        #expect(codes["BAD_CREATOR_SIGNATURE"] == 3)
        #expect(codes["ENDORSEMENT_POLICY_FAILURE"] == 3)
        #expect(codes["MVCC_READ_CONFLICT"] == 3)
        #expect(object["txs"] as? Int == 30)
    }
}
