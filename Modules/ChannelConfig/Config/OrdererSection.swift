public import Wire

/// The `/Channel/Orderer` section: consensus, batching, orderer orgs and their endpoints.
public struct OrdererSection: Sendable {
    /// The consensus type and its metadata (`etcdraft`, `BFT`, …).
    public let consensusType: Orderer_ConsensusType
    /// Batch limits.
    public let batchSize: Orderer_BatchSize
    /// The batch timeout as configured (a Go duration string such as "2s").
    public let batchTimeoutText: String
    /// The batch timeout in seconds (> 0).
    public let batchTimeout: Double
    /// Channel restrictions (legacy).
    public let channelRestrictions: Orderer_ChannelRestrictions
    /// The BFT consenter mapping, if the section carries one.
    public let consenters: [Common_Consenter]
    /// The orderer capabilities.
    public let capabilities: OrdererCapabilities
    /// The orderer orgs by group name.
    public let organizations: [String: OrdererOrganization]

    static let allowed: Set<String> = [
        ConfigKey.consensusType, ConfigKey.batchSize, ConfigKey.batchTimeout, ConfigKey.kafkaBrokers,
        ConfigKey.channelRestrictions, ConfigKey.orderers, ConfigKey.capabilities,
    ]

    init(
        _ group: Common_ConfigGroup,
        channelCapabilities: ChannelCapabilities,
        handler: MSPConfigHandler
    ) throws(ChannelConfigError) {
        let path = "/Channel/Orderer"
        let values = try ConfigValues(group, path: path, allowed: Self.allowed)
        self.consensusType = try values.read(ConfigKey.consensusType)
        self.batchSize = try values.read(ConfigKey.batchSize)
        let timeout: Orderer_BatchTimeout = try values.read(ConfigKey.batchTimeout)
        _ = try values.read(ConfigKey.kafkaBrokers, as: Orderer_KafkaBrokers.self)
        self.channelRestrictions = try values.read(ConfigKey.channelRestrictions)
        self.consenters = try values.read(ConfigKey.orderers, as: Common_Orderers.self).consenterMapping
        self.capabilities = OrdererCapabilities(
            try values.read(ConfigKey.capabilities, as: Common_Capabilities.self).capabilities.keys
        )

        let size = self.batchSize
        guard size.maxMessageCount != 0 else {
            throw ChannelConfigError(
                .invalidValue,
                "Attempted to set the batch size max message count to an invalid value: 0"
            )
        }
        guard size.absoluteMaxBytes != 0 else {
            throw ChannelConfigError(
                .invalidValue,
                "Attempted to set the batch size absolute max bytes to an invalid value: 0"
            )
        }
        guard size.preferredMaxBytes != 0 else {
            throw ChannelConfigError(
                .invalidValue,
                "Attempted to set the batch size preferred max bytes to an invalid value: 0"
            )
        }
        guard size.preferredMaxBytes <= size.absoluteMaxBytes else {
            throw ChannelConfigError(
                .invalidValue,
                "Attempted to set the batch size preferred max bytes (\(size.preferredMaxBytes)) greater than "
                    + "the absolute max bytes (\(size.absoluteMaxBytes))."
            )
        }
        guard let seconds = parseGoDuration(timeout.timeout) else {
            throw ChannelConfigError(
                .invalidValue,
                "Attempted to set the batch timeout to a invalid value: '\(timeout.timeout)'"
            )
        }
        guard seconds > 0 else {
            throw ChannelConfigError(
                .invalidValue,
                "Attempted to set the batch timeout to a non-positive value: \(timeout.timeout)"
            )
        }
        self.batchTimeoutText = timeout.timeout
        self.batchTimeout = seconds

        var organizations: [String: OrdererOrganization] = [:]
        for name in group.groups.keys.sorted() {
            let orgGroup = group.groups[name]!
            let orgPath = "\(path)/\(name)"
            guard orgGroup.groups.isEmpty else {
                throw ChannelConfigError(.badStructure, "OrdererOrg config does not allow sub-groups (\(orgPath))")
            }
            if !channelCapabilities.orgSpecificOrdererEndpoints, orgGroup.values[ConfigKey.endpoints] != nil {
                throw ChannelConfigError(
                    .invalidValue,
                    "Orderer Org \(name) cannot contain endpoints value until V1_4_2+ capabilities have been enabled"
                )
            }
            let orgValues = try ConfigValues(orgGroup, path: orgPath, allowed: [ConfigKey.msp, ConfigKey.endpoints])
            let endpoints: Common_OrdererAddresses = try orgValues.read(ConfigKey.endpoints)
            let organization = try Organization.make(
                name: name,
                group: orgGroup,
                path: orgPath,
                values: orgValues,
                handler: handler
            )
            organizations[name] = OrdererOrganization(organization: organization, endpoints: endpoints.addresses)
        }
        self.organizations = organizations

        if channelCapabilities.consensusTypeBFT {
            let missing = organizations.values.filter { $0.endpoints.isEmpty }.map(\.name).sorted()
            guard missing.isEmpty else {
                throw ChannelConfigError(
                    .invalidValue,
                    "some orderer organizations endpoints are empty: \(missing.joined(separator: ", "))"
                )
            }
        }
    }
}
