import ChannelConfig
import Foundation
import MSP
import SwiftProtobuf
import TestSupport
import Testing
import Wire

/// Block verification (ports of block_verification_test.go and protoutil blockutils tests) on fake MSPs.
@Suite("Block verifier")
struct BlockVerifierTests {
    let bundle: ChannelBundle
    let orderer = FakeMSP(name: "OrdererMSP").identity("orderer0", roles: [.orderer])
    let client = Fixtures.org1.identity("client", roles: [.client])

    init() throws { self.bundle = try Fixtures.bundle() }

    func signer(_ identity: FakeIdentity) -> TransactionSigner {
        TransactionSigner(identity: identity.serialized) { try identity.sign($0) }
    }

    func envelope(_ text: String) throws -> Data {
        var envelope = Common_Envelope()
        envelope.payload = Data(text.utf8)
        envelope.signature = Data("sig".utf8)
        return try envelope.serializedBytes()
    }

    func signedBlock(number: UInt64 = 1, previous: Data = Data(repeating: 7, count: 32), by signer: FakeIdentity? = nil)
        throws -> Common_Block
    {
        var block = BlockBuilder.block(number: number, previousHash: previous, envelopes: [try envelope("a"), try envelope("b")])
        try BlockBuilder.sign(&block, lastConfig: 0, signer: self.signer(signer ?? orderer))
        return block
    }

    @Test("a block signed by an orderer org member verifies, chained or not")
    func valid() throws {
        let verifier = BlockVerifier(bundle: bundle)
        let block = try signedBlock()
        try verifier.verify(block, previous: nil)
        try verifier.verify(block, previous: (0, Data(repeating: 7, count: 32)))
        #expect(try BlockVerifier.lastConfigIndex(block) == 0)
    }

    @Test("number, previous hash and data hash must fit")
    func chain() throws {
        let verifier = BlockVerifier(bundle: bundle)
        let block = try signedBlock(number: 3)
        #expect(throws: ChannelConfigError(.badBlock, "")) { try verifier.verify(block, previous: (1, Data(repeating: 7, count: 32))) }
        #expect(throws: ChannelConfigError(.badBlock, "")) { try verifier.verify(block, previous: (2, Data(repeating: 8, count: 32))) }
        var tampered = block
        tampered.data.data[1] = try envelope("c")
        #expect(throws: ChannelConfigError(.badBlock, "")) { try verifier.verify(tampered, previous: nil) }
        var short = block
        short.metadata.metadata.removeLast()
        #expect(throws: ChannelConfigError(.badBlock, "")) { try verifier.verify(short, previous: nil) }
        var empty = block
        empty.data.data = []
        #expect(throws: ChannelConfigError(.badBlock, "")) { try verifier.verify(empty, previous: nil) }
    }

    @Test("malformed envelopes are refused even with a matching data hash (TestVerifyTransactionsAreWellFormed)")
    func wellFormed() throws {
        let verifier = BlockVerifier(bundle: bundle)
        for bad in [Data([0xff]), Data([0x12, 0x01, 0x01]), Data([0x0a, 0x01, 0x01]), Data([0x12, 0x01, 0x01, 0x0a, 0x01, 0x01])] {
            var block = BlockBuilder.block(number: 1, previousHash: Data(), envelopes: [bad])
            try BlockBuilder.sign(&block, lastConfig: 0, signer: signer(orderer))
            #expect(throws: ChannelConfigError(.badBlock, "")) { try verifier.verify(block, previous: nil) }
        }
    }

    @Test("signatures must come from the orderer org and cover this header")
    func signatures() throws {
        let verifier = BlockVerifier(bundle: bundle)
        #expect(throws: ChannelConfigError(.badBlockSignature, "")) { try verifier.verify(try signedBlock(by: client), previous: nil) }
        var moved = try signedBlock()
        moved.header.number = 2
        #expect(throws: ChannelConfigError(.badBlockSignature, "")) { try verifier.verifySignatures(moved) }
        var unsigned = try signedBlock()
        unsigned.metadata.metadata[0] = Data()
        #expect(throws: ChannelConfigError(.badBlockSignature, "")) { try verifier.verifySignatures(unsigned) }
        var garbage = try signedBlock()
        garbage.metadata.metadata[0] = Data([0xff, 0xff])
        #expect(throws: ChannelConfigError(.badBlockSignature, "")) { try verifier.verifySignatures(garbage) }
    }
}
