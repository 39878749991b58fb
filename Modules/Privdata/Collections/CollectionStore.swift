public import ChannelConfig
import Foundation
public import Ledger
public import MSP
internal import SwiftProtobuf
internal import Synchronization
public import Wire

/// Where the collection configuration of a chaincode comes from.
public protocol CollectionConfigSource: Sendable {
    /// The collection configuration package of `namespace`, or nil when the namespace defines none.
    func collectionConfigPackage(namespace: String) throws(PrivdataError) -> Protos_CollectionConfigPackage?

    /// The package of `namespace` in effect when block `blockNumber` was validated (the most recent one committed
    /// below it), or nil when none was. Sources without a history answer with the latest package.
    func collectionConfigPackage(
        namespace: String,
        below blockNumber: UInt64
    ) throws(PrivdataError) -> Protos_CollectionConfigPackage?
}

extension CollectionConfigSource {
    public func collectionConfigPackage(
        namespace: String,
        below blockNumber: UInt64
    ) throws(PrivdataError) -> Protos_CollectionConfigPackage? {
        try self.collectionConfigPackage(namespace: namespace)
    }
}

/// The latest collection configurations committed on a channel: `_lifecycle`'s chaincode definition
/// (`namespaces/fields/<cc>/Collections`, a `StateData` holding a `CollectionConfigPackage`), else legacy `lscc`
/// (`<cc>~collection`).
public struct LedgerCollectionConfigSource: CollectionConfigSource {
    /// The channel ledger.
    public let ledger: PeerLedger

    /// Reads from `ledger`'s committed state.
    public init(ledger: PeerLedger) { self.ledger = ledger }

    public func collectionConfigPackage(namespace: String) throws(PrivdataError) -> Protos_CollectionConfigPackage? {
        let key = "namespaces/fields/\(namespace)/Collections"
        do {
            if let value = try self.ledger.state(namespace: "_lifecycle", key: key) {
                let data = try Lifecycle_StateData(serializedBytes: value.value)
                guard case .bytes(let bytes)? = data.type else { return Protos_CollectionConfigPackage() }
                return try Protos_CollectionConfigPackage(serializedBytes: bytes)
            }
            if let value = try self.ledger.state(namespace: "lscc", key: "\(namespace)~collection") {
                return try Protos_CollectionConfigPackage(serializedBytes: value.value)
            }
            return nil
        } catch {
            throw PrivdataError(
                .storage,
                "cannot read the collection configuration of namespace \(namespace) on channel \(self.ledger.ledgerID)",
                cause: error
            )
        }
    }

    /// From the ledger's collection configuration history; a namespace with no history at all (its definition was
    /// committed before the ledger kept one) answers with the latest package.
    public func collectionConfigPackage(
        namespace: String,
        below blockNumber: UInt64
    ) throws(PrivdataError) -> Protos_CollectionConfigPackage? {
        let record: CollectionConfigRecord?
        let hasHistory: Bool
        do {
            record = try self.ledger.collectionConfig(namespace: namespace, below: blockNumber)
            hasHistory = try record != nil || self.ledger.hasCollectionConfigHistory(namespace: namespace)
        } catch {
            throw PrivdataError(
                .storage,
                "cannot read the collection configuration history of namespace \(namespace) on channel \(self.ledger.ledgerID)",
                cause: error
            )
        }
        guard hasHistory else { return try self.collectionConfigPackage(namespace: namespace) }
        guard let record else { return nil }
        do {
            return try Protos_CollectionConfigPackage(serializedBytes: record.package)
        } catch {
            throw PrivdataError(
                .badCollectionConfig,
                "the collection configuration of namespace \(namespace) committed at block \(record.blockNumber) on channel \(self.ledger.ledgerID) does not decode",
                cause: error
            )
        }
    }
}

/// Collection configuration packages given directly (tests, tools, a transient-store entry's configs).
public struct StaticCollectionConfigSource: CollectionConfigSource {
    /// namespace → package.
    public var packages: [String: Protos_CollectionConfigPackage]

    /// Creates the source.
    public init(_ packages: [String: Protos_CollectionConfigPackage]) { self.packages = packages }

    public func collectionConfigPackage(namespace: String) throws(PrivdataError) -> Protos_CollectionConfigPackage? {
        self.packages[namespace]
    }
}

