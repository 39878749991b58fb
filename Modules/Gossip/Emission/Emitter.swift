/// Fabric's batching emitter: messages to push are buffered and flushed every maxPropagationBurstLatency or as
/// soon as maxPropagationBurstSize are queued; each message is pushed in propagateIterations flushes.
///
/// Pure: the caller hands in `now` and routes the flushed batch (see ``GossipCore``).
public struct Emitter: Sendable {
    /// A message waiting to be pushed.
    public struct Pending: Sendable {
        /// The message.
        public var message: SignedGossipMessage
        /// The peer it came from (never sent back there), nil for own messages.
        public var excluding: PKIID?
        /// Flushes left.
        public var iterationsLeft: Int
    }

    private var buffer: [Pending] = []
    private var nextFlush: GossipInstant?
    /// Flush period.
    public let latency: Duration
    /// Flush threshold.
    public let burstSize: Int
    /// Flushes per message.
    public let iterations: Int

    /// Creates an empty emitter.
    public init(latency: Duration, burstSize: Int, iterations: Int) {
        self.latency = latency
        self.burstSize = max(1, burstSize)
        self.iterations = iterations
    }

    /// Queues `message`; returns a batch to push right away when the burst size is reached.
    public mutating func add(_ message: SignedGossipMessage, excluding: PKIID?, now: GossipInstant) -> [Pending] {
        guard self.iterations > 0 else { return [] }
        self.buffer.append(Pending(message: message, excluding: excluding, iterationsLeft: self.iterations))
        if self.nextFlush == nil { self.nextFlush = now.advanced(by: self.latency) }
        if self.buffer.count >= self.burstSize { return self.flush(now: now) }
        return []
    }

    /// The batch to push if the flush period has elapsed.
    public mutating func flushIfDue(now: GossipInstant) -> [Pending] {
        guard let due = self.nextFlush, due <= now else { return [] }
        return self.flush(now: now)
    }

    /// When the next periodic flush is due (nil when nothing is queued).
    public var nextDeadline: GossipInstant? { self.nextFlush }

    /// Messages waiting.
    public var count: Int { self.buffer.count }

    private mutating func flush(now: GossipInstant) -> [Pending] {
        let batch = self.buffer
        self.buffer = self.buffer.compactMap { pending in
            var next = pending
            next.iterationsLeft -= 1
            return next.iterationsLeft > 0 ? next : nil
        }
        self.nextFlush = self.buffer.isEmpty ? nil : now.advanced(by: self.latency)
        return batch
    }
}
