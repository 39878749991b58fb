public import MSP
public import Wire

/// An organisation of a config section: its group name, MSP id and MSP.
public struct Organization: Sendable {
    /// The org's group name in the config (often, not always, equal to the MSP id).
    public let name: String
    /// The MSP id (`FabricMSPConfig.name`).
    public let mspID: String
    /// The org's MSP, shared with the channel's MSP manager.
    public let msp: any MembershipServiceProvider
    /// The MSP config as carried in the config.
    public let mspConfig: Msp_MSPConfig

    static func make(
        name: String,
        group: Common_ConfigGroup,
        path: String,
        values: ConfigValues,
        handler: MSPConfigHandler
    ) throws(ChannelConfigError) -> Organization {
        guard group.groups.isEmpty else {
            throw ChannelConfigError(.badStructure, "organization \(path) does not allow sub-groups")
        }
        let config: Msp_MSPConfig = try values.read(ConfigKey.msp)
        let msp = try handler.propose(config, organization: path)
        guard !msp.name.isEmpty else {
            throw ChannelConfigError(.badMSP, "MSP for org \(name) has empty MSP ID")
        }
        return Organization(name: name, mspID: msp.name, msp: msp, mspConfig: config)
    }
}

/// An application org: an ``Organization`` plus its anchor peers.
public struct ApplicationOrganization: Sendable {
    /// The organisation.
    public let organization: Organization
    /// The org's anchor peers (host, port), in config order.
    public let anchorPeers: [Protos_AnchorPeer]

    /// The org's group name.
    public var name: String { self.organization.name }
    /// The org's MSP id.
    public var mspID: String { self.organization.mspID }
}

/// An orderer org: an ``Organization`` plus its own orderer endpoints (V1_4_2+).
public struct OrdererOrganization: Sendable {
    /// The organisation.
    public let organization: Organization
    /// The org's orderer endpoints ("host:port"), empty when the org has none.
    public let endpoints: [String]

    /// The org's group name.
    public var name: String { self.organization.name }
    /// The org's MSP id.
    public var mspID: String { self.organization.mspID }
}
