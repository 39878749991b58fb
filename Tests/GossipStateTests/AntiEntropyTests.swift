import Foundation
import Gossip
import GossipState
import Testing
import Wire

/// The requesting side of state transfer on virtual time (spec §6.1 "Anti-entropy").
@Suite("AntiEntropy")
struct AntiEntropyTests {
    static let channel = "ch"
    static let start = GossipInstant(nanosecondsSinceEpoch: 1_000_000_000_000)

    static func config(batchSize: Int = 10, maxRetries: Int = 3) -> StateConfig {
        var config = StateConfig()
        config.enabled = true
        config.batchSize = batchSize
        config.maxRetries = maxRetries
        return config
    }

    static func peer(_ name: String, _ height: UInt64) -> AntiEntropy.Candidate {
        AntiEntropy.Candidate(peer: RemotePeer(endpoint: "\(name):7051", pkiID: PKIID(Data(name.utf8))), height: height)
    }

    static func request(_ outputs: [AntiEntropy.Output]) -> (Gossip_GossipMessage, RemotePeer)? {
        guard outputs.count == 1, case .send(let message, let peer) = outputs[0] else { return nil }
        return (message, peer)
    }

    /// The one request in `outputs` (fails the test otherwise).
    static func sent(_ outputs: [AntiEntropy.Output]) throws -> (Gossip_GossipMessage, RemotePeer) {
        try #require(Self.request(outputs))
    }

    /// Claims the response with `nonce` (fails the test when it is not claimed).
    static func claim(_ machine: inout AntiEntropy, _ nonce: UInt64) throws -> AntiEntropy.Request {
        let request = machine.claimResponse(nonce: nonce)
        return try #require(request)
    }

    static func range(_ message: Gossip_GossipMessage) -> ClosedRange<UInt64>? {
        guard case .stateRequest(let request)? = message.content else { return nil }
        return request.startSeqNum...request.endSeqNum
    }

    @Test("nothing before checkInterval; then [height, min(max−1, height+batchSize)] to a peer high enough")
    func firstRequest() throws {
        var random = SeededRandom(seed: 1)
        var machine = AntiEntropy(channel: Self.channel, config: Self.config(), now: Self.start)
        let peers = [Self.peer("low", 12), Self.peer("high", 31), Self.peer("none", 0)]
        let early = machine.tick(
            now: Self.start.advanced(by: .seconds(9)),
            ledgerHeight: 10,
            candidates: peers,
            random: &random
        )
        #expect(early.isEmpty)
        #expect(machine.nextDeadline == Self.start.advanced(by: .seconds(10)))
        let outputs = machine.tick(
            now: Self.start.advanced(by: .seconds(10)),
            ledgerHeight: 10,
            candidates: peers,
            random: &random
        )
        let (message, peer) = try #require(Self.request(outputs))
        #expect(Self.range(message) == 10...20)
        #expect(peer.endpoint == "high:7051")
        #expect(message.tag == .chanOrOrg)
        #expect(message.channelID == Self.channel)
        #expect(message.nonce != 0)
        #expect(machine.isTransferActive)
        #expect(machine.nextDeadline == Self.start.advanced(by: .seconds(13)))
    }

    @Test("no request when our height is the highest, or when peers advertise nothing")
    func upToDate() {
        var random = SeededRandom(seed: 2)
        var machine = AntiEntropy(channel: Self.channel, config: Self.config(), now: Self.start)
        let now = Self.start.advanced(by: .seconds(10))
        let highest = machine.tick(
            now: now,
            ledgerHeight: 30,
            candidates: [Self.peer("a", 30), Self.peer("b", 7)],
            random: &random
        )
        #expect(highest.isEmpty)
        #expect(!machine.isTransferActive)
        let later = now.advanced(by: .seconds(10))
        let nobody = machine.tick(now: later, ledgerHeight: 30, candidates: [], random: &random)
        #expect(nobody.isEmpty)
    }

    @Test("a valid response moves to the next batch with a new nonce; the last batch completes the transfer")
    func batches() throws {
        var random = SeededRandom(seed: 3)
        var machine = AntiEntropy(channel: Self.channel, config: Self.config(batchSize: 10), now: Self.start)
        let peers = [Self.peer("a", 25)]
        var now = Self.start.advanced(by: .seconds(10))
        let (first, _) = try Self.sent(machine.tick(now: now, ledgerHeight: 1, candidates: peers, random: &random))
        #expect(Self.range(first) == 1...11)
        let claimed = try Self.claim(&machine, first.nonce)
        #expect(claimed.start == 1 && claimed.end == 11)
        #expect(machine.nextDeadline == nil)
        now = now.advanced(by: .milliseconds(5))
        let (second, _) = try Self.sent(
            machine.finishResponse(highestAccepted: 11, now: now, candidates: peers, random: &random)
        )
        #expect(Self.range(second) == 12...22)
        #expect(second.nonce != first.nonce)
        _ = try Self.claim(&machine, second.nonce)
        // A partial answer (up to 15) continues from 16.
        let (third, _) = try Self.sent(
            machine.finishResponse(highestAccepted: 15, now: now, candidates: peers, random: &random)
        )
        #expect(Self.range(third) == 16...24)
        _ = try Self.claim(&machine, third.nonce)
        let done = machine.finishResponse(highestAccepted: 24, now: now, candidates: peers, random: &random)
        guard case .completed(let end)? = done.first else {
            Issue.record("expected completion, got \(done)")
            return
        }
        #expect(end == 24)
        #expect(!machine.isTransferActive)
        #expect(machine.nextDeadline == now.advanced(by: .seconds(10)))
    }

