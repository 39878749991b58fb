import Foundation
import SwiftProtobuf
import Wire

/// Reads the `values` map of a config group by exact key name, as Fabric does: every key must be one the section
/// defines (else `unexpectedKey`), and its bytes must decode as that key's message (else `malformedValue`).
/// A key that is absent reads as the message's empty value, which the section's validation then judges.
struct ConfigValues {
    let path: String
    private let values: [String: Common_ConfigValue]

    init(_ group: Common_ConfigGroup, path: String, allowed: Set<String>) throws(ChannelConfigError) {
        for key in group.values.keys.sorted() where !allowed.contains(key) {
            throw ChannelConfigError(.unexpectedKey, "Unexpected key \(key) at \(path)")
        }
        self.values = group.values
        self.path = path
    }

    func has(_ key: String) -> Bool { self.values[key] != nil }

    func read<M: SwiftProtobuf.Message>(_ key: String, as type: M.Type = M.self) throws(ChannelConfigError) -> M {
        guard let value = self.values[key] else { return M() }
        do {
            return try M(decoding: value.value, field: "\(self.path)/\(key)")
        } catch {
            throw ChannelConfigError(
                .malformedValue,
                "value \(self.path)/\(key) does not decode as \(M.protoMessageName)",
                cause: error
            )
        }
    }
}

/// Fabric's config value keys.
enum ConfigKey {
    static let hashingAlgorithm = "HashingAlgorithm"
    static let blockDataHashingStructure = "BlockDataHashingStructure"
    static let ordererAddresses = "OrdererAddresses"
    static let orderers = "Orderers"
    static let consortium = "Consortium"
    static let capabilities = "Capabilities"
    static let consensusType = "ConsensusType"
    static let batchSize = "BatchSize"
    static let batchTimeout = "BatchTimeout"
    static let kafkaBrokers = "KafkaBrokers"
    static let channelRestrictions = "ChannelRestrictions"
    static let endpoints = "Endpoints"
    static let msp = "MSP"
    static let anchorPeers = "AnchorPeers"
    static let acls = "ACLs"
    static let channelCreationPolicy = "ChannelCreationPolicy"
}

/// Fabric's config group keys.
public enum ConfigGroupKey {
    /// The root group.
    public static let channel = "Channel"
    /// The application section.
    public static let application = "Application"
    /// The orderer section.
    public static let orderer = "Orderer"
    /// The legacy system-channel consortiums section.
    public static let consortiums = "Consortiums"
}
