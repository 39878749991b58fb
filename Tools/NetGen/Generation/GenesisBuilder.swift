import ChannelConfig
import Foundation
import MSP
import SwiftProtobuf
import Wire

/// configtxgen's part: the channel profile and genesis block for a network whose crypto material is already on
/// disk. MSP configs are read from the organisations' `msp/` folders and the consenters' TLS certificates from
/// their `tls/server.crt`, exactly as configtxgen reads `MSPDir` and `ClientTLSCert`/`ServerTLSCert`.
struct GenesisBuilder {
    let profile: NetworkProfile
    let manifest: NetworkManifest
    let root: URL

    /// The genesis block, checked by loading it as a channel bundle on X.509 MSPs.
    func makeBlock(now: Date) throws(NetGenError) -> Common_Block {
        let channelProfile = try self.channelProfile()
        let block: Common_Block
        do {
            block = try channelProfile.makeGenesisBlock(timestamp: now)
        } catch {
            throw NetGenError(.channelConfig, "could not build the genesis block: \(error.message)", cause: error)
        }
        do {
            let bundle = try ChannelBundle(configBlock: block, mspBuilder: MSPBuilders.x509)
            try bundle.checkPeerSupport()
        } catch {
            throw NetGenError(
                .channelConfig,
                "the generated genesis block does not load: \(error.message)",
                cause: error
            )
        }
        return block
    }

    /// The channel profile: configtxgen's default policies, the profile's capabilities, batching and consenters.
    func channelProfile() throws(NetGenError) -> ChannelProfile {
        var applicationOrgs: [ChannelProfile.Organization] = []
        for (org, written) in zip(self.profile.peerOrganizations, self.manifest.peerOrganizations) {
            let msp = try self.mspConfig(written)
            let anchors = org.anchorPeers.compactMap { name in org.peers.first { $0.name == name } }.map {
                (host: $0.endpoint.host, port: Int32($0.endpoint.port))
            }
            var organization = ChannelProfile.Organization.peerOrg(name: org.name, msp: msp, anchorPeers: anchors)
            if !self.profile.nodeOUs {
                // Without NodeOUs there are no peer or client roles to name: configtxgen's pre-NodeOU samples use
                // member for everything but Admins.
                let id = org.mspID
                organization.policies = [
                    "Readers": "OR('\(id).member')",
                    "Writers": "OR('\(id).member')",
                    "Admins": "OR('\(id).admin')",
                    "Endorsement": "OR('\(id).member')",
                ]
            }
            applicationOrgs.append(organization)
        }

        let ordererOrg = self.profile.ordererOrganization
        let writtenOrderer = self.manifest.ordererOrganization
        var channel = ChannelProfile(
            channelID: self.profile.channelID,
            applicationOrgs: applicationOrgs,
            ordererOrgs: [
                .ordererOrg(
                    name: ordererOrg.name,
                    msp: try self.mspConfig(writtenOrderer),
                    endpoints: ordererOrg.orderers.map(\.endpoint.description)
                )
            ]
        )
        channel.channelCapabilities = [self.profile.capabilities.channel.rawValue]
        channel.applicationCapabilities = [self.profile.capabilities.application.rawValue]
        channel.ordererCapabilities = [self.profile.capabilities.orderer.rawValue]
        channel.applicationPolicies["Endorsement"] = self.profile.policies.endorsement
        channel.applicationPolicies["LifecycleEndorsement"] = self.profile.policies.lifecycleEndorsement
        channel.maxMessageCount = self.profile.batch.maxMessageCount
        channel.absoluteMaxBytes = self.profile.batch.absoluteMaxBytes
        channel.preferredMaxBytes = self.profile.batch.preferredMaxBytes
        channel.batchTimeout = self.profile.batch.timeout
        channel.consensusType = "etcdraft"
        channel.consensusMetadata = try self.etcdraftMetadata()
        return channel
    }

    /// The etcdraft `ConfigMetadata`: one consenter per orderer node (cluster host and port, its TLS server
    /// certificate PEM as both client and server certificate, as in the conformance configtx.yaml) and the options.
    func etcdraftMetadata() throws(NetGenError) -> Data {
        var metadata = Etcdraft_ConfigMetadata()
        for (node, written) in zip(
            self.profile.ordererOrganization.orderers,
            self.manifest.ordererOrganization.orderers
        ) {
            let certificate = try self.read(written.identity.tlsCertificate)
            var consenter = Etcdraft_Consenter()
            consenter.host = node.clusterEndpoint.host
            consenter.port = UInt32(node.clusterEndpoint.port)
            consenter.clientTlsCert = certificate
            consenter.serverTlsCert = certificate
            metadata.consenters.append(consenter)
        }
        let options = self.profile.etcdraft
        metadata.options.tickInterval = options.tickInterval
        metadata.options.electionTick = options.electionTick
        metadata.options.heartbeatTick = options.heartbeatTick
        metadata.options.maxInflightBlocks = options.maxInflightBlocks
        metadata.options.snapshotIntervalSize = options.snapshotIntervalSize
        do {
            return try metadata.serializedBytes()
        } catch {
            throw NetGenError(.channelConfig, "the etcdraft metadata does not encode", cause: error)
        }
    }

    private func mspConfig(_ organization: NetworkManifest.Organization) throws(NetGenError) -> Msp_FabricMSPConfig {
        let folder = NetworkManifest.url(organization.mspDirectory, in: self.root)
        do {
            return try MSPFolder.load(from: folder, mspID: organization.mspID)
        } catch {
            throw NetGenError(.crypto, "could not load the MSP folder of \(organization.mspID)", cause: error)
        }
    }

    private func read(_ path: String) throws(NetGenError) -> Data {
        let url = NetworkManifest.url(path, in: self.root)
        do {
            return try Data(contentsOf: url)
        } catch {
            throw NetGenError(.io, "could not read \(url.path)", cause: error)
        }
    }
}
