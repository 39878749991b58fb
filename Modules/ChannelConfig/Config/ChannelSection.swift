public import Foundation
public import Wire

/// The values of the root `/Channel` group.
public struct ChannelSection: Sendable {
    /// The hashing algorithm name (`SHA256` or `SHA3_256`).
    public let hashingAlgorithm: String
    /// Always 2^32-1 (flat hashing of block data).
    public let blockDataHashingStructureWidth: UInt32
    /// Global orderer addresses (legacy; empty with V3_0, where orgs carry their endpoints).
    public let ordererAddresses: [String]
    /// The BFT consenter mapping (`Orderers` value), empty for Raft channels.
    public let consenters: [Common_Consenter]
    /// The consortium name (legacy system-channel configs).
    public let consortium: String
    /// The channel capabilities.
    public let capabilities: ChannelCapabilities

    static let allowed: Set<String> = [
        ConfigKey.hashingAlgorithm, ConfigKey.blockDataHashingStructure, ConfigKey.ordererAddresses,
        ConfigKey.orderers, ConfigKey.consortium, ConfigKey.capabilities,
    ]

    init(_ group: Common_ConfigGroup) throws(ChannelConfigError) {
        let path = "/Channel"
        let values = try ConfigValues(group, path: path, allowed: Self.allowed)
        let hashing: Common_HashingAlgorithm = try values.read(ConfigKey.hashingAlgorithm)
        let structure: Common_BlockDataHashingStructure = try values.read(ConfigKey.blockDataHashingStructure)
        let addresses: Common_OrdererAddresses = try values.read(ConfigKey.ordererAddresses)
        let orderers: Common_Orderers = try values.read(ConfigKey.orderers)
        let consortium: Common_Consortium = try values.read(ConfigKey.consortium)
        let capabilities: Common_Capabilities = try values.read(ConfigKey.capabilities)

        self.hashingAlgorithm = hashing.name
        self.blockDataHashingStructureWidth = structure.width
        self.ordererAddresses = addresses.addresses
        self.consenters = orderers.consenterMapping
        self.consortium = consortium.name
        self.capabilities = ChannelCapabilities(capabilities.capabilities.keys)

        guard hashing.name == "SHA256" || hashing.name == "SHA3_256" else {
            throw ChannelConfigError(
                .invalidValue,
                "Unknown hashing algorithm type: '\(hashing.name)' at \(path)/\(ConfigKey.hashingAlgorithm)"
            )
        }
        guard structure.width == UInt32.max else {
            throw ChannelConfigError(
                .invalidValue,
                "BlockDataHashStructure width only supported at MaxUint32 in this version, got \(structure.width)"
            )
        }
        if !self.capabilities.orgSpecificOrdererEndpoints, addresses.addresses.isEmpty {
            throw ChannelConfigError(.invalidValue, "Must set some OrdererAddresses at \(path)")
        }
        if self.capabilities.consensusTypeBFT, !addresses.addresses.isEmpty {
            throw ChannelConfigError(
                .invalidValue,
                "global OrdererAddresses are not allowed with V3_0 capability, use org specific addresses only"
            )
        }
    }

    /// Hashes `bytes` with the channel's hashing algorithm.
    public func hash(_ bytes: Data) -> Data {
        self.hashingAlgorithm == "SHA3_256" ? Digest.sha3_256(bytes) : Digest.sha256(bytes)
    }
}
