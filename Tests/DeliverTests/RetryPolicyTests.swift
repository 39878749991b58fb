import ChannelConfig
import Foundation
import Logging
import MetricsTestKit
import SwiftProtobuf
import Synchronization
import TestSupport
import Testing
import Wire

@testable import Deliver

/// An orderer connector whose every call is answered by a script.
final class ScriptedConnector: OrdererConnector {
    typealias Script =
        @Sendable (
            _ call: Int, _ endpoint: OrdererConnectionSource.Endpoint, _ seek: Common_Envelope,
            _ onResponse: @Sendable (Orderer_DeliverResponse) async throws -> Void
        ) async throws -> Void

    private let script: Script
    private let calls = Mutex<[(address: String, seek: Common_Envelope)]>([])

    init(_ script: @escaping Script) { self.script = script }

    /// A connector whose dials always fail.
    static var failing: ScriptedConnector {
        ScriptedConnector { _, endpoint, _, _ in
            throw DeliverError(.connection, "dial \(endpoint) failed")
        }
    }

    var addresses: [String] { self.calls.withLock { $0.map(\.address) } }
    var seekHeights: [UInt64] {
        self.calls.withLock { calls in
            calls.map { call in
                let payload = try! Common_Payload(serializedBytes: call.seek.payload)
                return try! Orderer_SeekInfo(serializedBytes: payload.data).start.specified.number
            }
        }
    }

    func deliver(
        to endpoint: OrdererConnectionSource.Endpoint,
        seek: Common_Envelope,
        onResponse: @escaping @Sendable (Orderer_DeliverResponse) async throws -> Void
    ) async throws {
        let call = self.calls.withLock { calls in
            calls.append((endpoint.address, seek))
            return calls.count - 1
        }
        try await self.script(call, endpoint, seek, onResponse)
    }
}

/// Builds a deliverer over fakes.
struct DelivererHarness {
    let profile: ChannelProfile
    let chain: [Common_Block]
    let ledger: FakeLedger
    let source: OrdererConnectionSource
    let verifier: UpdatableBlockVerifier
    let clock: InstantClock
    let metrics = TestMetrics()

    init(blocks: Int = 3, endpoints: [String] = ["orderer0:7050", "orderer1:7050"], pauseAfter: Int? = nil) throws {
        self.profile = Fixtures.profile(endpoints: endpoints)
        self.chain = try Fixtures.chain(self.profile, count: blocks)
        self.ledger = FakeLedger(genesis: self.chain[0])
        self.source = OrdererConnectionSource()
        let bundle = try Fixtures.bundle(self.profile)
        self.source.update(OrdererAddressConfig(bundle: bundle))
        self.verifier = UpdatableBlockVerifier(bundle: bundle, tip: self.ledger.tip, mspBuilder: MSPBuilders.x509)
        self.clock = InstantClock(pauseAfter: pauseAfter)
    }

    func deliverer(
        _ connector: any OrdererConnector,
        maxRetryInterval: Duration = .seconds(3600),
        maxRetryDuration: Duration = .seconds(3600),
        yields: Bool = true,
        random: any DeliverRandomSource = ScriptedRandom()
    ) -> Deliverer {
        Deliverer(
            channelID: Fixtures.channelID,
            ledger: self.ledger,
            handler: self.ledger,
            verifier: self.verifier,
            source: self.source,
            connector: connector,
            signer: Fixtures.peerSigner,
            tlsCertificateHash: nil,
            random: random,
            clock: self.clock,
            wallClock: { Date(timeIntervalSince1970: 1_700_000_000) },
            policy: RetryPolicy(
                maxRetryInterval: maxRetryInterval,
                maxRetryDuration: maxRetryDuration,
                yieldsOnGiveUp: yields
            ),
            logger: Logger(label: "test.deliverer", factory: { _ in SwiftLogNoOpLogHandler() }),
            metrics: DeliverMetrics(factory: self.metrics)
        )
    }
}

func blockResponse(_ block: Common_Block) -> Orderer_DeliverResponse {
    var response = Orderer_DeliverResponse()
    response.block = block
    return response
}

func statusResponse(_ status: Common_Status) -> Orderer_DeliverResponse {
    var response = Orderer_DeliverResponse()
    response.status = status
    return response
}

