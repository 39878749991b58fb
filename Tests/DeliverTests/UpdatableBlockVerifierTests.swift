import ChannelConfig
import Foundation
import MSP
import SwiftProtobuf
import TestSupport
import Testing
import Wire

@testable import Deliver

/// The verifier of a deliver stream (ports of block_verification_test.go's VerifyBlock/UpdateConfig cases).
@Suite("Updatable block verifier")
struct UpdatableBlockVerifierTests {
    let old = Fixtures.profile(endpoints: ["orderer0:7050"])
    let new = Fixtures.profile(endpoints: ["orderer9:7050"], ordererOrg: TestPKI.ordererOrg2)

    /// genesis, 1 (old orderer), 2 = config → new org (old orderer), 3, 4 (new orderer).
    func chain() throws -> [Common_Block] {
        var blocks = [try old.makeGenesisBlock()]
        blocks.append(try Fixtures.block(1, after: blocks[0]))
        blocks.append(try Fixtures.configBlock(2, after: blocks[1], profile: new))
        blocks.append(try Fixtures.block(3, after: blocks[2], signer: Fixtures.ordererSigner2, lastConfig: 2))
        blocks.append(try Fixtures.block(4, after: blocks[3], signer: Fixtures.ordererSigner2, lastConfig: 2))
        return blocks
    }

    func verifier(_ blocks: [Common_Block]) throws -> UpdatableBlockVerifier {
        UpdatableBlockVerifier(
            bundle: try Fixtures.bundle(old),
            tip: LedgerTip(height: 1, lastBlockHash: blocks[0].headerHash),
            mspBuilder: MSPBuilders.x509
        )
    }

    @Test("a config block is verified under the old config, and the blocks after it under the new one")
    func configSwitch() throws {
        let blocks = try chain()
        let verifier = try verifier(blocks)
        #expect(try verifier.verify(blocks[1]) == nil)
        // The new orderer's block is refused before the config block.
        var early = blocks[3]
        early.header.number = 2
        #expect(throws: DeliverError(.badBlock, "")) { try verifier.verify(early) }
        let switched = try #require(try verifier.verify(blocks[2]))
        #expect(switched.orderer?.organizations.keys.sorted() == ["Orderer2MSP"])
        #expect(verifier.bundle.orderer?.organizations.keys.sorted() == ["Orderer2MSP"])
        try verifier.verify(blocks[3])
        try verifier.verify(blocks[4])
        #expect(verifier.nextBlockNumber == 5)
    }

    @Test("a config block signed by the new orderer only is refused (the old policy applies to it)")
    func configBlockUnderOldPolicy() throws {
        let blocks = try chain()
        let verifier = try verifier(blocks)
        try verifier.verify(blocks[1])
        let selfSigned = try Fixtures.configBlock(2, after: blocks[1], profile: new, signer: Fixtures.ordererSigner2)
        #expect(throws: DeliverError(.badBlock, "")) { try verifier.verify(selfSigned) }
        #expect(verifier.bundle.orderer?.organizations.keys.sorted() == ["OrdererMSP"])
        #expect(verifier.nextBlockNumber == 2)
    }

    @Test("a config block for another channel is refused")
    func otherChannel() throws {
        let blocks = try chain()
        let verifier = try verifier(blocks)
        try verifier.verify(blocks[1])
        var foreign = new
        foreign.channelID = "otherchannel"
        let block = try Fixtures.configBlock(2, after: blocks[1], profile: foreign)
        #expect(throws: DeliverError(.badConfig, "")) { try verifier.verify(block) }
    }

    @Test("reset to a tip below a config block forgets that config; the block is verified again under the old one")
    func resetBelowConfig() throws {
        let blocks = try chain()
        let verifier = try verifier(blocks)
        for block in blocks.dropFirst() { try verifier.verify(block) }
        verifier.reset(to: LedgerTip(height: 2, lastBlockHash: blocks[1].headerHash))
        #expect(verifier.bundle.orderer?.organizations.keys.sorted() == ["OrdererMSP"])
        try verifier.verify(blocks[2])
        try verifier.verify(blocks[3])
        // Above the config block the new config stays.
        verifier.reset(to: LedgerTip(height: 4, lastBlockHash: blocks[3].headerHash))
        #expect(verifier.bundle.orderer?.organizations.keys.sorted() == ["Orderer2MSP"])
        try verifier.verify(blocks[4])
    }

    @Test("without a last hash only the number is checked (Fabric skips the previous-hash check)")
    func noLastHash() throws {
        let blocks = try chain()
        let verifier = UpdatableBlockVerifier(
            bundle: try Fixtures.bundle(old),
            tip: LedgerTip(height: 1, lastBlockHash: nil),
            mspBuilder: MSPBuilders.x509
        )
        let unchained = try Fixtures.block(1, after: blocks[1])
        try verifier.verify(unchained)
        #expect(throws: DeliverError(.badBlock, "")) { try verifier.verify(blocks[2]) }  // now chained to `unchained`
    }
}
