internal import Dispatch
import Foundation
import Wire

extension PeerLedger {
    /// Commits the blocks of `requests` in order, validating each as ``commit(_:validator:privateData:missingPrivateData:)``
    /// does, with the state-independent half of validating the next blocks (``TransactionValidator/prepare(_:)``:
    /// decoding and every signature) running while block N is finished and committed.
    ///
    /// The results are those of committing the blocks one by one: the prepared half reads no state, and a
    /// validator whose channel config changed in between (a CONFIG transaction in block N) prepares a later
    /// block again. At most `prepareAhead` blocks are fetched and prepared ahead of the one committing, so memory
    /// does not grow with the stream. Preparing more than one block ahead keeps every core verifying signatures
    /// while the commit of block N (state-dependent validation, MVCC, SQLite, block files), which is serial,
    /// runs: a single block ahead is often prepared before block N commits, and the cores then wait. The blocking
    /// part of each commit (SQLite, block files, fsync) runs on the ledger's own commit thread, so it never holds
    /// one of the cooperative threads that verify the next blocks' signatures.
    ///
    /// - Parameters:
    ///   - prepareAhead: how many blocks are fetched and prepared while one commits (at least 1).
    ///   - onCommit: called after each commit, in order, before the next block is committed.
    /// - Throws: the first error; blocks committed before it stay committed, later ones are not attempted. A
    ///   request that fails to arrive does not keep the ones before it from committing.
    public func commit<Requests: AsyncSequence & Sendable>(
        _ requests: Requests,
        validator: any TransactionValidator,
        prepareAhead: Int = 2,
        onCommit: (CommittedBlock) async throws -> Void
    ) async throws where Requests.Element == BlockCommitRequest {
        let depth = max(1, prepareAhead)
        var iterator = requests.makeAsyncIterator()
        var pending: [(request: BlockCommitRequest, prepared: Task<Prepared, Never>)] = []
        var arrivalFailure: (any Error)?
        var exhausted = false
        defer { for item in pending { item.prepared.cancel() } }

        // Fetches requests until `depth` wait (or the stream ends or fails), each prepared in its own task.
        func fill() async {
            while !exhausted, arrivalFailure == nil, pending.count < depth {
                do {
                    guard let request = try await iterator.next() else {
                        exhausted = true
                        return
                    }
                    let block = request.block
                    pending.append((request, Task { await self.prepare(block, validator) }))
                } catch {
                    arrivalFailure = error
                }
            }
        }

        await fill()
        while !pending.isEmpty {
            let (request, preparing) = pending.removeFirst()
            let prepared = await preparing.value
            // Block N commits while the following blocks arrive and are prepared.
            async let committing = self.commit(
                request,
                prepared: prepared.block,
                record: prepared.record,
                validator: validator
            )
            await fill()
            let committed = try await committing
            try await onCommit(committed)
        }
        if let arrivalFailure { throw arrivalFailure }
    }

    /// What is done for a block ahead of its commit: the validator's state-independent half, and its record's
    /// header and data serialized and compressed.
    struct Prepared: Sendable {
        var block: PreparedBlock?
        var record: BlockStore.PreparedRecord?
    }

    /// Prepares `block` for validation and, at the same time, its record.
    private func prepare(_ block: Common_Block, _ validator: any TransactionValidator) async -> Prepared {
        async let record = self.blockStore.prepareRecord(block)
        let prepared = await validator.prepare(block)
        return Prepared(block: prepared, record: await record)
    }

    /// Finishes validation of `request` (from `prepared` when there is one) and commits it on the commit thread.
    func commit(
        _ request: BlockCommitRequest,
        prepared: PreparedBlock?,
        record: BlockStore.PreparedRecord? = nil,
        validator: any TransactionValidator
    ) async throws(LedgerError) -> CommittedBlock {
        let block = request.block
        // Before any signature is checked. The data hash is checked here only: the commit below, on this same
        // block value, checks number and previous hash again under the commit lock.
        try self.blockStore.checkAppendable(block)
        let context = LedgerValidationContext(ledger: self)
        let codes: [Protos_TxValidationCode]
        // Prepared here when the caller did not (no pipeline): validating a prepared block gives the codes
        // validating the block gives, and the commit reuses its decoded read-write sets.
        let current: PreparedBlock?
        if let prepared, Self.matches(prepared, block) {
            current = prepared
        } else {
            current = await validator.prepare(block)
        }
        do {
            if let current {
                codes = try await validator.validate(current, context: context)
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
                missingPrivateData: request.missingPrivateData,
                prepared: current,
                record: record,
                dataHash: .verifiedByCaller
            )
        }
    }

    /// Whether `prepared` is `block` prepared (same number, same transactions).
    private static func matches(_ prepared: PreparedBlock, _ block: Common_Block) -> Bool {
        prepared.block.header.number == block.header.number
            && prepared.block.header.dataHash == block.header.dataHash
            && prepared.block.data.data.count == block.data.data.count
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