@Suite("Retry policy (pure)")
struct RetryPolicyTests {
    @Test("the exponent cap is floor(ln(MaxRetryInterval/100ms)/ln 1.2): 57 for 1 h, 25 for 10 s")
    func exponentCap() {
        #expect(
            RetryPolicy(maxRetryInterval: .seconds(3600), maxRetryDuration: .seconds(3600), yieldsOnGiveUp: true)
                .maxFailures == 57
        )
        #expect(
            RetryPolicy(maxRetryInterval: .seconds(10), maxRetryDuration: .seconds(3600), yieldsOnGiveUp: true)
                .maxFailures == 25
        )
    }

    @Test("sleeps are floor(1.2^(n-1) x 100) ms, then MaxRetryInterval")
    func schedule() {
        let policy = RetryPolicy(maxRetryInterval: .seconds(10), maxRetryDuration: .seconds(3600), yieldsOnGiveUp: true)
        let expected: [Int64] = [100, 120, 144, 172, 207, 248, 298, 358, 429]
        for (index, milliseconds) in expected.enumerated() {
            #expect(policy.sleep(afterFailures: index + 1) == .milliseconds(milliseconds))
        }
        #expect(policy.sleep(afterFailures: 26) == .milliseconds(9539))  // 1.2^25 x 100 = 9539.6
        #expect(policy.sleep(afterFailures: 27) == .seconds(10))
        #expect(policy.sleep(afterFailures: 500) == .seconds(10))
    }

    @Test("a success resets failures and the total; the total is checked before sleeping")
    func counters() {
        var policy = RetryPolicy(
            maxRetryInterval: .seconds(1),
            maxRetryDuration: .milliseconds(300),
            yieldsOnGiveUp: true
        )
        #expect(policy.nextStep() == .connect)
        policy.recordFailure()
        #expect(policy.nextStep() == .sleep(.milliseconds(100), overThreshold: false))
        policy.recordFailure()
        #expect(policy.nextStep() == .sleep(.milliseconds(120), overThreshold: false))
        policy.recordSuccess()
        #expect(policy.failures == 0 && policy.totalSleep == .zero)
        #expect(policy.nextStep() == .connect)
        policy.recordFailure()
        policy.recordFailure()
        policy.recordFailure()
        #expect(policy.nextStep() == .sleep(.milliseconds(144), overThreshold: false))
        policy.recordFailure()
        #expect(policy.nextStep() == .giveUp(totalSleep: .milliseconds(316)))
    }

    @Test("a static leader passes the threshold and keeps sleeping")
    func staticLeader() {
        var policy = RetryPolicy(
            maxRetryInterval: .seconds(1),
            maxRetryDuration: .milliseconds(150),
            yieldsOnGiveUp: false
        )
        policy.recordFailure()
        #expect(policy.nextStep() == .sleep(.milliseconds(100), overThreshold: false))
        policy.recordFailure()
        #expect(policy.nextStep() == .sleep(.milliseconds(120), overThreshold: true))
        policy.recordFailure()
        #expect(policy.nextStep() == .sleep(.milliseconds(144), overThreshold: true))
    }
}

