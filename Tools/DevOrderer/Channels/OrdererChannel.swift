public import ChannelConfig
import Foundation
public import Ledger
import Logging
import MSP
import SwiftProtobuf
import Synchronization
public import Wire

/// One channel of the development orderer: its block store, its current config, and the ordering loop that cuts
/// blocks by the channel's `BatchSize` and `BatchTimeout`, signs them and appends them to the store.
///
/// Broadcast envelopes are checked outside the loop (``submit(_:)``) against the current config and then handed to
/// the loop, which answers once the envelope is in the pending batch (or in a block). Config updates are turned into
/// a CONFIG envelope signed by the orderer and cut in a block of their own; the config then becomes current.
public final class OrdererChannel: Sendable {
    /// The channel id.
    public let channelID: String
    /// The channel's blocks.
    public let store: BlockStore

    private struct State {
        var bundle: ChannelBundle
        var lastConfig: UInt64
        /// Set when a block could not be written: the chain cannot go on.
        var failure: String?
    }

    /// What ``processConfigUpdate(_:bundle:)`` made of a CONFIG_UPDATE.
    enum ConfigUpdateOutcome {
        /// The CONFIG envelope to order.
        case accepted(Common_Envelope)
        /// Why the update is refused.
        case refused(BroadcastResult)
    }

    enum Event: Sendable {
        case order(
            Common_Envelope,
            configSequence: UInt64,
            isConfig: Bool,
            reply: CheckedContinuation<BroadcastResult, Never>
        )
        case timeout(generation: Int)
    }

    private let state: Mutex<State>
    private let signer: any SigningIdentity
    private let mspBuilder: MSPBuilder
    private let wallClock: @Sendable () -> Date
    private let logger: Logger
    private let events: AsyncStream<Event>
    private let eventsContinuation: AsyncStream<Event>.Continuation

    init(
        channelID: String,
        store: BlockStore,
        bundle: ChannelBundle,
        lastConfig: UInt64,
        signer: any SigningIdentity,
        mspBuilder: @escaping MSPBuilder,
        wallClock: @escaping @Sendable () -> Date,
        logger: Logger
    ) {
        self.channelID = channelID
        self.store = store
        self.state = Mutex(State(bundle: bundle, lastConfig: lastConfig))
        self.signer = signer
        self.mspBuilder = mspBuilder
        self.wallClock = wallClock
        var logger = logger
        logger[metadataKey: "channel"] = "\(channelID)"
        self.logger = logger
        (self.events, self.eventsContinuation) = AsyncStream.makeStream(of: Event.self)
    }

    /// The channel's current config.
    public var bundle: ChannelBundle { self.state.withLock { $0.bundle } }

    /// The number of the last config block.
    public var lastConfigBlock: UInt64 { self.state.withLock { $0.lastConfig } }

    /// The number of blocks in the chain (the genesis block included).
    public var height: UInt64 { self.store.height }

    /// Why the channel stopped ordering, if a block could not be written.
    public var failure: String? { self.state.withLock { $0.failure } }

    // MARK: Broadcast

    /// Checks `envelope` against the current config and orders it: `SUCCESS` once it is in the pending batch (or
    /// already in a block), otherwise the status Fabric gives and why.
    public func submit(_ envelope: Common_Envelope) async -> BroadcastResult {
        let (bundle, failure) = self.state.withLock { ($0.bundle, $0.failure) }
        if let failure {
            return BroadcastResult(.serviceUnavailable, "channel \(self.channelID) cannot order: \(failure)")
        }
        let header: Common_ChannelHeader
        do {
            header = try envelope.unpackPayload().unpackChannelHeader()
        } catch {
            return BroadcastResult(.badRequest, "could not determine channel ID: \(reason(error))")
        }
        guard header.channelID == self.channelID else {
            return BroadcastResult(
                .badRequest,
                "envelope is for channel '\(header.channelID)', not '\(self.channelID)'"
            )
        }
        if header.type == Int32(Common_HeaderType.config.rawValue) {
            return BroadcastResult(.badRequest, "message is of type that cannot be processed directly")
        }
        if let orderer = bundle.orderer, orderer.capabilities.consensusTypeMigration,
            orderer.consensusType.state != .normal
        {
            return BroadcastResult(
                .serviceUnavailable,
                "normal transactions are rejected: maintenance mode: the channel's consensus type is in maintenance"
            )
        }
        if header.type == Int32(Common_HeaderType.configUpdate.rawValue) {
            switch self.processConfigUpdate(envelope, bundle: bundle) {
            case .refused(let refusal):
                return refusal
            case .accepted(let config):
                return await self.enqueue(config, configSequence: bundle.sequence, isConfig: true)
            }
        }
        if let refusal = MessageFilters.apply(envelope, bundle: bundle, now: self.wallClock()) {
            return refusal
        }
        return await self.enqueue(envelope, configSequence: bundle.sequence, isConfig: false)
    }

