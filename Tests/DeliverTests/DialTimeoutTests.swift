import ChannelConfig
import Foundation
import SwiftProtobuf
import TestSupport
import Testing
import Wire

@testable import Deliver

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A TCP listener on 127.0.0.1 that never accepts: the kernel completes the TCP handshake, but no HTTP/2 (or TLS)
/// answer ever comes, so only the dial timeout can end the attempt.
final class BlackHoleListener: Sendable {
    let descriptor: Int32
    let port: Int

    init() throws {
        #if canImport(Glibc)
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let descriptor = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard descriptor >= 0 else { throw POSIXError(.EIO) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                bind(descriptor, socketAddress, length) == 0 && listen(descriptor, 16) == 0
                    && getsockname(descriptor, socketAddress, &length) == 0
            }
        }
        guard bound else {
            close(descriptor)
            throw POSIXError(.EADDRINUSE)
        }
        self.descriptor = descriptor
        self.port = Int(UInt16(bigEndian: address.sin_port))
    }

    deinit { close(self.descriptor) }
}

@Suite("Dial timeout")
struct DialTimeoutTests {
    @Test("an orderer that accepts TCP but never answers fails the dial after connTimeout, and the next one is tried")
    func connTimeout() async throws {
        let listener = try BlackHoleListener()
        let chain = try Fixtures.chain(Fixtures.profile(endpoints: ["placeholder:1"]), count: 2)
        let good = TestOrderer.serving("B", chain)
        try await withOrderers([good]) { addresses in
            let hole = "127.0.0.1:\(listener.port)"
            let bundle = try Fixtures.bundle(Fixtures.profile(endpoints: [hole, addresses[0]]))
            let ledger = FakeLedger(genesis: chain[0])
            var config = DeliverConfig()
            // Long enough that the good orderer's dial never hits it on a busy machine, short enough for a test.
            config.connTimeout = .seconds(2)
            let harness = try ServiceHarness(config: config, random: ScriptedRandom(indices: [0, 1]))
            let started = ContinuousClock.now
            try await harness.run { service in
                let channel = service.channel(
                    Fixtures.channelID,
                    config: { bundle },
                    ledger: ledger,
                    handler: .custom(ledger),
                    isStaticLeader: true
                )
                try await channel.startDeliverForChannel {}
                try await ledger.waitForBlocks(2)
                channel.stop()
                await channel.waitUntilDelivererEnded()
            }
            let elapsed = ContinuousClock.now - started
            #expect(ledger.numbers == [1, 2])
            #expect(elapsed >= .seconds(2))
            #expect(harness.clock.sleeps == [.milliseconds(100)])
            #expect(
                harness.counter(
                    "deliver_connection_failures",
                    [("channel", Fixtures.channelID), ("endpoint", hole), ("reason", "connection")]
                ) == 1
            )
            _ = listener
        }
    }
}
