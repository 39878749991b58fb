import Foundation
import Gossip
import TestSupport
import Testing
import Wire

@Suite("Message store: invalidation and expiry")
struct MessageStoreTests {
    static func alive(_ pki: UInt8, inc: UInt64, seq: UInt64) throws -> SignedGossipMessage {
        var alive = Gossip_AliveMessage()
        alive.membership.pkiID = Data([pki])
        alive.timestamp = Gossip_PeerTime(incNum: inc, seqNum: seq)
        return try SignedGossipMessage.noopSign(Gossip_GossipMessage(tag: .empty, content: .aliveMsg(alive)))
    }

    static func block(_ number: UInt64) throws -> SignedGossipMessage {
        var data = Gossip_DataMessage()
        data.payload.seqNum = number
        return try SignedGossipMessage.noopSign(
            Gossip_GossipMessage(channel: "c", tag: .chanAndOrg, content: .dataMsg(data))
        )
    }

    let t0 = GossipInstant(nanosecondsSinceEpoch: 0)

    @Test("(inc_num, seq_num) freshness: newer replaces, older and equal are stale")
    func freshness() throws {
        var store = MessageStore(policy: InvalidationPolicy.gossip(blockStorageSize: 0))
        #expect(store.add(try Self.alive(1, inc: 5, seq: 5), now: self.t0).added)
        #expect(!store.add(try Self.alive(1, inc: 5, seq: 5), now: self.t0).added)
        #expect(!store.add(try Self.alive(1, inc: 5, seq: 4), now: self.t0).added)
        #expect(!store.add(try Self.alive(1, inc: 4, seq: 99), now: self.t0).added)
        #expect(!store.checkValid(try Self.alive(1, inc: 5, seq: 1)))
        #expect(store.checkValid(try Self.alive(1, inc: 5, seq: 6)))
        let (added, replaced) = store.add(try Self.alive(1, inc: 6, seq: 0), now: self.t0)
        #expect(added && replaced.count == 1)
        #expect(store.add(try Self.alive(2, inc: 1, seq: 1), now: self.t0).added)
        #expect(store.count == 2)
    }

    @Test("messages expire after their time to live")
    func expiry() throws {
        var store = MessageStore(timeToLive: .seconds(10), policy: InvalidationPolicy.gossip(blockStorageSize: 0))
        store.add(try Self.alive(1, inc: 1, seq: 1), now: self.t0)
        store.add(try Self.alive(2, inc: 1, seq: 1), now: self.t0.advanced(by: .seconds(5)))
        #expect(store.expire(now: self.t0.advanced(by: .seconds(9))).isEmpty)
        #expect(store.expire(now: self.t0.advanced(by: .seconds(11))).count == 1)
        #expect(store.count == 1)
    }

    @Test("the block store keeps blocks within maxBlockCountToStore of the newest; duplicates are stale")
    func blockWindow() throws {
        var store = MessageStore(policy: InvalidationPolicy.gossip(blockStorageSize: 3))
        for number: UInt64 in 1...5 { store.add(try Self.block(number), now: self.t0) }
        #expect(!store.add(try Self.block(5), now: self.t0).added)
        #expect(store.count == 4)  // 2...5: 1 is more than 3 behind 5
        #expect(!store.checkValid(try Self.block(1)))
    }
}

@Suite("Identity store (gossip/identity/identity_test.go)")
struct IdentityStoreTests {
    let pki = FakePKI()
    let t0 = GossipInstant(Date(timeIntervalSince1970: 1_700_000_000))

    func store(_ local: FakeSigningIdentity) throws -> IdentityStore {
        try IdentityStore(
            selfIdentity: local.serialized,
            mcs: self.pki.crypto(for: local),
            advisor: FakeSecurityAdvisor(),
            usageThreshold: .seconds(3600),
            now: self.t0
        )
    }

