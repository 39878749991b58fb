import ChannelConfig
import Foundation
import GRDB
import Ledger
import MSP
import TestSupport
import Testing
import Wire

/// The whole path a Fabric v3 peer runs once it has a block, with nothing taken from Fabric's answers: real
/// X.509 MSPs, the channel config from the genesis block, Fabric's v2.0 validation with chaincode definitions
/// read from `_lifecycle` state, the config update of block 23 applied through the BundleSource, MVCC and
/// commit. Every block's TRANSACTIONS_FILTER and COMMIT_HASH must equal what both Fabric peers wrote.
@Suite("Conformance: real validation", .enabled(if: Conformance.isAvailable, Conformance.missingReason))
struct ConformanceValidationTests {
    @Test("validation + MVCC + commit reproduce both peers' filters and commit hashes for every block")
    func realValidation() async throws {
        try await TemporaryDirectory.with("conformance-real") { directory in
            let (bundles, validator, ledger) = try Self.channel(in: directory)
            let expected = try Conformance.expected()
            for number in try Conformance.blockNumbers() where number > 0 {
                let committed = try await ledger.commit(try Conformance.block(number), validator: validator)
                let want = try #require(expected[number])
                let codes = committed.validationCodes.map { "\($0)" }
                let wantCodes = want.txs.map(\.codeOrg1)
                #expect(
                    committed.validationCodes.map { Self.name($0) } == wantCodes,
                    "block \(number): \(codes) vs \(wantCodes)"
                )
            }
            #expect(bundles.bundle.sequence == 1, "the config update of block 23 was applied")
            for peer in Conformance.committingPeers {
                for number in try Conformance.blockNumbers() {
                    let stored = try #require(try ledger.block(number: number))
                    let reference = try Conformance.block(number, in: peer)
                    #expect(stored.metadata.metadata[2] == reference.metadata.metadata[2], "\(peer) block \(number) filter")
                    #expect(stored.metadata.metadata[4] == reference.metadata.metadata[4], "\(peer) block \(number) commit hash")
                }
            }
        }
    }

    /// The same chain through the commit pipeline (validation of the next blocks overlapping the commit of block
    /// N), one, two and three blocks prepared ahead: the same filters and commit hashes, including the blocks
    /// after the config update of block 23, which must be prepared again under the new channel config; and the
    /// stored blocks (whose header and data the pipeline compresses ahead of the commit) read back with the
    /// header and data as delivered.
    @Test("the commit pipeline commits the same filters and commit hashes", arguments: [1, 2, 3])
    func pipelinedValidation(prepareAhead: Int) async throws {
        try await TemporaryDirectory.with("conformance-pipeline") { directory in
            let (bundles, validator, ledger) = try Self.channel(in: directory)
            let blocks = try Conformance.blockNumbers().filter { $0 > 0 }.map { try Conformance.block($0) }
            var committedNumbers: [UInt64] = []
            try await ledger.commit(BlockRequests(blocks: blocks), validator: validator, prepareAhead: prepareAhead) {
                committed in
                committedNumbers.append(committed.number)
            }
            #expect(committedNumbers == blocks.map(\.header.number))
            for block in blocks {
                let stored = try #require(try ledger.block(number: block.header.number))
                #expect(stored.header == block.header, "block \(block.header.number) header")
                #expect(stored.data == block.data, "block \(block.header.number) data")
            }
            #expect(bundles.bundle.sequence == 1, "the config update of block 23 was applied")
            for peer in Conformance.committingPeers {
                for number in try Conformance.blockNumbers() {
                    let stored = try #require(try ledger.block(number: number))
                    let reference = try Conformance.block(number, in: peer)
                    #expect(stored.metadata.metadata[2] == reference.metadata.metadata[2], "\(peer) block \(number) filter")
                    #expect(stored.metadata.metadata[4] == reference.metadata.metadata[4], "\(peer) block \(number) commit hash")
                }
            }
        }
    }

    /// A request that fails to arrive stops the pipeline after the blocks before it have committed.
    @Test func pipelineStopsAtAFailingRequest() async throws {
        try await TemporaryDirectory.with("conformance-pipeline-failure") { directory in
            let (_, validator, ledger) = try Self.channel(in: directory)
            let blocks = try (1...8).map { try Conformance.block($0) }
            await #expect(throws: BlockRequests.Interrupted.self) {
                try await ledger.commit(
                    BlockRequests(blocks: blocks, failAt: 5),
                    validator: validator
                ) { _ in }
            }
            #expect(ledger.height == 6, "blocks 1…5 committed, block 6 never arrived")
        }
    }

    /// A block whose transactions do not hash to its header's data_hash stops the pipeline at that block, with
    /// the blocks before it committed and nothing of it stored; the ledger then takes the genuine block. On this
    /// path the data hash is computed once, before validation, and not again on the commit thread.
    @Test(arguments: [1, 3])
    func pipelineRefusesABlockWhoseDataWasChanged(prepareAhead: Int) async throws {
        try await TemporaryDirectory.with("conformance-pipeline-data-hash") { directory in
            let (_, validator, ledger) = try Self.channel(in: directory)
            var blocks = try (1...6).map { try Conformance.block($0) }
            let genuine = blocks[3]
            var tampered = genuine
            tampered.data.data.append(tampered.data.data[0])
            blocks[3] = tampered
            let error = await #expect(throws: LedgerError.self) {
                try await ledger.commit(BlockRequests(blocks: blocks), validator: validator, prepareAhead: prepareAhead) {
                    _ in
                }
            }
            #expect(error?.code == .dataHashMismatch)
            #expect(error?.message.contains("block \(genuine.header.number)") == true)
            #expect(ledger.height == genuine.header.number, "the blocks before it committed, not it")
            #expect(try ledger.block(number: genuine.header.number) == nil)
            let committed = try await ledger.commit(genuine, validator: validator)
            #expect(committed.block.data == genuine.data)
        }
    }

    /// Transactions of committed blocks sent again in a new block are DUPLICATE_TXID, whether the first copy's tx
    /// index row is still staged in memory (64 key ranges, written over the next 64 commits) or already in the
    /// table (one range: written at its block's commit).
    @Test(arguments: [64, 1])
    func resentTransactionsAreDuplicates(txIndexSlices: Int) async throws {
        try await TemporaryDirectory.with("conformance-resent") { directory in
            let (_, validator, ledger) = try Self.channel(
                in: directory,
                configuration: LedgerFixtures.configuration(txIndexSlices: txIndexSlices)
            )
            for number in 1...6 { try await ledger.commit(try Conformance.block(UInt64(number)), validator: validator) }
            let resent = try (1...6).flatMap { try Conformance.block(UInt64($0)).data.data }
            let last = try #require(try ledger.block(number: 6))
            let block = TestBlocks.block(7, previous: last, resent)
            let committed = try await ledger.commit(block, validator: validator)
            #expect(committed.validationCodes == Array(repeating: .duplicateTxid, count: resent.count))

            let stored = try await ledger.database.read { db in
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM tx_index WHERE block BETWEEN 1 AND 6") ?? 0
            }
            if txIndexSlices == 1 {
                #expect(stored == resent.count, "every first copy's row was in the table")
            } else {
                #expect(stored < resent.count, "some first copies' rows were only staged")
            }
        }
    }

    /// The conformance channel's ledger in `directory`, created from its genesis block, and Fabric's validation
    /// under the channel config (real X.509 MSPs), which config blocks update through `bundles`.
    static func channel(
        in directory: TemporaryDirectory,
        configuration: LedgerConfiguration = LedgerFixtures.configuration()
    ) throws -> (bundles: BundleSource, validator: ChannelTransactionValidator, ledger: PeerLedger) {
        let genesis = try Conformance.block(0)
        let bundles = BundleSource(try ChannelBundle(configBlock: genesis, mspBuilder: MSPBuilders.x509), callbacks: [])
        let manager = try LedgerManager(rootDirectory: directory.url, configuration: configuration)
        return (bundles, ChannelTransactionValidator(bundles: bundles), try manager.createLedger(genesisBlock: genesis))
    }

    /// Fabric's code names, as expected.json writes them.
    static func name(_ code: Protos_TxValidationCode) -> String {
        switch code {
        case .valid: "VALID"
        case .badProposalTxid: "BAD_PROPOSAL_TXID"
        case .duplicateTxid: "DUPLICATE_TXID"
        case .endorsementPolicyFailure: "ENDORSEMENT_POLICY_FAILURE"
        case .mvccReadConflict: "MVCC_READ_CONFLICT"
        case .phantomReadConflict: "PHANTOM_READ_CONFLICT"
        case .invalidChaincode: "INVALID_CHAINCODE"
        case .invalidEndorserTransaction: "INVALID_ENDORSER_TRANSACTION"
        default: "\(code)"
        }
    }
}

/// Blocks as commit requests for the pipeline; with `failAt`, reading the request after that index throws.
struct BlockRequests: AsyncSequence, Sendable {
    typealias Element = BlockCommitRequest

    struct Interrupted: Error {}

    let blocks: [Common_Block]
    var failAt: Int?

    struct Iterator: AsyncIteratorProtocol {
        let requests: BlockRequests
        var index = 0

        mutating func next() async throws -> BlockCommitRequest? {
            guard self.index < self.requests.blocks.count else { return nil }
            if let failAt = self.requests.failAt, self.index == failAt { throw Interrupted() }
            defer { self.index += 1 }
            return BlockCommitRequest(block: self.requests.blocks[self.index])
        }
    }

    func makeAsyncIterator() -> Iterator { Iterator(requests: self) }
}
