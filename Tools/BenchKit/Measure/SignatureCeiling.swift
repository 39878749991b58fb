public import Foundation
public import MSP
import SwiftProtobuf
import Wire

/// The machine's signature ceiling: ECDSA verifications per second on one core, through the same MSP
/// `Identity.verify` path (and so the same OpenSSL) that validation uses, on the signatures of a real
/// transaction: its creator signature over the payload and each endorsement over response ‖ endorser.
///
/// ceiling tx/s = verifies/s per core × cores ÷ signatures per transaction.
public struct SignatureCeiling: Sendable, Codable {
    /// Verifications per second on one thread.
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
    struct Check {
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

    /// One measurement of the verify rate on one thread.
    public struct VerifyRate: Sendable {
        /// Verifications per second of wall time: what one core delivers on this machine as loaded now.
        public var perSecond: Double
        /// Verifications per second of the thread's own CPU time: the core's speed whatever else runs.
        public var perCPUSecond: Double
    }

    /// Verifies the signatures of `envelopeBytes` round-robin on the calling thread for about `seconds`, and
    /// returns verifications per second (of wall time and of the thread's CPU time).
    public static func measure(
        envelopeBytes: Data,
        msps: MSPManager,
        seconds: Double = 1.5
    ) throws(BenchError) -> VerifyRate {
        let checks = try self.checks(envelopeBytes, msps: msps)
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
        let cpu = ProcessStats.threadCPUSeconds() - startCPU
        return VerifyRate(perSecond: Double(count) / elapsed, perCPUSecond: cpu > 0 ? Double(count) / cpu : 0)
    }

    /// Verifications per second of wall time on the calling thread (see ``measure(envelopeBytes:msps:seconds:)``).
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
