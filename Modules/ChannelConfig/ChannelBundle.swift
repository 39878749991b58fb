public import Foundation
public import MSP
public import Wire

/// A channel's configuration (Fabric's `channelconfig.Bundle`), parsed and validated: sections, orgs and their
/// MSPs (one channel MSP manager), capabilities, the policy manager, and the validator for the next config update.
/// (Named `ChannelBundle` so it does not collide with Foundation's `Bundle`.)
///
/// Immutable; a config update produces a new bundle (see ``BundleSource``).
public final class ChannelBundle: Sendable {
    /// The channel id.
    public let channelID: String
    /// The config this bundle was built from.
    public let config: Common_Config
    /// The root `/Channel` values.
    public let channel: ChannelSection
    /// The orderer section, if present.
    public let orderer: OrdererSection?
    /// The application section, if present.
    public let application: ApplicationSection?
    /// The legacy consortiums section, if present.
    public let consortiums: ConsortiumsSection?
    /// Every org MSP of every section.
    public let mspManager: MSPManager
    /// The policies of the config tree, rooted at `Channel`.
    public let policyManager: PolicyManager
    /// Validates the next config update against this config.
    public let configTxValidator: ConfigTxValidator

    /// Builds a bundle from `config` for channel `channelID`, creating MSPs with `mspBuilder`.
    public init(channelID: String, config: Common_Config, mspBuilder: @escaping MSPBuilder) throws(ChannelConfigError) {
        try Self.preValidate(config)
        let root = config.channelGroup
        let channel = try ChannelSection(root)
        let handler = MSPConfigHandler(version: channel.capabilities.mspVersion, builder: mspBuilder)
        var orderer: OrdererSection?
        var application: ApplicationSection?
        var consortiums: ConsortiumsSection?
        for name in root.groups.keys.sorted() {
            let group = root.groups[name]!
            switch name {
            case ConfigGroupKey.application:
                application = try ApplicationSection(group, handler: handler)
            case ConfigGroupKey.orderer:
                orderer = try OrdererSection(group, channelCapabilities: channel.capabilities, handler: handler)
            case ConfigGroupKey.consortiums:
                consortiums = try ConsortiumsSection(group, handler: handler)
            default:
                throw ChannelConfigError(.badStructure, "Disallowed channel group: \(name)")
            }
        }
        let mspManager = try handler.makeManager()
        let policyManager = try PolicyManager(path: ConfigGroupKey.channel, group: root, deserializer: mspManager)
        self.configTxValidator = try ConfigTxValidator(
            channelID: channelID,
            config: config,
            policyManager: policyManager
        )
        self.channelID = channelID
        self.config = config
        self.channel = channel
        self.orderer = orderer
        self.application = application
        self.consortiums = consortiums
        self.mspManager = mspManager
        self.policyManager = policyManager
    }

    /// Builds a bundle from a CONFIG envelope (channel id from its channel header).
    public convenience init(envelope: Common_Envelope, mspBuilder: @escaping MSPBuilder) throws(ChannelConfigError) {
        let transaction: TransactionEnvelope
        let configEnvelope: Common_ConfigEnvelope
        do {
            transaction = try TransactionEnvelope(envelope: envelope)
            configEnvelope = try transaction.payload.unpackConfigEnvelope()
        } catch {
            throw ChannelConfigError(.badStructure, "config envelope does not unpack: \(error.message)", cause: error)
        }
        guard transaction.headerType == .config else {
            throw ChannelConfigError(
                .badStructure,
                "envelope has header type \(transaction.channelHeader.type), expected CONFIG (1)"
            )
        }
        try self.init(
            channelID: transaction.channelHeader.channelID,
            config: configEnvelope.config,
            mspBuilder: mspBuilder
        )
    }

