import ChannelConfig
import Deliver
import DevOrderer
import Foundation
import GRPCCore
import Ledger
import Logging
import MSP
import NetGen
import SwiftProtobuf
import Synchronization
import TestSupport
import Testing
import Wire

/// Deliver over real gRPC: the peer's own deliver client (Modules/Deliver) against the orderer, and the seek
/// statuses a Fabric orderer gives.
@Suite("DevOrderer deliver", .timeLimit(.minutes(2)))
struct DeliverTests {
    let network = TestNetwork.shared

    @Test("the peer's deliver client receives, verifies and hands on the blocks as they are cut")
    func peerDeliverClient() async throws {
        try await TemporaryDirectory.with("devorderer") { directory in
            let orderer = try network.makeOrderer(data: directory.url)
            let channel = try #require(orderer.channel(TestNetwork.channelID))
            try await DevOrderer.withRunning(orderer) { address in
                _ = try await OrdererClient.broadcast(address, try (0..<5).map { try network.transaction("k\($0)") })
                var config = DeliverConfig()
                // The genesis block names the orderer's configured endpoint; the test orderer took a free port.
                let endpoint = network.manifest.ordererOrganization.orderers[0].endpoint
                config.addressOverrides = [.init(from: endpoint, to: address)]
                let ledger = CollectingLedger(genesis: network.genesis)
                let service = try DeliverService(
                    config: config,
                    signer: network.peer,
                    logger: Logger(label: "test.deliver", factory: { _ in SwiftLogNoOpLogHandler() })
                )
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { try await service.run() }
                    let bundle = network.bundle
                    let deliver = service.channel(
                        TestNetwork.channelID,
                        config: { bundle },
                        ledger: ledger,
                        handler: .custom(ledger),
                        isStaticLeader: true
                    )
                    try await deliver.startDeliverForChannel {}
                    try await ledger.waitFor(count: 1)
                    // A block cut while the client is connected is streamed to it.
                    _ = try await OrdererClient.broadcast(
                        address,
                        try (5..<10).map { try network.transaction("k\($0)") }
                    )
                    try await ledger.waitFor(count: 2)
                    service.stop()
                    try await group.waitForAll()
                }
                let received = ledger.blocks
                #expect(received.map(\.header.number) == [1, 2])
                for block in received {
                    let stored = try #require(try channel.store.blockBytes(number: block.header.number))
                    #expect(try block.serializedBytes() == stored)
                }
            }
        }
    }

    @Test("over TLS with the network's orderer certificate, the peer's client verifies the server and the blocks")
    func overTLS() async throws {
        try await TemporaryDirectory.with("devorderer") { directory in
            let ordererOrg = network.manifest.ordererOrganization
            let node = ordererOrg.orderers[0]
            var configuration = network.configuration(data: directory.url)
            configuration.tls = DevOrdererConfiguration.TLS(
                certificateChainPEM: try Data(
                    contentsOf: NetworkManifest.url(node.identity.tlsCertificate, in: network.directory)
                ),
                privateKeyPEM: try Data(contentsOf: NetworkManifest.url(node.identity.tlsKey, in: network.directory))
            )
            let orderer = try DevOrderer(
                configuration: configuration,
                signer: network.orderer,
                clock: ManualClock(),
                logger: Logger(label: "test.dev-orderer", factory: { _ in SwiftLogNoOpLogHandler() })
            )
            let channel = try #require(orderer.channel(TestNetwork.channelID))
            try await DevOrderer.withRunning(orderer) { address in
                // In-process broadcast (the test's gRPC client is plaintext).
                for index in 0..<5 {
                    #expect(await channel.submit(try network.transaction("t\(index)")) == .success)
                }
                var config = DeliverConfig()
                config.tls.enabled = true
                config.addressOverrides = [
                    .init(
                        from: node.endpoint,
                        to: address,
                        caCertsFile: NetworkManifest.url(ordererOrg.tlsCACertificate, in: network.directory).path
                    )
                ]
                let ledger = CollectingLedger(genesis: network.genesis)
                let service = try DeliverService(
                    config: config,
                    signer: network.peer,
                    logger: Logger(label: "test.deliver", factory: { _ in SwiftLogNoOpLogHandler() })
                )
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { try await service.run() }
                    let bundle = network.bundle
                    let deliver = service.channel(
                        TestNetwork.channelID,
                        config: { bundle },
                        ledger: ledger,
                        handler: .custom(ledger),
                        isStaticLeader: true
                    )
                    try await deliver.startDeliverForChannel {}
                    try await ledger.waitFor(count: 1)
                    service.stop()
                    try await group.waitForAll()
                }
                #expect(ledger.blocks.map(\.header.number) == [1])
            }
        }
    }

    @Test("a seek from oldest to newest streams the chain then SUCCESS; the stream takes further seeks")
    func rangeThenSuccess() async throws {
        try await TemporaryDirectory.with("devorderer") { directory in
            let orderer = try network.makeOrderer(data: directory.url)
            try await DevOrderer.withRunning(orderer) { address in
                _ = try await OrdererClient.broadcast(address, try (0..<10).map { try network.transaction("r\($0)") })
                let all = try await OrdererClient.deliver(
                    address,
                    try OrdererClient.seek(
                        start: OrdererClient.oldest,
                        stop: OrdererClient.newest,
                        signer: network.peer
                    )
                )
                #expect(all.blocks.map(\.header.number) == [0, 1, 2])
                #expect(all.statuses == [.success])
                try verifyChain(all.blocks, genesisBundle: network.bundle)

                let newest = try await OrdererClient.deliver(
                    address,
                    try OrdererClient.seek(
                        start: OrdererClient.newest,
                        stop: OrdererClient.newest,
                        signer: network.client
                    )
                )
                #expect(newest.blocks.map(\.header.number) == [2])

                let headers = try await OrdererClient.deliver(
                    address,
                    try OrdererClient.seek(
                        start: OrdererClient.specified(1),
                        stop: OrdererClient.specified(2),
                        contentType: .headerWithSig,
                        signer: network.peer
                    )
                )
                #expect(headers.blocks.map(\.header.number) == [1, 2])
                #expect(headers.blocks.allSatisfy { $0.data.data.isEmpty && $0.metadata.metadata.count == 5 })

                // Two seeks on one stream: each range, each followed by SUCCESS.
                let two = try await OrdererClient.withClient(address) { client in
                    let first = try OrdererClient.seek(
                        start: OrdererClient.specified(0),
                        stop: OrdererClient.specified(0),
                        signer: network.peer
                    )
                    let second = try OrdererClient.seek(
                        start: OrdererClient.specified(2),
                        stop: OrdererClient.specified(2),
                        signer: network.peer
                    )
                    return try await client.deliver(requestProducer: { writer in
                        try await writer.write(first)
                        try await writer.write(second)
                    }) { response in
                        var all: [Orderer_DeliverResponse] = []
                        for try await message in response.messages {
                            all.append(message)
                            if all.statuses.count == 2 { break }
                        }
                        return all
                    }
                }
                #expect(two.blocks.map(\.header.number) == [0, 2])
                #expect(two.statuses == [.success, .success])
            }
        }
    }

    @Test("seek statuses: NOT_FOUND, FORBIDDEN and BAD_REQUEST as a Fabric orderer gives them")
    func statuses() async throws {
        try await TemporaryDirectory.with("devorderer") { directory in
            let orderer = try network.makeOrderer(data: directory.url)
            try await DevOrderer.withRunning(orderer) { address in
                func check(
                    _ seek: Common_Envelope,
                    blocks: [UInt64],
                    _ statuses: [Common_Status],
                    sourceLocation: SourceLocation = #_sourceLocation
                ) async throws {
                    let responses = try await OrdererClient.deliver(address, seek)
                    #expect(responses.blocks.map(\.header.number) == blocks, sourceLocation: sourceLocation)
                    #expect(responses.statuses == statuses, sourceLocation: sourceLocation)
                }
                let peer = network.peer
                // Unknown channel.
                try await check(
                    OrdererClient.seek(
                        channel: "nosuchchannel",
                        start: OrdererClient.oldest,
                        stop: OrdererClient.newest,
                        signer: peer
                    ),
                    blocks: [],
                    [.notFound]
                )
                // Not ready with FAIL_IF_NOT_READY: the blocks that exist, then NOT_FOUND.
                try await check(
                    OrdererClient.seek(
                        start: OrdererClient.oldest,
                        stop: OrdererClient.specified(5),
                        behavior: .failIfNotReady,
                        signer: peer
                    ),
                    blocks: [0],
                    [.notFound]
                )
                // A start beyond the height.
                try await check(
                    OrdererClient.seek(
                        start: OrdererClient.specified(7),
                        stop: OrdererClient.specified(9),
                        signer: peer
                    ),
                    blocks: [],
                    [.notFound]
                )
                // Stop before start.
                try await check(
                    OrdererClient.seek(
                        start: OrdererClient.specified(1),
                        stop: OrdererClient.specified(0),
                        signer: peer
                    ),
                    blocks: [],
                    [.badRequest]
                )
                // Requesters outside /Channel/Readers.
                try await check(
                    OrdererClient.seek(
                        start: OrdererClient.oldest,
                        stop: OrdererClient.newest,
                        signer: TestNetwork.outsider
                    ),
                    blocks: [],
                    [.forbidden]
                )
                // A timestamp outside the 15-minute window.
                try await check(
                    OrdererClient.seek(
                        start: OrdererClient.oldest,
                        stop: OrdererClient.newest,
                        signer: peer,
                        timestamp: Date().addingTimeInterval(-3600)
                    ),
                    blocks: [],
                    [.badRequest]
                )
                // Not an envelope at all.
                var garbage = Common_Envelope()
                garbage.payload = Data([0x0a, 0xff])
                try await check(garbage, blocks: [], [.badRequest])
            }
        }
    }

    @Test("BLOCK_UNTIL_READY waits for the block to be cut")
    func waitsForNextBlock() async throws {
        try await TemporaryDirectory.with("devorderer") { directory in
            let orderer = try network.makeOrderer(data: directory.url)
            try await DevOrderer.withRunning(orderer) { address in
                let seek = try OrdererClient.seek(
                    start: OrdererClient.specified(1),
                    stop: OrdererClient.specified(1),
                    signer: network.peer
                )
                try await withThrowingTaskGroup(of: [Orderer_DeliverResponse].self) { group in
                    group.addTask { try await OrdererClient.deliver(address, seek) }
                    group.addTask {
                        _ = try await OrdererClient.broadcast(
                            address,
                            try (0..<5).map { try network.transaction("w\($0)") }
                        )
                        return []
                    }
                    var delivered: [Orderer_DeliverResponse] = []
                    for try await responses in group where !responses.isEmpty { delivered = responses }
                    #expect(delivered.blocks.map(\.header.number) == [1])
                    #expect(delivered.statuses == [.success])
                }
            }
        }
    }
}

