import ChannelConfig
import Foundation
import MSP
import SwiftProtobuf
import Wire

/// One run of netgen into a (staging) root folder: every organisation's tree, then the genesis block from the
/// folders just written (as configtxgen reads `MSPDir` and the consenters' TLS certificate files), then
/// `network.json`.
struct NetworkGenerator {
    let profile: NetworkProfile
    /// Where the network is written; manifest paths are relative to it.
    let root: URL

    /// One node to enroll in an organisation.
    private struct NodeSpec {
        var name: String
        var endpoint: NetworkProfile.Endpoint
        var clusterEndpoint: NetworkProfile.Endpoint?
        var anchor: Bool?
    }

    func run(now: Date) throws(NetGenError) -> NetworkManifest {
        let ordererOrg = self.profile.ordererOrganization
        let orderer = try self.writeOrganization(
            section: "ordererOrganizations",
            name: ordererOrg.name,
            mspID: ordererOrg.mspID,
            domain: ordererOrg.domain,
            role: "orderer",
            nodes: ordererOrg.orderers.map {
                NodeSpec(name: $0.name, endpoint: $0.endpoint, clusterEndpoint: $0.clusterEndpoint, anchor: nil)
            },
            users: ordererOrg.users,
            anchorPeers: []
        )
        var peerOrgs: [NetworkManifest.Organization] = []
        for org in self.profile.peerOrganizations {
            peerOrgs.append(
                try self.writeOrganization(
                    section: "peerOrganizations",
                    name: org.name,
                    mspID: org.mspID,
                    domain: org.domain,
                    role: "peer",
                    nodes: org.peers.map {
                        NodeSpec(
                            name: $0.name,
                            endpoint: $0.endpoint,
                            clusterEndpoint: nil,
                            anchor: org.anchorPeers.contains($0.name)
                        )
                    },
                    users: org.users,
                    anchorPeers: org.anchorPeers
                )
            )
        }

        let genesisFile = NetGen.genesisBlockFileName(channelID: self.profile.channelID)
        let manifest = NetworkManifest(
            version: NetworkManifest.currentVersion,
            channelID: self.profile.channelID,
            genesisBlock: genesisFile,
            cryptoConfig: NetGen.cryptoConfigFolder,
            nodeOUs: self.profile.nodeOUs,
            intermediateCA: self.profile.intermediateCA,
            capabilities: NetworkManifest.Capabilities(
                channel: self.profile.capabilities.channel.rawValue,
                application: self.profile.capabilities.application.rawValue,
                orderer: self.profile.capabilities.orderer.rawValue
            ),
            ordererOrganization: orderer,
            peerOrganizations: peerOrgs
        )
        let block = try GenesisBuilder(profile: self.profile, manifest: manifest, root: self.root).makeBlock(now: now)
        let blockBytes: Data
        do {
            blockBytes = try block.serializedBytes()
        } catch {
            throw NetGenError(.channelConfig, "the genesis block does not encode", cause: error)
        }
        try FileWriter.write(blockBytes, to: self.root.appendingPathComponent(genesisFile))
        try FileWriter.write(try manifest.encoded(), to: self.root.appendingPathComponent(NetworkManifest.fileName))
        return manifest
    }

    /// Writes one organisation (cryptogen's order: CAs, Admin, nodes, users) and describes it for the manifest.
    private func writeOrganization(
        section: String,
        name: String,
        mspID: String,
        domain: String,
        role: String,
        nodes: [NodeSpec],
        users: Int,
        anchorPeers: [String]
    ) throws(NetGenError) -> NetworkManifest.Organization {
        let relative = "\(NetGen.cryptoConfigFolder)/\(section)/\(domain)"
        let writer = try OrganizationWriter(
            directory: self.root.appendingPathComponent(relative),
            domain: domain,
            mspID: mspID,
            nodeOUs: self.profile.nodeOUs,
            intermediate: self.profile.intermediateCA
        )
        func describe(_ member: OrganizationWriter.Member, role: String, group: String) -> NetworkManifest.Member {
            let folder = "\(relative)/\(group)/\(member.commonName)"
            return NetworkManifest.Member(
                name: member.commonName,
                role: role,
                mspDirectory: "\(folder)/msp",
                signingCertificate: "\(folder)/msp/signcerts/\(member.commonName)-cert.pem",
                privateKey: "\(folder)/msp/keystore/priv_sk",
                tlsDirectory: "\(folder)/tls",
                tlsCertificate: "\(folder)/tls/\(member.tlsPrefix).crt",
                tlsKey: "\(folder)/tls/\(member.tlsPrefix).key",
                tlsCACertificate: "\(folder)/tls/ca.crt"
            )
        }

        let admin = try writer.enroll(
            "Admin@\(domain)",
            ou: "admin",
            group: "users",
            shortName: nil,
            hostNames: nil,
            admin: nil
        ).member
        try writer.writeOrganization(admin: admin.signingCertificate)

        let group = role == "orderer" ? "orderers" : "peers"
        var written: [NetworkManifest.Node] = []
        for node in nodes {
            var hosts = [node.endpoint.host]
            if let cluster = node.clusterEndpoint, cluster.host != node.endpoint.host { hosts.append(cluster.host) }
            let member = try writer.enroll(
                "\(node.name).\(domain)",
                ou: role,
                group: group,
                shortName: node.name,
                hostNames: hosts,
                admin: admin.signingCertificate
            ).member
            written.append(
                NetworkManifest.Node(
                    name: node.name,
                    endpoint: node.endpoint.description,
                    clusterEndpoint: node.clusterEndpoint?.description,
                    anchor: node.anchor,
                    identity: describe(member, role: role, group: group)
                )
            )
        }
        var userMembers: [NetworkManifest.Member] = []
        for index in 0..<users {
            let member = try writer.enroll(
                "User\(index + 1)@\(domain)",
                ou: "client",
                group: "users",
                shortName: nil,
                hostNames: nil,
                admin: admin.signingCertificate
            ).member
            userMembers.append(describe(member, role: "client", group: "users"))
        }

        return NetworkManifest.Organization(
            name: name,
            mspID: mspID,
            domain: domain,
            directory: relative,
            mspDirectory: "\(relative)/msp",
            caCertificate: "\(relative)/ca/ca.\(domain)-cert.pem",
            intermediateCACertificate: self.profile.intermediateCA ? "\(relative)/ica/ica.\(domain)-cert.pem" : nil,
            tlsCACertificate: "\(relative)/tlsca/tlsca.\(domain)-cert.pem",
            admin: describe(admin, role: "admin", group: "users"),
            users: userMembers,
            peers: role == "peer" ? written : [],
            orderers: role == "orderer" ? written : [],
            anchorPeers: anchorPeers.compactMap { anchor in written.first { $0.name == anchor }?.endpoint }
        )
    }
}