/// The collections of one channel, compiled for access decisions (Fabric's `SimpleCollectionStore` plus the
/// implicit per-organisation collections of `_lifecycle`).
///
/// Explicit collections come from a ``CollectionConfigSource``; `_implicit_org_<MSPID>` is generated: member
/// policy "member of MSPID", BTL 0, and the required/maximum peer counts of the implicit dissemination policy for
/// the own organisation (0/0 for the others). Policies compile against the channel's current deserializer, asked
/// for on every lookup so that a config update takes effect. Compiled collections are cached by the exact bytes of
/// their configuration.
public final class CollectionStore: Sendable {
    /// The prefix of implicit collection names.
    public static let implicitCollectionPrefix = "_implicit_org_"

    /// The channel.
    public let channelID: String
    private let source: any CollectionConfigSource
    private let deserializer: @Sendable () -> any IdentityDeserializer
    private let localMSPID: String
    private let implicitPolicy: PrivdataConfig.ImplicitCollectionDisseminationPolicy
    private let cache = Mutex<[String: CollectionAccess]>([:])

    /// Creates the store.
    ///
    /// - Parameters:
    ///   - source: where explicit collection configurations are read.
    ///   - deserializer: the channel's identity deserializer (its MSP manager), asked for on each lookup.
    ///   - localMSPID: this peer's organisation, whose implicit collection gets the dissemination policy.
    ///   - implicitPolicy: `peer.gossip.pvtData.implicitCollectionDisseminationPolicy`.
    public init(
        channelID: String,
        source: any CollectionConfigSource,
        deserializer: @escaping @Sendable () -> any IdentityDeserializer,
        localMSPID: String,
        implicitPolicy: PrivdataConfig.ImplicitCollectionDisseminationPolicy = .init()
    ) {
        self.channelID = channelID
        self.source = source
        self.deserializer = deserializer
        self.localMSPID = localMSPID
        self.implicitPolicy = implicitPolicy
    }

    /// The name of `mspID`'s implicit collection.
    public static func implicitCollectionName(for mspID: String) -> String { implicitCollectionPrefix + mspID }

    /// The static configuration of `name` in `namespace` (generated for an implicit collection).
    ///
    /// - Throws: ``PrivdataError/Code-swift.struct/collectionNotFound`` naming the namespace and collection.
    public func staticConfig(
        namespace: String,
        collection name: String
    ) throws(PrivdataError)
        -> Protos_StaticCollectionConfig
    {
        if name.hasPrefix(Self.implicitCollectionPrefix) {
            let mspID = String(name.dropFirst(Self.implicitCollectionPrefix.count))
            guard !mspID.isEmpty else {
                throw PrivdataError(
                    .collectionNotFound,
                    "implicit collection \(name) of namespace \(namespace) names no organisation"
                )
            }
            return self.implicitConfig(mspID: mspID)
        }
        guard let package = try self.source.collectionConfigPackage(namespace: namespace) else {
            throw PrivdataError(
                .collectionNotFound,
                "namespace \(namespace) has no collection configuration on channel \(self.channelID) "
                    + "(looking for collection \(name))"
            )
        }
        if let collection = Self.find(name, in: package) { return collection }
        throw PrivdataError(
            .collectionNotFound,
            "collection \(name) is not defined for namespace \(namespace) on channel \(self.channelID)"
        )
    }

    /// The configuration of `name` in `namespace` that was in effect when block `blockNumber` was validated
    /// (Fabric's `MostRecentCollectionConfigBelow`; implicit collections are generated as always).
    ///
    /// - Throws: ``PrivdataError/Code-swift.struct/collectionNotFound`` when the namespace had no such collection
    ///   then.
    public func staticConfig(
        namespace: String,
        collection name: String,
        below blockNumber: UInt64
    ) throws(PrivdataError)
        -> Protos_StaticCollectionConfig
    {
        if name.hasPrefix(Self.implicitCollectionPrefix) {
            return try self.staticConfig(namespace: namespace, collection: name)
        }
        if let package = try self.source.collectionConfigPackage(namespace: namespace, below: blockNumber),
            let collection = Self.find(name, in: package)
        {
            return collection
        }
        throw PrivdataError(
            .collectionNotFound,
            "collection \(name) of namespace \(namespace) was not defined below block \(blockNumber) on channel \(self.channelID)"
        )
    }

