import ChannelConfig
import Foundation
import Logging
import MSP
import MetricsTestKit
import SwiftProtobuf
import Synchronization
import TestSupport
import Wire

@testable import Deliver

/// A running ``DeliverService`` with test clock, scripted randomness and test metrics.
struct ServiceHarness: Sendable {
    let service: DeliverService
    let clock: InstantClock
    let metrics: TestMetrics

    init(
        config: DeliverConfig = DeliverConfig(),
        connector: (any OrdererConnector)? = nil,
        random: any DeliverRandomSource = ScriptedRandom(),
        clock: InstantClock = InstantClock()
    ) throws {
        let metrics = TestMetrics()
        self.clock = clock
        self.metrics = metrics
        self.service = try DeliverService(
            config: config,
            signer: Fixtures.peerSigner,
            connector: connector,
            environment: .init(
                clock: clock,
                random: random,
                wallClock: { Date(timeIntervalSince1970: 1_700_000_000) },
                metrics: DeliverMetrics(factory: metrics)
            ),
            logger: Logger(label: "test.deliver", factory: { _ in SwiftLogNoOpLogHandler() })
        )
    }

    /// Runs the service around `body`, then stops it and waits for ``DeliverService/run()`` to return.
    func run<T: Sendable>(_ body: @Sendable (DeliverService) async throws -> T) async throws -> T {
        let service = self.service
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask {
                try await service.run()
                return nil
            }
            do {
                let result = try await body(service)
                service.stop()
                while try await group.next() != nil {}
                return result
            } catch {
                service.stop()
                while try await group.next() != nil {}
                throw error
            }
        }
    }

    func counter(_ label: String, _ dimensions: [(String, String)]) -> Int64 {
        (try? self.metrics.expectCounter(label, dimensions).totalValue) ?? 0
    }
}

/// Records finalizer calls.
final class FinalizerRecorder: Sendable {
    private let count = Mutex(0)
    var calls: Int { self.count.withLock { $0 } }
    var finalizer: @Sendable () -> Void { { self.count.withLock { $0 += 1 } } }
}
