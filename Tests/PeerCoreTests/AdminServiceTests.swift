import Foundation
import GRPCCore
import Ledger
import Logging
import MSP
import NetGen
import PeerCore
import ServiceLifecycle
import SwiftProtobuf
import Testing
import TestSupport
import Wire

/// A real peer node (local MSP from a netgen network, ledgers on disk, the admin service on 127.0.0.1) driven
/// through the admin client as `peer channel join|list|getinfo` drives it.
@Suite("Admin service")
struct AdminServiceTests {
    /// A netgen network with two orgs of one peer each (no orderer is running: delivery just retries).
    static func network(in directory: URL) throws -> NetworkManifest {
        let profile = try NetworkProfile.parse(yaml: "channel: adminchannel\norgs: 2\npeersPerOrg: 1\n")
        return try NetGen.generate(profile, into: directory)
    }

    static func configuration(
        network: NetworkManifest,
        directory: URL,
        state: URL,
        extra: String = ""
    ) throws -> PeerConfiguration {
        let org = network.peerOrganizations[0]
        let peer = org.peers[0]
        let yaml = """
            peer:
              id: \(peer.identity.name)
              localMspId: \(org.mspID)
              mspConfigPath: \(directory.appendingPathComponent(peer.identity.mspDirectory).path)
              fileSystemPath: \(state.path)
              listenAddress: 127.0.0.1:0
              adminService:
                listenAddress: 127.0.0.1:0
              gossip:
                orgLeader: true
            \(extra)
            """
        return try PeerConfiguration(CoreConfigSource(yaml: yaml, baseDirectory: directory))
    }

