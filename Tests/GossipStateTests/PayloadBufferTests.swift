import Foundation
import GossipState
import Testing
import Wire

/// Fabric's payloads_buffer_test.go and the admission rules of `addPayload` (spec §6.1), on the pure buffer.
@Suite("PayloadBuffer")
struct PayloadBufferTests {
    static func payload(_ number: UInt64) -> Gossip_Payload {
        var payload = Gossip_Payload()
        payload.seqNum = number
        payload.data = Data("block \(number)".utf8)
        return payload
    }

    @Test("push: below next is stale, a second copy is a duplicate, the next block becomes ready")
    func push() {
        var buffer = PayloadBuffer(next: 5, blockBufferSize: 20)
        #expect(buffer.add(Self.payload(4), mode: .nonBlocking) == .stale)
        #expect(buffer.add(Self.payload(7), mode: .nonBlocking) == .accepted)
        #expect(buffer.add(Self.payload(7), mode: .blocking) == .duplicate)
        #expect(buffer.ready == nil)
        #expect(buffer.add(Self.payload(5), mode: .nonBlocking) == .accepted)
        #expect(buffer.ready?.seqNum == 5)
        #expect(buffer.count == 2)
    }

    @Test("out-of-order arrival comes out in order, and next moves only on commit")
    func interleave() {
        var buffer = PayloadBuffer(next: 1, blockBufferSize: 20)
        for number: UInt64 in [3, 1, 5, 2, 4] {
            #expect(buffer.add(Self.payload(number), mode: .nonBlocking) == .accepted)
        }
        var order: [UInt64] = []
        while let ready = buffer.ready {
            order.append(ready.seqNum)
            buffer.removeCommitted()
        }
        #expect(order == [1, 2, 3, 4, 5])
        #expect(buffer.next == 6)
        #expect(buffer.count == 0)
    }

    @Test("a malformed next block is dropped without skipping its number")
    func discardKeepsNext() {
        var buffer = PayloadBuffer(next: 3, blockBufferSize: 20)
        _ = buffer.add(Self.payload(3), mode: .blocking)
        _ = buffer.add(Self.payload(4), mode: .blocking)
        buffer.discardReady()
        #expect(buffer.next == 3)
        #expect(buffer.ready == nil)
        #expect(buffer.add(Self.payload(3), mode: .nonBlocking) == .accepted)
        #expect(buffer.ready?.seqNum == 3)
    }

    @Test("non-blocking: seq − height ≥ blockBufferSize is refused (TestOverPopulation)")
    func nonBlockingWindow() {
        var buffer = PayloadBuffer(next: 10, blockBufferSize: 20)
        #expect(buffer.add(Self.payload(29), mode: .nonBlocking) == .accepted)
        #expect(buffer.add(Self.payload(30), mode: .nonBlocking) == .tooFarAhead)
        #expect(buffer.add(Self.payload(1_000_000), mode: .nonBlocking) == .tooFarAhead)
        // Blocking callers (orderer, state responses) are not limited by the window, only by the capacity.
        #expect(buffer.add(Self.payload(30), mode: .blocking) == .accepted)
    }

    @Test("a flood never grows the buffer past capacity + 1, and the next block always gets in")
    func bound() {
        var buffer = PayloadBuffer(next: 1, blockBufferSize: 4)
        #expect(buffer.capacity == 8)
        var full = 0
        for number in UInt64(2)...UInt64(10_000) {
            for mode in [PayloadBuffer.Mode.blocking, .nonBlocking] {
                if buffer.add(Self.payload(number), mode: mode) == .full { full += 1 }
                #expect(buffer.count <= buffer.capacity)
            }
        }
        #expect(buffer.count == 8)
        #expect(full > 0)
        #expect(buffer.add(Self.payload(1), mode: .nonBlocking) == .accepted)
        #expect(buffer.count == buffer.capacity + 1)
        #expect(buffer.add(Self.payload(10_001), mode: .blocking) == .full)
    }
}
