import ChannelConfig
import Foundation
import MSP
import SwiftProtobuf
import TestSupport
import Testing
import Wire

@testable import Deliver

/// TLS to the orderer (server-authenticated and mutual) and the real conformance chain streamed through a server.
@Suite("Deliver over TLS, and the conformance chain")
struct TLSAndConformanceTests {
    static func tlsConfig(clientAuth: Bool = false) -> DeliverConfig {
        var config = DeliverConfig()
        config.tls = DeliverConfig.TLS(
            enabled: true,
            clientAuthRequired: clientAuth,
            clientCertificatePEM: clientAuth ? TestPKI.org1ClientTLS.certificate.pem : nil,
            clientKeyPEM: clientAuth ? TestPKI.org1ClientTLS.privateKey.pkcs8PEM : nil
        )
        return config
    }

    static let serverTLS = ServerTLS(
        certificatePEM: TestPKI.ordererTLS.certificate.pem,
        keyPEM: TestPKI.ordererTLS.privateKey.pkcs8PEM
    )

    @Test("TLS: the orderer's certificate is verified against the orderer org's TLS CA from the channel config")
    func serverAuthenticated() async throws {
        let chain = try Fixtures.chain(Fixtures.profile(endpoints: ["placeholder:1"]), count: 3)
        let orderer = TestOrderer.serving("A", chain)
        try await withOrderers([orderer], tls: Self.serverTLS) { addresses in
            let bundle = try Fixtures.bundle(Fixtures.profile(endpoints: addresses))
            let ledger = FakeLedger(genesis: chain[0])
            let harness = try ServiceHarness(config: Self.tlsConfig())
            try await harness.run { service in
                let channel = service.channel(
                    Fixtures.channelID,
                    config: { bundle },
                    ledger: ledger,
                    handler: .custom(ledger),
                    isStaticLeader: true
                )
                try await channel.startDeliverForChannel {}
                try await ledger.waitForBlocks(3)
                channel.stop()
                await channel.waitUntilDelivererEnded()
            }
            #expect(ledger.numbers == [1, 2, 3])
            let payload = try Common_Payload(serializedBytes: try #require(orderer.connections.first).seek.payload)
            #expect(try Common_ChannelHeader(serializedBytes: payload.header.channelHeader).tlsCertHash.isEmpty)
        }
    }

    @Test("TLS: a server certificate from another CA is refused (no block, connection failures counted)")
    func untrustedServer() async throws {
        let chain = try Fixtures.chain(Fixtures.profile(endpoints: ["placeholder:1"]), count: 1)
        let orderer = TestOrderer.serving("A", chain)
        let foreign = ServerTLS(
            certificatePEM: TestPKI.org1ClientTLS.certificate.pem,
            keyPEM: TestPKI.org1ClientTLS.privateKey.pkcs8PEM
        )
        try await withOrderers([orderer], tls: foreign) { addresses in
            let bundle = try Fixtures.bundle(Fixtures.profile(endpoints: addresses))
            let ledger = FakeLedger(genesis: chain[0])
            let harness = try ServiceHarness(config: Self.tlsConfig(), clock: InstantClock(pauseAfter: 2))
            try await harness.run { service in
                let channel = service.channel(
                    Fixtures.channelID,
                    config: { bundle },
                    ledger: ledger,
                    handler: .custom(ledger),
                    isStaticLeader: true
                )
                try await channel.startDeliverForChannel {}
                try await harness.clock.waitForSleeps(3)
                channel.stop()
                await channel.waitUntilDelivererEnded()
            }
            #expect(ledger.blocks.isEmpty)
            #expect(orderer.connections.isEmpty)
            #expect(harness.clock.sleeps.count == 3)
            #expect(
                harness.counter(
                    "deliver_connection_failures",
                    [("channel", Fixtures.channelID), ("endpoint", addresses[0]), ("reason", "connection")]
                ) == 3
            )
        }
    }

    @Test("mutual TLS: the client certificate is presented and its hash bound into the seek request")
    func mutualTLS() async throws {
        let chain = try Fixtures.chain(Fixtures.profile(endpoints: ["placeholder:1"]), count: 2)
        let orderer = TestOrderer.serving("A", chain)
        var tls = Self.serverTLS
        tls.clientCAPEM = TestPKI.org1.tlsCA.certificate.pem
        try await withOrderers([orderer], tls: tls) { addresses in
            let bundle = try Fixtures.bundle(Fixtures.profile(endpoints: addresses))
            let ledger = FakeLedger(genesis: chain[0])
            let harness = try ServiceHarness(config: Self.tlsConfig(clientAuth: true))
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
            #expect(ledger.numbers == [1, 2])
            let payload = try Common_Payload(serializedBytes: try #require(orderer.connections.first).seek.payload)
            let header = try Common_ChannelHeader(serializedBytes: payload.header.channelHeader)
            #expect(header.tlsCertHash == Digest.sha256(TestPKI.org1ClientTLS.certificate.der))
        }
    }

    @Test(
        "the real orderer's blocks 1..29 stream over TLS (real orderer TLS certificate, address override with CA file) and are all accepted with the genesis config",
        .enabled(if: Conformance.isAvailable, Conformance.missingReason)
    )
    func conformanceChain() async throws {
        let blocks = try Conformance.blocks()
        #expect(blocks.count == 30)
        let ordererTLS = "crypto-config/ordererOrganizations/example.com/orderers/orderer.example.com/tls"
        let serverTLS = ServerTLS(
            certificatePEM: try Conformance.data("\(ordererTLS)/server.crt"),
            keyPEM: try Conformance.data("\(ordererTLS)/server.key")
        )
        let orderer = TestOrderer.serving("orderer.example.com", blocks)
        let genesis = try ChannelBundle(configBlock: blocks[0], mspBuilder: MSPBuilders.x509)
        let configAddress = try #require(OrdererConnectionSource.endpoints(of: genesis).first)
        try await withOrderers([orderer], tls: serverTLS) { addresses in
            var config = Self.tlsConfig()
            config.addressOverrides = [
                .init(
                    from: configAddress,
                    to: addresses[0],
                    caCertsFile: try Conformance.url("\(ordererTLS)/ca.crt").path
                )
            ]
            let ledger = FakeLedger(genesis: blocks[0])
            let harness = try ServiceHarness(config: config)
            try await harness.run { service in
                let channel = service.channel(
                    genesis.channelID,
                    config: { genesis },
                    ledger: ledger,
                    handler: .custom(ledger),
                    isStaticLeader: true
                )
                try await channel.startDeliverForChannel {}
                try await ledger.waitForBlocks(29)
                channel.stop()
                await channel.waitUntilDelivererEnded()
            }
            #expect(ledger.numbers == Array(1...29))
            #expect(ledger.blocks.map(\.headerHash) == blocks.dropFirst().map(\.headerHash))
            #expect(orderer.seekStarts == [1])
            #expect(harness.clock.sleeps.isEmpty)
            #expect(harness.counter("deliver_blocks_received", [("channel", genesis.channelID)]) == 29)
        }
    }
}

extension OrdererConnectionSource {
    /// The config addresses of `bundle`'s orderer endpoints.
    static func endpoints(of bundle: ChannelBundle) -> [String] {
        let source = OrdererConnectionSource()
        source.update(OrdererAddressConfig(bundle: bundle))
        return source.endpoints.map(\.configAddress)
    }
}
