import Foundation
import Ledger
import Wire

/// Drives a ledger's commit loop over numbered blocks loaded on demand (one at a time, so memory does not grow
/// with the number of blocks), reporting each committed block with its latency: from the moment the block was
/// loaded and handed to the ledger until its commit returned.
struct BlockCommitter {
    let ledger: PeerLedger
    let validator: any TransactionValidator
    let pipelined: Bool

    func commit(
        _ numbers: [UInt64],
        load: (UInt64) throws(BenchError) -> (Common_Block, [TxPrivateData]),
        onCommit: (CommittedBlock, Duration) throws(BenchError) -> Void
    ) async throws(BenchError) {
        let clock = ContinuousClock()
        for number in numbers {
            let start = clock.now
            let (block, privateData) = try load(number)
            let committed: CommittedBlock
            do {
                committed = try await self.ledger.commit(block, validator: self.validator, privateData: privateData)
            } catch {
                throw BenchError(.commit, "block \(number) did not commit", cause: error)
            }
            try onCommit(committed, clock.now - start)
        }
    }
}
