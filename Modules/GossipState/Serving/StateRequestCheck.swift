/// The server side's check of a RemoteStateRequest (Fabric's `stateRequestValidator`, spec §6.1 "Request
/// handling"): start ≤ end and end − start ≤ batchSize; blocks are then read from start up to min(height − 1, end).
public enum StateRequestCheck {
    /// The blocks to serve for `[start, end]` at ledger `height`, or an error when the request is refused. An
    /// empty range (start ≥ height) is served as an empty response, as Fabric does.
    public static func blocksToServe(
        start: UInt64,
        end: UInt64,
        batchSize: Int,
        height: UInt64
    ) throws(GossipStateError) -> [UInt64] {
        guard start <= end else {
            throw GossipStateError(.badRequest, "invalid state request range [\(start)...\(end)]")
        }
        guard end - start <= UInt64(max(0, batchSize)) else {
            throw GossipStateError(
                .badRequest,
                "state request [\(start)...\(end)] is wider than the batch size \(batchSize)"
            )
        }
        guard height > start else { return [] }
        return Array(start...min(height - 1, end))
    }
}
