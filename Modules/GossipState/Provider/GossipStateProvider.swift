internal import Foundation
public import Gossip
public import Logging
internal import SwiftProtobuf
internal import Synchronization
public import Wire

/// State transfer for one channel (Fabric's `GossipStateProviderImpl`, spec §6): the payload buffer, the commit
/// loop that hands blocks to the ``BlockCommitCoordinator`` strictly in order, anti-entropy, and serving state
/// requests to members of the channel's Readers policy.
///
/// The decisions are made by the pure ``PayloadBuffer``, ``AntiEntropy``, ``StateRequestCheck`` and
/// ``StateResponseCheck``; this type is the thin async shell around them. Run it with ``run()`` inside a task
/// group; it ends when that task is cancelled or ``stop()`` is called.
///
/// Where payloads come from:
/// - ``addPayload(_:)`` — the deliver path (blocks the orderer sent, already verified by Deliver); waits for room
///   unless `nonBlockingCommitMode`;
/// - gossiped blocks (pushed or pulled, verified by gossip) — offered without waiting, refused when
///   blockBufferSize or more past the height or when the buffer is full;
/// - state responses — checked whole (``StateResponseCheck``: every block verified with the
///   ``MessageCryptoService``), then added waiting for room.
public final class GossipStateProvider: Sendable {
    /// The block the commit loop halted on and the coordinator's error.
    public struct CommitFailure: Sendable, CustomStringConvertible {
        /// The number of the block that could not be committed (still the next block to commit).
        public var block: UInt64
        /// What the coordinator threw.
        public var error: any Error

        public var description: String { "block \(self.block): \(self.error)" }
    }

    private struct State {
        var buffer: PayloadBuffer
        var antiEntropy: AntiEntropy
        var random: SeededRandom
        var halted: CommitFailure?
        var stopped = false
        /// Bumped whenever room may have appeared in the buffer (commit, discard, halt, stop).
        var generation: UInt64 = 0
        var spaceWaiters: [Int: CheckedContinuation<Void, Never>] = [:]
        var nextWaiterID = 0
        var responses: [ReceivedMessage] = []
    }

    private let state: Mutex<State>
    /// The channel.
    public let channel: ChannelID
    /// The configuration.
    public let config: StateConfig
    private let gossip: any StateGossipAdapter
    private let coordinator: any BlockCommitCoordinator
    private let blockSource: any StateBlockSource
    private let accessPolicy: any StateAccessPolicy
    private let mcs: any MessageCryptoService
    private let clock: any GossipClock
    private let metrics: StateMetrics
    private let logger: Logger
    private let blockMessages: AsyncStream<ReceivedMessage>
    private let stateMessages: AsyncStream<ReceivedMessage>
    private let requests: AsyncStream<ReceivedMessage>
    private let requestContinuation: AsyncStream<ReceivedMessage>.Continuation
    private let commitWake = WakeSignal()
    private let antiEntropyWake = WakeSignal()
    private let stopSignal = WakeSignal()

