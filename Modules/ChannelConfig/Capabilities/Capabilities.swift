public import MSP

/// The capabilities named in one config section, with the names this peer supports.
public protocol CapabilitySet: Sendable {
    /// The section name used in errors ("Channel", "Application", "Orderer").
    static var section: String { get }
    /// Every capability name this peer understands for the section.
    static var known: Set<String> { get }
    /// The names present in the config.
    var names: Set<String> { get }
}

extension CapabilitySet {
    /// Throws `unsupportedCapability` naming the first (in sorted order) capability this peer does not know.
    public func checkSupported() throws(ChannelConfigError) {
        for name in self.names.sorted() where !Self.known.contains(name) {
            throw ChannelConfigError(
                .unsupportedCapability,
                "\(Self.section) capability \(name) is required but not supported"
            )
        }
    }

    /// Whether every named capability is known.
    public var isSupported: Bool { self.names.isSubset(of: Self.known) }
}

/// Channel-level capabilities (`/Channel/Capabilities`).
public struct ChannelCapabilities: CapabilitySet {
    public static let section = "Channel"
    public static let known: Set<String> = ["V1_1", "V1_3", "V1_4_2", "V1_4_3", "V2_0", "V3_0"]
    public let names: Set<String>

    /// Wraps the capability names of the config value.
    public init(_ names: some Sequence<String>) { self.names = Set(names) }

    private func has(_ name: String) -> Bool { self.names.contains(name) }

    /// The MSP version identities of this channel are set up with.
    public var mspVersion: MSPVersion {
        if has("V3_0") { return .v3_0 }
        if has("V1_4_3") || has("V2_0") { return .v1_4_3 }
        if has("V1_3") || has("V1_4_2") { return .v1_3 }
        if has("V1_1") { return .v1_1 }
        return .v1_0
    }

    /// Whether the consensus type may change (V1_4_2 and later).
    public var consensusTypeMigration: Bool { has("V1_4_2") || has("V1_4_3") || has("V2_0") || has("V3_0") }
    /// Whether orderer orgs may carry their own `Endpoints` (V1_4_2 and later).
    public var orgSpecificOrdererEndpoints: Bool { self.consensusTypeMigration }
    /// Whether BFT consensus rules apply (V3_0): no global orderer addresses, identifier-header signatures.
    public var consensusTypeBFT: Bool { has("V3_0") }
}

/// Application capabilities (`/Channel/Application/Capabilities`).
public struct ApplicationCapabilities: CapabilitySet {
    public static let section = "Application"
    public static let known: Set<String> = [
        "V1_1", "V1_2", "V1_3", "V1_4_2", "V2_0", "V2_5", "V1_1_PVTDATA_EXPERIMENTAL",
        "V1_1_RESOURCETREE_EXPERIMENTAL",
    ]
    public let names: Set<String>

    /// Wraps the capability names of the config value.
    public init(_ names: some Sequence<String>) { self.names = Set(names) }

    private func has(_ name: String) -> Bool { self.names.contains(name) }
    private var v25: Bool { has("V2_5") }
    private var v20: Bool { has("V2_0") || v25 }
    private var v142: Bool { has("V1_4_2") || v20 }
    private var v13: Bool { has("V1_3") || v142 }
    private var v12: Bool { has("V1_2") || v13 }
    private var v11: Bool { has("V1_1") || v12 }

    /// ACLs may be configured (V1_2+).
    public var acls: Bool { v12 }
    /// A tx id may appear only once per block (V1_1+).
    public var forbidDuplicateTXIdInBlock: Bool { v11 }
    /// Private data collections are enabled (V1_2+, or the V1_1 experimental flag).
    public var privateChannelData: Bool { has("V1_1_PVTDATA_EXPERIMENTAL") || v12 }
    /// Collection configs may be upgraded (V1_2+).
    public var collectionUpgrade: Bool { v12 }
    /// V1_1 validation rules.
    public var v1_1Validation: Bool { v11 }
    /// V1_2 validation rules.
    public var v1_2Validation: Bool { v12 }
    /// V1_3 validation rules.
    public var v1_3Validation: Bool { v13 }
    /// Key-level endorsement policies (V1_3+).
    public var keyLevelEndorsement: Bool { v13 }
    /// Private data of invalid transactions is stored (V1_4_2+).
    public var storePvtDataOfInvalidTx: Bool { v142 }
    /// The v2.0 validator and `_lifecycle` (V2_0+).
    public var v2_0Validation: Bool { v20 }
    /// Chaincode lifecycle v2.0 (V2_0+).
    public var lifecycleV20: Bool { v20 }
    /// Application-initiated private data purge (V2_5).
    public var purgePvtData: Bool { v25 }
    /// Never enabled in Fabric v3.
    public var metadataLifecycle: Bool { false }
}

/// Orderer capabilities (`/Channel/Orderer/Capabilities`).
public struct OrdererCapabilities: CapabilitySet {
    public static let section = "Orderer"
    public static let known: Set<String> = ["V1_1", "V1_4_2", "V2_0"]
    public let names: Set<String>

    /// Wraps the capability names of the config value.
    public init(_ names: some Sequence<String>) { self.names = Set(names) }

    /// Whether the consensus type may change (V1_4_2+).
    public var consensusTypeMigration: Bool { names.contains("V1_4_2") || names.contains("V2_0") }
}
