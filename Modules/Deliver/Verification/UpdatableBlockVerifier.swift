public import ChannelConfig
import Foundation
import Synchronization
public import Wire

/// Verifies the blocks of a channel's deliver stream (Fabric's `BlockVerificationAssistant`): the hash chain from the
/// ledger's tip, well-formed data, and the orderer signatures under the BlockValidation policy of the config in
/// force, switching to a new config after each config block.
///
/// A config block is verified under the **previous** config; only then does its config (channel id checked)
/// become the one the following blocks are verified with. The verifier remembers from which block on each config
/// applies, so a reconnect that seeks from below a config block the ledger has not committed yet verifies it again
/// under the config it was signed under.
public final class UpdatableBlockVerifier: Sendable {
    private struct State {
        /// Configs in force from block `from` on, ascending; never empty.
        var configs: [(from: UInt64, bundle: ChannelBundle)]
        /// The next block number expected and the hash its previous_hash must match (nil: not checked).
        var next: UInt64
        var previousHash: Data?
    }

    /// The channel whose blocks are verified.
    public let channelID: String
    private let mspBuilder: MSPBuilder
    private let state: Mutex<State>

    /// A verifier starting from `bundle`, expecting block `tip.height` after `tip.lastBlockHash`.
    public init(bundle: ChannelBundle, tip: LedgerTip, mspBuilder: @escaping MSPBuilder) {
        self.channelID = bundle.channelID
        self.mspBuilder = mspBuilder
        self.state = Mutex(State(configs: [(0, bundle)], next: tip.height, previousHash: tip.lastBlockHash))
    }

    /// The config blocks are currently verified with.
    public var bundle: ChannelBundle { self.state.withLock { $0.configs[$0.configs.count - 1].bundle } }

    /// The number of the next block expected.
    public var nextBlockNumber: UInt64 { self.state.withLock { $0.next } }

    /// Restarts the chain at the ledger's tip (before each connection): the next block must be `tip.height` and
    /// follow `tip.lastBlockHash`. Configs learnt from blocks at or above the tip are forgotten (they will be
    /// received again), and configs superseded below it are dropped.
    public func reset(to tip: LedgerTip) {
        self.state.withLock { state in
            state.next = tip.height
            state.previousHash = tip.lastBlockHash
            while state.configs.count > 1, state.configs[state.configs.count - 1].from > tip.height {
                state.configs.removeLast()
            }
            while state.configs.count > 1, state.configs[1].from <= tip.height {
                state.configs.removeFirst()
            }
        }
    }

    /// Verifies `block` as the next block of the chain and advances the chain. If the block is a config block, its
    /// config becomes current for the blocks after it; the new bundle is returned (nil otherwise).
    ///
    /// On any error the chain does not advance and the config does not change.
    @discardableResult
    public func verify(_ block: Common_Block) throws(DeliverError) -> ChannelBundle? {
        let (bundle, expected, previousHash) = self.state.withLock { state in
            (state.configs[state.configs.count - 1].bundle, state.next, state.previousHash)
        }
        guard block.hasHeader else {
            throw DeliverError(.badBlock, "block (expected number \(expected)) has no header")
        }
        let number = block.header.number
        guard number == expected else {
            throw DeliverError(
                .badBlock,
                "got block number \(number), expected \(expected), on channel \(self.channelID)"
            )
        }
        do {
            let previous = previousHash.map { (number: expected &- 1, hash: $0) }
            try BlockVerifier(bundle: bundle).verify(block, previous: previous)
        } catch {
            throw DeliverError(
                .badBlock,
                "block \(number) of channel \(self.channelID): \(error.message)",
                cause: error
            )
        }
        var newBundle: ChannelBundle?
        if BlockVerifier.isConfigBlock(block) {
            newBundle = try self.config(from: block)
        }
        let hash = block.header.hash
        self.state.withLock { state in
            state.next = number + 1
            state.previousHash = hash
            if let newBundle { state.configs.append((number + 1, newBundle)) }
        }
        return newBundle
    }

    /// The config carried by config block `block`, for this channel.
    private func config(from block: Common_Block) throws(DeliverError) -> ChannelBundle {
        let number = block.header.number
        let envelope: TransactionEnvelope
        let configEnvelope: Common_ConfigEnvelope
        do {
            envelope = try TransactionEnvelope(bytes: block.data.data[0])
            configEnvelope = try envelope.payload.unpackConfigEnvelope()
        } catch {
            throw DeliverError(.badConfig, "config block \(number) does not hold a config envelope", cause: error)
        }
        guard envelope.channelHeader.channelID == self.channelID else {
            throw DeliverError(
                .badConfig,
                "config block \(number) is for channel \(envelope.channelHeader.channelID), not \(self.channelID)"
            )
        }
        do {
            return try ChannelBundle(
                channelID: self.channelID,
                config: configEnvelope.config,
                mspBuilder: self.mspBuilder
            )
        } catch {
            throw DeliverError(
                .badConfig,
                "config of block \(number) of channel \(self.channelID) is not usable: \(error.message)",
                cause: error
            )
        }
    }
}
