import ChannelConfig
import DevOrderer
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import Ledger
import Logging
import MSP
import NetGen
import PeerCore
import ServiceLifecycle
import Synchronization
import SwiftProtobuf
import Testing
import TestSupport
import Wire

/// A peer process's whole block path, in one process over real gRPC on 127.0.0.1: the development orderer cuts and
/// signs blocks; the peer (static org leader) joins from the genesis block, pulls them over Deliver through an
/// address override, verifies them, buffers them in gossip state and validates and commits them in order.
@Suite("Peer with an ordering service")
struct PeerDeliveryTests {
    @Test("the peer commits every block the orderer cuts, byte for byte, with Fabric's validation codes")
    func commitsOrdererBlocks() async throws {
        try await TemporaryDirectory.with("peer-delivery") { temp in
            let netDir = temp.appending("net")
            var profile = NetworkProfile(channelID: "e2echannel", organizations: 2, peersPerOrganization: 1)
            profile.batch.maxMessageCount = 4
            profile.batch.timeout = "200ms"
            let network = try NetGen.generate(profile, into: netDir)
            let genesis = try Common_Block(
                serializedBytes: Data(contentsOf: NetworkManifest.url(network.genesisBlock, in: netDir))
            )
            let ordererOrg = network.ordererOrganization
            let org1 = network.peerOrganizations[0]
            let org2 = network.peerOrganizations[1]
            func signer(_ member: NetworkManifest.Member, _ org: NetworkManifest.Organization) throws -> TransactionSigner {
                let identity = try network.signingIdentity(of: member, in: org, directory: netDir)
                return TransactionSigner(identity: identity.serialized) { try identity.sign($0) }
            }
            let ordererIdentity = try network.signingIdentity(
                of: ordererOrg.orderers[0].identity,
                in: ordererOrg,
                directory: netDir
            )
            let orderer = try DevOrderer(
                configuration: DevOrdererConfiguration(
                    dataDirectory: temp.appending("orderer"),
                    listenAddress: "127.0.0.1:0",
                    genesisBlocks: [genesis]
                ),
                signer: ordererIdentity,
                logger: Logger(label: "test.orderer")
            )
            let endorsers = [try signer(org1.peers[0].identity, org1), try signer(org2.peers[0].identity, org2)]
            let client = try signer(org1.users[0], org1)
            let definer = try signer(org1.admin, org1)

            try await DevOrderer.withRunning(orderer) { ordererAddress in
                let peerDir = netDir.appendingPathComponent(org1.peers[0].identity.mspDirectory)
                let yaml = """
                    peer:
                      id: peer0.org1
                      localMspId: \(org1.mspID)
                      mspConfigPath: \(peerDir.path)
                      fileSystemPath: \(temp.appending("peer").path)
                      listenAddress: 127.0.0.1:0
                      adminService:
                        listenAddress: 127.0.0.1:0
                      gossip:
                        orgLeader: true
                      deliveryclient:
                        addressOverrides:
                          - from: \(ordererOrg.orderers[0].endpoint)
                            to: \(ordererAddress)
                    """
                let configuration = try PeerConfiguration(CoreConfigSource(yaml: yaml, baseDirectory: netDir))
                let admin = try network.signingIdentity(of: org1.admin, in: org1, directory: netDir)
                try await AdminServiceTests.withNode(configuration) { node, adminAddress in
                    _ = try await AdminClient(address: adminAddress, signer: admin).joinChannel(block: genesis)

                    // The chaincode definition, then transactions writing keys k0…k8 (one with a forged creator
                    // signature), through the orderer's broadcast path.
                    var envelopes = [
                        try ChaincodeDefinitionWrites(name: "basic").transaction(
                            channelID: "e2echannel",
                            creator: definer,
                            endorsers: endorsers
                        )
                    ]
                    for index in 0..<9 {
                        var rwset = ReadWriteSetBuilder()
                        rwset.write("basic", "k\(index)", value: Data("v\(index)".utf8))
                        envelopes.append(
                            try TransactionBuilder.endorserTransaction(
                                channelID: "e2echannel",
                                chaincode: "basic",
                                rwset: try rwset.readWriteSet(),
                                creator: client,
                                endorsers: endorsers
                            )
                        )
                    }
                    // A transaction endorsed by org1 only: MAJORITY of two orgs needs both.
                    var rwset = ReadWriteSetBuilder()
                    rwset.write("basic", "underendorsed", value: Data("x".utf8))
                    envelopes.append(
                        try TransactionBuilder.endorserTransaction(
                            channelID: "e2echannel",
                            chaincode: "basic",
                            rwset: try rwset.readWriteSet(),
                            creator: client,
                            endorsers: [endorsers[0]]
                        )
                    )
                    let channel = try #require(orderer.channel("e2echannel"))
                    // The definition must commit before the transactions that use it are validated: its own block.
                    #expect(await channel.submit(envelopes[0]).status == .success)
                    try await Self.eventually { channel.height >= 2 }
                    for envelope in envelopes.dropFirst() {
                        #expect(await channel.submit(envelope).status == .success)
                    }
                    // 10 txs in batches of at most 4: usually 3 blocks, more when the batch timeout cuts early on a
                    // loaded machine, so wait for every transaction rather than for a height.
                    let txIDs = try envelopes.map { envelope in
                        let payload = try Common_Payload(serializedBytes: envelope.payload)
                        return try Common_ChannelHeader(serializedBytes: payload.header.channelHeader).txID
                    }
                    let peerChannel = try #require(node.peer.channel("e2echannel"))
                    try await Self.eventually {
                        txIDs.allSatisfy { (try? peerChannel.ledger.validationCode(txID: $0)) != nil }
                    }
                    try await Self.eventually { peerChannel.ledger.height == channel.height }
                    for number in 0..<channel.height {
                        let ordered = try #require(try channel.store.block(number: number))
                        let committed = try #require(try peerChannel.ledger.block(number: number))
                        #expect(committed.header == ordered.header)
                        #expect(committed.data == ordered.data)
                    }
                    var codes: [String: Protos_TxValidationCode] = [:]
                    for txID in txIDs { codes[txID] = try peerChannel.ledger.validationCode(txID: txID) }
                    #expect(codes.values.filter { $0 == .valid }.count == 10)
                    #expect(codes.values.filter { $0 == .endorsementPolicyFailure }.count == 1)
                    #expect(try peerChannel.ledger.state(namespace: "basic", key: "k3")?.value == Data("v3".utf8))
                    #expect(try peerChannel.ledger.state(namespace: "basic", key: "underendorsed") == nil)

                    let info = try await AdminClient(address: adminAddress, signer: admin).channelInfo("e2echannel")
                    #expect(info.height == channel.height)
                    #expect(info.commitHash.count == 32)
                }
            }
        }
    }