    @Test("a response with another nonce is not claimed and costs no retry")
    func wrongNonce() throws {
        var random = SeededRandom(seed: 4)
        var machine = AntiEntropy(channel: Self.channel, config: Self.config(), now: Self.start)
        let now = Self.start.advanced(by: .seconds(10))
        let (message, _) = try Self.sent(
            machine.tick(now: now, ledgerHeight: 1, candidates: [Self.peer("a", 5)], random: &random)
        )
        let other = machine.claimResponse(nonce: message.nonce &+ 1)
        #expect(other == nil)
        #expect(machine.pendingRequest?.sends == 1)
        let claimed = machine.claimResponse(nonce: message.nonce)
        #expect(claimed != nil)
        // Claimed once: a second copy of the same response is not claimed again.
        let again = machine.claimResponse(nonce: message.nonce)
        #expect(again == nil)
    }

    @Test("timeouts and invalid responses resend the same nonce, preferring other peers, maxRetries + 1 sends in all")
    func retries() throws {
        var random = SeededRandom(seed: 5)
        var machine = AntiEntropy(channel: Self.channel, config: Self.config(maxRetries: 3), now: Self.start)
        let peers = [Self.peer("a", 9), Self.peer("b", 9), Self.peer("c", 9), Self.peer("d", 9)]
        var now = Self.start.advanced(by: .seconds(10))
        let (first, firstPeer) = try Self.sent(
            machine.tick(now: now, ledgerHeight: 1, candidates: peers, random: &random)
        )
        var asked = [firstPeer]
        // Timeout: same nonce, another peer.
        now = now.advanced(by: .seconds(3))
        let (second, secondPeer) = try Self.sent(
            machine.tick(now: now, ledgerHeight: 1, candidates: peers, random: &random)
        )
        #expect(second.nonce == first.nonce)
        #expect(Self.range(second) == Self.range(first))
        asked.append(secondPeer)
        // An invalid response uses up a send too.
        _ = try Self.claim(&machine, first.nonce)
        let (third, thirdPeer) = try Self.sent(
            machine.finishResponse(highestAccepted: nil, now: now, candidates: peers, random: &random)
        )
        #expect(third.nonce == first.nonce)
        asked.append(thirdPeer)
        now = now.advanced(by: .seconds(3))
        let (_, fourthPeer) = try Self.sent(machine.tick(now: now, ledgerHeight: 1, candidates: peers, random: &random))
        asked.append(fourthPeer)
        #expect(Set(asked).count == 4)
        #expect(machine.pendingRequest?.sends == 4)
        // The fifth would exceed maxRetries + 1 = 4 sends: abandoned.
        now = now.advanced(by: .seconds(3))
        let last = machine.tick(now: now, ledgerHeight: 1, candidates: peers, random: &random)
        guard case .abandoned(let start, let end, _)? = last.first, last.count == 1 else {
            Issue.record("expected the transfer to be abandoned, got \(last)")
            return
        }
        #expect(start == 1 && end == 8)
        #expect(!machine.isTransferActive)
    }

    @Test("peers below the batch end do not qualify; with none, the transfer is abandoned")
    func noQualifyingPeer() throws {
        var random = SeededRandom(seed: 6)
        var machine = AntiEntropy(channel: Self.channel, config: Self.config(batchSize: 10), now: Self.start)
        let now = Self.start.advanced(by: .seconds(10))
        // Max height 40 → range [5, 39], first batch [5, 15]; only "b" (height 40) qualifies.
        let peers = [Self.peer("a", 12), Self.peer("b", 40)]
        for _ in 0..<10 {
            var copy = machine
            let (_, peer) = try Self.sent(copy.tick(now: now, ledgerHeight: 5, candidates: peers, random: &random))
            #expect(peer.endpoint == "b:7051")
        }
        let (message, _) = try Self.sent(machine.tick(now: now, ledgerHeight: 5, candidates: peers, random: &random))
        _ = try Self.claim(&machine, message.nonce)
        // "b" disappears: the next batch has nobody to ask.
        let outputs = machine.finishResponse(
            highestAccepted: 15,
            now: now,
            candidates: [Self.peer("a", 12)],
            random: &random
        )
        guard case .abandoned? = outputs.first else {
            Issue.record("expected abandonment, got \(outputs)")
            return
        }
    }

    @Test("candidates come from StateInfo properties; members without them are ignored")
    func candidates() {
        var properties = Gossip_Properties()
        properties.ledgerHeight = 7
        let members = [
            NetworkMember(pkiID: PKIID(Data([1])), endpoint: "a:1", properties: properties),
            NetworkMember(pkiID: PKIID(Data([2])), endpoint: "b:1"),
        ]
        let candidates = AntiEntropy.Candidate.from(members)
        #expect(candidates.count == 1)
        #expect(candidates.first?.height == 7)
        #expect(candidates.first?.peer.pkiID == PKIID(Data([1])))
    }
}
