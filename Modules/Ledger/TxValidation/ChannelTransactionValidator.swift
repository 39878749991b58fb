public import ChannelConfig
public import Wire

/// The ledger's real transaction validator for one channel: Fabric's v2.0 validation (``BlockValidator``) over
/// the channel's current config, applying CONFIG transactions through the channel's ``BundleSource``.
///
/// Each block is validated against the bundle current when validation starts; a CONFIG transaction is
/// validated against that bundle (sequence, read set, mod_policies), turned into the next bundle (which must be
/// a valid successor and name only supported capabilities) and installed, so the block after it is validated
/// under the new config.
public struct ChannelTransactionValidator: TransactionValidator {
    /// The channel's config source; updated in place by CONFIG transactions.
    public let bundles: BundleSource
    /// Builds the MSPs of a new config.
    public let mspBuilder: MSPBuilder
    /// The validator.
    public let validator: BlockValidator

    /// A validator for the channel whose config is held by `bundles`.
    public init(bundles: BundleSource, mspBuilder: @escaping MSPBuilder = MSPBuilders.x509, validator: BlockValidator = BlockValidator()) {
        self.bundles = bundles
        self.mspBuilder = mspBuilder
        self.validator = validator
    }

    public func validate(_ block: Common_Block, context: any ValidationContext) async throws -> [Protos_TxValidationCode] {
        try await self.validate(await self.validator.prepare(block, bundle: self.bundles.bundle), context: context)
    }

    /// Prepares `block` under the channel config current now.
    public func prepare(_ block: Common_Block) async -> PreparedBlock? {
        await self.validator.prepare(block, bundle: self.bundles.bundle)
    }

    /// Finishes `prepared`, preparing it again first when the channel config changed since (a CONFIG
    /// transaction committed in between), so the codes are those of validating the block from scratch.
    public func validate(
        _ prepared: PreparedBlock,
        context: any ValidationContext
    ) async throws -> [Protos_TxValidationCode] {
        let bundle = self.bundles.bundle
        let current =
            prepared.isPrepared(under: bundle) ? prepared : await self.validator.prepare(prepared.block, bundle: bundle)
        return try self.validator.finish(current, state: context) { envelope in
            let next = try bundle.applying(envelope, mspBuilder: self.mspBuilder)
            try next.checkPeerSupport()
            self.bundles.update(next)
        }
    }
}

extension ChannelTransactionValidator {
    /// A validator for `ledger`'s channel under the channel config the ledger holds (the CONFIG envelope stored
    /// under namespace "" key `CHANNEL_CONFIG_ENV_BYTES`, i.e. the latest committed config).
    public init(ledger: PeerLedger, mspBuilder: @escaping MSPBuilder = MSPBuilders.x509) throws {
        guard let envelope = try ledger.channelConfigEnvelope() else {
            throw LedgerError(.validationHalted, "ledger \(ledger.ledgerID) holds no channel config")
        }
        let bundle = try ChannelBundle(channelID: ledger.ledgerID, config: envelope.config, mspBuilder: mspBuilder)
        try bundle.checkPeerSupport()
        self.init(bundles: BundleSource(bundle, callbacks: []), mspBuilder: mspBuilder)
    }
}
