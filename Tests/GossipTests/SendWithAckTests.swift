import Foundation
import Gossip
import TestSupport
import Testing
import Wire

/// `GossipNode.sendWithAck` on the in-memory transport: acks matched by nonce and connection, error acks, and
/// peers that never answer.
@Suite("SendWithAck")
struct SendWithAckTests {
    @Test("counts acks by nonce and sender, reports error acks, and times out on silent peers")
    func acks() async throws {
        let specs = [("Org1MSP", "s0"), ("Org1MSP", "s1"), ("Org1MSP", "s2"), ("Org1MSP", "s3")]
        let cluster = try GossipNodeTests.cluster(specs.map { (org: $0.0, name: $0.1) })
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { await cluster.network.run() }
            for node in cluster.nodes { group.addTask { await node.run() } }
            // s1 acknowledges, s2 answers with an error, s3 stays silent.
            for (index, error) in [(1, ""), (2, "cannot store")] {
                let node = cluster.nodes[index]
                let requests = node.subscribe {
                    if case .privateData = $0.message.message.content { return true } else { return false }
                }
                group.addTask { for await request in requests { try? node.acknowledge(request, error: error) } }
            }
            let peers = (1...3).map { RemotePeer(endpoint: "s\($0):7051", pkiID: cluster.identities[$0].pkiID) }
            var push = Gossip_PrivateDataMessage()
            push.payload.collectionName = "c"
            let message = Gossip_GossipMessage(channel: "ch", tag: .chanOnly, content: .privateData(push))

            // s1 and s2 answer: the call returns once both did (the timeout is only a bound).
            let answered = try await cluster.nodes[0].sendWithAck(
                message,
                to: Array(peers[0..<2]),
                minAck: 2,
                timeout: .seconds(120)
            )
            #expect(answered.acknowledged == [cluster.identities[1].pkiID])
            #expect(answered.failed == [cluster.identities[2].pkiID: "cannot store"])

            // A silent peer times out.
            let silent = try await cluster.nodes[0].sendWithAck(
                message,
                to: [peers[2]],
                minAck: 1,
                timeout: .milliseconds(300)
            )
            #expect(silent.successes == 0)
            #expect(silent.failed == [cluster.identities[3].pkiID: "timed out"])

            // With minAck 1 it returns as soon as s1 acknowledged, not waiting for s3.
            let one = try await cluster.nodes[0].sendWithAck(message, to: peers, minAck: 1, timeout: .seconds(600))
            #expect(one.successes == 1)

            await #expect(throws: GossipError.self) {
                try await cluster.nodes[0].sendWithAck(
                    message,
                    to: [RemotePeer(endpoint: "s1:7051")],
                    minAck: 1,
                    timeout: .seconds(1)
                )
            }
            await #expect(throws: GossipError.self) {
                try await cluster.nodes[0].sendWithAck(message, to: peers, minAck: 1, timeout: .zero)
            }
            group.cancelAll()
        }
    }
}
