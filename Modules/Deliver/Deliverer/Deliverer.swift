import ChannelConfig
import Foundation
import Logging
import MSP
import Synchronization
import Wire

/// The CFT deliverer of one channel (Fabric's `blocksprovider.Deliverer.DeliverBlocks`): a loop that connects to a
/// random orderer endpoint, seeks from the ledger height, verifies and hands on every block, and reconnects with
/// ``RetryPolicy``'s backoff, until it is cancelled or gives up.
///
/// The decisions live in ``RetryPolicy`` (pure); this type is the thin async shell around it: clock, random source,
/// connector, ledger and handler are all injected.
struct Deliverer: Sendable {
    /// Why ``run()`` returned.
    enum Exit: Sendable, Hashable {
        /// The task was cancelled (delivery stopped).
        case stopped
        /// The total reconnection sleep passed the threshold and the deliverer yields.
        case gaveUp
        /// The ledger height could not be read.
        case ledgerFailed
        /// The seek request could not be built or signed.
        case seekFailed
    }

    let channelID: String
    let ledger: any BlockHeightProvider
    let handler: any BlockHandler
    let verifier: UpdatableBlockVerifier
    let source: OrdererConnectionSource
    let connector: any OrdererConnector
    let signer: any SigningIdentity
    let tlsCertificateHash: Data?
    let random: any DeliverRandomSource
    let clock: any Clock<Duration>
    let wallClock: @Sendable () -> Date
    let policy: RetryPolicy
    let logger: Logger
    let metrics: DeliverMetrics

    /// Delivers until cancelled or giving up.
    func run() async -> Exit {
        var policy = self.policy
        while true {
            if Task.isCancelled { return .stopped }
            switch policy.nextStep() {
            case .connect:
                break
            case .giveUp(let total):
                self.logger.warning(
                    "attempted to retry block delivery for more than \(policy.maxRetryDuration) (\(total)), giving up"
                )
                self.metrics.gaveUp(channel: self.channelID)
                return .gaveUp
            case .sleep(let duration, let overThreshold):
                if overThreshold {
                    self.logger.warning(
                        "peer is a static leader, ignoring peer.deliveryclient.reconnectTotalTimeThreshold"
                    )
                }
                self.logger.warning("disconnected from ordering service; attempting to reconnect in \(duration)")
                do {
                    try await self.clock.sleep(for: duration)
                } catch {
                    return .stopped
                }
            }

            let tip: LedgerTip
            do {
                tip = try await self.ledger.ledgerTip()
            } catch {
                self.logger.error("did not get the ledger height, something is critically wrong: \(error)")
                return .ledgerFailed
            }
            self.verifier.reset(to: tip)
            let seek: Common_Envelope
            do {
                seek = try SeekRequest.envelope(
                    channelID: self.channelID,
                    from: tip.height,
                    signer: self.signer,
                    nonce: self.random.bytes(count: SeekRequest.nonceLength),
                    timestamp: self.wallClock(),
                    tlsCertificateHash: self.tlsCertificateHash
                )
            } catch {
                self.logger.error("could not create a signed deliver seek request: \(error)")
                return .seekFailed
            }
            guard let endpoint = self.source.randomEndpoint(using: self.random) else {
                self.logger.warning("could not connect to ordering service: no orderer endpoints currently defined")
                self.metrics.connectionFailed(channel: self.channelID, endpoint: "", reason: "noEndpoint")
                policy.recordFailure()
                self.metrics.consecutiveFailures(channel: self.channelID, policy.failures)
                continue
            }

            let connection = ConnectionState()
            let outcome = await self.receive(from: endpoint, seek: seek, height: tip.height, connection: connection)
            if connection.acceptedBlocks > 0 { policy.recordSuccess() }
            if Task.isCancelled { return .stopped }
            switch outcome {
            case .refreshed:
                self.logger.info(
                    "ordering endpoints have been refreshed, disconnecting to reconnect using updated endpoints",
                    metadata: ["orderer-address": "\(endpoint)"]
                )
            case .failed(let error):
                self.logger.warning(
                    "got error while receiving blocks: \(error.message)",
                    metadata: ["orderer-address": "\(endpoint)"]
                )
                if error.code == .connection || error.code == .badStatus || error.code == .tls {
                    self.metrics.connectionFailed(
                        channel: self.channelID,
                        endpoint: endpoint.address,
                        reason: "\(error.code)"
                    )
                }
                policy.recordFailure()
            case .stopped:
                return .stopped
            }
            self.metrics.consecutiveFailures(channel: self.channelID, policy.failures)
        }
    }

    /// How one connection ended.
    private enum Outcome: Sendable {
        case refreshed
        case failed(DeliverError)
        case stopped
    }

    /// Thrown inside the stream to end it because the endpoints were refreshed.
    private struct Refreshed: Error {}

