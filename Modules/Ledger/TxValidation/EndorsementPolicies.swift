import ChannelConfig
import Foundation
import SwiftProtobuf
import MSP
import Synchronization
import Wire

/// Compiles and caches the endorsement policies (`ApplicationPolicy` bytes) used while validating one block,
/// and evaluates them over a transaction's already verified endorsers.
///
/// A signature policy is compiled against the channel's MSPs; a policy reference resolves in the channel's
/// current policy manager. An unparseable policy or a reference that does not resolve fails evaluation, which
/// the validator reports as ENDORSEMENT_POLICY_FAILURE, as in Fabric.
final class EndorsementPolicies: Sendable {
    private let bundle: ChannelBundle
    private let cache = Mutex<[Data: Result<any Policy, TxFailure>]>([:])

    init(bundle: ChannelBundle) { self.bundle = bundle }

    func policy(_ bytes: Data) -> Result<any Policy, TxFailure> {
        if let cached = self.cache.withLock({ $0[bytes] }) { return cached }
        let compiled = self.compile(bytes)
        self.cache.withLock { $0[bytes] = compiled }
        return compiled
    }

    private func compile(_ bytes: Data) -> Result<any Policy, TxFailure> {
        guard let application = try? Protos_ApplicationPolicy(serializedBytes: bytes) else {
            return .failure(TxFailure(.endorsementPolicyFailure, "endorsement policy does not decode"))
        }
        switch application.type {
        case .signaturePolicy(let envelope):
            do {
                return .success(try SignaturePolicy(envelope: envelope, deserializer: self.bundle.mspManager))
            } catch {
                return .failure(TxFailure(.endorsementPolicyFailure, "endorsement policy does not compile: \(error)"))
            }
        case .channelConfigPolicyReference(let reference):
            let (policy, found) = self.bundle.policyManager.policy(reference)
            guard found else {
                return .failure(
                    TxFailure(.endorsementPolicyFailure, "failed to retrieve policy for reference \(reference)")
                )
            }
            return .success(policy)
        case nil:
            return .failure(TxFailure(.endorsementPolicyFailure, "endorsement policy has no type"))
        }
    }

    /// Whether `endorsers` (deserialised, de-duplicated, signature-verified) satisfy the policy `bytes`.
    func evaluate(_ bytes: Data, _ endorsers: [any Identity]) -> TxFailure? {
        switch self.policy(bytes) {
        case .failure(let failure): return failure
        case .success(let policy):
            do {
                try policy.evaluate(identities: endorsers)
                return nil
            } catch {
                return TxFailure(.endorsementPolicyFailure, error.message)
            }
        }
    }
}
