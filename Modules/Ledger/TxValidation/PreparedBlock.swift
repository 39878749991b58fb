public import ChannelConfig
public import Wire

/// A block after the state-independent half of validation (``BlockValidator/prepare(_:bundle:)``): decoded,
/// creator and endorsement signatures verified, read-write sets extracted, under one channel config.
///
/// It is what lets validation of block N+1 overlap the commit of block N: nothing in it depends on ledger state,
/// only on the block and ``bundle``. If the channel config changes before the block is finished (a CONFIG
/// transaction in an earlier block), it must be prepared again under the new config.
public struct PreparedBlock: Sendable {
    /// The block.
    public let block: Common_Block
    /// The channel config it was prepared under.
    public let bundle: ChannelBundle
    let transactions: [PreparedTransaction]

    /// The block number.
    public var number: UInt64 { self.block.header.number }

    /// Whether the block was prepared under `bundle` (the same config object).
    public func isPrepared(under bundle: ChannelBundle) -> Bool { self.bundle === bundle }

    /// The tx id and decoded read-write set of transaction `index` when prepare extracted them (an endorser
    /// transaction whose header and action decoded), so the commit need not decode the envelope again; nil
    /// otherwise. They depend only on the envelope bytes, not on the channel config.
    func endorserReadWriteSet(at index: Int) -> (txID: String, readWriteSet: ReadWriteSet)? {
        guard self.transactions.indices.contains(index),
            case .endorser(let txID, .success(let content)) = self.transactions[index]
        else { return nil }
        return (txID, content.readWriteSet)
    }
}
