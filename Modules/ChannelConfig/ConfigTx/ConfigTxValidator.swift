import Foundation
public import Wire

/// Validates config updates against the current config, as Fabric's configtx validator does.
///
/// A `CONFIG` transaction carries the new config and the `CONFIG_UPDATE` it was computed from (`last_update`).
/// Validation: the sequence is current + 1; the update is for this channel; its read set matches current
/// versions; the delta (write-set elements whose version differs from the read set) is non-empty; each changed
/// existing element goes up exactly one version and its **current** mod_policy is satisfied by the update's
/// signatures; new elements are at version 0; and applying the delta reproduces exactly the config carried.
public struct ConfigTxValidator: Sendable {
    /// The channel id.
    public let channelID: String
    /// The current config sequence.
    public let sequence: UInt64
    /// The current config.
    public let config: Common_Config
    let map: [String: ConfigElement]
    let policyManager: PolicyManager
    static let rootKey = "Channel"

    init(channelID: String, config: Common_Config, policyManager: PolicyManager) throws(ChannelConfigError) {
        guard config.hasChannelGroup else { throw ChannelConfigError(.badStructure, "nil channel group") }
        do {
            try validateChannelID(channelID)
        } catch {
            throw ChannelConfigError(.wrongChannel, "bad channel ID: \(error.message)", cause: error)
        }
        self.channelID = channelID
        self.sequence = config.sequence
        self.config = config
        self.map = try ConfigMap.flatten(config.channelGroup, rootKey: Self.rootKey)
        self.policyManager = policyManager
    }

    /// Validates a CONFIG transaction's envelope against the current config.
    public func validate(_ envelope: Common_ConfigEnvelope) throws(ChannelConfigError) {
        guard envelope.hasConfig else { throw ChannelConfigError(.badStructure, "config envelope has nil config") }
        guard envelope.config.sequence == self.sequence + 1 else {
            throw ChannelConfigError(
                .wrongSequence,
                "config currently at sequence \(self.sequence), cannot validate config at sequence "
                    + "\(envelope.config.sequence)"
            )
        }
        let update = try Self.configUpdateEnvelope(envelope.lastUpdate)
        let result = try self.authorize(update)
        let group = try ConfigMap.unflatten(result, rootKey: Self.rootKey)
        guard group == envelope.config.channelGroup else {
            throw ChannelConfigError(
                .configMismatch,
                "ConfigEnvelope LastUpdate did not produce the supplied config result"
            )
        }
    }

    /// Computes the config a CONFIG_UPDATE envelope would produce (what an orderer does); the result's
    /// sequence is current + 1.
    public func proposeConfigUpdate(_ envelope: Common_Envelope) throws(ChannelConfigError) -> Common_ConfigEnvelope {
        let update = try Self.configUpdateEnvelope(envelope)
        let result = try self.authorize(update)
        var config = Common_Config()
        config.sequence = self.sequence + 1
        config.channelGroup = try ConfigMap.unflatten(result, rootKey: Self.rootKey)
        var out = Common_ConfigEnvelope()
        out.config = config
        out.lastUpdate = envelope
        return out
    }

    /// Unpacks a CONFIG_UPDATE envelope (header type CONFIG_UPDATE) to its ConfigUpdateEnvelope.
    static func configUpdateEnvelope(_ envelope: Common_Envelope) throws(ChannelConfigError) -> Common_ConfigUpdateEnvelope {
        do {
            let payload = try envelope.unpackPayload()
            let header = try payload.unpackChannelHeader()
            guard header.type == Int32(Common_HeaderType.configUpdate.rawValue) else {
                throw ChannelConfigError(
                    .invalidUpdate,
                    "last_update has header type \(header.type), expected CONFIG_UPDATE (2)"
                )
            }
            return try Common_ConfigUpdateEnvelope(decoding: payload.data, field: "last_update.payload.data")
        } catch let error as ChannelConfigError {
            throw error
        } catch {
            throw ChannelConfigError(.invalidUpdate, "last_update is not a config update envelope", cause: error)
        }
    }

