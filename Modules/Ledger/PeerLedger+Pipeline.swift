internal import Dispatch
import Foundation
import Wire

extension PeerLedger {
    /// Commits the blocks of `requests` in order, validating each as ``commit(_:validator:privateData:missingPrivateData:)``
    /// does, with the state-independent half of validating block N+1 (``TransactionValidator/prepare(_:)``:
    /// decoding and every signature) running while block N is finished and committed.
    ///
    /// The results are those of committing the blocks one by one: the prepared half reads no state, and a
    /// validator whose channel config changed in between (a CONFIG transaction in block N) prepares block N+1
    /// again. At most one block is prepared ahead, so memory does not grow with the stream. The blocking part of
    /// each commit (SQLite, block files, fsync) runs on the ledger's own commit thread, so it never holds one of
    /// the cooperative threads that verify the next block's signatures.
    ///
    /// - Parameter onCommit: called after each commit, in order, before the next block is committed.
    /// - Throws: the first error; blocks committed before it stay committed, later ones are not attempted.
    public func commit<Requests: AsyncSequence & Sendable>(
        _ requests: Requests,
        validator: any TransactionValidator,
        onCommit: (CommittedBlock) async throws -> Void
    ) async throws where Requests.Element == BlockCommitRequest {
        var iterator = requests.makeAsyncIterator()
        guard var current = try await iterator.next() else { return }
        var prepared = await validator.prepare(current.block)
        while true {
            // A request that fails to arrive must not keep the one before it from committing.
            let next: Result<BlockCommitRequest?, any Error>
            do {
                next = .success(try await iterator.next())
            } catch {
                next = .failure(error)
            }
            async let nextPrepared = Self.prepare(try? next.get(), validator)
            let committed = try await self.commit(current, prepared: prepared, validator: validator)
            try await onCommit(committed)
            guard let following = try next.get() else { return }
            current = following
            prepared = await nextPrepared
        }
    }

    private static func prepare(_ request: BlockCommitRequest?, _ validator: any TransactionValidator) async
        -> PreparedBlock?
    {
        guard let request else { return nil }
        return await validator.prepare(request.block)
    }

    /// Finishes validation of `request` (from `prepared` when there is one) and commits it on the commit thread.
    func commit(
        _ request: BlockCommitRequest,
        prepared: PreparedBlock?,
        validator: any TransactionValidator
    ) async throws(LedgerError) -> CommittedBlock {
        let block = request.block
        try self.blockStore.checkAppendable(block)
        let context = LedgerValidationContext(ledger: self)
        let codes: [Protos_TxValidationCode]
        do {
            if let prepared, prepared.block.header.number == block.header.number {
                codes = try await validator.validate(prepared, context: context)
            } else {
                codes = try await validator.validate(block, context: context)
            }
        } catch let error as LedgerError {
            throw error
        } catch {
            throw LedgerError(
                code: .validatorFailure,
                message: "the validator failed for block \(block.header.number); nothing was committed",
                cause: error
            )
        }
        return try await self.onCommitThread { () throws(LedgerError) in
            try self.commit(
                block,
                validationCodes: codes,
                privateData: request.privateData,
                missingPrivateData: request.missingPrivateData
            )
        }
    }

    /// Runs `body` on the ledger's commit thread and waits for it without blocking a cooperative thread.
    func onCommitThread<T: Sendable>(
        _ body: @escaping @Sendable () throws(LedgerError) -> T
    ) async throws(LedgerError) -> T {
        let result: Result<T, LedgerError> = await withCheckedContinuation { continuation in
            self.commitQueue.async {
                continuation.resume(returning: Result { () throws(LedgerError) -> T in try body() })
            }
        }
        return try result.get()
    }
}
