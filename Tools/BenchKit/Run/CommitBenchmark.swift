import ChannelConfig
public import Foundation
public import Ledger
import Logging
import MSP
import Wire

/// `bench commit`: generates a workload (untimed), then commits its blocks through the real ledger — Fabric's
/// validation, MVCC, commit, block files, state and private data, fsync per block as configured — and measures
/// the commit against the machine's signature ceiling, measured in the same run.
///
/// Every committed code is compared with the code the workload intended; a difference is a
/// ``BenchError/Code/codeMismatch`` error, never a figure.
public struct CommitBenchmark: Sendable {
    /// What is happening, for a progress display.
    public enum Phase: String, Sendable {
        case generating = "generating"
        case ceiling = "measuring the signature ceiling"
        case committing = "committing"
    }

    /// The workload.
    public var options: WorkloadOptions
    /// Where the workload and the ledger go; a new temporary folder (removed afterwards) when nil.
    public var workDirectory: URL?
    /// Ledger storage settings (compression, fsync).
    public var configuration: LedgerConfiguration
    /// Whether validation of block N+1 overlaps the commit of block N.
    public var pipelined: Bool
    /// Seconds spent on each ceiling measurement.
    public var ceilingSeconds: Double
    /// The ceiling is measured again after every `ceilingEvery` committed blocks (the commit paused, its time
    /// and CPU left out), besides before and after the commit; 0 measures it only before and after.
    ///
    /// This VM's speed drifts over tens of seconds (verifies per CPU second move by 10–20 %), so a ceiling
    /// measured only around a long commit may not be the speed the commit ran at.
    public var ceilingEvery: Int = 50
    /// Threads verifying at once in each ceiling measurement (default: one per core).
    public var ceilingThreads: Int
    /// Blocks fetched and prepared while one commits, when pipelined.
    public var prepareAhead: Int
    /// Timed runs of the one generated workload, each into a fresh ledger with its own ceiling measurements; the
    /// report is the run with the median ratio, with every run's ratio (this machine's verify speed moves by
    /// ±10 % from run to run, more than many changes being measured).
    public var repeats: Int = 1

    /// Creates a benchmark; the defaults store as production does (zlib, fsync per block, SQLite FULL).
    public init(
        options: WorkloadOptions,
        workDirectory: URL? = nil,
        configuration: LedgerConfiguration = LedgerConfiguration(),
        pipelined: Bool = true,
        ceilingSeconds: Double = 1.5,
        ceilingThreads: Int = ProcessInfo.processInfo.activeProcessorCount,
        prepareAhead: Int = 2
    ) {
        self.options = options
        self.workDirectory = workDirectory
        self.configuration = configuration
        self.pipelined = pipelined
        self.ceilingSeconds = ceilingSeconds
        self.ceilingThreads = ceilingThreads
        self.prepareAhead = prepareAhead
    }

    /// Runs the benchmark.
    public func run(
        progress: @escaping @Sendable (Phase, Int, Int) -> Void = { _, _, _ in }
    ) async throws(BenchError)
        -> BenchReport
    {
        let temporary = self.workDirectory == nil
        let root =
            self.workDirectory
            ?? FileManager.default.temporaryDirectory.appendingPathComponent("bench-commit-\(UUID().uuidString)")
        defer { if temporary { try? FileManager.default.removeItem(at: root) } }
        let ledgerRoot = root.appendingPathComponent("ledger")
        if FileManager.default.fileExists(atPath: ledgerRoot.path) {
            throw BenchError(.badOptions, "\(ledgerRoot.path) exists; give an empty work directory")
        }

        // Untimed: the workload, on disk.
        let workload = try await WorkloadGenerator(
            options: self.options,
            directory: root.appendingPathComponent("workload")
        )
        .generate { done, total in progress(.generating, done, total) }
        let genesis = try workload.genesisBlock()

        // The ceiling, on a real transaction of the workload, through a channel MSP of its own.
        progress(.ceiling, 0, 2)
        let sample = try Self.sampleTransaction(workload)
        let msps: MSPManager
        do {
            msps = try ChannelBundle(configBlock: genesis, mspBuilder: MSPBuilders.x509).mspManager
        } catch {
            throw BenchError(.ceiling, "the genesis block does not load as a channel config", cause: error)
        }
        var reports: [BenchReport] = []
        for run in 1...max(1, self.repeats) {
            let runRoot = run == 1 ? ledgerRoot : root.appendingPathComponent("ledger-\(run)")
            if run > 1, FileManager.default.fileExists(atPath: runRoot.path) {
                throw BenchError(.badOptions, "\(runRoot.path) exists; give an empty work directory")
            }
            reports.append(
                try await self.timedRun(
                    workload: workload,
                    genesis: genesis,
                    sample: sample,
                    msps: msps,
                    ledgerRoot: runRoot,
                    progress: progress
                )
            )
            // Only the last run's ledger is kept in a work directory the caller gave; a temporary one goes anyway.
            if run < self.repeats { try? FileManager.default.removeItem(at: runRoot) }
        }
        let ordered = reports.sorted { $0.ratio < $1.ratio }
        var final = ordered[(ordered.count - 1) / 2]
        final.repeats = reports.count
        final.runRatios = reports.map(\.ratio)
        final.deliveredBytes = workload.deliveredBytes()
        final.ceilingEvery = workload.workloadBlocks.count > self.ceilingEvery ? max(0, self.ceilingEvery) : 0
        final.pipelined = self.pipelined
        final.prepareAhead = self.pipelined ? self.prepareAhead : 0
        final.compressed = self.configuration.blockStore.compress
        final.compression = final.compressed ? self.configuration.blockStore.compression.rawValue : "none"
        final.synced = self.configuration.blockStore.syncWrites
        final.workload = [
            "blocks": "\(self.options.blocks)", "txs_per_block": "\(self.options.transactionsPerBlock)",
            "endorsements_per_tx": "\(self.options.endorsementsPerTransaction)",
            "reads_per_tx": "\(self.options.readsPerTransaction)",
            "writes_per_tx": "\(self.options.writesPerTransaction)",
            "value_size": "\(self.options.valueSize)", "private_fraction": "\(self.options.privateFraction)",
            "conflict_fraction": "\(self.options.conflictFraction)",
            "bad_signature_fraction": "\(self.options.badSignatureFraction)",
        ]
        return final
    }

