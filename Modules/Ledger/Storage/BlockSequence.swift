public import Wire

/// The blocks of a store from a starting number on; iteration waits (asynchronously) for blocks not yet
/// committed and ends (returns nil) when the task is cancelled.
public struct BlockSequence: AsyncSequence, Sendable {
    public typealias Element = Common_Block
    let store: BlockStore
    let start: UInt64

    /// The iterator.
    public struct AsyncIterator: AsyncIteratorProtocol {
        let store: BlockStore
        var next: UInt64

        public mutating func next() async throws -> Common_Block? {
            while true {
                if Task.isCancelled { return nil }
                if self.next < self.store.indexedHeight {
                    guard let block = try self.store.block(number: self.next) else { return nil }
                    self.next += 1
                    return block
                }
                await self.store.waitForIndexedHeight(above: self.next)
            }
        }
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(store: self.store, next: self.start) }
}
