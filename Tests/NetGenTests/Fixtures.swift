import ChannelConfig
import Foundation
import MSP
import NetGen
import SwiftProtobuf
import TestSupport
import Wire

/// Profiles and helpers shared by the NetGen suites.
enum Fixtures {
    /// The conformance network's shape: Org1MSP (org1.example.com, peer0 and peer1), Org2MSP (org2.example.com,
    /// peer0), one user each, OrdererOrg/OrdererMSP (example.com, one node `orderer`), no anchor peers.
    static func conformanceShaped() -> NetworkProfile {
        var profile = NetworkProfile(channelID: "conformance", organizations: 2, peersPerOrganization: 2)
        profile.peerOrganizations[1].peers.removeLast()
        for index in profile.peerOrganizations.indices { profile.peerOrganizations[index].anchorPeers = [] }
        profile.batch.maxMessageCount = 10
        profile.batch.timeout = "500ms"
        return profile
    }

    /// Generates `profile` into a temporary directory, runs `body`, and removes the directory.
    static func withNetwork<Result>(
        _ profile: NetworkProfile = NetworkProfile(),
        _ body: (URL, NetworkManifest) throws -> Result
    ) throws -> Result {
        try withTemporaryDirectory(prefix: "netgen-test") { directory in
            let out = directory.appendingPathComponent("net")
            let manifest = try NetGen.generate(profile, into: out)
            return try body(out, manifest)
        }
    }

    /// The genesis block a network wrote.
    static func genesis(_ directory: URL, _ manifest: NetworkManifest) throws -> Common_Block {
        try Common_Block(serializedBytes: Data(contentsOf: NetworkManifest.url(manifest.genesisBlock, in: directory)))
    }

    /// The channel bundle of a network's genesis block, on X.509 MSPs.
    static func bundle(_ directory: URL, _ manifest: NetworkManifest) throws -> ChannelBundle {
        try ChannelBundle(configBlock: genesis(directory, manifest), mspBuilder: MSPBuilders.x509)
    }

    /// A ROLE principal.
    static func role(_ mspID: String, _ role: Common_MSPRole.MSPRoleType) throws -> Common_MSPPrincipal {
        var principal = Common_MSPPrincipal()
        principal.principalClassification = .role
        principal.principal = try Common_MSPRole.with {
            $0.mspIdentifier = mspID
            $0.role = role
        }.serializedBytes()
        return principal
    }

    /// Every enrolled identity of an org with the NodeOU role it was enrolled with.
    static func members(of organization: NetworkManifest.Organization) -> [NetworkManifest.Member] {
        (organization.peers + organization.orderers).map(\.identity) + [organization.admin] + organization.users
    }

    /// The MSP role of a manifest role name.
    static func mspRole(_ name: String) -> Common_MSPRole.MSPRoleType {
        switch name {
        case "peer": .peer
        case "orderer": .orderer
        case "admin": .admin
        default: .client
        }
    }

    /// `SignedData` of `signer` over `message`.
    static func signed(_ message: Data, by signer: X509SigningIdentity) throws -> SignedData {
        SignedData(data: message, identity: signer.serialized, signature: try signer.sign(message))
    }
}
