import Foundation
import PeerCore
import Testing

/// core.yaml keys, CORE_ environment overrides and Fabric's code fallbacks (config_test TestGlobalConfigDefaults
/// and the knobs tables of the spec).
@Suite("Peer configuration")
struct PeerConfigurationTests {
    let base = URL(fileURLWithPath: "/etc/hyperledger/fabric")

    func configuration(_ yaml: String, environment: [String: String] = [:]) throws -> PeerConfiguration {
        try PeerConfiguration(CoreConfigSource(yaml: yaml, baseDirectory: base, environment: environment))
    }

    @Test("absent keys take Fabric's code fallbacks, not core.yaml's sample values")
    func codeFallbacks() throws {
        let config = try configuration("peer:\n  id: peer0\n")
        #expect(config.peerID == "peer0")
        #expect(config.gossip.orgLeader == false)
        #expect(config.gossip.useLeaderElection == false)
        #expect(config.state.enabled == false)
        #expect(config.privateData.reconciliationEnabled == false)
        #expect(config.privateData.pullRetryThreshold == .zero)
        #expect(config.privateData.pushAckTimeout == .zero)
        #expect(config.privateData.btlPullMargin == 10)
        #expect(config.privateData.transientStoreMaxBlockRetention == 20000)
        #expect(config.deliveryClient.blockGossipEnabled == true)
        #expect(config.deliveryClient.reconnectTotalTimeThreshold == .seconds(3600))
        #expect(config.state.batchSize == 10 && config.state.blockBufferSize == 20 && config.state.channelSize == 100)
        #expect(config.election.leaderAliveThreshold == .seconds(10))
        #expect(config.validatorPoolSize == ProcessInfo.processInfo.activeProcessorCount)
        #expect(config.mspConfigPath.path == "/etc/hyperledger/fabric/msp")
        #expect(config.ledger.deprioritizedDataReconcilerInterval == .seconds(3600))
    }

    @Test("values from the file are typed; relative paths resolve against the config folder")
    func fileValues() throws {
        let yaml = """
            peer:
              id: peer1.org1
              address: peer1.org1:7051
              listenAddress: 0.0.0.0:7151
              mspConfigPath: crypto/msp
              fileSystemPath: /data/peer1
              localMspId: Org1MSP
              gossip:
                useLeaderElection: true
                bootstrap: 127.0.0.1:7051 127.0.0.1:8051
                externalEndpoint: peer1.org1:7051
                pvtData:
                  pullRetryThreshold: 60s
                  pushAckTimeout: 3s
                  btlPullMargin: -4
                  reconciliationEnabled: true
                state:
                  enabled: true
                  checkInterval: 1500ms
              tls:
                enabled: true
                cert:
                  file: tls/server.crt
                key:
                  file: /abs/server.key
              deliveryclient:
                addressOverrides:
                  - from: orderer.example.com:7050
                    to: 127.0.0.1:7050
                    caCertsFile: ca.pem
            operations:
              listenAddress: 127.0.0.1:9443
            ledger:
              pvtdataStore:
                deprioritizedDataReconcilerInterval: 90s
            """
        let config = try configuration(yaml)
        #expect(config.gossip.useLeaderElection && !config.gossip.orgLeader)
        #expect(config.gossip.bootstrap == ["127.0.0.1:7051", "127.0.0.1:8051"])
        #expect(config.gossip.endpoint == "peer1.org1:7051")
        #expect(config.privateData.pullRetryThreshold == .seconds(60))
        #expect(config.privateData.btlPullMargin == 10, "a negative margin is ignored")
        #expect(config.privateData.reconciliationEnabled)
        #expect(config.state.enabled && config.state.checkInterval == .milliseconds(1500))
        #expect(config.mspConfigPath.path == "/etc/hyperledger/fabric/crypto/msp")
        #expect(config.tls.certificate?.path == "/etc/hyperledger/fabric/tls/server.crt")
        #expect(config.tls.key?.path == "/abs/server.key")
        #expect(config.tls.clientCertificate == config.tls.certificate, "client cert falls back to the server cert")
        #expect(config.deliveryClient.addressOverrides["orderer.example.com:7050"]?.address == "127.0.0.1:7050")
        #expect(config.deliveryClient.addressOverrides["orderer.example.com:7050"]?.caCertificate?.lastPathComponent == "ca.pem")
        #expect(config.operations.listenAddress == "127.0.0.1:9443")
        #expect(config.fileSystemPath.path == "/data/peer1")
        #expect(config.ledger.deprioritizedDataReconcilerInterval == .seconds(90))
    }

    @Test("CORE_ environment variables override the file")
    func environment() throws {
        let config = try configuration(
            "peer:\n  gossip:\n    orgLeader: false\n    bootstrap: a:1\n",
            environment: [
                "CORE_PEER_GOSSIP_ORGLEADER": "true",
                "CORE_PEER_GOSSIP_BOOTSTRAP": "b:2 c:3",
                "CORE_PEER_ID": "from-env",
                "CORE_PEER_GOSSIP_STATE_ENABLED": "TRUE",
                "CORE_PEER_DELIVERYCLIENT_ADDRESSOVERRIDES": "o:7050=127.0.0.1:7050",
            ]
        )
        #expect(config.gossip.orgLeader)
        #expect(config.gossip.bootstrap == ["b:2", "c:3"])
        #expect(config.peerID == "from-env")
        #expect(config.state.enabled)
        #expect(config.deliveryClient.addressOverrides["o:7050"]?.address == "127.0.0.1:7050")
        #expect(CoreConfigSource.environmentName(for: "peer.gossip.useLeaderElection") == "CORE_PEER_GOSSIP_USELEADERELECTION")
    }

    @Test("bad values name the key", arguments: [
        ("peer:\n  gossip:\n    orgLeader: maybe\n", "peer.gossip.orgLeader"),
        ("peer:\n  gossip:\n    state:\n      batchSize: ten\n", "peer.gossip.state.batchSize"),
        ("peer:\n  gossip:\n    state:\n      batchSize: 0\n", "peer.gossip.state.batchSize"),
        ("peer:\n  gossip:\n    pvtData:\n      pushAckTimeout: soon\n", "peer.gossip.pvtData.pushAckTimeout"),
        ("peer:\n  tls:\n    enabled: true\n", "peer.tls.cert.file"),
        ("peer:\n  gossip:\n    useLeaderElection: true\n    orgLeader: true\n", "useLeaderElection"),
        ("peer:\n  validatorPoolSize: -1\n", "peer.validatorPoolSize"),
        ("peer:\n  gossip:\n    pvtData:\n      implicitCollectionDisseminationPolicy:\n        requiredPeerCount: 2\n        maxPeerCount: 1\n", "maxPeerCount"),
    ])
    func badValues(_ yaml: String, _ key: String) throws {
        let error = #expect(throws: PeerCoreError.self) { try configuration(yaml) }
        #expect(error?.code == .badConfiguration)
        #expect(error?.message.contains(key) == true, "\(String(describing: error?.message))")
    }

    @Test("invalid YAML is refused with the file's problem")
    func invalidYAML() {
        #expect(throws: PeerCoreError(.badConfiguration, "")) {
            try CoreConfigSource(yaml: "peer: [unclosed", baseDirectory: base)
        }
    }
}