    /// Builds a bundle from a config block (such as a channel's genesis block): its single CONFIG transaction.
    public convenience init(configBlock block: Common_Block, mspBuilder: @escaping MSPBuilder) throws(ChannelConfigError) {
        guard block.data.data.count == 1 else {
            throw ChannelConfigError(
                .badStructure,
                "block \(block.header.number) holds \(block.data.data.count) transactions; a config block holds one"
            )
        }
        let envelope: Common_Envelope
        do {
            envelope = try Common_Envelope(decoding: block.data.data[0], field: "block \(block.header.number) data[0]")
        } catch {
            throw ChannelConfigError(.badStructure, "config block does not decode", cause: error)
        }
        try self.init(envelope: envelope, mspBuilder: mspBuilder)
    }

    private static func preValidate(_ config: Common_Config) throws(ChannelConfigError) {
        guard config.hasChannelGroup else {
            throw ChannelConfigError(.badStructure, "config must contain a channel group")
        }
        let root = config.channelGroup
        if let orderer = root.groups[ConfigGroupKey.orderer], orderer.values[ConfigKey.capabilities] == nil {
            if root.values[ConfigKey.capabilities] != nil {
                throw ChannelConfigError(
                    .invalidValue,
                    "cannot enable channel capabilities without orderer support first"
                )
            }
            if let application = root.groups[ConfigGroupKey.application],
                application.values[ConfigKey.capabilities] != nil
            {
                throw ChannelConfigError(
                    .invalidValue,
                    "cannot enable application capabilities without orderer support first"
                )
            }
        }
    }

    /// The config sequence.
    public var sequence: UInt64 { self.config.sequence }

    /// What a peer requires before it serves a channel: an application section, and channel and application
    /// capabilities it supports (the error names the first unsupported capability).
    public func checkPeerSupport() throws(ChannelConfigError) {
        guard let application = self.application else {
            throw ChannelConfigError(.badStructure, "channel \(self.channelID) has no application config")
        }
        try self.channel.capabilities.checkSupported()
        try application.capabilities.checkSupported()
    }

    /// Checks that `new` may replace this config: sections do not disappear (nor consortiums appear), the
    /// consensus type changes only with migration capability, upgrading to V3_0 needs every orderer org's
    /// endpoints, and existing orgs keep their MSP ids.
    public func validateNew(_ new: ChannelBundle) throws(ChannelConfigError) {
        if let orderer = self.orderer {
            guard let newOrderer = new.orderer else {
                throw ChannelConfigError(
                    .invalidTransition,
                    "current config has orderer section, but new config does not"
                )
            }
            if !self.channel.capabilities.consensusTypeMigration,
                orderer.consensusType.type != newOrderer.consensusType.type
            {
                throw ChannelConfigError(
                    .invalidTransition,
                    "attempted to change consensus type from \(orderer.consensusType.type) to "
                        + "\(newOrderer.consensusType.type)"
                )
            }
            if !self.channel.capabilities.consensusTypeBFT, new.channel.capabilities.consensusTypeBFT {
                for org in newOrderer.organizations.values.sorted(by: { $0.name < $1.name }) where org.endpoints.isEmpty {
                    throw ChannelConfigError(
                        .invalidTransition,
                        "illegal orderer config update detected: endpoints of org \(org.name) are missing"
                    )
                }
            }
            for (name, org) in orderer.organizations {
                if let newOrg = newOrderer.organizations[name], newOrg.mspID != org.mspID {
                    throw ChannelConfigError(
                        .invalidTransition,
                        "orderer org \(name) attempted to change MSP ID from \(org.mspID) to \(newOrg.mspID)"
                    )
                }
            }
        }
        if let application = self.application {
            guard let newApplication = new.application else {
                throw ChannelConfigError(
                    .invalidTransition,
                    "current config has application section, but new config does not"
                )
            }
            for (name, org) in application.organizations {
                if let newOrg = newApplication.organizations[name], newOrg.mspID != org.mspID {
                    throw ChannelConfigError(
                        .invalidTransition,
                        "application org \(name) attempted to change MSP ID from \(org.mspID) to \(newOrg.mspID)"
                    )
                }
            }
        }
        if let consortiums = self.consortiums {
            guard let newConsortiums = new.consortiums else {
                throw ChannelConfigError(
                    .invalidTransition,
                    "current config has consortiums section, but new config does not"
                )
            }
            for (name, consortium) in consortiums.consortiums {
                guard let newConsortium = newConsortiums.consortiums[name] else { continue }
                for (orgName, org) in consortium.organizations {
                    if let newOrg = newConsortium.organizations[orgName], newOrg.mspID != org.mspID {
                        throw ChannelConfigError(
                            .invalidTransition,
                            "consortium \(name) org \(orgName) attempted to change MSP ID from \(org.mspID) to "
                                + "\(newOrg.mspID)"
                        )
                    }
                }
            }
        } else if new.consortiums != nil {
            throw ChannelConfigError(
                .invalidTransition,
                "current config has no consortiums section, but new config does"
            )
        }
    }

