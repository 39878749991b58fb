import Foundation
import Ledger
import Synchronization
import Wire

/// Drives a ledger's commit loop over numbered blocks loaded on demand (one at a time, so memory does not grow
/// with the number of blocks), reporting each committed block with its latency: from the moment the block was
/// loaded and handed to the ledger until its commit returned. Pipelined, it uses the ledger's commit pipeline
/// (validation of block N+1 overlapping the commit of block N); otherwise it commits one block at a time.
struct BlockCommitter {
    let ledger: PeerLedger
    let validator: any TransactionValidator
    let pipelined: Bool
    /// Blocks fetched and prepared while one commits (pipelined only).
    var prepareAhead = 2

    func commit(
        _ numbers: [UInt64],
        load: @escaping @Sendable (UInt64) throws(BenchError) -> (Common_Block, [TxPrivateData]),
        onCommit: (CommittedBlock, Duration) throws(BenchError) -> Void
    ) async throws(BenchError) {
        let feed = BlockFeed(numbers: numbers, load: load)
        let clock = ContinuousClock()
        do {
            if self.pipelined {
                try await self.ledger.commit(feed, validator: self.validator, prepareAhead: self.prepareAhead) {
                    committed in
                    try onCommit(committed, clock.now - feed.handedAt(committed.number))
                }
            } else {
                for try await request in feed {
                    let committed = try await self.ledger.commit(
                        request.block,
                        validator: self.validator,
                        privateData: request.privateData
                    )
                    try onCommit(committed, clock.now - feed.handedAt(committed.number))
                }
            }
        } catch let error as BenchError {
            throw error
        } catch {
            throw BenchError(.commit, "the ledger did not commit the workload", cause: error)
        }
    }
}

/// The blocks of a run as an asynchronous sequence, loaded when the ledger asks for the next one; remembers
/// when each was handed over.
final class BlockFeed: AsyncSequence, Sendable {
    typealias Element = BlockCommitRequest

    let numbers: [UInt64]
    let load: @Sendable (UInt64) throws(BenchError) -> (Common_Block, [TxPrivateData])
    private let handed = Mutex<[UInt64: ContinuousClock.Instant]>([:])

    init(numbers: [UInt64], load: @escaping @Sendable (UInt64) throws(BenchError) -> (Common_Block, [TxPrivateData])) {
        self.numbers = numbers
        self.load = load
    }

    /// When block `number` was handed over (and forgets it).
    func handedAt(_ number: UInt64) -> ContinuousClock.Instant {
        self.handed.withLock { $0.removeValue(forKey: number) } ?? ContinuousClock().now
    }

    struct Iterator: AsyncIteratorProtocol {
        let feed: BlockFeed
        var index = 0

        mutating func next() async throws -> BlockCommitRequest? {
            guard self.index < self.feed.numbers.count else { return nil }
            let number = self.feed.numbers[self.index]
            self.index += 1
            let start = ContinuousClock().now
            let (block, privateData) = try self.feed.load(number)
            self.feed.handed.withLock { $0[number] = start }
            return BlockCommitRequest(block: block, privateData: privateData)
        }
    }

    func makeAsyncIterator() -> Iterator { Iterator(feed: self) }
}
