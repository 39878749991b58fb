internal import Dispatch
public import Foundation
public import MSP
import Synchronization
import SwiftProtobuf
import Wire

/// The machine's signature ceiling: ECDSA verifications per second per core (all cores verifying at once),
/// through the same MSP `Identity.verify` path (and so the same OpenSSL) that validation uses, on the signatures
/// of a real transaction: its creator signature over the payload and each endorsement over response ‖ endorser.
///
/// ceiling tx/s = verifies/s per core × cores ÷ signatures per transaction.
public struct SignatureCeiling: Sendable, Codable {
    /// Verifications per second per core.
    public var verifiesPerSecondPerCore: Double
    /// Cores the ceiling assumes (the cores this process may use).
    public var cores: Int
    /// Signatures a transaction carries (creator + endorsements).
    public var signaturesPerTransaction: Double

    /// The transactions per second the cores could at most verify.
    public var transactionsPerSecond: Double {
        self.signaturesPerTransaction > 0
            ? self.verifiesPerSecondPerCore * Double(self.cores) / self.signaturesPerTransaction : 0
    }

    /// One signature to verify.
    struct Check: Sendable {
        var identity: any Identity
        var message: Data
        var signature: Data
    }

    /// The signatures of the endorser transaction `envelopeBytes`, with identities from `msps`.
    static func checks(_ envelopeBytes: Data, msps: MSPManager) throws(BenchError) -> [Check] {
        do {
            let envelope = try Common_Envelope(serializedBytes: envelopeBytes)
            let payload = try Common_Payload(serializedBytes: envelope.payload)
            let signatureHeader = try Common_SignatureHeader(serializedBytes: payload.header.signatureHeader)
            var checks = [
                Check(
                    identity: try msps.deserializeIdentity(signatureHeader.creator),
                    message: envelope.payload,
                    signature: envelope.signature
                )
            ]
            let transaction = try Protos_Transaction(serializedBytes: payload.data)
            guard let action = transaction.actions.first else {
                throw BenchError(.ceiling, "the sample transaction has no action")
            }
            let actionPayload = try Protos_ChaincodeActionPayload(serializedBytes: action.payload)
            for endorsement in actionPayload.action.endorsements {
                checks.append(
                    Check(
                        identity: try msps.deserializeIdentity(endorsement.endorser),
                        message: actionPayload.action.proposalResponsePayload + endorsement.endorser,
                        signature: endorsement.signature
                    )
                )
            }
            for check in checks { try check.identity.verify(signature: check.signature, over: check.message) }
            return checks
        } catch let error as BenchError {
            throw error
        } catch {
            throw BenchError(.ceiling, "the sample transaction's signatures cannot be checked", cause: error)
        }
    }

    /// One measurement of the verify rate.
    public struct VerifyRate: Sendable {
        /// Verifications per second of wall time per measuring thread: what one core delivers on this machine
        /// as loaded now, with every measuring thread verifying at once.
        public var perSecond: Double
        /// Verifications per second of the measuring threads' own CPU time: the core's speed whatever else runs.
        public var perCPUSecond: Double
        /// How many threads verified at once.
        public var threads: Int
    }

    /// Verifies the signatures of `envelopeBytes` round-robin for about `seconds` on each of `threads` threads
    /// at once (default: one per core, as the commit uses them), each with identities deserialised once and
    /// through `Identity.verify` as validation calls it; returns verifications per second per thread (of wall
    /// time) and per CPU second (of the threads' own CPU time).
    ///
    /// Measuring every core at once is what makes "per core × cores" honest: cores that share caches, memory
    /// bandwidth, OpenSSL's locks or a hypervisor's time slices deliver less together than one alone.
    public static func measure(
        envelopeBytes: Data,
        msps: MSPManager,
        seconds: Double = 1.5,
        threads: Int = ProcessInfo.processInfo.activeProcessorCount
    ) throws(BenchError) -> VerifyRate {
        let checks = try self.checks(envelopeBytes, msps: msps)
        let threads = max(1, threads)
        let results = Mutex<[Result<(count: Int, elapsed: Double, cpu: Double), BenchError>]>([])
        // One iteration per thread; with one thread it runs on the calling thread.
        DispatchQueue.concurrentPerform(iterations: threads) { _ in
            let result = Result { () throws(BenchError) -> (count: Int, elapsed: Double, cpu: Double) in
                try Self.verifyLoop(checks, seconds: seconds)
            }
            results.withLock { $0.append(result) }
        }
        var count = 0
        var elapsed = 0.0
        var cpu = 0.0
        for result in results.withLock({ $0 }) {
            let value = try result.get()
            count += value.count
            elapsed = max(elapsed, value.elapsed)
            cpu += value.cpu
        }
        return VerifyRate(
            perSecond: elapsed > 0 ? Double(count) / elapsed / Double(threads) : 0,
            perCPUSecond: cpu > 0 ? Double(count) / cpu : 0,
            threads: threads
        )
    }

    /// Verifies `checks` round-robin on the calling thread for about `seconds`.
    private static func verifyLoop(
        _ checks: [Check],
        seconds: Double
    ) throws(BenchError) -> (count: Int, elapsed: Double, cpu: Double) {
        let clock = ContinuousClock()
        let start = clock.now
        let startCPU = ProcessStats.threadCPUSeconds()
        var count = 0
        var elapsed = 0.0
        repeat {
            for _ in 0..<50 {
                for check in checks {
                    do {
                        try check.identity.verify(signature: check.signature, over: check.message)
                    } catch {
                        throw BenchError(.ceiling, "a sample signature stopped verifying", cause: error)
                    }
                    count += 1
                }
            }
            elapsed = (clock.now - start).seconds
        } while elapsed < seconds
        return (count, elapsed, ProcessStats.threadCPUSeconds() - startCPU)
    }

    /// Verifications per second of wall time per core, all cores at once (see
    /// ``measure(envelopeBytes:msps:seconds:threads:)``).
    public static func measureVerifiesPerSecond(
        envelopeBytes: Data,
        msps: MSPManager,
        seconds: Double = 1.5
    ) throws(BenchError) -> Double {
        try self.measure(envelopeBytes: envelopeBytes, msps: msps, seconds: seconds).perSecond
    }
}

extension Duration {
    /// The duration in seconds.
    var seconds: Double {
        Double(self.components.seconds) + Double(self.components.attoseconds) / 1e18
    }
}
