import ChannelConfig
import Foundation
import Gossip
import MSP
import NetGen
import SwiftProtobuf
import TestSupport
import Wire

/// A network made by netgen (real OpenSSL keys and certificates): two orgs with two peers and one user each, its
/// genesis block as a ``ChannelBundle``, and the crypto of every member ready for gossip.
final class NetGenFixture: Sendable {
    let directory: TemporaryDirectory
    let manifest: NetworkManifest
    let bundle: ChannelBundle
    let channel: String

    /// One member of the network with its gossip crypto and TLS material.
    struct Member: Sendable {
        let name: String
        let organization: String
        let signer: X509SigningIdentity
        let localMSP: X509MSP
        let registry: ChannelMSPRegistry
        let tlsCertificate: URL
        let tlsKey: URL

        var mcs: MSPMessageCryptoService {
            MSPMessageCryptoService(localMSP: self.localMSP, signer: self.signer, channels: self.registry)
        }
        var advisor: MSPSecurityAdvisor { MSPSecurityAdvisor(localMSP: self.localMSP, channels: self.registry) }
        var pkiID: PKIID { (try? PKIID.of(serializedIdentity: self.signer.serialized)) ?? PKIID(Data()) }

        /// Mutual TLS with this member's certificate, trusting the TLS CAs of every org of the channel.
        func tls(trusting roots: [Data]) throws -> GRPCGossipTransport.TLS {
            GRPCGossipTransport.TLS(
                certificateChain: [try Data(contentsOf: self.tlsCertificate)],
                privateKey: try Data(contentsOf: self.tlsKey),
                trustRoots: roots
            )
        }
    }

    /// Generates the network (`organizations` orgs of `peers` peers) under a fresh temporary directory.
    init(
        prefix: String = "gossip-net",
        organizations: Int = 2,
        peers: Int = 2,
        channel: String = "gossipchannel"
    )
        throws
    {
        self.directory = try TemporaryDirectory(prefix)
        self.channel = channel
        let profile = NetworkProfile(
            channelID: channel,
            organizations: organizations,
            peersPerOrganization: peers,
            usersPerOrganization: 1
        )
        self.manifest = try NetGen.generate(profile, into: self.directory.url)
        let genesis = try Common_Block(
            serializedBytes: Data(contentsOf: NetworkManifest.url(self.manifest.genesisBlock, in: self.directory.url))
        )
        self.bundle = try ChannelBundle(configBlock: genesis, mspBuilder: MSPBuilders.x509)
    }

    /// A member: `peer` (index) of org `organization` (index), or its first user when `peer` is nil.
    func member(organization: Int, peer: Int?, channels: [ChannelBundle]? = nil) throws -> Member {
        let org = self.manifest.peerOrganizations[organization]
        let identity = peer.map { org.peers[$0].identity } ?? org.users[0]
        return Member(
            name: identity.name,
            organization: org.mspID,
            signer: try self.manifest.signingIdentity(of: identity, in: org, directory: self.directory.url),
            localMSP: try self.manifest.msp(of: org, directory: self.directory.url),
            registry: ChannelMSPRegistry(channels ?? [self.bundle]),
            tlsCertificate: NetworkManifest.url(identity.tlsCertificate, in: self.directory.url),
            tlsKey: NetworkManifest.url(identity.tlsKey, in: self.directory.url)
        )
    }

    /// The signing identity of the ordering node.
    func ordererSigner() throws -> X509SigningIdentity {
        let org = self.manifest.ordererOrganization
        return try self.manifest.signingIdentity(of: org.orderers[0].identity, in: org, directory: self.directory.url)
    }

    /// A block of this channel, `number`, holding one transaction envelope, signed by `signer` as orderer.
    func block(number: UInt64, signer: any SigningIdentity, channel: String? = nil) throws -> Common_Block {
        var channelHeader = Common_ChannelHeader()
        channelHeader.type = Int32(Common_HeaderType.endorserTransaction.rawValue)
        channelHeader.channelID = channel ?? self.channel
        channelHeader.txID = "tx-\(number)"
        var signatureHeader = Common_SignatureHeader()
        signatureHeader.creator = signer.serialized
        signatureHeader.nonce = Data("nonce-\(number)".utf8)
        var payload = Common_Payload()
        payload.header.channelHeader = try channelHeader.serializedBytes()
        payload.header.signatureHeader = try signatureHeader.serializedBytes()
        payload.data = Data("block \(number) payload".utf8)
        var envelope = Common_Envelope()
        envelope.payload = try payload.serializedBytes()
        envelope.signature = try signer.sign(envelope.payload)
        var block = BlockBuilder.block(
            number: number,
            previousHash: Data(),
            envelopes: [try envelope.serializedBytes()]
        )
        try BlockBuilder.sign(
            &block,
            lastConfig: 0,
            signer: TransactionSigner(identity: signer.serialized) { try signer.sign($0) }
        )
        return block
    }

    deinit { self.directory.remove() }
}
