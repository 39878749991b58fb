import Foundation
import Ledger
public import Wire

/// Collects the figures of a timed commit phase: wall and CPU time, per-block latencies, final codes and peak
/// RSS (reset when the phase starts, so it is the committing process's own peak during the phase).
struct Measurement {
    private let clock = ContinuousClock()
    private let start: ContinuousClock.Instant
    private let startCPU: Double
    /// Wall time and CPU time of the pauses (``excluding(_:)``), left out of the phase's figures.
    private var pausedWall: Duration = .zero
    private var pausedCPU = 0.0
    let startRSS: Int64
    let startLoad: Double
    private(set) var latencies: [Double] = []
    private(set) var codes: [Protos_TxValidationCode: Int] = [:]
    private(set) var transactions = 0
    private(set) var blocks = 0

    /// Starts the phase now.
    init() {
        ProcessStats.resetPeak()
        self.startRSS = ProcessStats.residentBytes()
        self.startLoad = ProcessStats.loadAverage()
        self.startCPU = ProcessStats.cpuSeconds()
        self.start = self.clock.now
    }

    /// Records a committed block and how long it took.
    mutating func record(_ committed: CommittedBlock, latency: Duration) {
        self.record(codes: committed.validationCodes, latency: latency)
    }

    /// Records a committed block by its final codes.
    mutating func record(codes: [Protos_TxValidationCode], latency: Duration) {
        self.blocks += 1
        self.transactions += codes.count
        for code in codes { self.codes[code, default: 0] += 1 }
        self.latencies.append(latency.seconds * 1000)
    }

    /// Runs `body` with the phase paused: its wall and CPU time are not the commit's. Nothing may commit
    /// meanwhile.
    mutating func excluding<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        let start = self.clock.now
        let startCPU = ProcessStats.cpuSeconds()
        defer {
            self.pausedWall += self.clock.now - start
            self.pausedCPU += ProcessStats.cpuSeconds() - startCPU
        }
        return try body()
    }

    /// Ends the phase and fills in a report's timing, CPU, memory and code figures.
    func finish(into report: inout BenchReport) {
        let wall = (self.clock.now - self.start - self.pausedWall).seconds
        let cpu = ProcessStats.cpuSeconds() - self.startCPU - self.pausedCPU
        let percentiles = Percentiles(self.latencies)
        report.blocks = self.blocks
        report.transactions = self.transactions
        report.validTransactions = self.codes[.valid] ?? 0
        report.codes = Dictionary(uniqueKeysWithValues: self.codes.map { (CodeNames.name($0.key), $0.value) })
        report.seconds = wall
        report.transactionsPerSecond = wall > 0 ? Double(self.transactions) / wall : 0
        report.blocksPerSecond = wall > 0 ? Double(self.blocks) / wall : 0
        report.p50Milliseconds = percentiles.value(50)
        report.p99Milliseconds = percentiles.value(99)
        report.maxMilliseconds = percentiles.value(100)
        report.cpuSeconds = cpu
        report.cpuPercent = wall > 0 ? cpu / wall * 100 : 0
        report.peakRSSMegabytes = Double(ProcessStats.peakResidentBytes()) / 1_048_576
        report.startRSSMegabytes = Double(self.startRSS) / 1_048_576
        report.loadAverage = [self.startLoad, ProcessStats.loadAverage()]
    }
}

/// Fabric's names of validation codes (as a Fabric peer logs them).
public enum CodeNames {
    /// The upper-case name of `code`.
    public static func name(_ code: Protos_TxValidationCode) -> String {
        switch code {
        case .valid: "VALID"
        case .nilEnvelope: "NIL_ENVELOPE"
        case .badPayload: "BAD_PAYLOAD"
        case .badCommonHeader: "BAD_COMMON_HEADER"
        case .badCreatorSignature: "BAD_CREATOR_SIGNATURE"
        case .invalidEndorserTransaction: "INVALID_ENDORSER_TRANSACTION"
        case .invalidConfigTransaction: "INVALID_CONFIG_TRANSACTION"
        case .unsupportedTxPayload: "UNSUPPORTED_TX_PAYLOAD"
        case .badProposalTxid: "BAD_PROPOSAL_TXID"
        case .duplicateTxid: "DUPLICATE_TXID"
        case .endorsementPolicyFailure: "ENDORSEMENT_POLICY_FAILURE"
        case .mvccReadConflict: "MVCC_READ_CONFLICT"
        case .phantomReadConflict: "PHANTOM_READ_CONFLICT"
        case .unknownTxType: "UNKNOWN_TX_TYPE"
        case .targetChainNotFound: "TARGET_CHAIN_NOT_FOUND"
        case .marshalTxError: "MARSHAL_TX_ERROR"
        case .nilTxaction: "NIL_TXACTION"
        case .expiredChaincode: "EXPIRED_CHAINCODE"
        case .chaincodeVersionConflict: "CHAINCODE_VERSION_CONFLICT"
        case .badHeaderExtension: "BAD_HEADER_EXTENSION"
        case .badChannelHeader: "BAD_CHANNEL_HEADER"
        case .badResponsePayload: "BAD_RESPONSE_PAYLOAD"
        case .badRwset: "BAD_RWSET"
        case .illegalWriteset: "ILLEGAL_WRITESET"
        case .invalidWriteset: "INVALID_WRITESET"
        case .invalidChaincode: "INVALID_CHAINCODE"
        case .notValidated: "NOT_VALIDATED"
        case .invalidOtherReason: "INVALID_OTHER_REASON"
        default: "CODE_\(code.rawValue)"
        }
    }
}