/// Ports of Fabric's Ginkgo "CFT-Deliverer" specs (common/deliverclient/blocksprovider/deliverer_test.go) on the
/// real deliverer loop with a scripted connector and an instant clock.
@Suite("CFT deliverer loop")
struct CFTDelivererTests {
    @Test("sleeps in an exponential fashion and retries until dial is successful")
    func exponentialUntilDial() async throws {
        let harness = try DelivererHarness(blocks: 1)
        let block = harness.chain[1]
        let connector = ScriptedConnector { call, _, _, onResponse in
            guard call >= 5 else { throw DeliverError(.connection, "dial failed") }
            try await onResponse(blockResponse(block))
            try await Task.sleep(for: .seconds(3600))
        }
        let deliverer = harness.deliverer(connector)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { _ = await deliverer.run() }
            try await harness.ledger.waitForBlocks(1)
            group.cancelAll()
        }
        #expect(harness.clock.sleeps == [100, 120, 144, 172, 207].map { Duration.milliseconds($0) })
        #expect(harness.ledger.numbers == [1])
        #expect(connector.seekHeights == [1, 1, 1, 1, 1, 1])
    }

    @Test("hits the maximum sleep time and gives up when exceeding the max retry duration (yields)")
    func maximumSleepThenGiveUp() async throws {
        let harness = try DelivererHarness()
        let deliverer = harness.deliverer(ScriptedConnector.failing, maxRetryInterval: .seconds(10))
        let exit = await deliverer.run()
        #expect(exit == .gaveUp)
        let sleeps = harness.clock.sleeps
        // 26 growing sleeps (100 ms … 9.539 s), then 10 s each, until the total passes 1 h; the sleep that passes
        // it is not taken.
        #expect(Array(sleeps.prefix(3)) == [.milliseconds(100), .milliseconds(120), .milliseconds(144)])
        #expect(sleeps[25] == .milliseconds(9539))
        #expect(sleeps.dropFirst(26).allSatisfy { $0 == .seconds(10) })
        let total = sleeps.reduce(Duration.zero, +)
        #expect(total <= .seconds(3600))
        #expect(total + .seconds(10) > .seconds(3600))
        #expect(sleeps.count == 380)
        #expect(try harness.metrics.expectCounter("deliver_gave_up", [("channel", Fixtures.channelID)]).totalValue == 1)
    }

    @Test("a static leader passes the max retry duration and retries indefinitely")
    func staticLeaderRetriesForever() async throws {
        let harness = try DelivererHarness(pauseAfter: 500)
        let deliverer = harness.deliverer(ScriptedConnector.failing, maxRetryInterval: .seconds(10), yields: false)
        let exit = await withTaskGroup(of: Deliverer.Exit?.self) { group in
            group.addTask { await deliverer.run() }
            group.addTask {
                try? await harness.clock.waitForSleeps(501)
                return nil
            }
            var exit: Deliverer.Exit?
            while let next = await group.next() {
                group.cancelAll()
                if let next { exit = next }
            }
            return exit
        }
        #expect(exit == .stopped)
        #expect(harness.clock.sleeps.count == 501)
        #expect(harness.clock.sleeps.reduce(Duration.zero, +) > .seconds(3600))
    }

    @Test("when the orderer connection is refreshed the deliverer reconnects without sleeping")
    func refreshDoesNotSleep() async throws {
        let harness = try DelivererHarness(blocks: 2)
        let blocks = harness.chain
        let profile = harness.profile
        let source = harness.source
        let connector = ScriptedConnector { call, endpoint, _, onResponse in
            switch call {
            case 0:
                try await onResponse(blockResponse(blocks[1]))
                // A config update elsewhere refreshes the endpoints while the stream is idle.
                var moved = profile
                moved.ordererOrgs[0].ordererEndpoints = ["orderer9:7050"]
                source.update(OrdererAddressConfig(bundle: try Fixtures.bundle(moved)))
                try await Task.sleep(for: .seconds(3600))
            default:
                #expect(endpoint.address == "orderer9:7050")
                try await onResponse(blockResponse(blocks[2]))
                try await Task.sleep(for: .seconds(3600))
            }
        }
        let deliverer = harness.deliverer(connector)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { _ = await deliverer.run() }
            try await harness.ledger.waitForBlocks(2)
            group.cancelAll()
        }
        #expect(harness.clock.sleeps.isEmpty)
        #expect(harness.ledger.numbers == [1, 2])
        #expect(connector.seekHeights == [1, 2])
    }

    @Test("checks the validity of the block: a bad block is not handed on, counted as a failure and reported")
    func invalidBlock() async throws {
        let harness = try DelivererHarness(blocks: 2)
        let blocks = harness.chain
        let bad = try Fixtures.block(1, after: blocks[0], signer: Fixtures.clientSigner)
        let connector = ScriptedConnector { call, _, _, onResponse in
            if call == 0 { try await onResponse(blockResponse(bad)) }
            for block in blocks.dropFirst() { try await onResponse(blockResponse(block)) }
            try await Task.sleep(for: .seconds(3600))
        }
        let deliverer = harness.deliverer(connector, random: ScriptedRandom(indices: [0, 1]))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { _ = await deliverer.run() }
            try await harness.ledger.waitForBlocks(2)
            group.cancelAll()
        }
        #expect(harness.ledger.numbers == [1, 2])
        #expect(harness.clock.sleeps == [.milliseconds(100)])
        #expect(connector.addresses == ["orderer0:7050", "orderer1:7050"])
        let rejected = try harness.metrics.expectCounter(
            "deliver_blocks_rejected",
            [("channel", Fixtures.channelID), ("endpoint", "orderer0:7050"), ("reason", "badBlock")]
        )
        #expect(rejected.totalValue == 1)
        let last = try harness.metrics.expectGauge(
            "deliver_last_rejected_block",
            [("channel", Fixtures.channelID), ("endpoint", "orderer0:7050")]
        )
        #expect(last.lastValue == 1)
    }

    @Test(
        "the deliver client returns a status (SUCCESS included): disconnect, count a failure, reconnect",
        arguments: [Common_Status.success, .notFound, .serviceUnavailable, .forbidden]
    )
    func statusDisconnects(_ status: Common_Status) async throws {
        let harness = try DelivererHarness(blocks: 1)
        let block = harness.chain[1]
        let connector = ScriptedConnector { call, _, _, onResponse in
            if call == 0 { try await onResponse(statusResponse(status)) }
            try await onResponse(blockResponse(block))
            try await Task.sleep(for: .seconds(3600))
        }
        let deliverer = harness.deliverer(connector, random: ScriptedRandom(indices: [0, 1]))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { _ = await deliverer.run() }
            try await harness.ledger.waitForBlocks(1)
            group.cancelAll()
        }
        #expect(harness.clock.sleeps == [.milliseconds(100)])
        #expect(connector.addresses == ["orderer0:7050", "orderer1:7050"])
        let failures = try harness.metrics.expectCounter(
            "deliver_connection_failures",
            [("channel", Fixtures.channelID), ("endpoint", "orderer0:7050"), ("reason", "badStatus")]
        )
        #expect(failures.totalValue == 1)
    }

    @Test("a stream that ends without a status is a failure; a failed hand-off too; a success resets the counter")
    func streamEndAndHandOff() async throws {
        let harness = try DelivererHarness(blocks: 3)
        let blocks = harness.chain
        let ledger = harness.ledger
        let connector = ScriptedConnector { call, _, seek, onResponse in
            switch call {
            case 0, 1:
                return  // orderer hung up
            case 2:
                try await onResponse(blockResponse(blocks[1]))
                ledger.failNextHandOff()
                try await onResponse(blockResponse(blocks[2]))
            default:
                for block in blocks.dropFirst(2) { try await onResponse(blockResponse(block)) }
                try await Task.sleep(for: .seconds(3600))
            }
        }
        let deliverer = harness.deliverer(connector)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { _ = await deliverer.run() }
            try await harness.ledger.waitForBlocks(3)
            group.cancelAll()
        }
        #expect(harness.ledger.numbers == [1, 2, 3])
        // Two failures (100, 120), then a block resets the counter before the hand-off failure (100 again).
        #expect(harness.clock.sleeps == [.milliseconds(100), .milliseconds(120), .milliseconds(100)])
        #expect(connector.seekHeights == [1, 1, 1, 2])
    }

    @Test("no endpoints: every attempt is a failure")
    func noEndpoints() async throws {
        let harness = try DelivererHarness(endpoints: [])
        let deliverer = harness.deliverer(ScriptedConnector.failing, maxRetryDuration: .seconds(1))
        #expect(await deliverer.run() == .gaveUp)
        #expect(harness.clock.sleeps.count == 6)  // 100+120+144+172+207+248 = 991 ms; the 7th (298) passes 1 s
    }

    @Test("the endpoint is chosen uniformly at random", arguments: [[0, 1, 1, 0], [1, 1, 0]])
    func randomEndpoint(_ indices: [Int]) async throws {
        let harness = try DelivererHarness(pauseAfter: indices.count - 1)
        let connector = ScriptedConnector.failing
        let deliverer = harness.deliverer(connector, random: ScriptedRandom(indices: indices))
        await withTaskGroup(of: Void.self) { group in
            group.addTask { _ = await deliverer.run() }
            group.addTask { try? await harness.clock.waitForSleeps(indices.count) }
            await group.next()
            group.cancelAll()
        }
        #expect(connector.addresses == indices.map { "orderer\($0):7050" })
    }
}