    /// Runs a peer node until `body` returns, then shuts it down gracefully.
    static func withNode<T: Sendable>(
        _ configuration: PeerConfiguration,
        _ body: @Sendable (PeerNode, String) async throws -> T
    ) async throws -> T {
        let node = try PeerNode(configuration: configuration, logger: Logger(label: "test.peer"))
        let group = ServiceGroup(services: [node], logger: Logger(label: "test.group"))
        return try await withThrowingTaskGroup(of: T?.self) { tasks in
            tasks.addTask {
                try await group.run()
                return nil
            }
            var port = node.adminPort
            let deadline = ContinuousClock.now + .seconds(60)
            while port == nil, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
                port = node.adminPort
            }
            guard let port else { throw PeerCoreError(.unavailable, "the admin service did not start") }
            let result = try await body(node, "127.0.0.1:\(port)")
            await group.triggerGracefulShutdown()
            for try await value in tasks { if let value { return value } }
            return result
        }
    }

    static func signer(
        _ member: NetworkManifest.Member,
        _ org: NetworkManifest.Organization,
        network: NetworkManifest,
        directory: URL
    ) throws -> X509SigningIdentity {
        try network.signingIdentity(of: member, in: org, directory: directory)
    }

    static func genesis(_ network: NetworkManifest, directory: URL) throws -> Common_Block {
        try Common_Block(serializedBytes: Data(contentsOf: directory.appendingPathComponent(network.genesisBlock)))
    }

    @Test("an admin joins the channel; members list it and read its info; the join survives a restart")
    func joinListInfoRestart() async throws {
        try await TemporaryDirectory.with("peer-admin") { temp in
            let netDir = temp.appending("net")
            let network = try Self.network(in: netDir)
            let org1 = network.peerOrganizations[0]
            let admin = try Self.signer(org1.admin, org1, network: network, directory: netDir)
            let user = try Self.signer(org1.users[0], org1, network: network, directory: netDir)
            let genesis = try Self.genesis(network, directory: netDir)
            let configuration = try Self.configuration(network: network, directory: netDir, state: temp.appending("state"))

            try await Self.withNode(configuration) { _, address in
                let joined = try await AdminClient(address: address, signer: admin).joinChannel(block: genesis)
                #expect(joined == "adminchannel")
                let channels = try await AdminClient(address: address, signer: user).listChannels()
                #expect(channels == ["adminchannel"])
                let info = try await AdminClient(address: address, signer: user).channelInfo("adminchannel")
                #expect(info.height == 1)
                #expect(info.currentBlockHash == genesis.headerHash)
                #expect(info.previousBlockHash.isEmpty)
                #expect(info.stateFingerprint.count == 32)

                // A second join of the same channel is refused with ALREADY_EXISTS.
                await #expect(throws: RPCError.self) {
                    try await AdminClient(address: address, signer: admin).joinChannel(block: genesis)
                }
                do {
                    _ = try await AdminClient(address: address, signer: admin).joinChannel(block: genesis)
                } catch let error as RPCError {
                    #expect(error.code == .alreadyExists)
                }
                // An unknown channel is NOT_FOUND.
                do {
                    _ = try await AdminClient(address: address, signer: user).channelInfo("nosuchchannel")
                    Issue.record("channel info of an unknown channel succeeded")
                } catch let error as RPCError {
                    #expect(error.code == .notFound)
                }
            }
            // Restarted on the same folder, the peer opens the ledger and serves the channel again.
            try await Self.withNode(configuration) { _, address in
                let channels = try await AdminClient(address: address, signer: user).listChannels()
                #expect(channels == ["adminchannel"])
                let info = try await AdminClient(address: address, signer: user).channelInfo("adminchannel")
                #expect(info.height == 1)
            }
        }
    }

    @Test("joins need an admin of the peer's org; other orgs and bad blocks are refused with the right status")
    func refusals() async throws {
        try await TemporaryDirectory.with("peer-admin-refusals") { temp in
            let netDir = temp.appending("net")
            let network = try Self.network(in: netDir)
            let org1 = network.peerOrganizations[0]
            let org2 = network.peerOrganizations[1]
            let user = try Self.signer(org1.users[0], org1, network: network, directory: netDir)
            let admin = try Self.signer(org1.admin, org1, network: network, directory: netDir)
            let otherAdmin = try Self.signer(org2.admin, org2, network: network, directory: netDir)
            let genesis = try Self.genesis(network, directory: netDir)
            let configuration = try Self.configuration(network: network, directory: netDir, state: temp.appending("state"))

            try await Self.withNode(configuration) { node, address in
                func code(_ call: () async throws -> Void) async -> RPCError.Code? {
                    do {
                        try await call()
                        return nil
                    } catch let error as RPCError {
                        return error.code
                    } catch {
                        return .unknown
                    }
                }
                // A client (not an admin) of the peer's own org may not join.
                #expect(await code { _ = try await AdminClient(address: address, signer: user).joinChannel(block: genesis) } == .permissionDenied)
                // An admin of another org is not an identity of the peer's MSP at all.
                #expect(await code { _ = try await AdminClient(address: address, signer: otherAdmin).listChannels() } == .unauthenticated)
                // A block that is not a genesis block.
                var notGenesis = genesis
                notGenesis.header.number = 5
                #expect(await code { _ = try await AdminClient(address: address, signer: admin).joinChannel(block: notGenesis) } == .invalidArgument)
                // A genesis block whose data was altered (data hash mismatch).
                var tampered = genesis
                tampered.data.data[0].append(0)
                #expect(await code { _ = try await AdminClient(address: address, signer: admin).joinChannel(block: tampered) } == .invalidArgument)
                // Nothing was joined by the refused requests.
                #expect(node.peer.channelIDs().isEmpty)
                let ledgerIDs = try node.peer.ledgers.ledgerIDs()
                #expect(ledgerIDs.isEmpty)
            }
        }
    }

    @Test("a request signed by someone else than its creator, or stale, is refused")
    func forgedAndStaleRequests() throws {
        let temp = try TemporaryDirectory("peer-admin-forged")
        defer { temp.remove() }
        let netDir = temp.appending("net")
        let network = try Self.network(in: netDir)
        let org1 = network.peerOrganizations[0]
        let admin = try Self.signer(org1.admin, org1, network: network, directory: netDir)
        let user = try Self.signer(org1.users[0], org1, network: network, directory: netDir)
        let msp = try network.msp(of: org1, directory: netDir)
        let now = Date()

        var forged = try AdminRequests.sign(.listChannels(.init()), signer: admin, now: now)
        forged.signature = try user.sign(forged.request)
        #expect(throws: AdminRequestError.self) {
            try AdminRequests.verify(forged, localMSP: msp, now: now, window: .seconds(900)) { _ in .member }
        }
        let stale = try AdminRequests.sign(.listChannels(.init()), signer: admin, now: now.addingTimeInterval(-3600))
        #expect(throws: AdminRequestError.self) {
            try AdminRequests.verify(stale, localMSP: msp, now: now, window: .seconds(900)) { _ in .member }
        }
        let good = try AdminRequests.sign(.listChannels(.init()), signer: admin, now: now)
        let request = try AdminRequests.verify(good, localMSP: msp, now: now, window: .seconds(900)) { _ in .admin }
        #expect(request.creator == admin.serialized)
        var garbage = good
        garbage.request = Data([0xFF, 0xFF, 0x01])
        #expect(throws: AdminRequestError.self) {
            try AdminRequests.verify(garbage, localMSP: msp, now: now, window: .seconds(900)) { _ in .member }
        }
    }
}
