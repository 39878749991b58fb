public import Foundation

/// Every figure of one `bench commit` or `bench replay` run; ``json`` is what `--json` prints.
public struct BenchReport: Sendable, Codable {
    /// "commit" or "replay".
    public var mode: String
    /// Blocks committed in the timed part.
    public var blocks: Int
    /// Transactions in those blocks.
    public var transactions: Int
    /// Of which VALID.
    public var validTransactions: Int
    /// Count of each final code (Fabric's names) in the timed blocks.
    public var codes: [String: Int]
    /// Wall seconds of the timed part.
    public var seconds: Double
    /// Transactions (valid or not: all were validated and committed) per second.
    public var transactionsPerSecond: Double
    /// Blocks per second.
    public var blocksPerSecond: Double
    /// Median block commit latency: from the block entering the commit path to its commit returning.
    public var p50Milliseconds: Double
    /// 99th percentile of the same.
    public var p99Milliseconds: Double
    /// The slowest block.
    public var maxMilliseconds: Double
    /// CPU seconds (user + system) this process used in the timed part.
    public var cpuSeconds: Double
    /// CPU used as a share of one core (200 = two cores busy).
    public var cpuPercent: Double
    /// Peak resident set size of this process during the timed part (VmHWM after a reset), MiB.
    public var peakRSSMegabytes: Double
    /// Resident set size when the timed part started, MiB.
    public var startRSSMegabytes: Double
    /// Bytes of the ledger's folder (block files, SQLite database and WAL) at the end.
    public var bytesOnDisk: Int64
    /// Bytes of the blocks as delivered (serialized, uncompressed, without this peer's metadata).
    public var deliveredBytes: Int64
    /// ECDSA P-256 verifies per second per core, measured with every core verifying at once (median of the
    /// measurements before, during (``ceilingEvery``) and after the timed part).
    public var verifiesPerSecondPerCore: Double
    /// The separate ceiling measurements (verifies/s per core), in the order they were made.
    public var verifySamples: [Double]
    /// Committed blocks between two ceiling measurements during the timed part (0: only before and after).
    public var ceilingEvery: Int = 0
    /// How many threads verified at once in each ceiling measurement (one per core).
    public var ceilingThreads: Int
    /// ECDSA verifies per second of one thread's CPU time (median of the same measurements): the core's speed,
    /// whatever else the machine runs.
    public var verifiesPerCPUSecond: Double
    /// CPU microseconds (user + system, all threads) per committed transaction in the timed part.
    public var cpuMicrosecondsPerTransaction: Double
    /// The CPU a transaction's signatures take at ceiling speed (signatures per tx ÷ verifies per CPU second)
    /// over the CPU a transaction took: the ratio to expect on an idle machine whose cores are all kept busy.
    /// Unlike ``ratio``, other processes on the machine do not distort it.
    public var signatureCPUShare: Double
    /// Cores assumed by the ceiling.
    public var cores: Int
    /// Signatures per transaction (creator + endorsements; the mean for replayed blocks).
    public var signaturesPerTransaction: Double
    /// The signature ceiling in transactions per second.
    public var ceilingTransactionsPerSecond: Double
    /// transactionsPerSecond ÷ ceilingTransactionsPerSecond.
    public var ratio: Double
    /// One-minute load average before and after the timed part (other processes on the machine).
    public var loadAverage: [Double]
    /// Whether validation of block N+1 overlapped the commit of block N.
    public var pipelined: Bool
    /// Blocks prepared ahead of the one committing (0 without the pipeline).
    public var prepareAhead: Int
    /// Whether blocks were compressed on disk.
    public var compressed: Bool
    /// How: "zstd", "zlib", or "none".
    public var compression = "none"
    /// Whether every block was fsynced.
    public var synced: Bool
    /// The workload options (commit) or the blocks folder (replay).
    public var workload: [String: String]
    /// Timed runs of the same workload (`bench commit --repeat`); the other figures are those of the run whose
    /// ratio is the median.
    public var repeats: Int = 1
    /// Every run's ratio, in run order.
    public var runRatios: [Double] = []

    enum CodingKeys: String, CodingKey {
        case mode, blocks, codes, seconds, cores, ratio, pipelined, compressed, compression, synced, workload
        case transactions = "txs"
        case validTransactions = "valid_txs"
        case transactionsPerSecond = "tx_per_s"
        case blocksPerSecond = "blocks_per_s"
        case p50Milliseconds = "p50_ms"
        case p99Milliseconds = "p99_ms"
        case maxMilliseconds = "max_ms"
        case cpuSeconds = "cpu_s"
        case cpuPercent = "cpu_percent"
        case peakRSSMegabytes = "peak_rss_mb"
        case startRSSMegabytes = "start_rss_mb"
        case bytesOnDisk = "bytes_on_disk"
        case deliveredBytes = "delivered_bytes"
        case verifiesPerSecondPerCore = "verifies_per_s_per_core"
        case verifySamples = "verify_samples"
        case ceilingEvery = "ceiling_every"
        case ceilingThreads = "ceiling_threads"
        case prepareAhead = "prepare_ahead"
        case signaturesPerTransaction = "signatures_per_tx"
        case ceilingTransactionsPerSecond = "ceiling_tx_per_s"
        case loadAverage = "load_avg_1m"
        case verifiesPerCPUSecond = "verifies_per_cpu_s"
        case cpuMicrosecondsPerTransaction = "cpu_us_per_tx"
        case signatureCPUShare = "signature_cpu_share"
        case repeats
        case runRatios = "run_ratios"
    }

