import ChannelConfig
import Foundation
import Logging
import MSP
import SwiftProtobuf
import TestSupport
import Testing

@testable import Deliver

/// Ports of Fabric's "Connection" Ginkgo specs (common/deliverclient/orderers/connection_test.go) and of
/// core/deliverservice/config_test.go `TestLoadOverridesMap`.
@Suite("Orderer connection source")
struct OrdererConnectionSourceTests {
    static let cert1 = Data("org1-ca".utf8)
    static let cert2 = Data("org2-ca".utf8)
    static let cert3 = Data("org3-ca".utf8)

    /// Two orgs with endpoints, as in Fabric's spec.
    static func orgConfig(
        org1: [String] = ["org1-address1", "org1-address2"],
        org2: [String] = ["org2-address1", "org2-address2"],
        org1Certs: [Data] = [cert1],
        global: [String] = ["global-address1", "global-address2"]
    ) -> OrdererAddressConfig {
        OrdererAddressConfig(
            globalAddresses: global,
            organizations: [
                "org1": .init(addresses: org1, tlsRootCAs: org1Certs),
                "org2": .init(addresses: org2, tlsRootCAs: [cert2]),
            ]
        )
    }

    static func globalConfig(_ addresses: [String] = ["global-address1", "global-address2"]) -> OrdererAddressConfig {
        OrdererAddressConfig(
            globalAddresses: addresses,
            organizations: [
                "org1": .init(addresses: [], tlsRootCAs: [cert1]), "org2": .init(addresses: [], tlsRootCAs: [cert2]),
            ]
        )
    }

    func summary(_ source: OrdererConnectionSource) -> [String] {
        source.endpoints.map {
            "\($0.address)|\($0.organization ?? "-")|\($0.tlsRootCAs.map { String(decoding: $0, as: UTF8.self) }.joined(separator: ","))"
        }
    }

