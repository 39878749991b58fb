import ChannelConfig
import DevOrderer
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import Ledger
import Logging
import MSP
import NetGen
import SwiftProtobuf
import Synchronization
import TestSupport
import Wire

/// One netgen network shared by the suites (generating it takes a while): channel `devchannel`, two orgs with one
/// peer and one user each, one orderer; batches of at most 5 messages or 2 s, 64 KiB absolute / 32 KiB preferred.
struct TestNetwork: Sendable {
    static let channelID = "devchannel"
    static let batchTimeout: Duration = .seconds(2)
    static let shared: TestNetwork = {
        let network = try! TestNetwork()
        // The network's folder goes when the test process ends.
        atexit { try? FileManager.default.removeItem(at: TestNetwork.shared.directory) }
        return network
    }()

    let directory: URL
    let manifest: NetworkManifest
    let genesis: Common_Block
    let bundle: ChannelBundle
    let orderer: X509SigningIdentity
    let ordererAdmin: X509SigningIdentity
    let client: X509SigningIdentity
    let client2: X509SigningIdentity
    let peer: X509SigningIdentity

    init() throws {
        var profile = NetworkProfile(channelID: Self.channelID, organizations: 2, peersPerOrganization: 1)
        profile.batch.maxMessageCount = 5
        profile.batch.timeout = "2s"
        profile.batch.absoluteMaxBytes = 64 * 1024
        profile.batch.preferredMaxBytes = 32 * 1024
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("devorderer-net-\(UUID().uuidString.prefix(8))")
        let manifest = try NetGen.generate(profile, into: directory)
        self.directory = directory
        self.manifest = manifest
        self.genesis = try Common_Block(
            serializedBytes: Data(contentsOf: NetworkManifest.url(manifest.genesisBlock, in: directory))
        )
        self.bundle = try ChannelBundle(configBlock: self.genesis, mspBuilder: MSPBuilders.x509)
        let ordererOrg = manifest.ordererOrganization
        self.orderer = try manifest.signingIdentity(
            of: ordererOrg.orderers[0].identity,
            in: ordererOrg,
            directory: directory
        )
        self.ordererAdmin = try manifest.signingIdentity(of: ordererOrg.admin, in: ordererOrg, directory: directory)
        let org1 = manifest.peerOrganizations[0]
        let org2 = manifest.peerOrganizations[1]
        self.client = try manifest.signingIdentity(of: org1.users[0], in: org1, directory: directory)
        self.client2 = try manifest.signingIdentity(of: org2.users[0], in: org2, directory: directory)
        self.peer = try manifest.signingIdentity(of: org1.peers[0].identity, in: org1, directory: directory)
    }

    /// An identity of an org the channel does not know (`Orderer2MSP`).
    static let outsider: X509SigningIdentity = try! TestPKI.signer(TestPKI.ordererOrg2Node, of: TestPKI.ordererOrg2)

    /// A signer for the Wire builders.
    static func signer(_ identity: any SigningIdentity) -> TransactionSigner {
        TransactionSigner(identity: identity.serialized) { try identity.sign($0) }
    }

    /// An endorser transaction on the channel created by `creator` (endorsed by the org1 peer), with a unique key.
    func transaction(
        _ label: String,
        creator: (any SigningIdentity)? = nil,
        channel: String = TestNetwork.channelID,
        padding: Int = 0
    ) throws -> Common_Envelope {
        var rwset = ReadWriteSetBuilder()
        rwset.write("basic", label, value: Data(repeating: 0x61, count: 8 + padding))
        return try TransactionBuilder.endorserTransaction(
            channelID: channel,
            chaincode: "basic",
            rwset: try rwset.readWriteSet(),
            creator: Self.signer(creator ?? self.client),
            endorsers: [Self.signer(self.peer)]
        )
    }

    /// A configuration for an orderer on 127.0.0.1 (any free port) storing in `data`.
    func configuration(data: URL, genesis: Bool = true) -> DevOrdererConfiguration {
        DevOrdererConfiguration(
            dataDirectory: data,
            listenAddress: "127.0.0.1:0",
            genesisBlocks: genesis ? [self.genesis] : [],
            blockStore: BlockStoreConfigurationForTests.fast
        )
    }

    /// An orderer of this network signing with its orderer node's identity.
    func makeOrderer(data: URL, genesis: Bool = true, clock: any Clock<Duration> = ManualClock()) throws -> DevOrderer {
        try DevOrderer(
            configuration: self.configuration(data: data, genesis: genesis),
            signer: self.orderer,
            clock: clock,
            logger: Logger(label: "test.dev-orderer", factory: { _ in SwiftLogNoOpLogHandler() })
        )
    }
}

enum BlockStoreConfigurationForTests {
    /// No fsync: the tests do not pull the power.
    static let fast = BlockStoreConfiguration(syncWrites: false)
}

/// A plain gRPC client of an orderer address ("127.0.0.1:port").
enum OrdererClient {
    static func port(_ address: String) -> Int { Int(address.split(separator: ":").last!)! }

