import ChannelConfig
import Foundation
import MSP
import SwiftProtobuf
import TestSupport
import Wire

/// A two-org channel with an orderer org, every MSP a FakeMSP.
enum Fixtures {
    static let org1 = FakeMSP(name: "Org1MSP")
    static let org2 = FakeMSP(name: "Org2MSP")
    static let org3 = FakeMSP(name: "Org3MSP")
    static let orderer = FakeMSP(name: "OrdererMSP")

    static func profile(channel: String = "mychannel", orgs: [String] = ["Org1MSP", "Org2MSP"]) -> ChannelProfile {
        ChannelProfile(
            channelID: channel,
            applicationOrgs: orgs.map { .peerOrg(name: $0, msp: FakeMSP.config($0)) },
            ordererOrgs: [
                .ordererOrg(name: "OrdererOrg", msp: FakeMSP.config("OrdererMSP"), endpoints: ["orderer0:7050"])
            ]
        )
    }

    static func bundle(_ profile: ChannelProfile = profile()) throws -> ChannelBundle {
        try ChannelBundle(channelID: profile.channelID, config: profile.makeConfig(), mspBuilder: FakeMSP.builder)
    }

    static func bundle(config: Common_Config, channel: String = "mychannel") throws -> ChannelBundle {
        try ChannelBundle(channelID: channel, config: config, mspBuilder: FakeMSP.builder)
    }

    static func signed(_ message: Data, by identities: [FakeIdentity]) throws -> [SignedData] {
        try identities.map { SignedData(data: message, identity: $0.serialized, signature: try $0.sign(message)) }
    }

    static func encode(_ message: some SwiftProtobuf.Message) -> Data { try! message.serializedBytes() }
}
