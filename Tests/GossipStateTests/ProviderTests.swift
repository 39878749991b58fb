import Foundation
import Gossip
import GossipState
import MetricsTestKit
import SwiftProtobuf
import TestSupport
import Testing
import Wire

/// The async shell with a local gossip adapter, an in-memory ledger and a manual clock: the commit loop, the
/// buffer bound, serving requests, and the checks on responses.
@Suite("GossipStateProvider")
struct ProviderTests {
    static let channel = "ch"

    final class Harness: Sendable {
        let pki = FakePKI(seed: 21)
        let chain: [Data]
        let ledger: MemoryLedger
        let gossip = LocalStateGossip()
        let clock = ManualGossipClock()
        let metrics = TestMetrics()
        let provider: GossipStateProvider
        let me: FakeSigningIdentity
        let org1Peer: FakeSigningIdentity
        let org2Peer: FakeSigningIdentity

        init(blocks: Int = 40, height: Int = 1, configure: (inout StateConfig) -> Void = { _ in }) throws {
            self.chain = try fakeChain(self.pki, channel: ProviderTests.channel, count: blocks)
            self.ledger = try MemoryLedger(Array(self.chain.prefix(height)))
            self.me = self.pki.issue(mspID: "Org1MSP", name: "me")
            self.org1Peer = self.pki.issue(mspID: "Org1MSP", name: "p1")
            self.org2Peer = self.pki.issue(mspID: "Org2MSP", name: "q1")
            var config = StateConfig()
            configure(&config)
            self.provider = try GossipStateProvider(
                channel: ProviderTests.channel,
                config: config,
                gossip: self.gossip,
                coordinator: self.ledger,
                blockSource: self.ledger,
                accessPolicy: OrganizationReaders(pki: self.pki, organizations: ["Org1MSP"], verifier: self.me),
                mcs: self.pki.crypto(for: self.me),
                clock: self.clock,
                seed: 7,
                metrics: StateMetrics(factory: self.metrics)
            )
        }

        func payload(_ number: UInt64) -> Gossip_Payload { GossipStateTests.payload(number, self.chain[Int(number)]) }

        func counter(_ label: String, _ dimensions: [(String, String)]) -> Int64 {
            (try? self.metrics.expectCounter(label, [("channel", ProviderTests.channel)] + dimensions).totalValue) ?? 0
        }