    /// Receives from `endpoint` until the stream fails or ends, the endpoint is refreshed, or the task is cancelled.
    /// A refresh never interrupts a block's verification and hand-off: it takes effect between messages.
    private func receive(
        from endpoint: OrdererConnectionSource.Endpoint,
        seek: Common_Envelope,
        height: UInt64,
        connection: ConnectionState
    ) async -> Outcome {
        self.logger.debug(
            "connecting to orderer, seeking blocks from \(height)",
            metadata: ["orderer-address": "\(endpoint)"]
        )
        return await withTaskGroup(of: Outcome?.self) { group in
            group.addTask {
                await endpoint.refreshed.wait()
                if Task.isCancelled { return nil }
                return connection.refreshFired() ? .refreshed : nil
            }
            group.addTask {
                do {
                    try await self.connector.deliver(to: endpoint, seek: seek) { response in
                        guard connection.beginMessage() else { throw Refreshed() }
                        try await self.process(response, from: endpoint)
                        connection.blockAccepted(response)
                        guard connection.endMessage() else { throw Refreshed() }
                    }
                    if Task.isCancelled { return .stopped }
                    return .failed(DeliverError(.connection, "orderer \(endpoint) hung up without sending status"))
                } catch is Refreshed {
                    return .refreshed
                } catch {
                    if Task.isCancelled { return .stopped }
                    if let error = error as? DeliverError { return .failed(error) }
                    return .failed(
                        DeliverError(
                            .connection,
                            "deliver stream from orderer \(endpoint) failed: \(error)",
                            cause: error
                        )
                    )
                }
            }
            var outcome: Outcome = .stopped
            while let next = await group.next() {
                if let next {
                    outcome = next
                    break
                }
            }
            group.cancelAll()
            return outcome
        }
    }

    /// One response: a block is verified, handed on and, if it is a config block, its config switches the
    /// orderer endpoints; a status ends the stream.
    private func process(
        _ response: Orderer_DeliverResponse,
        from endpoint: OrdererConnectionSource.Endpoint
    )
        async throws(DeliverError)
    {
        switch response.type {
        case .status(let status):
            if status == .success {
                throw DeliverError(
                    .badStatus,
                    "received success from orderer \(endpoint) for a seek that should never complete"
                )
            }
            throw DeliverError(.badStatus, "received bad status \(status) from orderer \(endpoint)")
        case .block(let block):
            self.metrics.blockReceived(channel: self.channelID)
            let number = block.header.number
            let newBundle: ChannelBundle?
            do {
                newBundle = try self.verifier.verify(block)
            } catch {
                self.logger.error(
                    "block \(number) from orderer \(endpoint) refused: \(error.message)",
                    metadata: ["orderer-address": "\(endpoint)", "block": "\(number)"]
                )
                self.metrics.blockRejected(
                    channel: self.channelID,
                    endpoint: endpoint.address,
                    number: number,
                    reason: "\(error.code)"
                )
                throw error
            }
            do {
                try await self.handler.handleBlock(block, channelID: self.channelID)
            } catch {
                self.logger.error(
                    "block \(number) from orderer \(endpoint) could not be handled: \(error)",
                    metadata: ["orderer-address": "\(endpoint)", "block": "\(number)"]
                )
                self.metrics.blockRejected(
                    channel: self.channelID,
                    endpoint: endpoint.address,
                    number: number,
                    reason: "handoff"
                )
                throw DeliverError(.handoff, "block \(number) could not be handled: \(error)", cause: error)
            }
            if let newBundle {
                self.logger.info(
                    "config block \(number) received: verifying with config sequence \(newBundle.sequence) from now on"
                )
                self.source.update(OrdererAddressConfig(bundle: newBundle))
            }
        case nil:
            throw DeliverError(.badStatus, "orderer \(endpoint) sent a response with neither block nor status")
        }
    }
}

/// The state of one connection shared by its receiving task and its refresh watcher.
private final class ConnectionState: Sendable {
    private enum Phase {
        case idle
        case processing
        case refreshPending
        case refreshed
    }

    private let phase = Mutex(Phase.idle)
    private let accepted = Atomic<Int>(0)

    var acceptedBlocks: Int { self.accepted.load(ordering: .relaxed) }

    /// A message arrived; false when the endpoint was refreshed meanwhile (end the stream).
    func beginMessage() -> Bool {
        self.phase.withLock { phase in
            guard case .idle = phase else { return false }
            phase = .processing
            return true
        }
    }

    /// The message was handled; false when a refresh came in while it was (end the stream).
    func endMessage() -> Bool {
        self.phase.withLock { phase in
            if case .refreshPending = phase {
                phase = .refreshed
                return false
            }
            phase = .idle
            return true
        }
    }

    func blockAccepted(_ response: Orderer_DeliverResponse) {
        if case .block = response.type { self.accepted.add(1, ordering: .relaxed) }
    }

    /// The endpoint was refreshed: true when the stream is idle and can be cancelled now, false when a message is
    /// being handled (the stream ends after it).
    func refreshFired() -> Bool {
        self.phase.withLock { phase in
            switch phase {
            case .idle, .refreshed:
                phase = .refreshed
                return true
            case .processing, .refreshPending:
                phase = .refreshPending
                return false
            }
        }
    }
}
