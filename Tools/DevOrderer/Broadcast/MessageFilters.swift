import ChannelConfig
import Foundation
import MSP
import SwiftProtobuf
import Wire

/// Fabric's standard-channel message filters, applied to every broadcast envelope (and again to the CONFIG
/// envelope the orderer makes from a config update): not empty, not larger than `BatchSize.absolute_max_bytes`,
/// creator not expired, creator's signature satisfying `/Channel/Writers`.
///
/// A refusal by the policy is `FORBIDDEN`; anything else is `BAD_REQUEST`, as Fabric's `ClassifyError` maps them.
enum MessageFilters {
    /// Applies the filters to `envelope` against `bundle`; nil when the envelope passes.
    static func apply(_ envelope: Common_Envelope, bundle: ChannelBundle, now: Date) -> BroadcastResult? {
        // EmptyRejectRule
        guard !envelope.payload.isEmpty else { return BroadcastResult(.badRequest, "Message was empty") }
        // MaxBytesRule
        if let orderer = bundle.orderer {
            let size = BlockCutter.messageSize(envelope)
            let limit = UInt64(orderer.batchSize.absoluteMaxBytes)
            if size > limit {
                return BroadcastResult(
                    .badRequest,
                    "message payload is \(size) bytes and exceeds maximum allowed \(limit) bytes"
                )
            }
        }
        // ExpirationRejectRule, then SigFilter(/Channel/Writers).
        let signedData: SignedData
        do {
            signedData = try SignedData.envelope(envelope)
        } catch {
            return BroadcastResult(.badRequest, "could not convert message to signedData: \(reason(error))")
        }
        if let identity = try? bundle.mspManager.deserializeIdentity(signedData.identity),
            let expiry = identity.expiresAt, now >= expiry
        {
            return BroadcastResult(.badRequest, "broadcast client identity expired")
        }
        return self.checkPolicy(ChannelBundle.PolicyPath.channelWriters, signedData: signedData, bundle: bundle)
    }

    /// Evaluates `policy` over `signedData`: nil when satisfied, `FORBIDDEN` naming the policy otherwise.
    static func checkPolicy(_ policy: String, signedData: SignedData, bundle: ChannelBundle) -> BroadcastResult? {
        let (found, ok) = bundle.policyManager.policy(policy)
        guard ok else { return BroadcastResult(.forbidden, "could not find policy \(policy)") }
        do {
            try found.evaluate(signedData: [signedData])
            return nil
        } catch {
            return BroadcastResult(
                .forbidden,
                "permission denied: implicit policy evaluation failed: \(policy) is not satisfied by the creator "
                    + "(\(Self.describe(signedData.identity))): \(reason(error))"
            )
        }
    }

    /// "MSPID subject" of a serialized identity, for messages.
    static func describe(_ serialized: Data) -> String {
        guard let identity = try? Msp_SerializedIdentity(serializedBytes: serialized) else {
            return "an identity that does not decode"
        }
        return "MSP \(identity.mspid)"
    }
}
