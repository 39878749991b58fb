import Synchronization

/// A thread-safe cache holding at most `capacity` entries, evicting the least recently used one.
///
/// State lives behind a `Mutex`. Lookups bump a use counter; eviction scans for the smallest counter, which is
/// O(capacity) but only happens on an insert into a full cache (capacities here are in the hundreds).
final class BoundedCache<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private struct Entry {
        var value: Value
        var lastUse: UInt64
    }

    private struct State {
        var entries: [Key: Entry] = [:]
        var clock: UInt64 = 0
    }

    private let state = Mutex(State())
    /// The maximum number of entries; 0 disables caching.
    let capacity: Int

    init(capacity: Int) {
        self.capacity = max(0, capacity)
    }

    /// The cached value for `key`, if any.
    func value(for key: Key) -> Value? {
        self.state.withLock { state -> Value? in
            // One hash of the key: found by index, bumped in place.
            guard let index = state.entries.index(forKey: key) else { return nil }
            state.clock &+= 1
            state.entries.values[index].lastUse = state.clock
            return state.entries.values[index].value
        }
    }

    /// Stores `value` for `key`, evicting the least recently used entry when full.
    func insert(_ value: Value, for key: Key) {
        guard self.capacity > 0 else { return }
        self.state.withLock { state in
            state.clock &+= 1
            if state.entries[key] == nil, state.entries.count >= self.capacity,
                let oldest = state.entries.min(by: { $0.value.lastUse < $1.value.lastUse })?.key
            {
                state.entries.removeValue(forKey: oldest)
            }
            state.entries[key] = Entry(value: value, lastUse: state.clock)
        }
    }

    /// The number of entries.
    var count: Int { self.state.withLock { $0.entries.count } }
}