    @Test("a block whose orderer signature is broken is refused and not committed; the good block is, after reconnecting")
    func refusesBadOrdererSignature() async throws {
        try await TemporaryDirectory.with("peer-bad-block") { temp in
            let netDir = temp.appending("net")
            var profile = NetworkProfile(channelID: "badchannel", organizations: 1, peersPerOrganization: 1)
            profile.batch.maxMessageCount = 1
            let network = try NetGen.generate(profile, into: netDir)
            let genesis = try Common_Block(
                serializedBytes: Data(contentsOf: NetworkManifest.url(network.genesisBlock, in: netDir))
            )
            let ordererOrg = network.ordererOrganization
            let org1 = network.peerOrganizations[0]
            // A real block 1 cut and signed by the dev orderer…
            let orderer = try DevOrderer(
                configuration: DevOrdererConfiguration(
                    dataDirectory: temp.appending("orderer"),
                    listenAddress: "127.0.0.1:0",
                    genesisBlocks: [genesis]
                ),
                signer: try network.signingIdentity(of: ordererOrg.orderers[0].identity, in: ordererOrg, directory: netDir),
                logger: Logger(label: "test.orderer")
            )
            let user = try network.signingIdentity(of: org1.users[0], in: org1, directory: netDir)
            let peerIdentity = try network.signingIdentity(of: org1.peers[0].identity, in: org1, directory: netDir)
            var rwset = ReadWriteSetBuilder()
            rwset.write("basic", "k", value: Data("v".utf8))
            let envelope = try TransactionBuilder.endorserTransaction(
                channelID: "badchannel",
                chaincode: "basic",
                rwset: try rwset.readWriteSet(),
                creator: TransactionSigner(identity: user.serialized) { try user.sign($0) },
                endorsers: [TransactionSigner(identity: peerIdentity.serialized) { try peerIdentity.sign($0) }]
            )
            let good: Common_Block = try await DevOrderer.withRunning(orderer) { _ in
                let channel = try #require(orderer.channel("badchannel"))
                #expect(await channel.submit(envelope).status == .success)
                try await Self.eventually { channel.height >= 2 }
                return try #require(try channel.store.block(number: 1))
            }
            // …and the same block with one byte of the orderer's signature flipped.
            var tampered = good
            var signatures = try Common_Metadata(serializedBytes: tampered.metadata.metadata[0])
            signatures.signatures[0].signature[8] ^= 0x01
            tampered.metadata.metadata[0] = try signatures.serializedData()
            let bad = tampered

            let fake = ScriptedDeliver(first: bad, then: good)
            let transport = HTTP2ServerTransport.Posix(address: .ipv4(host: "127.0.0.1", port: 0), transportSecurity: .plaintext)
            try await withGRPCServer(transport: transport, services: [fake]) { server in
                let port = try #require(try await server.transport.listeningAddress.ipv4?.port)
                let yaml = """
                    peer:
                      localMspId: \(org1.mspID)
                      mspConfigPath: \(netDir.appendingPathComponent(org1.peers[0].identity.mspDirectory).path)
                      fileSystemPath: \(temp.appending("peer").path)
                      listenAddress: 127.0.0.1:0
                      adminService:
                        listenAddress: 127.0.0.1:0
                      gossip:
                        orgLeader: true
                      deliveryclient:
                        addressOverrides:
                          - from: \(ordererOrg.orderers[0].endpoint)
                            to: 127.0.0.1:\(port)
                    """
                let configuration = try PeerConfiguration(CoreConfigSource(yaml: yaml, baseDirectory: netDir))
                let admin = try network.signingIdentity(of: org1.admin, in: org1, directory: netDir)
                try await AdminServiceTests.withNode(configuration) { node, adminAddress in
                    _ = try await AdminClient(address: adminAddress, signer: admin).joinChannel(block: genesis)
                    let channel = try #require(node.peer.channel("badchannel"))
                    try await Self.eventually { channel.ledger.height == 2 }
                    let committed = try #require(try channel.ledger.block(number: 1))
                    // What was committed is the correctly signed block; the tampered one never got in.
                    #expect(committed.metadata.metadata[0] == good.metadata.metadata[0])
                    #expect(committed.metadata.metadata[0] != bad.metadata.metadata[0])
                    // The refused block made the deliverer drop the stream and seek block 1 again.
                    #expect(Array(fake.seekStarts.prefix(2)) == [1, 1])
                }
            }
        }
    }

