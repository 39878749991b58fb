package import Foundation
import Synchronization

/// The versions of the public keys that recent blocks wrote, as committed: MVCC looks a read key up here before
/// it reads the key's version from SQLite. Keys a channel writes often (counters, balances, an asset's state) are
/// read again by the next blocks' transactions, and a dictionary look-up costs a fraction of a B-tree descent.
///
/// Write-through: the ledger records a block's public writes after its state transaction commits, and forgets
/// everything when a state transaction fails, so an entry is always the key's committed version (or its
/// absence, after a delete). Public state is written nowhere else. Bounded: when a block would take it past
/// ``capacity`` entries it starts again empty.
package final class CommittedVersions: Sendable {
    /// A public key: its namespace and bytes.
    package struct Key: Hashable {
        var namespace: String
        var key: Data
    }

    /// The most entries held.
    package let capacity: Int
    private let entries = Mutex<[Key: Height?]>([:])

    package init(capacity: Int = 65_536) {
        self.capacity = capacity
    }

    /// `.some(version)` when the committed version of `key` is known (nil: the key has no value), `.none` when
    /// it must be read from state.
    package func version(_ namespace: String, _ key: Data) -> Height?? {
        self.entries.withLock { $0[Key(namespace: namespace, key: key)] }
    }

    /// Records the public writes of a block whose state transaction committed.
    package func record(_ publicWrites: [String: [Data: PendingWrite]]) {
        let count = publicWrites.values.reduce(0) { $0 + $1.count }
        self.entries.withLock { entries in
            if entries.count + count > self.capacity { entries.removeAll(keepingCapacity: true) }
            guard count <= self.capacity else { return }
            for (namespace, writes) in publicWrites {
                for (key, write) in writes {
                    // As StateDB stores it: an empty value deletes the key.
                    let version: Height? = (write.value?.isEmpty ?? true) ? nil : write.version
                    entries[Key(namespace: namespace, key: key)] = .some(version)
                }
            }
        }
    }

    /// Forgets every entry (a state transaction failed, so what is committed is no longer known here).
    package func clear() {
        self.entries.withLock { $0.removeAll() }
    }
}
