/// How a new message relates to one already stored (Fabric's `InvalidationResult`).
public enum Invalidation: Sendable, Equatable {
    /// The messages do not affect each other.
    case noAction
    /// The new message is stale (older or equal): it is not stored.
    case invalidated
    /// The new message replaces the stored one.
    case invalidates
}

/// A store of messages where a new message may replace older ones (newer alive/StateInfo/leadership of the same
/// peer, blocks too far behind), with optional expiry after a time to live.
///
/// A pure value: time is handed in, expired messages are handed back to the caller to act on (purge a member,
/// drop a StateInfo).
public struct MessageStore<Message>: Sendable where Message: Sendable {
    /// Compares a new message (first argument) with a stored one (second).
    public typealias Policy = @Sendable (_ new: Message, _ stored: Message) -> Invalidation

    private struct Entry: Sendable {
        var message: Message
        var added: GossipInstant
        var expired: Bool
    }

    private var entries: [Entry] = []
    private let policy: Policy
    /// How long a message stays; nil keeps messages until invalidated.
    public let timeToLive: Duration?

    /// Creates an empty store.
    public init(timeToLive: Duration? = nil, policy: @escaping Policy) {
        self.timeToLive = timeToLive
        self.policy = policy
    }

    /// Adds `message` unless a stored message invalidates it; removes (and returns) the messages it replaces.
    ///
    /// - Returns: whether it was added, and the messages it replaced.
    @discardableResult
    public mutating func add(_ message: Message, now: GossipInstant) -> (added: Bool, replaced: [Message]) {
        var replaced: [Message] = []
        var kept: [Entry] = []
        kept.reserveCapacity(self.entries.count + 1)
        for entry in self.entries {
            switch self.policy(message, entry.message) {
            case .invalidated:
                return (false, [])
            case .invalidates:
                replaced.append(entry.message)
            case .noAction:
                kept.append(entry)
            }
        }
        kept.append(Entry(message: message, added: now, expired: false))
        self.entries = kept
        return (true, replaced)
    }

    /// Whether `message` would be added (no stored message invalidates it).
    public func checkValid(_ message: Message) -> Bool {
        !self.entries.contains { self.policy(message, $0.message) == .invalidated }
    }

    /// Removes every message older than the time to live and returns them.
    public mutating func expire(now: GossipInstant) -> [Message] {
        guard let ttl = self.timeToLive else { return [] }
        var expired: [Message] = []
        self.entries.removeAll { entry in
            if entry.added.advanced(by: ttl) < now {
                expired.append(entry.message)
                return true
            }
            return false
        }
        return expired
    }

    /// Removes the messages matching `predicate` and returns them.
    @discardableResult
    public mutating func remove(where predicate: (Message) -> Bool) -> [Message] {
        var removed: [Message] = []
        self.entries.removeAll { entry in
            if predicate(entry.message) {
                removed.append(entry.message)
                return true
            }
            return false
        }
        return removed
    }

    /// The stored messages, oldest first.
    public var messages: [Message] { self.entries.map(\.message) }

    /// The number of stored messages.
    public var count: Int { self.entries.count }
}
