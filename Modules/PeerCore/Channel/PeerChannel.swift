public import ChannelConfig
import Foundation
public import Ledger
public import Logging
import MSP
public import Wire

/// One joined channel (Fabric's `peer.Channel`): the ledger, the channel config as a ``BundleSource`` whose
/// callbacks keep gossip, TLS trust, the MSPs and the orderer endpoints current, the validator and the one commit
/// path (``ChannelCommitter``).
///
/// Built by ``PeerChannel/create(ledger:callbacks:mspBuilder:logger:)`` as the seed's `createChannel` lays it out:
/// persisted config → bundle → capability check → bundle source with callbacks → validator → committer.
public final class PeerChannel: Sendable {
    /// The channel id (the ledger id).
    public let id: String
    /// The channel's ledger.
    public let ledger: PeerLedger
    /// The channel's current config; CONFIG transactions replace it as they are validated.
    public let bundles: BundleSource
    /// The commit path.
    public let committer: ChannelCommitter

    private init(id: String, ledger: PeerLedger, bundles: BundleSource, committer: ChannelCommitter) {
        self.id = id
        self.ledger = ledger
        self.bundles = bundles
        self.committer = committer
    }

    /// The current config.
    public var bundle: ChannelBundle { self.bundles.bundle }

    /// Creates the channel over an open `ledger`.
    ///
    /// - Parameters:
    ///   - callbacks: run with the initial bundle and with every later one, in order (gossip's JoinChan, trusted
    ///     TLS roots, MSP updates, orderer endpoints).
    ///   - onCommit: runs after each committed block.
    /// - Throws: ``PeerCoreError/Code/unsupportedChannel`` when the ledger holds no config, the config has no
    ///   application section, or it requires a capability this peer lacks.
    public static func create(
        ledger: PeerLedger,
        callbacks: [BundleSource.Callback],
        mspBuilder: @escaping MSPBuilder = MSPBuilders.x509,
        logger: Logger,
        onCommit: @escaping @Sendable (String, CommittedBlock) -> Void = { _, _ in }
    ) throws(PeerCoreError) -> PeerChannel {
        let id = ledger.ledgerID
        // 1. The persisted config: what the last committed config block installed.
        let envelope: Common_ConfigEnvelope?
        do {
            envelope = try ledger.channelConfigEnvelope()
        } catch {
            throw PeerCoreError(.unsupportedChannel, "cannot read channel \(id)'s config from its ledger", cause: error)
        }
        guard let envelope else {
            throw PeerCoreError(.unsupportedChannel, "ledger \(id) holds no channel config")
        }
        // 2. The bundle, 3. the capability check.
        let bundle: ChannelBundle
        do {
            bundle = try ChannelBundle(channelID: id, config: envelope.config, mspBuilder: mspBuilder)
        } catch {
            throw PeerCoreError(.unsupportedChannel, "channel \(id)'s config is not valid", cause: error)
        }
        try Self.checkSupported(bundle)
        // 4. The bundle source with the callbacks, run once now.
        let bundles = BundleSource(bundle, callbacks: callbacks)
        // 5. Validator and committer.
        let validator = ChannelTransactionValidator(bundles: bundles, mspBuilder: mspBuilder)
        let committer = ChannelCommitter(
            ledger: ledger,
            validator: validator,
            logger: logger,
            onCommit: { onCommit(id, $0) }
        )
        return PeerChannel(id: id, ledger: ledger, bundles: bundles, committer: committer)
    }

    /// Refuses a config the peer cannot serve: no application section, or a capability it does not know.
    static func checkSupported(_ bundle: ChannelBundle) throws(PeerCoreError) {
        guard bundle.application != nil else {
            throw PeerCoreError(
                .unsupportedChannel,
                "channel \(bundle.channelID) has no Application section; a peer joins application channels only"
            )
        }
        do {
            try bundle.checkPeerSupport()
        } catch {
            throw PeerCoreError(
                .unsupportedChannel,
                "channel \(bundle.channelID) requires a capability this peer does not support",
                cause: error
            )
        }
    }

    /// Height, the last two block hashes, the last commit hash and the state fingerprint.
    public func info() throws(PeerCoreError) -> Swiftpeer_Admin_ChannelInfo {
        var info = Swiftpeer_Admin_ChannelInfo()
        info.channelID = self.id
        do {
            let height = self.ledger.height
            info.height = height
            if height > 0, let last = try self.ledger.block(number: height - 1) {
                info.currentBlockHash = last.headerHash
                info.previousBlockHash = last.header.previousHash
            }
            info.commitHash = self.ledger.lastCommitHash ?? Data()
            info.stateFingerprint = try self.ledger.stateFingerprint(includingPrivate: false)
        } catch {
            throw PeerCoreError(.unavailable, "cannot read channel \(self.id)'s ledger", cause: error)
        }
        return info
    }
}
