/// How a ledger stores its data.
public struct LedgerConfiguration: Sendable {
    /// Block file settings.
    public var blockStore: BlockStoreConfiguration
    /// Where private-data block-to-live values come from; by default the collection configuration committed on
    /// the channel.
    public var blockToLivePolicy: any BlockToLivePolicy
    /// Expired private data is physically deleted every this many blocks (Fabric's
    /// `ledger.pvtdataStore.purgeInterval`, 100).
    public var purgeInterval: UInt64
    /// SQLite `synchronous=FULL` (true) or `NORMAL` (false). With WAL both survive a process crash; only FULL
    /// survives a power loss.
    public var synchronousDatabase: Bool

    /// Creates a configuration with Fabric's defaults.
    public init(
        blockStore: BlockStoreConfiguration = BlockStoreConfiguration(),
        blockToLivePolicy: any BlockToLivePolicy = CollectionConfigBlockToLivePolicy(),
        purgeInterval: UInt64 = 100,
        synchronousDatabase: Bool = true
    ) {
        self.blockStore = blockStore
        self.blockToLivePolicy = blockToLivePolicy
        self.purgeInterval = purgeInterval
        self.synchronousDatabase = synchronousDatabase
    }
}
