import ChannelConfig
import Foundation
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
            let genesis = try Conformance.block(0)
            let bundles = BundleSource(try ChannelBundle(configBlock: genesis, mspBuilder: MSPBuilders.x509), callbacks: [])
            let validator = ChannelTransactionValidator(bundles: bundles)
            let manager = try LedgerManager(rootDirectory: directory.url, configuration: LedgerFixtures.configuration())
            let ledger = try manager.createLedger(genesisBlock: genesis)
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