    @Test("TestPut: a valid identity is stored under its own PKI-ID; mismatches and unknown identities are refused")
    func put() throws {
        let me = self.pki.issue(mspID: "Org1MSP", name: "me")
        let other = self.pki.issue(mspID: "Org2MSP", name: "other")
        var store = try self.store(me)
        try store.put(other.pkiID, identity: other.serialized, now: self.t0)
        #expect(try store.get(other.pkiID, now: self.t0) == other.serialized)
        #expect(store.organization(of: other.pkiID) == "Org2MSP")
        // Putting again is fine (already known).
        try store.put(other.pkiID, identity: other.serialized, now: self.t0)
        // Wrong PKI-ID for the identity.
        #expect(throws: GossipError(.invalidIdentity, "")) {
            try store.put(me.pkiID, identity: other.serialized, now: self.t0)
        }
        // An identity the CA never issued does not validate.
        let stranger = FakePKI(seed: 99).issue(mspID: "Org1MSP", name: "stranger")
        #expect(throws: GossipError(.invalidIdentity, "")) {
            try store.put(stranger.pkiID, identity: stranger.serialized, now: self.t0)
        }
        #expect(throws: GossipError(.unknownIdentity, "")) { try store.get(stranger.pkiID, now: self.t0) }
    }

    @Test("TestExpiration / TestCertExpiration: expired identities are refused and removed at expiry")
    func expiration() throws {
        let me = self.pki.issue(mspID: "Org1MSP", name: "me")
        let soon = self.pki.issue(mspID: "Org1MSP", name: "soon", expiresAt: self.t0.advanced(by: .seconds(30)).date)
        let past = self.pki.issue(mspID: "Org1MSP", name: "past", expiresAt: self.t0.advanced(by: .seconds(-1)).date)
        var store = try self.store(me)
        try store.put(soon.pkiID, identity: soon.serialized, now: self.t0)
        #expect(throws: GossipError(.invalidIdentity, "")) {
            try store.put(past.pkiID, identity: past.serialized, now: self.t0)
        }
        #expect(store.purge(now: self.t0.advanced(by: .seconds(29))).isEmpty)
        #expect(store.purge(now: self.t0.advanced(by: .seconds(31))) == [soon.pkiID])
        #expect(store.lookup(soon.pkiID) == nil)
    }

    @Test("identities unused for the usage threshold are purged, never the own one")
    func unusedPurge() throws {
        let me = self.pki.issue(mspID: "Org1MSP", name: "me")
        let a = self.pki.issue(mspID: "Org1MSP", name: "a")
        let b = self.pki.issue(mspID: "Org1MSP", name: "b")
        var store = try self.store(me)
        try store.put(a.pkiID, identity: a.serialized, now: self.t0)
        try store.put(b.pkiID, identity: b.serialized, now: self.t0)
        _ = try store.get(a.pkiID, now: self.t0.advanced(by: .seconds(3000)))
        #expect(store.purge(now: self.t0.advanced(by: .seconds(3700))) == [b.pkiID])
        #expect(store.lookup(me.pkiID) != nil)
        #expect(store.lookup(a.pkiID) != nil)
    }

    @Test("TestListInvalidIdentities / TestCertRevocation: suspected identities that no longer validate are removed")
    func suspect() throws {
        let me = self.pki.issue(mspID: "Org1MSP", name: "me")
        let a = self.pki.issue(mspID: "Org1MSP", name: "a")
        let b = self.pki.issue(mspID: "Org2MSP", name: "b")
        var store = try self.store(me)
        try store.put(a.pkiID, identity: a.serialized, now: self.t0)
        try store.put(b.pkiID, identity: b.serialized, now: self.t0)
        self.pki.revoke(a.serialized)
        self.pki.revoke(b.serialized)
        // Only Org1 identities are suspected: b stays although revoked.
        #expect(store.suspect { $0.organization == "Org1MSP" } == [a.pkiID])
        #expect(store.lookup(b.pkiID) != nil)
    }
}
