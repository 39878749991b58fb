internal import Synchronization
public import Wire

/// What ``GossipNode/sendWithAck(_:to:minAck:timeout:)`` heard back.
public struct AckResults: Sendable, CustomStringConvertible {
    /// Peers that acknowledged without an error, in the order they answered.
    public var acknowledged: [PKIID] = []
    /// Peers that answered with an error (`Acknowledgement.error`) or did not answer in time, with the reason.
    public var failed: [PKIID: String] = [:]

    /// How many peers acknowledged.
    public var successes: Int { self.acknowledged.count }

    /// Creates empty results.
    public init() {}

    public var description: String {
        "\(self.successes) acks, \(self.failed.count) failures"
            + (self.failed.isEmpty
                ? "" : " (\(self.failed.map { "\($0.key): \($0.value)" }.sorted().joined(separator: "; ")))")
    }
}

/// The results being collected, shared by the waiting tasks.
private final class AckCollector: Sendable {
    let state = Mutex(AckResults())
}

extension GossipNode {
    /// Sends `message` point-to-point (unsigned) to `peers` and waits for their `Acknowledgement`s (Fabric's
    /// `comm.SendWithAck`, which private-data distribution uses).
    ///
    /// The message gets a fresh random non-zero nonce; an acknowledgement counts when it carries that nonce and
    /// comes over the connection of one of `peers` (matched by PKI-ID, never by anything in the message). Returns
    /// when `minAck` peers acknowledged, when every peer answered, or after `timeout`, whichever comes first;
    /// peers that have not answered by then are listed as failed ("timed out", or "not awaited" once `minAck` was reached). Deciding whether the result is
    /// enough is the caller's (``AckResults/successes`` against its own minimum).
    ///
    /// - Throws: `.badConfiguration` when a peer has no PKI-ID or `timeout` is not positive.
    public func sendWithAck(
        _ message: Gossip_GossipMessage,
        to peers: [RemotePeer],
        minAck: Int,
        timeout: Duration
    ) async throws(GossipError) -> AckResults {
        guard timeout > .zero else {
            throw GossipError(.badConfiguration, "sendWithAck needs a positive timeout, got \(timeout)")
        }
        var expected: Set<PKIID> = []
        for peer in peers {
            guard let pkiID = peer.pkiID else {
                throw GossipError(
                    .badConfiguration,
                    "sendWithAck to \(peer.endpoint): acks are matched by PKI-ID, which is unknown"
                )
            }
            expected.insert(pkiID)
        }
        guard !peers.isEmpty else { return AckResults() }
        var message = message
        message.nonce = UInt64.random(in: 1...UInt64.max)
        let nonce = message.nonce
        let pending = expected
        let acks = self.subscribe { received in
            guard case .ack = received.message.message.content else { return false }
            return received.message.message.nonce == nonce && pending.contains(received.connection.pkiID)
        }
        try self.send(message, to: peers)
        let results = AckCollector()
        let target = max(0, minAck)
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                try? await Task.sleep(for: timeout)
            }
            group.addTask {
                var waiting = pending
                for await received in acks {
                    let sender = received.connection.pkiID
                    guard waiting.remove(sender) != nil else { continue }
                    guard case .ack(let ack)? = received.message.message.content else { continue }
                    let enough = results.state.withLock { results -> Bool in
                        if ack.error.isEmpty {
                            results.acknowledged.append(sender)
                        } else {
                            results.failed[sender] = ack.error
                        }
                        return target > 0 && results.successes >= target
                    }
                    if enough || waiting.isEmpty { return }
                }
            }
            _ = await group.next()
            group.cancelAll()
        }
        return results.state.withLock { results in
            let reason = target > 0 && results.successes >= target ? "not awaited (enough acks)" : "timed out"
            for pkiID in pending where !results.acknowledged.contains(pkiID) && results.failed[pkiID] == nil {
                results.failed[pkiID] = reason
            }
            return results
        }
    }

    /// Acknowledges `received` (a message sent with ``sendWithAck(_:to:minAck:timeout:)``): an
    /// `Acknowledgement` with the same nonce, `error` empty on success, back over the sender's connection.
    public func acknowledge(_ received: ReceivedMessage, error: String = "") throws(GossipError) {
        var ack = Gossip_Acknowledgement()
        ack.error = error
        var reply = Gossip_GossipMessage()
        reply.nonce = received.message.message.nonce
        reply.tag = .undefined
        reply.content = .ack(ack)
        try self.send(
            reply,
            to: [RemotePeer(endpoint: received.connection.endpoint, pkiID: received.connection.pkiID)]
        )
    }
}
