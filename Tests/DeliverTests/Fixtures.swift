import ChannelConfig
import Foundation
import MSP
import SwiftProtobuf
import Synchronization
import TestSupport
import Wire

@testable import Deliver

/// A channel of real X.509 orgs (TestPKI's org1 and orderer org), blocks signed by a generated orderer identity.
enum Fixtures {
    static let channelID = "testchannel"

    static let ordererSigner: X509SigningIdentity = try! TestPKI.signer(TestPKI.orderer0, of: TestPKI.ordererOrg)
    static let ordererSigner2: X509SigningIdentity = try! TestPKI.signer(
        TestPKI.ordererOrg2Node,
        of: TestPKI.ordererOrg2
    )
    static let peerSigner: X509SigningIdentity = try! TestPKI.signer(TestPKI.org1Peer, of: TestPKI.org1)
    static let clientSigner: X509SigningIdentity = try! TestPKI.signer(TestPKI.org1Client, of: TestPKI.org1)

    /// A profile with org1 as application org and the orderer org with `endpoints`.
    static func profile(
        endpoints: [String],
        ordererOrg: OrganizationPKI = TestPKI.ordererOrg,
        globalAddresses: [String] = [],
        consensusType: String = "etcdraft"
    ) -> ChannelProfile {
        var profile = ChannelProfile(
            channelID: channelID,
            applicationOrgs: [.peerOrg(name: "Org1MSP", msp: TestPKI.org1.mspConfig())],
            ordererOrgs: [.ordererOrg(name: ordererOrg.mspID, msp: ordererOrg.mspConfig(), endpoints: endpoints)]
        )
        if !globalAddresses.isEmpty || endpoints.isEmpty {
            profile.channelCapabilities = ["V2_0"]
            profile.ordererAddresses = globalAddresses
        }
        profile.consensusType = consensusType
        return profile
    }

    static func bundle(_ profile: ChannelProfile) throws -> ChannelBundle {
        try ChannelBundle(channelID: profile.channelID, config: profile.makeConfig(), mspBuilder: MSPBuilders.x509)
    }

    static func signer(_ identity: X509SigningIdentity) -> TransactionSigner {
        TransactionSigner(identity: identity.serialized) { try identity.sign($0) }
    }

    /// A well-formed envelope (payload and signature set, canonical encoding).
    static func envelope(_ text: String) -> Data {
        var envelope = Common_Envelope()
        envelope.payload = Data(text.utf8)
        envelope.signature = Data("signature of \(text)".utf8)
        return try! envelope.serializedBytes()
    }

    /// Block `number` after `previous`, holding two transactions, signed by `signer` (the orderer by default).
    static func block(
        _ number: UInt64,
        after previous: Common_Block,
        signer: X509SigningIdentity = ordererSigner,
        lastConfig: UInt64 = 0
    ) throws -> Common_Block {
        var block = BlockBuilder.block(
            number: number,
            previousHash: previous.headerHash,
            envelopes: [envelope("tx \(number).0"), envelope("tx \(number).1")]
        )
        try BlockBuilder.sign(&block, lastConfig: lastConfig, signer: Self.signer(signer))
        return block
    }

    /// A chain: the genesis block of `profile`, then `count` signed blocks.
    static func chain(_ profile: ChannelProfile, count: Int) throws -> [Common_Block] {
        var blocks = [try profile.makeGenesisBlock()]
        for number in 1...UInt64(max(count, 1)) where number <= UInt64(count) {
            blocks.append(try block(number, after: blocks[blocks.count - 1]))
        }
        return blocks
    }

    /// A config block `number` after `previous` carrying `profile`'s config, signed by `signer`.
    static func configBlock(
        _ number: UInt64,
        after previous: Common_Block,
        profile: ChannelProfile,
        signer: X509SigningIdentity = ordererSigner
    ) throws -> Common_Block {
        let genesis = try profile.makeGenesisBlock()
        var block = BlockBuilder.block(number: number, previousHash: previous.headerHash, envelopes: genesis.data.data)
        try BlockBuilder.sign(&block, lastConfig: number, signer: Self.signer(signer))
        return block
    }
}

/// A ledger and block handler in one: every handled block is "committed" at once (height and last hash advance).
final class FakeLedger: BlockHeightProvider, BlockHandler {
    private struct State {
        var tip: LedgerTip
        var blocks: [Common_Block] = []
        var failNextHandOff = false
    }

    private let state: Mutex<State>

    init(genesis: Common_Block) {
        self.state = Mutex(State(tip: LedgerTip(height: genesis.header.number + 1, lastBlockHash: genesis.headerHash)))
    }

    init(tip: LedgerTip) { self.state = Mutex(State(tip: tip)) }

    var blocks: [Common_Block] { self.state.withLock { $0.blocks } }
    var numbers: [UInt64] { self.blocks.map(\.header.number) }
    var tip: LedgerTip { self.state.withLock { $0.tip } }

    func failNextHandOff() { self.state.withLock { $0.failNextHandOff = true } }

    func ledgerTip() async throws -> LedgerTip { self.tip }

    func handleBlock(_ block: Common_Block, channelID: String) async throws {
        try self.state.withLock { state in
            if state.failNextHandOff {
                state.failNextHandOff = false
                throw DeliverError(.handoff, "test hand-off failure")
            }
            state.blocks.append(block)
            state.tip = LedgerTip(height: block.header.number + 1, lastBlockHash: block.headerHash)
        }
    }

    /// Waits (polling, at most `timeout`) until `count` blocks were handled.
    func waitForBlocks(_ count: Int, timeout: Duration = .seconds(20)) async throws {
        let limit = ContinuousClock.now.advanced(by: timeout)
        while self.blocks.count < count, ContinuousClock.now < limit {
            try await Task.sleep(for: .milliseconds(2))
        }
    }
}

/// A random source that returns scripted endpoint indices (cycling) and counting nonces.
final class ScriptedRandom: DeliverRandomSource {
    private let indices: [Int]
    private let state = Mutex((index: 0, nonce: UInt8(0)))

    init(indices: [Int] = [0]) { self.indices = indices }

    func nextIndex(below upperBound: Int) -> Int {
        self.state.withLock { state in
            defer { state.index += 1 }
            return self.indices[state.index % self.indices.count] % upperBound
        }
    }

    func bytes(count: Int) -> Data {
        self.state.withLock { state in
            state.nonce &+= 1
            return Data(repeating: state.nonce, count: count)
        }
    }
}

/// Polls `condition` until it holds or `timeout` passes.
func eventually(timeout: Duration = .seconds(20), _ condition: () -> Bool) async throws {
    let limit = ContinuousClock.now.advanced(by: timeout)
    while !condition(), ContinuousClock.now < limit {
        try await Task.sleep(for: .milliseconds(2))
    }
}