    /// One timed run: the ceiling, the commit of every workload block into a new ledger at `ledgerRoot`, the
    /// ceiling again, and the run's figures.
    private func timedRun(
        workload: Workload,
        genesis: Common_Block,
        sample: Data,
        msps: MSPManager,
        ledgerRoot: URL,
        progress: @escaping @Sendable (Phase, Int, Int) -> Void
    ) async throws(BenchError) -> BenchReport {
        func measureCeiling() throws(BenchError) -> SignatureCeiling.VerifyRate {
            try SignatureCeiling.measure(
                envelopeBytes: sample,
                msps: msps,
                seconds: self.ceilingSeconds,
                threads: self.ceilingThreads
            )
        }
        var samples = [try measureCeiling()]
        progress(.ceiling, 1, 2)

        // The ledger, with the chaincode definition committed before the timed part.
        let report: BenchReport
        do {
            let manager = try LedgerManager(
                rootDirectory: ledgerRoot,
                configuration: self.configuration,
                logger: Logger(label: "bench.ledger")
            )
            defer { manager.close() }
            let ledger = try manager.createLedger(genesisBlock: genesis)
            let validator = try ChannelTransactionValidator(ledger: ledger)
            let definition = try await ledger.commit(try workload.block(1), validator: validator)
            try Self.check(definition, expected: try workload.expectedCodes(1))

            var measurement = Measurement()
            let numbers = Array(workload.workloadBlocks)
            var committer = BlockCommitter(ledger: ledger, validator: validator, pipelined: self.pipelined)
            committer.prepareAhead = self.prepareAhead
            let segments = Self.segments(numbers, every: self.ceilingEvery)
            for (index, segment) in segments.enumerated() {
                try await committer.commit(
                    segment,
                    load: { number throws(BenchError) in
                        (try workload.block(number), try workload.privateData(number))
                    },
                    onCommit: { committed, latency throws(BenchError) in
                        try Self.check(committed, expected: try workload.expectedCodes(committed.number))
                        measurement.record(committed, latency: latency)
                        progress(.committing, measurement.blocks, numbers.count)
                    }
                )
                // Between segments: every block handed over is committed, so the ceiling has the cores alone.
                if index < segments.count - 1 {
                    samples.append(try measurement.excluding { () throws(BenchError) in try measureCeiling() })
                }
            }
            var figures = BenchReport.empty(mode: "commit")
            measurement.finish(into: &figures)
            figures.bytesOnDisk = DiskUsage.bytes(under: ledgerRoot)
            report = figures
        } catch let error as BenchError {
            throw error
        } catch {
            throw BenchError(.commit, "the ledger failed", cause: error)
        }

        samples.append(try measureCeiling())
        progress(.ceiling, 2, 2)
        var final = report
        final.fillCeiling(
            samples: samples,
            signaturesPerTransaction: Double(self.options.signaturesPerTransaction)
        )
        return final
    }