    @Test("org endpoints are used when any org defines them, each with its org's CAs; global addresses ignored")
    func orgEndpoints() {
        let source = OrdererConnectionSource()
        #expect(source.update(Self.orgConfig()))
        #expect(
            summary(source) == [
                "org1-address1|org1|org1-ca", "org1-address2|org1|org1-ca",
                "org2-address1|org2|org2-ca", "org2-address2|org2|org2-ca",
            ]
        )
    }

    @Test("without org endpoints the global addresses are used with the union of every org's CAs")
    func globalEndpoints() {
        let source = OrdererConnectionSource()
        #expect(source.update(Self.globalConfig()))
        #expect(summary(source) == ["global-address1|-|org1-ca,org2-ca", "global-address2|-|org1-ca,org2-ca"])
    }

    @Test("an override replaces the address and the CAs, for org and global endpoints")
    func overrides() {
        let overrides = [
            "org1-address1": OrdererEndpoint(address: "override-address", organization: nil, tlsRootCAs: [Self.cert3]),
            "global-address2": OrdererEndpoint(address: "override-global", organization: nil, tlsRootCAs: []),
        ]
        let source = OrdererConnectionSource(overrides: overrides)
        source.update(Self.orgConfig())
        #expect(summary(source).first == "override-address|org1|org3-ca")
        #expect(source.endpoints.first?.configAddress == "org1-address1")
        let global = OrdererConnectionSource(overrides: overrides)
        global.update(Self.globalConfig())
        #expect(summary(global) == ["global-address1|-|org1-ca,org2-ca", "override-global|-|"])
    }

    @Test("an unchanged config does not refresh the endpoints")
    func unchanged() {
        for config in [Self.orgConfig(), Self.globalConfig()] {
            let source = OrdererConnectionSource()
            source.update(config)
            let before = source.endpoints
            #expect(!source.update(config))
            #expect(before.allSatisfy { !$0.isRefreshed })
            #expect(source.changeCount == 1)
        }
        // Reordered global addresses are the same set.
        let source = OrdererConnectionSource()
        source.update(Self.globalConfig(["a:1", "b:2"]))
        #expect(!source.update(Self.globalConfig(["b:2", "a:1"])))
        // Overridden global addresses are compared by their config address (no spurious refresh).
        let overridden = OrdererConnectionSource(
            overrides: ["a:1": OrdererEndpoint(address: "x:9", organization: nil, tlsRootCAs: [])]
        )
        overridden.update(Self.globalConfig(["a:1", "b:2"]))
        #expect(!overridden.update(Self.globalConfig(["a:1", "b:2"])))
    }

    @Test(
        "a changed org (TLS CA, address, added or removed org) refreshes every old endpoint",
        arguments: ["tls", "address", "removeAddress", "removeOrg", "addOrg"]
    )
    func orgChange(_ change: String) {
        let source = OrdererConnectionSource()
        source.update(Self.orgConfig())
        let before = source.endpoints
        var config = Self.orgConfig()
        switch change {
        case "tls": config = Self.orgConfig(org1Certs: [Self.cert1, Self.cert3])
        case "address": config = Self.orgConfig(org1: ["org1-address1", "org1-address3"])
        case "removeAddress": config = Self.orgConfig(org1: ["org1-address1"])
        case "removeOrg": config.organizations["org2"] = nil
        default: config.organizations["org3"] = .init(addresses: ["org3-address1"], tlsRootCAs: [Self.cert3])
        }
        #expect(source.update(config))
        #expect(before.allSatisfy { $0.isRefreshed })
        #expect(source.endpoints.allSatisfy { !$0.isRefreshed })
        #expect(source.changeCount == 2)
    }

    @Test(
        "global addresses: a change in size or membership refreshes",
        arguments: [
            ["global-address1"], ["global-address1", "global-address3"],
            ["global-address1", "global-address2", "global-address3"],
        ]
    )
    func globalChange(_ addresses: [String]) {
        let source = OrdererConnectionSource()
        source.update(Self.globalConfig())
        let before = source.endpoints
        #expect(source.update(Self.globalConfig(addresses)))
        #expect(before.allSatisfy { $0.isRefreshed })
        #expect(source.endpoints.map(\.address) == addresses)
    }

    @Test("moving from global addresses to org endpoints refreshes")
    func globalToOrg() {
        let source = OrdererConnectionSource()
        source.update(Self.globalConfig())
        let before = source.endpoints
        #expect(source.update(Self.orgConfig()))
        #expect(before.allSatisfy { $0.isRefreshed })
        #expect(source.endpoints.count == 4)
    }

    @Test("the endpoints come from a real channel config: org endpoints with the org's TLS CA")
    func fromBundle() throws {
        let bundle = try Fixtures.bundle(Fixtures.profile(endpoints: ["orderer0:7050"]))
        let source = OrdererConnectionSource()
        source.update(OrdererAddressConfig(bundle: bundle))
        #expect(source.endpoints.map(\.address) == ["orderer0:7050"])
        #expect(source.endpoints[0].tlsRootCAs == [TestPKI.ordererOrg.tlsCA.certificate.der])
        #expect(source.endpoints[0].organization == "OrdererMSP")
        let legacy = try Fixtures.bundle(
            Fixtures.profile(endpoints: [], globalAddresses: ["orderer0:7050", "orderer1:7050"])
        )
        let global = OrdererConnectionSource()
        global.update(OrdererAddressConfig(bundle: legacy))
        #expect(global.endpoints.map(\.address) == ["orderer0:7050", "orderer1:7050"])
        #expect(global.endpoints.allSatisfy { $0.organization == nil && $0.tlsRootCAs.count == 1 })
    }

    @Test(
        "addressOverrides: CA files are read; unreadable or certificate-less files skip the override (TestLoadOverridesMap)"
    )
    func loadOverrides() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("deliver-overrides-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let good = directory.appendingPathComponent("ca.pem")
        try (TestPKI.ordererOrg.tlsCA.certificate.pem + Data("\n".utf8) + TestPKI.org1.tlsCA.certificate.pem).write(
            to: good
        )
        let garbage = directory.appendingPathComponent("garbage.pem")
        try Data("not a certificate".utf8).write(to: garbage)
        var config = DeliverConfig()
        config.addressOverrides = [
            .init(from: "orderer0:7050", to: "127.0.0.1:7050", caCertsFile: good.path),
            .init(
                from: "orderer1:7050",
                to: "127.0.0.1:7051",
                caCertsFile: directory.appendingPathComponent("missing.pem").path
            ),
            .init(from: "orderer2:7050", to: "127.0.0.1:7052", caCertsFile: garbage.path),
            .init(from: "orderer3:7050", to: "127.0.0.1:7053"),
        ]
        let overrides = config.loadAddressOverrides(
            logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        )
        #expect(overrides.keys.sorted() == ["orderer0:7050", "orderer3:7050"])
        #expect(overrides["orderer0:7050"]?.address == "127.0.0.1:7050")
        #expect(
            overrides["orderer0:7050"]?.tlsRootCAs == [
                TestPKI.ordererOrg.tlsCA.certificate.der, TestPKI.org1.tlsCA.certificate.der,
            ]
        )
        #expect(overrides["orderer3:7050"]?.tlsRootCAs == [])
    }

    @Test("the code fallbacks of the knobs (TestGlobalConfigDefault)")
    func defaults() {
        let config = DeliverConfig()
        #expect(config.blockGossipEnabled)
        #expect(config.reconnectTotalTimeThreshold == .seconds(3600))
        #expect(config.connTimeout == .seconds(3))
        #expect(config.reConnectBackoffThreshold == .seconds(3600))
        #expect(config.blockCensorshipTimeout == .seconds(30))
        #expect(config.minimalReconnectInterval == .milliseconds(100))
        #expect(config.addressOverrides.isEmpty)
        #expect(config.policy == .cluster)
        #expect(DeliverConfig.Policy(parsing: "simple") == .simple)
        #expect(DeliverConfig.Policy(parsing: "bogus") == .cluster)
        #expect(!config.tls.enabled && !config.tls.clientAuthRequired)
    }
}
