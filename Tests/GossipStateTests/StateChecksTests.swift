import Foundation
import Gossip
import GossipState
import SwiftProtobuf
import TestSupport
import Testing
import Wire

/// The server's request check (Fabric's `stateRequestValidator`) and the client's response check.
@Suite("State request and response checks")
struct StateChecksTests {
    static let channel = "ch"

    @Test("requests: start ≤ end and end − start ≤ batchSize (TestStateRequestValidator); end clipped to the height")
    func requests() throws {
        #expect(throws: GossipStateError(.badRequest, "")) {
            try StateRequestCheck.blocksToServe(start: 10, end: 5, batchSize: 10, height: 100)
        }
        #expect(throws: GossipStateError(.badRequest, "")) {
            try StateRequestCheck.blocksToServe(start: 10, end: 21, batchSize: 10, height: 100)
        }
        #expect(try StateRequestCheck.blocksToServe(start: 10, end: 20, batchSize: 10, height: 100) == Array(10...20))
        #expect(try StateRequestCheck.blocksToServe(start: 10, end: 20, batchSize: 10, height: 15) == Array(10...14))
        #expect(try StateRequestCheck.blocksToServe(start: 15, end: 20, batchSize: 10, height: 15).isEmpty)
        #expect(throws: GossipStateError(.badRequest, "")) {
            try StateRequestCheck.blocksToServe(start: 0, end: UInt64.max, batchSize: 10, height: 15)
        }
    }

    struct Fixture {
        let pki = FakePKI(seed: 11)
        let chain: [Data]
        let mcs: FakeMessageCryptoService

        init() throws {
            self.chain = try fakeChain(self.pki, channel: StateChecksTests.channel, count: 12)
            self.mcs = self.pki.crypto(for: self.pki.issue(mspID: "Org1MSP", name: "p"))
        }

        func request(_ start: UInt64, _ end: UInt64) -> AntiEntropy.Request {
            AntiEntropy.Request(start: start, end: end, nonce: 9, peer: RemotePeer(endpoint: "x:1"), sends: 1)
        }

        func response(_ numbers: [UInt64]) -> Gossip_RemoteStateResponse {
            var response = Gossip_RemoteStateResponse()
            response.payloads = numbers.map { payload($0, self.chain[Int($0)]) }
            return response
        }

        func reason(
            _ response: Gossip_RemoteStateResponse,
            _ request: AntiEntropy.Request
        ) -> StateResponseCheck.Reason? {
            do {
                _ = try StateResponseCheck.validate(
                    response,
                    answering: request,
                    channel: StateChecksTests.channel,
                    mcs: self.mcs
                )
                return nil
            } catch {
                return error.reason
            }
        }
    }

    @Test("a response answering the request with verified blocks is accepted")
    func valid() throws {
        let fixture = try Fixture()
        let payloads = try StateResponseCheck.validate(
            fixture.response([3, 4, 5]),
            answering: fixture.request(3, 8),
            channel: Self.channel,
            mcs: fixture.mcs
        )
        #expect(payloads.map(\.seqNum) == [3, 4, 5])
    }

    @Test("empty, too many, out of range and duplicate responses are refused whole")
    func shapes() throws {
        let fixture = try Fixture()
        #expect(fixture.reason(fixture.response([]), fixture.request(3, 5)) == .empty)
        #expect(fixture.reason(fixture.response([3, 4, 5, 6]), fixture.request(3, 5)) == .tooMany)
        #expect(fixture.reason(fixture.response([3, 4, 6]), fixture.request(3, 5)) == .outOfRange)
        #expect(fixture.reason(fixture.response([2]), fixture.request(3, 5)) == .outOfRange)
        #expect(fixture.reason(fixture.response([4, 4]), fixture.request(3, 5)) == .duplicate)
    }

    @Test("forged, mislabelled, foreign-channel and tampered blocks fail verification; bad private data is refused")
    func forged() throws {
        let fixture = try Fixture()
        // Signed by another orderer.
        let forger = FakePKI(seed: 999)
        var forged = Gossip_RemoteStateResponse()
        forged.payloads = [payload(3, forger.makeBlock(number: 3, channel: Self.channel))]
        #expect(fixture.reason(forged, fixture.request(3, 5)) == .badBlock)
        // Block 4 presented as block 3.
        var mislabelled = Gossip_RemoteStateResponse()
        mislabelled.payloads = [payload(3, fixture.chain[4])]
        #expect(fixture.reason(mislabelled, fixture.request(3, 5)) == .badBlock)
        // A genuine block of another channel.
        var foreign = Gossip_RemoteStateResponse()
        foreign.payloads = [payload(3, fixture.pki.makeBlock(number: 3, channel: "other"))]
        #expect(fixture.reason(foreign, fixture.request(3, 5)) == .badBlock)
        // One transaction changed after signing: the data hash no longer matches.
        var block = try Common_Block(serializedBytes: fixture.chain[4])
        block.data.data[0] = Data("a different transaction".utf8)
        var tampered = fixture.response([3])
        tampered.payloads.append(payload(4, try block.serializedBytes()))
        #expect(fixture.reason(tampered, fixture.request(3, 5)) == .badBlock)
        // Private data that is not a PvtDataPayload.
        var badPrivate = fixture.response([3])
        badPrivate.payloads[0].privateData = [Data([0xFF, 0xFF, 0xFF])]
        #expect(fixture.reason(badPrivate, fixture.request(3, 5)) == .badPrivateData)
    }

    @Test("private data round-trips through Payload.private_data")
    func privateDataCodec() throws {
        var write = Kvrwset_KVWrite()
        write.key = "k"
        write.value = Data("v".utf8)
        var kv = Kvrwset_KVRWSet()
        kv.writes = [write]
        var collection = Rwset_CollectionPvtReadWriteSet()
        collection.collectionName = "c"
        collection.rwset = try kv.serializedBytes()
        var namespace = Rwset_NsPvtReadWriteSet()
        namespace.namespace = "cc"
        namespace.collectionPvtRwset = [collection]
        var set = Rwset_TxPvtReadWriteSet()
        set.dataModel = .kv
        set.nsPvtRwset = [namespace]
        let original = [TxPrivateWriteSet(txSeqInBlock: 2, writeSet: set)]
        let encoded = try PrivateDataCodec.encode(original)
        #expect(try PrivateDataCodec.decode(encoded, block: 1) == original)
        let element = try Gossip_PvtDataPayload(serializedBytes: encoded[0])
        #expect(element.txSeqInBlock == 2)
    }
}
