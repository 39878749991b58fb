import Foundation
public import Wire

/// Fabric's block cutter as a pure state machine: it batches envelopes by the channel's `BatchSize`.
///
/// A message larger than `preferred_max_bytes` cuts the pending batch (if any) and goes into a batch of its own; a
/// message that would take the pending batch past `preferred_max_bytes` cuts it first; a batch is cut as soon as it
/// holds `max_message_count` messages. The size of a message is `len(payload) + len(signature)`, as Fabric counts
/// it. The batch timeout is not the cutter's business: the channel's timer calls ``cut()``.
public struct BlockCutter: Sendable {
    /// The envelopes waiting for a block, with their raw bytes.
    public private(set) var pending: [Common_Envelope] = []
    /// The summed size of ``pending``.
    public private(set) var pendingBytes: UInt64 = 0

    /// An empty cutter.
    public init() {}

    /// What ``ordered(_:batchSize:)`` decided.
    public struct Outcome: Sendable {
        /// Batches to write as blocks, in order.
        public var batches: [[Common_Envelope]]
        /// Whether messages are still waiting (the batch timer should run).
        public var pending: Bool
    }

    /// The size Fabric charges a message against the batch limits.
    public static func messageSize(_ envelope: Common_Envelope) -> UInt64 {
        UInt64(envelope.payload.count + envelope.signature.count)
    }

    /// Adds `envelope` to the pending batch, cutting batches as `batchSize` requires.
    public mutating func ordered(_ envelope: Common_Envelope, batchSize: Orderer_BatchSize) -> Outcome {
        let size = Self.messageSize(envelope)
        var batches: [[Common_Envelope]] = []
        if size > UInt64(batchSize.preferredMaxBytes) {
            if !self.pending.isEmpty { batches.append(self.cut()) }
            batches.append([envelope])
            return Outcome(batches: batches, pending: !self.pending.isEmpty)
        }
        if self.pendingBytes + size > UInt64(batchSize.preferredMaxBytes) {
            batches.append(self.cut())
        }
        self.pending.append(envelope)
        self.pendingBytes += size
        var pending = true
        if self.pending.count >= Int(batchSize.maxMessageCount) {
            batches.append(self.cut())
            pending = false
        }
        return Outcome(batches: batches, pending: pending)
    }

    /// Returns the pending batch (possibly empty) and starts a new one.
    public mutating func cut() -> [Common_Envelope] {
        let batch = self.pending
        self.pending = []
        self.pendingBytes = 0
        return batch
    }
}