        /// Runs the provider while `body` runs, then stops it.
        func running(_ body: @Sendable (Harness) async throws -> Void) async throws {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await self.provider.run() }
                try await body(self)
                self.provider.stop()
                try await group.waitForAll()
            }
        }
    }

    @Test("blocks arriving out of order from every path are committed strictly in order")
    func inOrder() async throws {
        let harness = try Harness(blocks: 30)
        try await harness.running { harness in
            let sender = try connection(of: harness.org1Peer, pki: harness.pki)
            var numbers = Array(UInt64(1)...UInt64(20))
            var random = SeededRandom(seed: 3)
            numbers.shuffle(using: &random)
            for (index, number) in numbers.enumerated() {
                switch index % 3 {
                case 0:
                    try await harness.provider.addPayload(harness.payload(number))
                case 1:
                    var data = Gossip_DataMessage()
                    data.payload = harness.payload(number)
                    try harness.gossip.receiveBlock(
                        Gossip_GossipMessage(channel: ProviderTests.channel, tag: .chanAndOrg, content: .dataMsg(data)),
                        from: sender
                    )
                default:
                    try? harness.provider.offer(harness.payload(number))
                }
            }
            #expect(try await eventually { harness.ledger.height == 21 })
        }
        #expect(harness.ledger.attempts == Array(1...20))
        #expect(harness.ledger.blocks == Array(harness.chain.prefix(21)))
        #expect(harness.gossip.publishedHeights == Array(1...21))
        #expect(try harness.metrics.expectGauge("gossip_state_height", [("channel", Self.channel)]).lastValue == 21)
    }

    @Test(
        "the real conformance chain is committed in order from shuffled arrivals, byte for byte",
        .enabled(if: Conformance.isAvailable, Conformance.missingReason)
    )
    func conformanceChain() async throws {
        let numbers = try Conformance.blockNumbers()
        let blocks = try numbers.map { try Conformance.blockBytes($0) }
        let ledger = try MemoryLedger([blocks[0]])
        let pki = FakePKI(seed: 1)
        let me = pki.issue(mspID: "Org1MSP", name: "me")
        let provider = try GossipStateProvider(
            channel: "conformance",
            config: StateConfig(),
            gossip: LocalStateGossip(),
            coordinator: ledger,
            blockSource: ledger,
            accessPolicy: OrganizationReaders(pki: pki, organizations: ["Org1MSP"], verifier: me),
            mcs: pki.crypto(for: me),
            clock: ManualGossipClock(),
            seed: 1,
            metrics: StateMetrics(factory: TestMetrics())
        )
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await provider.run() }
            var order = Array(numbers.dropFirst())
            var random = SeededRandom(seed: 9)
            order.shuffle(using: &random)
            for number in order {
                try await provider.addPayload(payload(number, blocks[Int(number)]))
            }
            #expect(try await eventually { ledger.height == UInt64(blocks.count) })
            provider.stop()
            try await group.waitForAll()
        }
        #expect(ledger.blocks.count == blocks.count)
        for (index, block) in ledger.blocks.enumerated() {
            #expect(try Common_Block(serializedBytes: block) == (try Common_Block(serializedBytes: blocks[index])))
        }
    }

    @Test("gossiped blocks too far ahead are refused and counted; the buffer stays bounded under a flood")
    func bounded() async throws {
        let harness = try Harness(blocks: 200) { $0.blockBufferSize = 5 }
        harness.ledger.hold()
        try await harness.running { harness in
            // Block 1 is taken by the commit loop and held there.
            try harness.provider.offer(harness.payload(1))
            #expect(try await eventually { harness.ledger.isHoldingACommit })
            var tooFar = 0
            for number in UInt64(2)..<200 {
                let outcome = Result { () throws(GossipStateError) in
                    try harness.provider.offer(harness.payload(number))
                }
                if case .failure(let error) = outcome, error.code == .tooFarAhead { tooFar += 1 }
                #expect(harness.provider.bufferedBlocks.count <= 11)
            }
            // Window [1, 6): blocks 2…5 get in, everything from 6 on is too far ahead.
            #expect(harness.provider.bufferedBlocks == [1, 2, 3, 4, 5])
            #expect(tooFar == 194)
            #expect(harness.counter("gossip_state_payloads_rejected", [("reason", "tooFarAhead")]) == 194)

            // Blocking adds fill up to capacity (2 × 5 = 10) and then wait for room.
            for number in UInt64(6)...10 { try await harness.provider.addPayload(harness.payload(number)) }
            #expect(harness.provider.bufferedBlocks.count == 10)
            let waiter = Task { try await harness.provider.addPayload(harness.payload(11)) }
            #expect(try await eventually { harness.provider.waitingAdds == 1 })
            #expect(harness.provider.bufferedBlocks.count == 10)
            // A gossiped block past the window is still refused at once, never queued behind the waiter.
            #expect(throws: GossipStateError(.tooFarAhead, "")) { try harness.provider.offer(harness.payload(12)) }
            harness.ledger.release()
            try await waiter.value
            #expect(try await eventually { harness.ledger.height == 12 })
        }
        #expect(harness.ledger.attempts == Array(1...11))
    }

    @Test("nonBlockingCommitMode: the deliver path drops a block too far ahead instead of waiting")
    func nonBlockingCommitMode() async throws {
        let nonBlocking = try Harness {
            $0.nonBlockingCommitMode = true
            $0.blockBufferSize = 5
        }
        await #expect(throws: GossipStateError(.tooFarAhead, "")) {
            try await nonBlocking.provider.addPayload(nonBlocking.payload(6))
        }
        let blocking = try Harness { $0.blockBufferSize = 5 }
        try await blocking.provider.addPayload(blocking.payload(6))
        #expect(blocking.provider.bufferedBlocks == [6])
    }

    @Test("a ledger of height 0 is refused (Fabric panics)")
    func zeroHeight() throws {
        let pki = FakePKI(seed: 1)
        let me = pki.issue(mspID: "Org1MSP", name: "me")
        let ledger = try MemoryLedger([])
        #expect(throws: GossipStateError(.ledger, "")) {
            try GossipStateProvider(
                channel: Self.channel,
                config: StateConfig(),
                gossip: LocalStateGossip(),
                coordinator: ledger,
                blockSource: ledger,
                accessPolicy: OrganizationReaders(pki: pki, organizations: ["Org1MSP"], verifier: me),
                mcs: pki.crypto(for: me)
            )
        }
    }

    @Test("a failed commit halts the loop on that block: it is not skipped and nothing after it is committed")
    func commitFailureNotSkipped() async throws {
        let harness = try Harness(blocks: 10)
        harness.ledger.fail(3)
        // Commits wait until every block is buffered, so no add races the halt.
        harness.ledger.hold()
        try await harness.running { harness in
            for number in UInt64(1)...6 { try await harness.provider.addPayload(harness.payload(number)) }
            harness.ledger.release()
            #expect(try await eventually { harness.provider.commitFailure != nil })
            #expect(harness.provider.commitFailure?.block == 3)
            #expect(harness.provider.ledgerHeight == 3)
            #expect(harness.provider.bufferedBlocks == [3, 4, 5, 6])
            await #expect(throws: GossipStateError(.commitHalted, "")) {
                try await harness.provider.addPayload(harness.payload(7))
            }
        }
        #expect(harness.ledger.height == 3)
        #expect(harness.ledger.attempts == [1, 2, 3])
        #expect(harness.counter("gossip_state_commit_failures", []) == 1)
        #expect(
            try harness.metrics.expectGauge("gossip_state_commit_halted", [("channel", Self.channel)]).lastValue == 1
        )
    }

    @Test("a malformed next block is dropped without skipping its number; the genuine one is committed after it")
    func malformedNotSkipped() async throws {
        let harness = try Harness(blocks: 10)
        try await harness.running { harness in
            try await harness.provider.addPayload(payload(1, Data([0x0A, 0xFF, 0x01])))
            #expect(
                try await eventually {
                    harness.counter("gossip_state_payloads_rejected", [("reason", "malformed")]) == 1
                }
            )
            #expect(harness.provider.ledgerHeight == 1)
            // Block 2 presented as block 1 is dropped too.
            try await harness.provider.addPayload(payload(1, harness.chain[2]))
            #expect(
                try await eventually {
                    harness.counter("gossip_state_payloads_rejected", [("reason", "malformed")]) == 2
                }
            )
            for number in UInt64(1)...3 { try await harness.provider.addPayload(harness.payload(number)) }
            #expect(try await eventually { harness.ledger.height == 4 })
        }
        #expect(harness.ledger.attempts == [1, 2, 3])
    }

    @Test("requests are served within the batch limit to Readers only")
    func serving() async throws {
        let harness = try Harness(blocks: 30, height: 30) { $0.batchSize = 10 }
        try await harness.running { harness in
            let reader = try connection(of: harness.org1Peer, pki: harness.pki)
            let outsider = try connection(of: harness.org2Peer, pki: harness.pki)
            func request(_ start: UInt64, _ end: UInt64, nonce: UInt64) -> Gossip_GossipMessage {
                var body = Gossip_RemoteStateRequest()
                body.startSeqNum = start
                body.endSeqNum = end
                return Gossip_GossipMessage(
                    nonce: nonce,
                    channel: ProviderTests.channel,
                    tag: .chanOrOrg,
                    content: .stateRequest(body)
                )
            }
            try harness.gossip.receiveDirect(request(5, 15, nonce: 1), from: reader)  // 11 blocks: allowed
            try harness.gossip.receiveDirect(request(5, 16, nonce: 2), from: reader)  // 12: over the batch size
            try harness.gossip.receiveDirect(request(9, 3, nonce: 3), from: reader)  // reversed
            try harness.gossip.receiveDirect(request(5, 10, nonce: 4), from: outsider)  // not a Reader
            try harness.gossip.receiveDirect(request(25, 35, nonce: 5), from: reader)  // past the height
            #expect(
                try await eventually {
                    harness.gossip.replies.count == 2
                        && harness.counter("gossip_state_requests_refused", [("reason", "notReader")]) == 1
                        && harness.counter("gossip_state_requests_refused", [("reason", "badRequest")]) == 2
                }
            )
        }
        let replies = harness.gossip.replies
        #expect(replies.allSatisfy { $0.to.pkiID == harness.org1Peer.pkiID })
        #expect(replies.map { $0.message.nonce } == [1, 5])
        for reply in replies {
            #expect(reply.message.tag == .chanOrOrg)
            #expect(reply.message.channelID == Self.channel)
        }
        guard case .stateResponse(let first)? = replies[0].message.content,
            case .stateResponse(let last)? = replies[1].message.content
        else {
            Issue.record("replies are not state responses")
            return
        }
        #expect(first.payloads.map(\.seqNum) == Array(5...15))
        #expect(first.payloads.map(\.data) == Array(harness.chain[5...15]))
        #expect(last.payloads.map(\.seqNum) == Array(25...29))
    }

    @Test("bad responses are dropped whole and counted; a good one is committed")
    func badResponses() async throws {
        let harness = try Harness(blocks: 30) {
            $0.enabled = true
            $0.batchSize = 4
        }
        harness.gossip.setPeers([member(harness.org1Peer, height: 6)])
        let responder = try connection(of: harness.org1Peer, pki: harness.pki)
        let outsider = try connection(of: harness.org2Peer, pki: harness.pki)
        try await harness.running { harness in
            // The first height check is due checkInterval after start; time does not move again, so no timeout fires.
            harness.clock.advance(by: .seconds(10))
            #expect(try await eventually { !harness.gossip.sent.isEmpty })
            let sent = try #require(harness.gossip.sent.first)
            guard case .stateRequest(let request)? = sent.message.content else {
                Issue.record("not a state request")
                return
            }
            #expect(request.startSeqNum == 1 && request.endSeqNum == 5)
            #expect(sent.peer.pkiID == harness.org1Peer.pkiID)
            let nonce = sent.message.nonce
            func response(_ payloads: [Gossip_Payload], nonce: UInt64) -> Gossip_GossipMessage {
                var body = Gossip_RemoteStateResponse()
                body.payloads = payloads
                return Gossip_GossipMessage(
                    nonce: nonce,
                    channel: ProviderTests.channel,
                    tag: .chanOrOrg,
                    content: .stateResponse(body)
                )
            }
            let forger = FakePKI(seed: 555)
            let forged = payload(1, forger.makeBlock(number: 1, channel: ProviderTests.channel))
            func bad(_ reason: String) -> Int64 { harness.counter("gossip_state_bad_responses", [("reason", reason)]) }

            try harness.gossip.receiveDirect(response([harness.payload(1)], nonce: nonce &+ 1), from: responder)
            #expect(try await eventually { bad("unsolicited") == 1 })
            try harness.gossip.receiveDirect(response([harness.payload(1)], nonce: nonce), from: outsider)
            #expect(try await eventually { bad("notReader") == 1 })
            try harness.gossip.receiveDirect(response([forged], nonce: nonce), from: responder)
            #expect(try await eventually { bad("badBlock") == 1 })
            // Each invalid response used up a send: the request went out again, same nonce.
            #expect(try await eventually { harness.gossip.sent.count == 2 })
            try harness.gossip.receiveDirect(response((1...6).map(harness.payload), nonce: nonce), from: responder)
            #expect(try await eventually { bad("tooMany") == 1 })
            #expect(try await eventually { harness.gossip.sent.count == 3 })
            try harness.gossip.receiveDirect(response([harness.payload(9)], nonce: nonce), from: responder)
            #expect(try await eventually { bad("outOfRange") == 1 })
            #expect(try await eventually { harness.gossip.sent.count == 4 })
            #expect(harness.gossip.sent.map(\.message.nonce) == [nonce, nonce, nonce, nonce])
            #expect(harness.provider.ledgerHeight == 1)
            #expect(harness.provider.bufferedBlocks.isEmpty)
            // The last allowed send (maxRetries + 1 = 4) gets a genuine answer.
            try harness.gossip.receiveDirect(response((1...5).map(harness.payload), nonce: nonce), from: responder)
            #expect(try await eventually { harness.provider.ledgerHeight == 6 })
            #expect(try await eventually { !harness.provider.isTransferActive })
        }
        #expect(harness.ledger.blocks == Array(harness.chain.prefix(6)))
    }
}