    private func authorize(_ envelope: Common_ConfigUpdateEnvelope) throws(ChannelConfigError) -> [String: ConfigElement] {
        let update: Common_ConfigUpdate
        let signedData: [SignedData]
        do {
            update = try Common_ConfigUpdate(decoding: envelope.configUpdate, field: "ConfigUpdateEnvelope.config_update")
            signedData = try SignedData.configUpdate(envelope)
        } catch {
            throw ChannelConfigError(.invalidUpdate, "config update does not decode", cause: error)
        }
        guard update.channelID == self.channelID else {
            throw ChannelConfigError(
                .wrongChannel,
                "ConfigUpdate for channel '\(update.channelID)' but envelope for channel '\(self.channelID)'"
            )
        }
        let readSet = update.hasReadSet ? try ConfigMap.flatten(update.readSet, rootKey: Self.rootKey) : [:]
        for key in readSet.keys.sorted() {
            let value = readSet[key]!
            guard let existing = self.map[key] else {
                throw ChannelConfigError(
                    .invalidUpdate,
                    "existing config does not contain element for \(key) but was in the read set"
                )
            }
            guard existing.version == value.version else {
                throw ChannelConfigError(
                    .invalidUpdate,
                    "proposed update requires that key \(key) be at version \(value.version), but it is currently "
                        + "at version \(existing.version)"
                )
            }
        }
        let writeSet = update.hasWriteSet ? try ConfigMap.flatten(update.writeSet, rootKey: Self.rootKey) : [:]
        var delta: [String: ConfigElement] = [:]
        for (key, value) in writeSet {
            if let read = readSet[key], read.version == value.version { continue }
            delta[key] = value
        }
        guard !delta.isEmpty else {
            throw ChannelConfigError(.invalidUpdate, "delta set was empty -- update would have no effect")
        }
        for key in delta.keys.sorted() {
            let value = delta[key]!
            try Self.validateModPolicy(value.modPolicy, key: key)
            guard let existing = self.map[key] else {
                guard value.version == 0 else {
                    throw ChannelConfigError(
                        .invalidUpdate,
                        "attempted to set key \(key) to version \(value.version), but key does not exist"
                    )
                }
                continue
            }
            guard value.version == existing.version + 1 else {
                throw ChannelConfigError(
                    .invalidUpdate,
                    "attempt to set key \(key) to version \(value.version), but key is at version \(existing.version)"
                )
            }
            guard let policy = self.policy(for: existing) else {
                throw ChannelConfigError(
                    .policyNotFound,
                    "unexpected missing policy \(existing.modPolicy) for item \(key)"
                )
            }
            do {
                try policy.evaluate(signedData: signedData)
            } catch {
                throw ChannelConfigError(
                    .policyNotSatisfied,
                    "policy for \(key) not satisfied: \(error.message)",
                    cause: error
                )
            }
        }
        var result = self.map
        for (key, value) in delta { result[key] = value }
        for key in writeSet.keys.sorted() where result[key] == nil {
            throw ChannelConfigError(
                .configMismatch,
                "writeset contained key \(key) which did not appear in proposed config"
            )
        }
        return result
    }

    /// The policy guarding `element`: an absolute mod_policy from the root manager; a relative one from the
    /// element's own group (for groups) or the group holding it (values, policies).
    private func policy(for element: ConfigElement) -> (any Policy)? {
        var manager = self.policyManager
        let modPolicy = element.modPolicy
        if !modPolicy.isEmpty, !modPolicy.hasPrefix("/"), !element.path.isEmpty {
            guard let scoped = manager.manager(Array(element.path.dropFirst())) else { return nil }
            manager = scoped
            if element.isGroup {
                guard let own = manager.manager([element.key]) else { return nil }
                manager = own
            }
        }
        let (policy, found) = manager.policy(modPolicy)
        return found ? policy : nil
    }

    private static func validateModPolicy(_ modPolicy: String, key: String) throws(ChannelConfigError) {
        guard !modPolicy.isEmpty else {
            throw ChannelConfigError(.invalidUpdate, "invalid mod_policy for element \(key): mod_policy not set")
        }
        let trimmed = modPolicy.hasPrefix("/") ? String(modPolicy.dropFirst()) : modPolicy
        for (index, element) in trimmed.split(separator: "/", omittingEmptySubsequences: false).enumerated() {
            do {
                try ConfigMap.validateConfigID(String(element))
            } catch {
                throw ChannelConfigError(
                    .invalidUpdate,
                    "invalid mod_policy for element \(key): path element at \(index) is invalid: \(error.message)"
                )
            }
        }
    }
}