    /// Creates the provider of `channel`: reads the ledger height from `coordinator` (0 is refused: a channel
    /// ledger holds at least its genesis block), subscribes to the channel's block and state messages, and
    /// publishes the height to gossip.
    ///
    /// - Parameters:
    ///   - gossip: the channel's gossip (``GossipNodeStateAdapter`` over a ``GossipNode``).
    ///   - coordinator: where blocks are committed.
    ///   - blockSource: what state requests are served from.
    ///   - accessPolicy: the Readers check applied to every state request and response.
    ///   - mcs: verifies the blocks of state responses.
    ///   - clock: time for anti-entropy and commit durations.
    ///   - seed: the seed of peer choices and nonces (nil: from the system's random source).
    public init(
        channel: ChannelID,
        config: StateConfig,
        gossip: any StateGossipAdapter,
        coordinator: any BlockCommitCoordinator,
        blockSource: any StateBlockSource,
        accessPolicy: any StateAccessPolicy,
        mcs: any MessageCryptoService,
        clock: any GossipClock = WallClock(),
        seed: UInt64? = nil,
        metrics: StateMetrics = StateMetrics(),
        logger: Logger = Logger(label: "gossip.state")
    ) throws(GossipStateError) {
        try config.validate()
        let height: UInt64
        do {
            height = try coordinator.ledgerHeight()
        } catch {
            throw GossipStateError(.ledger, "cannot read the ledger height of \(channel)", cause: error)
        }
        guard height > 0 else {
            throw GossipStateError(
                .ledger,
                "the ledger of \(channel) has height 0; it must hold at least the genesis block"
            )
        }
        self.channel = channel
        self.config = config
        self.gossip = gossip
        self.coordinator = coordinator
        self.blockSource = blockSource
        self.accessPolicy = accessPolicy
        self.mcs = mcs
        self.clock = clock
        self.metrics = metrics
        var logger = logger
        logger[metadataKey: "channel"] = "\(channel)"
        self.logger = logger
        self.state = Mutex(
            State(
                buffer: PayloadBuffer(next: height, blockBufferSize: config.blockBufferSize),
                antiEntropy: AntiEntropy(channel: channel, config: config, now: clock.now),
                random: seed.map { SeededRandom(seed: $0) } ?? SeededRandom()
            )
        )
        self.blockMessages = gossip.blockMessages()
        self.stateMessages = gossip.stateMessages()
        (self.requests, self.requestContinuation) = AsyncStream.makeStream(
            of: ReceivedMessage.self,
            bufferingPolicy: .bufferingOldest(config.channelSize)
        )
        logger.info("state provider of \(channel) starts at ledger height \(height), next block \(height)")
        gossip.updateLedgerHeight(height)
        metrics.height(channel: channel, height)
    }

    // MARK: - Lifecycle