    private func enqueue(_ envelope: Common_Envelope, configSequence: UInt64, isConfig: Bool) async -> BroadcastResult {
        await withCheckedContinuation { (reply: CheckedContinuation<BroadcastResult, Never>) in
            let event = Event.order(envelope, configSequence: configSequence, isConfig: isConfig, reply: reply)
            if case .terminated = self.eventsContinuation.yield(event) {
                reply.resume(returning: BroadcastResult(.serviceUnavailable, "the orderer is shutting down"))
            }
        }
    }

    /// Fabric's `ProcessConfigUpdateMsg`: filters on the CONFIG_UPDATE envelope, the update applied to the current
    /// config (signatures against each changed element's mod_policy), the resulting config checked as a bundle and
    /// as a successor of the current one, wrapped in a CONFIG envelope signed by the orderer, and filtered again.
    func processConfigUpdate(_ envelope: Common_Envelope, bundle: ChannelBundle) -> ConfigUpdateOutcome {
        if let refusal = MessageFilters.apply(envelope, bundle: bundle, now: self.wallClock()) {
            return .refused(
                BroadcastResult(
                    refusal.status,
                    "config update for existing channel did not pass initial checks: \(refusal.info)"
                )
            )
        }
        let configEnvelope: Common_ConfigEnvelope
        do {
            configEnvelope = try bundle.configTxValidator.proposeConfigUpdate(envelope)
            let next = try ChannelBundle(
                channelID: self.channelID,
                config: configEnvelope.config,
                mspBuilder: self.mspBuilder
            )
            try bundle.validateNew(next)
            guard next.orderer != nil else {
                throw ChannelConfigError(.badStructure, "the new config has no orderer section")
            }
        } catch {
            return .refused(
                BroadcastResult(
                    .badRequest,
                    "error applying config update to existing channel '\(self.channelID)': \(reason(error))"
                )
            )
        }
        let config: Common_Envelope
        do {
            config = try self.signedEnvelope(type: .config, data: try configEnvelope.encoded())
        } catch {
            return .refused(BroadcastResult(.internalServerError, "could not sign the CONFIG envelope: \(error)"))
        }
        if let refusal = MessageFilters.apply(config, bundle: bundle, now: self.wallClock()) {
            return .refused(
                BroadcastResult(
                    refusal.status,
                    "config update for existing channel did not pass final checks: \(refusal.info)"
                )
            )
        }
        return .accepted(config)
    }

    /// An envelope made and signed by the orderer, as Fabric's `CreateSignedEnvelope`: channel header with type,
    /// version 0, timestamp in whole seconds, epoch 0 and no tx id; signature header with the orderer as creator and
    /// a 24-byte nonce.
    func signedEnvelope(type: Common_HeaderType, data: Data) throws -> Common_Envelope {
        var channelHeader = Common_ChannelHeader()
        channelHeader.type = Int32(type.rawValue)
        channelHeader.channelID = self.channelID
        channelHeader.timestamp.seconds = Int64(self.wallClock().timeIntervalSince1970.rounded(.down))
        var signatureHeader = Common_SignatureHeader()
        signatureHeader.creator = self.signer.serialized
        signatureHeader.nonce = TransactionBuilder.randomBytes(24)
        var payload = Common_Payload()
        payload.header.channelHeader = try channelHeader.encoded()
        payload.header.signatureHeader = try signatureHeader.encoded()
        payload.data = data
        var envelope = Common_Envelope()
        envelope.payload = try payload.encoded()
        envelope.signature = try self.signer.sign(envelope.payload)
        return envelope
    }

    // MARK: The ordering loop

    /// Ends the ordering loop; envelopes submitted afterwards are refused with `SERVICE_UNAVAILABLE`.
    func finish() { self.eventsContinuation.finish() }

    /// Runs the ordering loop until ``finish()`` (or cancellation). The batch timer runs on `clock`.
    func run(clock: any Clock<Duration>) async {
        var cutter = BlockCutter()
        var ticking = false
        var generation = 0
        await withDiscardingTaskGroup { group in
            for await event in self.events {
                switch event {
                case .order(let envelope, let sequence, let isConfig, let reply):
                    if Task.isCancelled {
                        reply.resume(returning: BroadcastResult(.serviceUnavailable, "the orderer is shutting down"))
                        continue
                    }
                    let (result, pending) = self.order(
                        envelope,
                        sequence: sequence,
                        isConfig: isConfig,
                        cutter: &cutter
                    )
                    if pending {
                        if !ticking {
                            ticking = true
                            generation += 1
                            let timeout = self.batchTimeout
                            let sleep = Self.sleeper(clock, for: timeout)
                            let current = generation
                            let continuation = self.eventsContinuation
                            group.addTask {
                                do { try await sleep() } catch { return }
                                continuation.yield(.timeout(generation: current))
                            }
                        }
                    } else {
                        ticking = false
                    }
                    reply.resume(returning: result)
                case .timeout(let fired):
                    guard ticking, fired == generation else { continue }
                    ticking = false
                    let batch = cutter.cut()
                    if !batch.isEmpty {
                        _ = self.writeBlock(batch, isConfig: false)
                    }
                }
            }
            group.cancelAll()
        }
    }

