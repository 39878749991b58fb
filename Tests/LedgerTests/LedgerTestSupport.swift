import Foundation
import Ledger
import TestSupport
import Wire

/// Helpers shared by the ledger tests.
enum LedgerFixtures {
    /// Configuration for fast tests: small files, compression on, no fsync (crash safety is tested separately).
    static func configuration(
        maxFileSize: Int64 = 64 << 20,
        blockToLive: any BlockToLivePolicy = CollectionConfigBlockToLivePolicy(),
        purgeInterval: UInt64 = 100,
        txIndexSlices: Int = BlockStoreConfiguration().txIndexSlices
    ) -> LedgerConfiguration {
        LedgerConfiguration(
            blockStore: BlockStoreConfiguration(
                maxFileSize: maxFileSize,
                compress: true,
                syncWrites: false,
                txIndexSlices: txIndexSlices
            ),
            blockToLivePolicy: blockToLive,
            purgeInterval: purgeInterval,
            synchronousDatabase: false
        )
    }

    /// The private data peer0.org1 held before expiry (pvtdata.json), per block, as the ledger commits it.
    static func conformancePrivateData() throws -> [UInt64: [TxPrivateData]] {
        try Conformance.privateWriteSets(peer: "peer0.org1").mapValues { txs in
            txs.keys.sorted().map { TxPrivateData(txIndex: $0, writeSet: txs[$0]!) }
        }
    }

    /// A ledger in `directory` holding the test genesis block.
    static func ledger(
        in directory: TemporaryDirectory,
        configuration: LedgerConfiguration = configuration()
    ) throws -> (LedgerManager, PeerLedger) {
        let manager = try LedgerManager(rootDirectory: directory.url, configuration: configuration)
        let ledger = try manager.createLedger(genesisBlock: TestBlocks.genesis())
        return (manager, ledger)
    }

    /// Commits `envelopes` as the next block with every tx VALID before MVCC; returns the final codes.
    @discardableResult
    static func commit(
        _ ledger: PeerLedger,
        _ envelopes: [Data],
        privateData: [TxPrivateData] = [],
        missing: [MissingPrivateData] = []
    ) throws -> [Protos_TxValidationCode] {
        let previous = try ledger.block(number: ledger.height - 1)
        let block = TestBlocks.block(ledger.height, previous: previous, envelopes)
        return try ledger.commit(
            block,
            validationCodes: Array(repeating: .valid, count: envelopes.count),
            privateData: privateData,
            missingPrivateData: missing
        ).validationCodes
    }

    static func tx(_ id: String, _ namespaces: Rwset_NsReadWriteSet...) -> Data {
        TestBlocks.endorserTransaction(txID: id, namespaces)
    }
}