    /// Runs the provider until the calling task is cancelled or ``stop()`` is called: gossip reception, state
    /// message dispatch, the commit loop, request serving, and anti-entropy when `peer.gossip.state.enabled`.
    public func run() async {
        await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                await self.receiveBlocks()
                return false
            }
            group.addTask {
                await self.dispatchStateMessages()
                return false
            }
            group.addTask {
                await self.commitLoop()
                return false
            }
            group.addTask {
                await self.serveRequests()
                return false
            }
            if self.config.enabled {
                group.addTask {
                    await self.antiEntropyLoop()
                    return false
                }
            }
            group.addTask {
                await self.stopSignal.wait()
                return true
            }
            while let stopping = await group.next() {
                if stopping { group.cancelAll() }
            }
        }
        self.requestContinuation.finish()
    }

    /// Stops the provider: ``run()`` returns, waiting ``addPayload(_:)`` calls throw
    /// ``GossipStateError/Code-swift.struct/stopped``, and nothing more is committed. Final.
    public func stop() {
        let waiters = self.state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.stopped = true
            return Self.takeSpaceWaiters(&state)
        }
        for waiter in waiters { waiter.resume() }
        self.requestContinuation.finish()
        self.stopSignal.signal()
        self.commitWake.signal()
        self.antiEntropyWake.signal()
    }

    // MARK: - Inspection

    /// The ledger height as the provider knows it: the number of the next block to commit.
    public var ledgerHeight: UInt64 { self.state.withLock { $0.buffer.next } }

    /// The block numbers waiting in the buffer, ascending.
    public var bufferedBlocks: [UInt64] { self.state.withLock { $0.buffer.numbers } }

    /// The failure the commit loop halted on, if it did.
    public var commitFailure: CommitFailure? { self.state.withLock { $0.halted } }

    /// How many ``addPayload(_:blocking:)`` calls are waiting for room in the buffer.
    package var waitingAdds: Int { self.state.withLock { $0.spaceWaiters.count } }

    /// Whether anti-entropy is fetching blocks right now.
    public var isTransferActive: Bool { self.state.withLock { $0.antiEntropy.isTransferActive } }

    // MARK: - Adding payloads

    /// Adds a block payload from the deliver path (Fabric's `AddPayload`): waits for room in the buffer unless
    /// `nonBlockingCommitMode`.
    public func addPayload(_ payload: Gossip_Payload) async throws(GossipStateError) {
        try await self.addPayload(payload, blocking: self.config.blockingMode)
    }

    /// Adds a block payload. Blocking: waits while the buffer is full (the next block is always admitted).
    /// Non-blocking: throws ``GossipStateError/Code-swift.struct/tooFarAhead`` when the block is blockBufferSize
    /// or more past the height and ``GossipStateError/Code-swift.struct/bufferFull`` when the buffer is full.
    /// Blocks already committed or already held are ignored. Throws
    /// ``GossipStateError/Code-swift.struct/commitHalted`` once the commit loop has halted.
    public func addPayload(_ payload: Gossip_Payload, blocking: Bool) async throws(GossipStateError) {
        let mode: PayloadBuffer.Mode = blocking ? .blocking : .nonBlocking
        while true {
            let (admission, generation, height, size) = try self.admit(payload, mode: mode)
            switch self.handle(admission, payload: payload, mode: mode, height: height, size: size) {
            case .done:
                return
            case .failed(let error):
                throw error
            case .wait:
                await self.waitForSpace(after: generation)
                if Task.isCancelled {
                    throw GossipStateError(.stopped, "adding block \(payload.seqNum) of \(self.channel) was cancelled")
                }
            }
        }
    }

    /// Offers a gossiped block payload without waiting (Fabric's non-blocking `addPayload`).
    public func offer(_ payload: Gossip_Payload) throws(GossipStateError) {
        let (admission, _, height, size) = try self.admit(payload, mode: .nonBlocking)
        if case .failed(let error) = self.handle(
            admission,
            payload: payload,
            mode: .nonBlocking,
            height: height,
            size: size
        ) {
            throw error
        }
    }

    private enum AddOutcome {
        case done
        case wait
        case failed(GossipStateError)
    }

    private func admit(
        _ payload: Gossip_Payload,
        mode: PayloadBuffer.Mode
    ) throws(GossipStateError) -> (PayloadBuffer.Admission, UInt64, UInt64, Int) {
        let result = self.state.withLock {
            state -> Result<(PayloadBuffer.Admission, UInt64, UInt64, Int), GossipStateError> in
            if state.stopped {
                return .failure(GossipStateError(.stopped, "the state provider of \(self.channel) is stopped"))
            }
            if let halted = state.halted {
                return .failure(
                    GossipStateError(
                        .commitHalted,
                        "the commit loop of \(self.channel) halted on block \(halted.block); block \(payload.seqNum) refused",
                        cause: halted.error
                    )
                )
            }
            let admission = state.buffer.add(payload, mode: mode)
            return .success((admission, state.generation, state.buffer.next, state.buffer.count))
        }
        return try result.get()
    }

    private func handle(
        _ admission: PayloadBuffer.Admission,
        payload: Gossip_Payload,
        mode: PayloadBuffer.Mode,
        height: UInt64,
        size: Int
    ) -> AddOutcome {
        let number = payload.seqNum
        switch admission {
        case .accepted:
            self.metrics.bufferSize(channel: self.channel, size)
            if number == height { self.commitWake.signal() }
            return .done
        case .stale, .duplicate:
            self.logger.debug("block \(number) was not added to the buffer (already committed or held)")
            return .done
        case .tooFarAhead:
            self.metrics.payloadRejected(channel: self.channel, reason: "tooFarAhead")
            if self.isStraggler(height: height, number: number) {
                let text =
                    "ledger height \(height) of \(self.channel) is too far behind other peers (block \(number) "
                    + "received) to catch up without state transfer, which is disabled "
                    + "(peer.gossip.state.enabled = false); enable it or make this peer an org leader "
                    + "(peer.gossip.orgLeader = true)"
                self.logger.warning("\(text)")
            }
            return .failed(
                GossipStateError(
                    .tooFarAhead,
                    "ledger height of \(self.channel) is at \(height), cannot enqueue block \(number)"
                )
            )
        case .full:
            guard mode == .blocking else {
                self.metrics.payloadRejected(channel: self.channel, reason: "full")
                return .failed(
                    GossipStateError(
                        .bufferFull,
                        "the payload buffer of \(self.channel) is full (\(size) blocks); block \(number) dropped"
                    )
                )
            }
            return .wait
        }
    }

    /// Fabric's straggler rule: state transfer off, more than 100 blocks behind, and depending on other peers.
    private func isStraggler(height: UInt64, number: UInt64) -> Bool {
        !self.config.enabled && height + StateConfig.stragglerThreshold < number
            && (self.config.useLeaderElection || !self.config.orgLeader)
    }

    private func waitForSpace(after generation: UInt64) async {
        let id = self.state.withLock { state -> Int in
            state.nextWaiterID += 1
            return state.nextWaiterID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = self.state.withLock { state -> Bool in
                    if state.generation != generation || state.stopped || Task.isCancelled { return true }
                    state.spaceWaiters[id] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiter = self.state.withLock { $0.spaceWaiters.removeValue(forKey: id) }
            waiter?.resume()
        }
    }

    private static func takeSpaceWaiters(_ state: inout State) -> [CheckedContinuation<Void, Never>] {
        state.generation += 1
        defer { state.spaceWaiters = [:] }
        return Array(state.spaceWaiters.values)
    }

    private func notifySpace(_ waiters: [CheckedContinuation<Void, Never>]) {
        for waiter in waiters { waiter.resume() }
    }

    // MARK: - Gossiped blocks

    private func receiveBlocks() async {
        for await received in self.blockMessages {
            guard case .dataMsg(let data)? = received.message.message.content, data.hasPayload,
                received.channel == self.channel
            else { continue }
            do {
                try self.offer(data.payload)
            } catch {
                self.logger.debug(
                    "block \(data.payload.seqNum) gossiped by \(received.connection) was not added: \(error)"
                )
            }
        }
    }

    // MARK: - The commit loop

    private func commitLoop() async {
        while !Task.isCancelled {
            let (next, finished) = self.state.withLock { state -> (Gossip_Payload?, Bool) in
                if state.stopped || state.halted != nil { return (nil, true) }
                return (state.buffer.ready, false)
            }
            if finished { return }
            guard let payload = next else {
                await self.commitWake.wait()
                continue
            }
            let number = payload.seqNum
            let decoded: (block: Common_Block, privateData: [TxPrivateWriteSet])
            do {
                decoded = try Self.decode(payload)
            } catch {
                let waiters = self.state.withLock { state in
                    state.buffer.discardReady()
                    return Self.takeSpaceWaiters(&state)
                }
                self.notifySpace(waiters)
                self.logger.error("dropped block \(number) of \(self.channel) without skipping it: \(error)")
                self.metrics.payloadRejected(channel: self.channel, reason: "malformed")
                continue
            }
            let started = self.clock.now
            do {
                try await self.coordinator.storeBlock(decoded.block, privateData: decoded.privateData)
            } catch {
                let waiters = self.state.withLock { state in
                    state.halted = CommitFailure(block: number, error: error)
                    return Self.takeSpaceWaiters(&state)
                }
                self.notifySpace(waiters)
                self.metrics.commitFailed(channel: self.channel)
                let text =
                    "cannot commit block \(number) of \(self.channel): \(error); commit processing of the channel "
                    + "halts here (the block is not skipped)"
                self.logger.critical("\(text)")
                return
            }
            let (size, waiters) = self.state.withLock { state in
                state.buffer.removeCommitted()
                return (state.buffer.count, Self.takeSpaceWaiters(&state))
            }
            self.notifySpace(waiters)
            self.metrics.commitDuration(channel: self.channel, started.duration(to: self.clock.now))
            self.metrics.height(channel: self.channel, number + 1)
            self.metrics.bufferSize(channel: self.channel, size)
            self.gossip.updateLedgerHeight(number + 1)
            self.logger.debug("committed block \(number) with \(decoded.block.data.data.count) transaction(s)")
        }
    }

    /// The block and private data of a payload: the block must decode, have a header and data, and carry the
    /// payload's number.
    static func decode(_ payload: Gossip_Payload) throws(GossipStateError) -> (Common_Block, [TxPrivateWriteSet]) {
        let block: Common_Block
        do {
            block = try Common_Block(serializedBytes: payload.data)
        } catch {
            throw GossipStateError(.malformedPayload, "block \(payload.seqNum) does not decode", cause: error)
        }
        guard block.hasHeader, block.hasData else {
            throw GossipStateError(.malformedPayload, "block \(payload.seqNum) has no header or no data")
        }
        guard block.header.number == payload.seqNum else {
            throw GossipStateError(
                .malformedPayload,
                "payload \(payload.seqNum) holds block \(block.header.number)"
            )
        }
        return (block, try PrivateDataCodec.decode(payload.privateData, block: payload.seqNum))
    }

    // MARK: - State messages

    private func dispatchStateMessages() async {
        for await received in self.stateMessages {
            let message = received.message.message
            let isRequest: Bool
            switch message.content {
            case .stateRequest?: isRequest = true
            case .stateResponse?: isRequest = false
            default: continue
            }
            guard message.channelID == self.channel else {
                if isRequest {
                    self.metrics.requestRefused(channel: self.channel, reason: "wrongChannel")
                } else {
                    self.metrics.badResponse(channel: self.channel, reason: .wrongChannel)
                }
                continue
            }
            let requester = StateRequester(connection: received.connection)
            do {
                try self.accessPolicy.authorize(requester, channel: self.channel)
            } catch {
                self.logger.warning("unauthorised \(message.contentName) from \(requester): \(error)")
                if isRequest {
                    self.metrics.requestRefused(channel: self.channel, reason: "notReader")
                } else {
                    self.metrics.badResponse(channel: self.channel, reason: .notReader)
                }
                continue
            }
            if isRequest {
                if case .dropped = self.requestContinuation.yield(received) {
                    self.logger.warning(
                        "state request queue of \(self.channel) is full: request of \(requester) dropped"
                    )
                    self.metrics.requestRefused(channel: self.channel, reason: "queueFull")
                }
                continue
            }
            let queued = self.state.withLock { state -> Bool? in
                guard state.antiEntropy.isTransferActive else { return nil }
                guard state.responses.count < self.config.channelSize else { return false }
                state.responses.append(received)
                return true
            }
            switch queued {
            case nil:
                self.logger.debug("state response from \(requester) while no transfer runs: dropped")
                self.metrics.badResponse(channel: self.channel, reason: .unsolicited)
            case false?:
                self.metrics.badResponse(channel: self.channel, reason: .queueFull)
            case true?:
                self.antiEntropyWake.signal()
            }
        }
    }

    // MARK: - Serving requests

    private func serveRequests() async {
        for await received in self.requests {
            if Task.isCancelled { return }
            await self.serve(received)
        }
    }

    private func serve(_ received: ReceivedMessage) async {
        guard case .stateRequest(let request)? = received.message.message.content else { return }
        let requester = StateRequester(connection: received.connection)
        let height: UInt64
        do {
            height = try self.blockSource.ledgerHeight()
        } catch {
            self.logger.error("cannot read the ledger height of \(self.channel) to serve \(requester): \(error)")
            return
        }
        let numbers: [UInt64]
        do {
            numbers = try StateRequestCheck.blocksToServe(
                start: request.startSeqNum,
                end: request.endSeqNum,
                batchSize: self.config.batchSize,
                height: height
            )
        } catch {
            self.logger.warning("state request of \(requester) refused: \(error)")
            self.metrics.requestRefused(channel: self.channel, reason: "badRequest")
            return
        }
        if request.endSeqNum >= height {
            self.logger.debug(
                "state request [\(request.startSeqNum)...\(request.endSeqNum)] of \(requester) reaches past height \(height)"
            )
        }
        var response = Gossip_RemoteStateResponse()
        for number in numbers {
            do {
                guard let served = try await self.blockSource.block(number: number, for: requester) else {
                    self.logger.error("block \(number) of \(self.channel) is not in the ledger; skipped")
                    continue
                }
                var payload = Gossip_Payload()
                payload.seqNum = number
                payload.data = served.block
                payload.privateData = try PrivateDataCodec.encode(served.privateData)
                response.payloads.append(payload)
            } catch {
                self.logger.error("cannot read block \(number) of \(self.channel) for \(requester): \(error); skipped")
            }
        }
        let reply = Gossip_GossipMessage(
            nonce: received.message.message.nonce,
            channel: self.channel,
            tag: .chanOrOrg,
            content: .stateResponse(response)
        )
        self.gossip.reply(reply, to: received.connection)
        self.metrics.requestServed(channel: self.channel)
    }

    // MARK: - Anti-entropy

    private func antiEntropyLoop() async {
        while !Task.isCancelled {
            while let received = self.state.withLock({ $0.responses.isEmpty ? nil : $0.responses.removeFirst() }) {
                await self.handleResponse(received)
                if Task.isCancelled { return }
            }
            let candidates = AntiEntropy.Candidate.from(self.gossip.peersOfChannel())
            let now = self.clock.now
            let (outputs, deadline, pending) = self.state.withLock { state in
                let outputs = state.antiEntropy.tick(
                    now: now,
                    ledgerHeight: state.buffer.next,
                    candidates: candidates,
                    random: &state.random
                )
                return (outputs, state.antiEntropy.nextDeadline, !state.responses.isEmpty)
            }
            self.perform(outputs)
            if pending { continue }
            if let deadline {
                await self.antiEntropyWake.sleep(until: deadline, on: self.clock)
            } else {
                await self.antiEntropyWake.wait()
            }
        }
    }

    private func handleResponse(_ received: ReceivedMessage) async {
        guard case .stateResponse(let response)? = received.message.message.content else { return }
        let nonce = received.message.message.nonce
        guard let request = self.state.withLock({ $0.antiEntropy.claimResponse(nonce: nonce) }) else {
            self.logger.debug("state response from \(received.connection) with nonce \(nonce) is not awaited")
            self.metrics.badResponse(channel: self.channel, reason: .unsolicited)
            return
        }
        var highest: UInt64?
        do {
            let payloads = try StateResponseCheck.validate(
                response,
                answering: request,
                channel: self.channel,
                mcs: self.mcs
            )
            highest = payloads.map(\.seqNum).max()
            for payload in payloads {
                do {
                    try await self.addPayload(payload, blocking: true)
                } catch {
                    self.logger.warning("block \(payload.seqNum) from state transfer was not buffered: \(error)")
                }
            }
        } catch {
            self.logger.warning(
                "state response from \(received.connection) for [\(request.start)...\(request.end)] dropped: \(error)"
            )
            self.metrics.badResponse(channel: self.channel, reason: error.reason)
        }
        let candidates = AntiEntropy.Candidate.from(self.gossip.peersOfChannel())
        let now = self.clock.now
        let outputs = self.state.withLock { state in
            state.antiEntropy.finishResponse(
                highestAccepted: highest,
                now: now,
                candidates: candidates,
                random: &state.random
            )
        }
        self.perform(outputs)
    }

    private func perform(_ outputs: [AntiEntropy.Output]) {
        for output in outputs {
            switch output {
            case .send(let message, let peer):
                if case .stateRequest(let request)? = message.content {
                    self.logger.debug(
                        "requesting blocks [\(request.startSeqNum)...\(request.endSeqNum)] of \(self.channel) from \(peer)"
                    )
                }
                self.gossip.send(message, to: peer)
            case .abandoned(let start, let end, let reason):
                self.logger.warning(
                    "state transfer of blocks [\(start)...\(end)] of \(self.channel) abandoned: \(reason)"
                )
                self.metrics.transferAbandoned(channel: self.channel)
            case .completed(let end):
                self.logger.debug("state transfer of \(self.channel) received every block up to \(end)")
            }
        }
    }
}