    private var batchTimeout: Duration {
        let seconds = self.bundle.orderer?.batchTimeout ?? 2
        return .nanoseconds(Int64((seconds * 1e9).rounded()))
    }

    /// A sleep that ends `duration` after now on `clock` (the deadline is taken now, not when the sleep starts).
    private static func sleeper<C: Clock>(_ clock: C, for duration: Duration) -> @Sendable () async throws -> Void
    where C.Duration == Duration {
        let deadline = clock.now.advanced(by: duration)
        return { try await clock.sleep(until: deadline, tolerance: nil) }
    }

    /// Orders one checked envelope; returns the answer for the client and whether messages are still pending.
    private func order(
        _ envelope: Common_Envelope,
        sequence: UInt64,
        isConfig: Bool,
        cutter: inout BlockCutter
    ) -> (BroadcastResult, pending: Bool) {
        let (bundle, failure) = self.state.withLock { ($0.bundle, $0.failure) }
        if let failure {
            return (
                BroadcastResult(.serviceUnavailable, "channel \(self.channelID) cannot order: \(failure)"),
                !cutter.pending.isEmpty
            )
        }
        var envelope = envelope
        if sequence < bundle.sequence {
            // The config changed while the envelope waited: check it again, as Fabric's chain does.
            if isConfig {
                let lastUpdate: Common_Envelope
                do {
                    lastUpdate = try envelope.unpackPayload().unpackConfigEnvelope().lastUpdate
                } catch {
                    return (
                        BroadcastResult(.badRequest, "config message does not unpack: \(reason(error))"),
                        !cutter.pending.isEmpty
                    )
                }
                switch self.processConfigUpdate(lastUpdate, bundle: bundle) {
                case .refused(let refusal): return (refusal, !cutter.pending.isEmpty)
                case .accepted(let again): envelope = again
                }
            } else if let refusal = MessageFilters.apply(envelope, bundle: bundle, now: self.wallClock()) {
                return (refusal, !cutter.pending.isEmpty)
            }
        }
        if isConfig {
            let pending = cutter.cut()
            if !pending.isEmpty, let failed = self.writeBlock(pending, isConfig: false) { return (failed, false) }
            if let failed = self.writeBlock([envelope], isConfig: true) { return (failed, false) }
            return (.success, false)
        }
        guard let batchSize = bundle.orderer?.batchSize else {
            return (BroadcastResult(.internalServerError, "channel \(self.channelID) has no orderer config"), false)
        }
        let outcome = cutter.ordered(envelope, batchSize: batchSize)
        for batch in outcome.batches {
            if let failed = self.writeBlock(batch, isConfig: false) { return (failed, outcome.pending) }
        }
        return (.success, outcome.pending)
    }

    /// Assembles, signs and appends the next block; for a config block its config becomes current. Returns nil on
    /// success, or the answer to give (the channel then stops ordering).
    private func writeBlock(_ envelopes: [Common_Envelope], isConfig: Bool) -> BroadcastResult? {
        let number = self.store.height
        do {
            guard let previousHash = self.store.lastBlockHash else {
                throw DevOrdererError(.storage, "the chain of channel \(self.channelID) has no genesis block")
            }
            let data = try envelopes.map { try $0.encoded() }
            var block = BlockBuilder.block(number: number, previousHash: previousHash, envelopes: data)
            var next: ChannelBundle?
            if isConfig {
                let configEnvelope = try envelopes[0].unpackPayload().unpackConfigEnvelope()
                next = try ChannelBundle(
                    channelID: self.channelID,
                    config: configEnvelope.config,
                    mspBuilder: self.mspBuilder
                )
            }
            let lastConfig = isConfig ? number : self.lastConfigBlock
            let signer = self.signer
            try BlockBuilder.sign(
                &block,
                lastConfig: lastConfig,
                signer: TransactionSigner(identity: signer.serialized, sign: { message in try signer.sign(message) })
            )
            try self.store.append(block)
            if let next {
                self.state.withLock { state in
                    state.bundle = next
                    state.lastConfig = number
                }
                self.logger.info("wrote config block \(number): config sequence \(next.sequence)")
            } else {
                self.logger.debug("wrote block \(number) with \(envelopes.count) transactions")
            }
            return nil
        } catch {
            let message = "could not write block \(number): \(error)"
            self.logger.error("\(message)")
            self.state.withLock { $0.failure = message }
            return BroadcastResult(.serviceUnavailable, message)
        }
    }
}