    static func eventually(timeout: Duration = .seconds(120), _ condition: () throws -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while try !condition() {
            guard ContinuousClock.now < deadline else {
                Issue.record("condition not met within \(timeout)")
                return
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }
}

/// An orderer that answers the first Deliver stream with `first` and every later one with `then` (each followed by
/// silence until the client hangs up), recording where each seek starts.
final class ScriptedDeliver: Orderer_AtomicBroadcast.SimpleServiceProtocol, Sendable {
    private let first: Common_Block
    private let then: Common_Block
    private let starts = Mutex<[UInt64]>([])

    init(first: Common_Block, then: Common_Block) {
        self.first = first
        self.then = then
    }

    var seekStarts: [UInt64] { self.starts.withLock { $0 } }

    func broadcast(
        request: RPCAsyncSequence<Common_Envelope, any Error>,
        response: RPCWriter<Orderer_BroadcastResponse>,
        context: ServerContext
    ) async throws {
        throw RPCError(code: .unimplemented, message: "deliver only")
    }

    func deliver(
        request: RPCAsyncSequence<Common_Envelope, any Error>,
        response: RPCWriter<Orderer_DeliverResponse>,
        context: ServerContext
    ) async throws {
        var iterator = request.makeAsyncIterator()
        guard let seek = try await iterator.next() else { return }
        let payload = try Common_Payload(serializedBytes: seek.payload)
        let info = try Orderer_SeekInfo(serializedBytes: payload.data)
        let index = self.starts.withLock { starts in
            starts.append(info.start.specified.number)
            return starts.count - 1
        }
        var message = Orderer_DeliverResponse()
        message.block = index == 0 ? self.first : self.then
        try await response.write(message)
        while try await iterator.next() != nil {}
    }
}
