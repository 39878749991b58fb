public import Wire

/// The `/Channel/Application` section: application orgs, their anchor peers, ACLs and capabilities.
public struct ApplicationSection: Sendable {
    /// The application orgs by group name.
    public let organizations: [String: ApplicationOrganization]
    /// The application capabilities.
    public let capabilities: ApplicationCapabilities
    /// ACLs: resource name → policy reference (empty unless configured).
    public let acls: [String: String]

    init(_ group: Common_ConfigGroup, handler: MSPConfigHandler) throws(ChannelConfigError) {
        let path = "/Channel/Application"
        let values = try ConfigValues(group, path: path, allowed: [ConfigKey.acls, ConfigKey.capabilities])
        self.capabilities = ApplicationCapabilities(
            try values.read(ConfigKey.capabilities, as: Common_Capabilities.self).capabilities.keys
        )
        let acls: Protos_ACLs = try values.read(ConfigKey.acls)
        if !self.capabilities.acls, values.has(ConfigKey.acls) {
            throw ChannelConfigError(.invalidValue, "ACLs may not be specified without the required capability")
        }
        self.acls = acls.acls.mapValues(\.policyRef)

        var organizations: [String: ApplicationOrganization] = [:]
        for name in group.groups.keys.sorted() {
            let orgGroup = group.groups[name]!
            let orgPath = "\(path)/\(name)"
            guard orgGroup.groups.isEmpty else {
                throw ChannelConfigError(
                    .badStructure,
                    "ApplicationOrg config does not allow sub-groups (\(orgPath))"
                )
            }
            let orgValues = try ConfigValues(
                orgGroup,
                path: orgPath,
                allowed: [ConfigKey.msp, ConfigKey.anchorPeers]
            )
            let anchors: Protos_AnchorPeers = try orgValues.read(ConfigKey.anchorPeers)
            let organization = try Organization.make(
                name: name,
                group: orgGroup,
                path: orgPath,
                values: orgValues,
                handler: handler
            )
            organizations[name] = ApplicationOrganization(organization: organization, anchorPeers: anchors.anchorPeers)
        }
        self.organizations = organizations
    }

    /// The application org whose MSP id is `mspID`, if any.
    public func organization(mspID: String) -> ApplicationOrganization? {
        self.organizations.values.first { $0.mspID == mspID }
    }
}

/// The legacy `/Channel/Consortiums` section of system-channel configs.
public struct ConsortiumsSection: Sendable {
    /// One consortium: its channel creation policy and member orgs.
    public struct Consortium: Sendable {
        /// The policy new channels of the consortium are created under.
        public let channelCreationPolicy: Common_Policy
        /// The member orgs by group name.
        public let organizations: [String: Organization]
    }

    /// The consortiums by name.
    public let consortiums: [String: Consortium]

    init(_ group: Common_ConfigGroup, handler: MSPConfigHandler) throws(ChannelConfigError) {
        var consortiums: [String: Consortium] = [:]
        for name in group.groups.keys.sorted() {
            let consortiumGroup = group.groups[name]!
            let path = "/Channel/Consortiums/\(name)"
            let values = try ConfigValues(consortiumGroup, path: path, allowed: [ConfigKey.channelCreationPolicy])
            var organizations: [String: Organization] = [:]
            for orgName in consortiumGroup.groups.keys.sorted() {
                let orgGroup = consortiumGroup.groups[orgName]!
                let orgPath = "\(path)/\(orgName)"
                organizations[orgName] = try Organization.make(
                    name: orgName,
                    group: orgGroup,
                    path: orgPath,
                    values: try ConfigValues(orgGroup, path: orgPath, allowed: [ConfigKey.msp]),
                    handler: handler
                )
            }
            consortiums[name] = Consortium(
                channelCreationPolicy: try values.read(ConfigKey.channelCreationPolicy),
                organizations: organizations
            )
        }
        self.consortiums = consortiums
    }
}
