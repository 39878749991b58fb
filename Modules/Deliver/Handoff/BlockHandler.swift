public import Wire

/// Where verified blocks go (Fabric's `BlockHandler`): every block the deliverer accepted, once, in order.
///
/// A thrown error is a failed hand-off: the deliverer drops the connection, counts a failure and seeks again from
/// the ledger height. ``GossipBlockHandler`` is Fabric's handler (gossip state + block gossip).
public protocol BlockHandler: Sendable {
    /// Takes a block of `channelID` that passed verification.
    func handleBlock(_ block: Common_Block, channelID: String) async throws
}
