import Foundation
import Gossip
import Testing

/// Runs pull rounds between engines in memory, recording every request.
struct PullHarness {
    var engines: [PKIID: PullEngine] = [:]
    var filters: [PKIID: @Sendable (PKIID, Data) -> Bool] = [:]
    var requests: [(from: PKIID, to: PKIID, items: [Data])] = []
    var now = GossipInstant(nanosecondsSinceEpoch: 1_000_000_000_000)
    var random = SeededRandom(seed: 3)
    static let timing = PullEngine.Timing(
        digestWaitTime: .milliseconds(100),
        requestWaitTime: .milliseconds(150),
        responseWaitTime: .milliseconds(200)
    )

    static func id(_ n: UInt8) -> PKIID { PKIID(Data([n])) }
    static func item(_ n: Int) -> Data { Data(String(n).utf8) }

    mutating func add(_ peer: PKIID, items: [Int]) {
        var engine = PullEngine(timing: Self.timing)
        engine.add(items.map(Self.item))
        self.engines[peer] = engine
    }

    func items(_ peer: PKIID) -> Set<Int> {
        Set(self.engines[peer]!.items.compactMap { Int(String(decoding: $0, as: UTF8.self)) })
    }

    /// One full pull round by `initiator` with `peers`.
    mutating func pull(_ initiator: PKIID, from peers: [PKIID]) {
        let hellos = self.engines[initiator]!.initiatePull(peers: peers, now: self.now, random: &self.random)
        for case .hello(let to, let nonce) in hellos {
            let filter = self.filters[to]
            if let digest = self.engines[to]!.onHello(
                nonce: nonce,
                now: self.now,
                filter: { filter?(initiator, $0) ?? true }
            ) {
                self.engines[initiator]!.onDigest(digest, nonce: nonce)
            }
        }
        self.now = self.now.advanced(by: Self.timing.digestWaitTime)
        let requests = self.engines[initiator]!.tick(now: self.now, random: &self.random)
        for case .request(let to, let items, let nonce) in requests {
            self.requests.append((initiator, to, items))
            let filter = self.filters[to]
            if let answer = self.engines[to]!.onRequest(
                items,
                nonce: nonce,
                now: self.now,
                filter: { filter?(initiator, $0) ?? true }
            ) {
                self.engines[initiator]!.onResponse(answer, nonce: nonce)
            }
        }
        self.now = self.now.advanced(by: Self.timing.responseWaitTime)
        _ = self.engines[initiator]!.tick(now: self.now, random: &self.random)
        #expect(!self.engines[initiator]!.isPulling)
    }
}

@Suite("Pull engine (gossip/gossip/algo/pull_test.go)")
struct PullEngineTests {
    @Test("TestPullEngineSelectiveUpdates: only missing items are requested")
    func selectiveUpdates() {
        var harness = PullHarness()
        let inst1 = PullHarness.id(1)
        let inst2 = PullHarness.id(2)
        harness.add(inst1, items: [0, 1, 2, 3])
        harness.add(inst2, items: [1, 3])
        harness.pull(inst2, from: [inst1])
        #expect(harness.requests.count == 1)
        #expect(Set(harness.requests[0].items) == Set([PullHarness.item(0), PullHarness.item(2)]))
        #expect(harness.items(inst2) == [0, 1, 2, 3])
    }

    @Test("TestByzantineResponder: digests and updates with foreign nonces or out of phase are ignored")
    func byzantineResponder() {
        var random = SeededRandom(seed: 9)
        var engine = PullEngine(timing: PullHarness.timing)
        let now = GossipInstant(nanosecondsSinceEpoch: 10)
        let honest = PullHarness.id(1)
        let hellos = engine.initiatePull(peers: [honest], now: now, random: &random)
        guard case .hello(_, let nonce)? = hellos.first else {
            Issue.record("no hello")
            return
        }
        // A byzantine peer answers with a nonce nobody sent, and sends an unsolicited update.
        engine.onDigest([PullHarness.item(666)], nonce: nonce &+ 1)
        engine.onResponse([PullHarness.item(777)], nonce: nonce)  // not accepting responses yet
        engine.onDigest([PullHarness.item(1)], nonce: nonce)
        let requests = engine.tick(now: now.advanced(by: PullHarness.timing.digestWaitTime), random: &random)
        #expect(requests == [.request(to: honest, items: [PullHarness.item(1)], nonce: nonce)])
        #expect(!engine.acceptsResponse(nonce: nonce &+ 1))
        engine.onResponse([PullHarness.item(888)], nonce: nonce &+ 1)
        engine.onResponse([PullHarness.item(1)], nonce: nonce)
        #expect(engine.items == [PullHarness.item(1)])
        // After the response window, even the right nonce is refused.
        _ = engine.tick(now: now.advanced(by: .seconds(10)), random: &random)
        engine.onResponse([PullHarness.item(2)], nonce: nonce)
        #expect(engine.items == [PullHarness.item(1)])
    }

    @Test("TestFilter: the responder's digest filter decides what the requester may see and get")
    func filter() {
        var harness = PullHarness()
        let inst1 = PullHarness.id(1)
        let inst2 = PullHarness.id(2)
        harness.add(inst1, items: Array(0..<10))
        harness.add(inst2, items: [])
        harness.filters[inst1] = { _, item in (Int(String(decoding: item, as: UTF8.self)) ?? 1) % 2 == 0 }
        harness.pull(inst2, from: [inst1])
        #expect(harness.items(inst2) == [0, 2, 4, 6, 8])
    }

    @Test("a request is served only for a nonce seen in a hello within requestWaitTime")
    func requestWindow() {
        var engine = PullEngine(timing: PullHarness.timing)
        engine.add([PullHarness.item(1)])
        let now = GossipInstant(nanosecondsSinceEpoch: 0)
        #expect(engine.onRequest([PullHarness.item(1)], nonce: 5, now: now) == nil)
        #expect(engine.onHello(nonce: 5, now: now) == [PullHarness.item(1)])
        #expect(
            engine.onRequest([PullHarness.item(1), PullHarness.item(2)], nonce: 5, now: now) == [PullHarness.item(1)]
        )
        #expect(engine.onRequest([PullHarness.item(1)], nonce: 5, now: now.advanced(by: .seconds(1))) == nil)
    }

    @Test("missing items are spread over the peers that have them")
    func manyPeers() {
        var harness = PullHarness()
        let peers = (1...4).map { PullHarness.id(UInt8($0)) }
        for peer in peers { harness.add(peer, items: Array(0..<20)) }
        let puller = PullHarness.id(9)
        harness.add(puller, items: [])
        harness.pull(puller, from: peers)
        #expect(harness.items(puller) == Set(0..<20))
        #expect(harness.requests.map(\.items.count).reduce(0, +) == 20)
    }
}