    /// The report as one JSON object (keys sorted).
    public var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        guard let data = try? encoder.encode(self.rounded) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }

    /// The summary line of `bench replay`: every figure plus `summary`, `height`, `valid` (VALID transactions
    /// committed by the run, the genesis block included) and `last_commit_hash`.
    public func summaryLine(height: UInt64, valid: Int, lastCommitHash: Data?) -> String {
        guard var object = (try? JSONSerialization.jsonObject(with: Data(self.json.utf8))) as? [String: Any] else {
            return "{}"
        }
        object["summary"] = true
        object["height"] = height
        object["valid"] = valid
        object["last_commit_hash"] = lastCommitHash.map { $0.map { String(format: "%02x", $0) }.joined() } ?? ""
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else {
            return "{}"
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// Figures rounded to what the measurement supports.
    var rounded: BenchReport {
        func r(_ value: Double, _ places: Double) -> Double {
            let scale = Foundation.pow(10, places)
            return (value * scale).rounded() / scale
        }
        var copy = self
        copy.seconds = r(self.seconds, 3)
        copy.transactionsPerSecond = r(self.transactionsPerSecond, 1)
        copy.blocksPerSecond = r(self.blocksPerSecond, 3)
        copy.p50Milliseconds = r(self.p50Milliseconds, 2)
        copy.p99Milliseconds = r(self.p99Milliseconds, 2)
        copy.maxMilliseconds = r(self.maxMilliseconds, 2)
        copy.cpuSeconds = r(self.cpuSeconds, 2)
        copy.cpuPercent = r(self.cpuPercent, 1)
        copy.peakRSSMegabytes = r(self.peakRSSMegabytes, 1)
        copy.startRSSMegabytes = r(self.startRSSMegabytes, 1)
        copy.verifiesPerSecondPerCore = r(self.verifiesPerSecondPerCore, 0)
        copy.verifySamples = self.verifySamples.map { r($0, 0) }
        copy.signaturesPerTransaction = r(self.signaturesPerTransaction, 3)
        copy.ceilingTransactionsPerSecond = r(self.ceilingTransactionsPerSecond, 1)
        copy.ratio = r(self.ratio, 3)
        copy.verifiesPerCPUSecond = r(self.verifiesPerCPUSecond, 0)
        copy.cpuMicrosecondsPerTransaction = r(self.cpuMicrosecondsPerTransaction, 1)
        copy.signatureCPUShare = r(self.signatureCPUShare, 3)
        copy.loadAverage = self.loadAverage.map { r($0, 2) }
        copy.runRatios = self.runRatios.map { r($0, 3) }
        return copy
    }

    /// A human-readable summary.
    public var text: String {
        func f(_ value: Double, _ places: Int) -> String { String(format: "%.\(places)f", value) }
        let codes = self.codes.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        return """
            \(self.mode): \(self.blocks) blocks, \(self.transactions) txs (\(codes))
              throughput   \(f(self.transactionsPerSecond, 1)) tx/s, \(f(self.blocksPerSecond, 2)) blocks/s in \(f(self.seconds, 2)) s
              latency      p50 \(f(self.p50Milliseconds, 1)) ms, p99 \(f(self.p99Milliseconds, 1)) ms, max \(f(self.maxMilliseconds, 1)) ms
              ceiling      \(f(self.verifiesPerSecondPerCore, 0)) verifies/s/core × \(self.cores) cores ÷ \(f(self.signaturesPerTransaction, 2)) sig/tx = \(f(self.ceilingTransactionsPerSecond, 1)) tx/s
              ratio        \(f(self.ratio * 100, 1)) % of the signature ceiling
              cpu          \(f(self.cpuSeconds, 2)) s (\(f(self.cpuPercent, 0)) % of one core), \(f(self.cpuMicrosecondsPerTransaction, 0)) µs per tx
              cpu share    signatures at \(f(self.verifiesPerCPUSecond, 0)) verifies per CPU second would take \(f(self.signatureCPUShare * 100, 1)) % of it (the ratio an idle machine would show)
              memory       peak RSS \(f(self.peakRSSMegabytes, 1)) MiB (\(f(self.startRSSMegabytes, 1)) MiB at start)
              disk         \(self.bytesOnDisk) bytes in the ledger (\(self.deliveredBytes) bytes delivered)
              settings     pipelined \(self.pipelined), compression \(self.compression), fsync \(self.synced), load \(self.loadAverage.map { f($0, 2) }.joined(separator: " → "))
            """ + (self.repeats > 1
                ? "\n  runs         \(self.repeats), ratios \(self.runRatios.map { f($0 * 100, 1) + " %" }.joined(separator: ", ")) (figures of the median run)"
                : "")
    }
}