    /// `numbers` cut into runs of `every` blocks (the last may be shorter); one run when `every` is 0.
    static func segments(_ numbers: [UInt64], every: Int) -> [[UInt64]] {
        guard every > 0, numbers.count > every else { return [numbers] }
        return stride(from: 0, to: numbers.count, by: every).map {
            Array(numbers[$0..<min($0 + every, numbers.count)])
        }
    }

    /// The first transaction of the first workload block that the workload means to be valid.
    static func sampleTransaction(_ workload: Workload) throws(BenchError) -> Data {
        let number = Workload.firstWorkloadBlock
        let block = try workload.block(number)
        let expected = try workload.expectedCodes(number)
        guard let index = expected.firstIndex(of: .valid) else {
            throw BenchError(.ceiling, "block \(number) has no valid transaction to measure the ceiling on")
        }
        return block.data.data[index]
    }

    /// Compares the committed codes with the intended ones.
    static func check(_ committed: CommittedBlock, expected: [Protos_TxValidationCode]) throws(BenchError) {
        let codes = committed.validationCodes
        guard codes.count == expected.count else {
            throw BenchError(
                .codeMismatch,
                "block \(committed.number): \(codes.count) codes committed, the workload has \(expected.count) txs"
            )
        }
        let mismatches = codes.indices.filter { codes[$0] != expected[$0] }
        guard mismatches.isEmpty else {
            let examples = mismatches.prefix(5).map {
                "tx \($0): \(CodeNames.name(codes[$0])), intended \(CodeNames.name(expected[$0]))"
            }
            throw BenchError(
                .codeMismatch,
                "block \(committed.number): \(mismatches.count) of \(codes.count) txs got another code than the "
                    + "workload intended (\(examples.joined(separator: "; ")))"
            )
        }
    }
}

extension BenchReport {
    /// A report with no figures yet.
    static func empty(mode: String) -> BenchReport {
        BenchReport(
            mode: mode,
            blocks: 0,
            transactions: 0,
            validTransactions: 0,
            codes: [:],
            seconds: 0,
            transactionsPerSecond: 0,
            blocksPerSecond: 0,
            p50Milliseconds: 0,
            p99Milliseconds: 0,
            maxMilliseconds: 0,
            cpuSeconds: 0,
            cpuPercent: 0,
            peakRSSMegabytes: 0,
            startRSSMegabytes: 0,
            bytesOnDisk: 0,
            deliveredBytes: 0,
            verifiesPerSecondPerCore: 0,
            verifySamples: [],
            ceilingThreads: 0,
            verifiesPerCPUSecond: 0,
            cpuMicrosecondsPerTransaction: 0,
            signatureCPUShare: 0,
            cores: 0,
            signaturesPerTransaction: 0,
            ceilingTransactionsPerSecond: 0,
            ratio: 0,
            loadAverage: [],
            pipelined: false,
            prepareAhead: 0,
            compressed: false,
            synced: false,
            workload: [:]
        )
    }

    /// Fills in the ceiling from verify measurements (median) and the ratio achieved/ceiling, and the same
    /// comparison in CPU time (``signatureCPUShare``), which other processes on the machine do not distort.
    mutating func fillCeiling(samples: [SignatureCeiling.VerifyRate], signaturesPerTransaction: Double) {
        let ceiling = SignatureCeiling(
            verifiesPerSecondPerCore: median(samples.map(\.perSecond)),
            cores: ProcessInfo.processInfo.activeProcessorCount,
            signaturesPerTransaction: signaturesPerTransaction
        )
        self.verifySamples = samples.map(\.perSecond)
        self.ceilingThreads = samples.map(\.threads).max() ?? 0
        self.verifiesPerSecondPerCore = ceiling.verifiesPerSecondPerCore
        self.cores = ceiling.cores
        self.signaturesPerTransaction = signaturesPerTransaction
        self.ceilingTransactionsPerSecond = ceiling.transactionsPerSecond
        self.ratio = ceiling.transactionsPerSecond > 0 ? self.transactionsPerSecond / ceiling.transactionsPerSecond : 0
        self.verifiesPerCPUSecond = median(samples.map(\.perCPUSecond))
        self.cpuMicrosecondsPerTransaction =
            self.transactions > 0 ? self.cpuSeconds / Double(self.transactions) * 1e6 : 0
        let signatureMicroseconds =
            self.verifiesPerCPUSecond > 0 ? signaturesPerTransaction / self.verifiesPerCPUSecond * 1e6 : 0
        self.signatureCPUShare =
            self.cpuMicrosecondsPerTransaction > 0 ? signatureMicroseconds / self.cpuMicrosecondsPerTransaction : 0
    }
}