    /// The compiled collection `name` of `namespace` as configured when block `blockNumber` was validated.
    public func collection(
        namespace: String,
        name: String,
        below blockNumber: UInt64
    ) throws(PrivdataError) -> CollectionAccess {
        let config = try self.staticConfig(namespace: namespace, collection: name, below: blockNumber)
        return try self.compile(namespace: namespace, config: config)
    }

    /// The static configuration named `name` in `package`.
    private static func find(
        _ name: String,
        in package: Protos_CollectionConfigPackage
    ) -> Protos_StaticCollectionConfig? {
        for config in package.config {
            if case .staticCollectionConfig(let collection)? = config.payload, collection.name == name {
                return collection
            }
        }
        return nil
    }

    /// The implicit collection of `mspID`.
    public func implicitConfig(mspID: String) -> Protos_StaticCollectionConfig {
        var config = Protos_StaticCollectionConfig()
        config.name = Self.implicitCollectionName(for: mspID)
        var role = Common_MSPRole()
        role.mspIdentifier = mspID
        role.role = .member
        var principal = Common_MSPPrincipal()
        principal.principalClassification = .role
        principal.principal = (try? role.serializedBytes()) ?? Data()
        var envelope = Common_SignaturePolicyEnvelope()
        envelope.identities = [principal]
        var rule = Common_SignaturePolicy()
        rule.signedBy = 0
        var nOutOf = Common_SignaturePolicy.NOutOf()
        nOutOf.n = 1
        nOutOf.rules = [rule]
        envelope.rule.nOutOf = nOutOf
        config.memberOrgsPolicy.signaturePolicy = envelope
        if mspID == self.localMSPID {
            config.requiredPeerCount = Int32(clamping: self.implicitPolicy.requiredPeerCount)
            config.maximumPeerCount = Int32(clamping: self.implicitPolicy.maxPeerCount)
        }
        return config
    }

    /// The compiled collection `name` of `namespace`.
    public func collection(namespace: String, name: String) throws(PrivdataError) -> CollectionAccess {
        let config = try self.staticConfig(namespace: namespace, collection: name)
        return try self.compile(namespace: namespace, config: config)
    }

    /// Compiles a static configuration (for example one that came with private data) of `namespace`.
    public func compile(
        namespace: String,
        config: Protos_StaticCollectionConfig
    ) throws(PrivdataError)
        -> CollectionAccess
    {
        let bytes = (try? config.serializedBytes()) ?? Data()
        let key = namespace + "\u{0}" + bytes.base64EncodedString()
        if let hit = self.cache.withLock({ $0[key] }) { return hit }
        let compiled = try CollectionAccess(namespace: namespace, config: config, deserializer: self.deserializer())
        self.cache.withLock { cache in
            if cache.count > 1024 { cache.removeAll() }
            cache[key] = compiled
        }
        return compiled
    }

    /// The collections of `namespace` in a package (for example the one pushed with private data), compiled;
    /// nil when the package does not define `name`.
    public func collection(
        namespace: String,
        name: String,
        in package: Protos_CollectionConfigPackage
    ) throws(PrivdataError) -> CollectionAccess? {
        guard let collection = Self.find(name, in: package) else { return nil }
        return try self.compile(namespace: namespace, config: collection)
    }

    /// Whether `signedData` may see (namespace, collection) by its latest configuration; false when the
    /// collection cannot be found or compiled (Fabric skips such collections).
    public func accepts(_ signedData: SignedData, namespace: String, collection: String) -> Bool {
        guard let access = try? self.collection(namespace: namespace, name: collection) else { return false }
        return access.accepts(signedData)
    }

    /// Whether `signedData` may see (namespace, collection) by the configuration in effect when block
    /// `blockNumber` was validated; false when the collection was not defined then or cannot be compiled.
    public func accepts(
        _ signedData: SignedData,
        namespace: String,
        collection: String,
        below blockNumber: UInt64
    ) -> Bool {
        guard let access = try? self.collection(namespace: namespace, name: collection, below: blockNumber) else {
            return false
        }
        return access.accepts(signedData)
    }
}