    static func withClient<T: Sendable>(
        _ address: String,
        _ body: @Sendable (Orderer_AtomicBroadcast.Client<HTTP2ClientTransport.Posix>) async throws -> T
    ) async throws -> T {
        let transport = try HTTP2ClientTransport.Posix(
            target: .ipv4(address: "127.0.0.1", port: Self.port(address)),
            transportSecurity: .plaintext
        )
        return try await withGRPCClient(transport: transport) { client in
            try await body(Orderer_AtomicBroadcast.Client(wrapping: client))
        }
    }

    /// Sends `envelopes` on one Broadcast stream and returns every response (the stream ends after a refusal).
    static func broadcast(_ address: String, _ envelopes: [Common_Envelope]) async throws -> [Orderer_BroadcastResponse]
    {
        try await self.withClient(address) { client in
            try await client.broadcast(requestProducer: { writer in
                for envelope in envelopes { try await writer.write(envelope) }
            }) { response in
                var all: [Orderer_BroadcastResponse] = []
                for try await message in response.messages { all.append(message) }
                return all
            }
        }
    }

    /// Sends one seek request on a Deliver stream, closes the request side, and returns every response until the
    /// stream ends (so the seek must end with a status).
    static func deliver(_ address: String, _ seek: Common_Envelope) async throws -> [Orderer_DeliverResponse] {
        try await self.withClient(address) { client in
            try await client.deliver(requestProducer: { writer in
                try await writer.write(seek)
            }) { response in
                var all: [Orderer_DeliverResponse] = []
                for try await message in response.messages { all.append(message) }
                return all
            }
        }
    }

    /// A signed DELIVER_SEEK_INFO envelope.
    static func seek(
        channel: String = TestNetwork.channelID,
        start: Orderer_SeekPosition,
        stop: Orderer_SeekPosition,
        behavior: Orderer_SeekInfo.SeekBehavior = .blockUntilReady,
        contentType: Orderer_SeekInfo.SeekContentType = .block,
        signer: any SigningIdentity,
        timestamp: Date = Date()
    ) throws -> Common_Envelope {
        var info = Orderer_SeekInfo()
        info.start = start
        info.stop = stop
        info.behavior = behavior
        info.contentType = contentType
        var channelHeader = Common_ChannelHeader()
        channelHeader.type = Int32(Common_HeaderType.deliverSeekInfo.rawValue)
        channelHeader.channelID = channel
        channelHeader.timestamp = .init(seconds: Int64(timestamp.timeIntervalSince1970), nanos: 0)
        var signatureHeader = Common_SignatureHeader()
        signatureHeader.creator = signer.serialized
        signatureHeader.nonce = TransactionBuilder.randomBytes(24)
        var payload = Common_Payload()
        payload.header.channelHeader = try channelHeader.serializedBytes()
        payload.header.signatureHeader = try signatureHeader.serializedBytes()
        payload.data = try info.serializedBytes()
        var envelope = Common_Envelope()
        envelope.payload = try payload.serializedBytes()
        envelope.signature = try signer.sign(envelope.payload)
        return envelope
    }

    static func specified(_ number: UInt64) -> Orderer_SeekPosition {
        Orderer_SeekPosition.with { $0.specified = .with { $0.number = number } }
    }
    static let oldest = Orderer_SeekPosition.with { $0.oldest = .init() }
    static let newest = Orderer_SeekPosition.with { $0.newest = .init() }
}

extension Array where Element == Orderer_DeliverResponse {
    var blocks: [Common_Block] { self.compactMap { if case .block(let block) = $0.type { block } else { nil } } }
    var statuses: [Common_Status] { self.compactMap { if case .status(let status) = $0.type { status } else { nil } } }
}

/// Checks a chain the way a peer does: each block after the genesis block passes `BlockVerifier` under the config
/// in force (switching after a config block) and chains to the one before.
func verifyChain(_ blocks: [Common_Block], genesisBundle: ChannelBundle) throws {
    var bundle = genesisBundle
    for index in blocks.indices.dropFirst() {
        let previous = blocks[index - 1]
        try BlockVerifier(bundle: bundle).verify(
            blocks[index],
            previous: (number: previous.header.number, hash: previous.headerHash)
        )
        if BlockVerifier.isConfigBlock(blocks[index]) {
            bundle = try ChannelBundle(configBlock: blocks[index], mspBuilder: MSPBuilders.x509)
        }
    }
}

/// Every block of a channel's store from 0 to height − 1.
func storedBlocks(_ channel: OrdererChannel) throws -> [Common_Block] {
    try (0..<channel.height).map { number in try channel.store.block(number: number)! }
}

/// The tx ids of a block's envelopes.
func txIDs(_ block: Common_Block) throws -> [String] {
    try block.data.data.map { try TransactionEnvelope(bytes: $0).txID }
}

func txID(_ envelope: Common_Envelope) throws -> String { try TransactionEnvelope(envelope: envelope).txID }