    /// Validates a CONFIG transaction's envelope against this config and builds the bundle it yields, checking
    /// that the new bundle may replace this one (what a peer does before applying a config block).
    public func applying(_ envelope: Common_ConfigEnvelope, mspBuilder: @escaping MSPBuilder) throws(ChannelConfigError)
        -> ChannelBundle
    {
        try self.configTxValidator.validate(envelope)
        let next = try ChannelBundle(channelID: self.channelID, config: envelope.config, mspBuilder: mspBuilder)
        try self.validateNew(next)
        return next
    }
}

extension ChannelBundle {
    /// Well-known policy paths.
    public enum PolicyPath {
        public static let channelReaders = "/Channel/Readers"
        public static let channelWriters = "/Channel/Writers"
        public static let applicationReaders = "/Channel/Application/Readers"
        public static let applicationWriters = "/Channel/Application/Writers"
        public static let applicationAdmins = "/Channel/Application/Admins"
        public static let applicationEndorsement = "/Channel/Application/Endorsement"
        public static let lifecycleEndorsement = "/Channel/Application/LifecycleEndorsement"
        public static let blockValidation = "/Channel/Orderer/BlockValidation"
        public static let ordererAdmins = "/Channel/Orderer/Admins"
    }

    /// Every orderer endpoint of the channel with the TLS CA certificates (DER) to trust for it: the orgs' own
    /// `Endpoints` if any org defines them (global addresses are then ignored), else the global addresses with
    /// the union of every orderer org's TLS CAs.
    public var ordererEndpoints: [OrdererEndpoint] {
        guard let orderer = self.orderer else { return [] }
        let orgs = orderer.organizations.values.sorted { $0.name < $1.name }
        func tlsCAs(_ org: OrdererOrganization) -> [Data] {
            org.organization.msp.tlsRootCertificates + org.organization.msp.tlsIntermediateCertificates
        }
        if orgs.contains(where: { !$0.endpoints.isEmpty }) {
            return orgs.flatMap { org in
                org.endpoints.map { OrdererEndpoint(address: $0, organization: org.mspID, tlsRootCAs: tlsCAs(org)) }
            }
        }
        let all = orgs.flatMap(tlsCAs)
        return self.channel.ordererAddresses.map { OrdererEndpoint(address: $0, organization: nil, tlsRootCAs: all) }
    }
}

/// An orderer endpoint and the TLS roots to verify it with.
public struct OrdererEndpoint: Sendable, Hashable {
    /// "host:port".
    public var address: String
    /// The orderer org's MSP id, when the endpoint came from an org.
    public var organization: String?
    /// DER of the TLS root and intermediate CA certificates.
    public var tlsRootCAs: [Data]

    /// Creates an endpoint.
    public init(address: String, organization: String?, tlsRootCAs: [Data]) {
        self.address = address
        self.organization = organization
        self.tlsRootCAs = tlsRootCAs
    }
}