/// A ledger for the deliver client that keeps the blocks it is handed and lets a test wait for them.
final class CollectingLedger: BlockHeightProvider, BlockHandler {
    private struct State {
        var tip: LedgerTip
        var blocks: [Common_Block] = []
        var waiters: [(count: Int, continuation: CheckedContinuation<Void, Never>)] = []
    }

    private let state: Mutex<State>

    init(genesis: Common_Block) {
        self.state = Mutex(State(tip: LedgerTip(height: 1, lastBlockHash: genesis.headerHash)))
    }

    var blocks: [Common_Block] { self.state.withLock { $0.blocks } }

    func ledgerTip() async throws -> LedgerTip { self.state.withLock { $0.tip } }

    func handleBlock(_ block: Common_Block, channelID: String) async throws {
        let ready = self.state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.blocks.append(block)
            state.tip = LedgerTip(height: block.header.number + 1, lastBlockHash: block.headerHash)
            let count = state.blocks.count
            let ready = state.waiters.filter { $0.count <= count }.map(\.continuation)
            state.waiters.removeAll { $0.count <= count }
            return ready
        }
        for continuation in ready { continuation.resume() }
    }

    /// Returns once `count` blocks were handed on.
    func waitFor(count: Int) async throws {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let now = self.state.withLock { state -> Bool in
                if state.blocks.count >= count { return true }
                state.waiters.append((count, continuation))
                return false
            }
            if now { continuation.resume() }
        }
    }
}
