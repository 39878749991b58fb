package import Foundation
package import MSP
internal import Synchronization
package import Wire

/// The identities one prepare task has deserialised, in front of the channel's MSP manager.
///
/// A task's transactions mostly share a few creators and endorsers. The manager's own cache is shared by every
/// core: each look-up takes its lock and updates its LRU order, so the cores pass its cache lines back and forth
/// (≈ 1 % of a commit's CPU for three look-ups per transaction). Here a task keeps up to ``capacity`` identities
/// of its own, compared by their bytes; anything else goes to the manager as before, and nothing that fails to
/// deserialise is kept.
package final class TaskIdentities: IdentityDeserializer {
    package static let capacity = 16

    package let msps: MSPManager
    private let seen = Mutex<[(bytes: Data, identity: any Identity)]>([])

    package init(_ msps: MSPManager) { self.msps = msps }

    package func deserializeIdentity(_ serialized: Data) throws(MSPError) -> any Identity {
        if let known = self.seen.withLock({ $0.first { $0.bytes == serialized }?.identity }) { return known }
        let identity = try self.msps.deserializeIdentity(serialized)
        self.seen.withLock { seen in
            if seen.count < Self.capacity { seen.append((Data(serialized), identity)) }
        }
        return identity
    }

    package func isWellFormed(_ identity: Msp_SerializedIdentity) throws(MSPError) { try self.msps.isWellFormed(identity) }
}
