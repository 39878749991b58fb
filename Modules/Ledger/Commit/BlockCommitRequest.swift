public import Wire

/// A block to commit with the private data this peer has (and lacks) for it: one element of the commit
/// pipeline's input (``PeerLedger/commit(_:validator:onCommit:)``).
public struct BlockCommitRequest: Sendable {
    /// The block as the orderer delivered it.
    public var block: Common_Block
    /// The cleartext private write sets this peer has for the block's transactions.
    public var privateData: [TxPrivateData]
    /// The collections whose private data this peer lacks.
    public var missingPrivateData: [MissingPrivateData]

    /// Creates a request.
    public init(block: Common_Block, privateData: [TxPrivateData] = [], missingPrivateData: [MissingPrivateData] = []) {
        self.block = block
        self.privateData = privateData
        self.missingPrivateData = missingPrivateData
    }
}
