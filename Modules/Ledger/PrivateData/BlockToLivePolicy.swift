public import Foundation
internal import SwiftProtobuf
internal import Wire

/// Read access to committed state, as of the last committed block (no overlay of the block being committed).
///
/// Given to the validator and to the block-to-live policy. Implementations read one consistent snapshot.
public protocol CommittedStateReader {
    /// The committed public value of `key`.
    func state(namespace: String, key: String) throws -> VersionedValue?
    /// The committed value hash of `keyHash` in a collection.
    func hashedState(namespace: String, collection: String, keyHash: Data) throws -> VersionedValue?
}

/// How many blocks a collection's private data lives (Fabric's `blockToLive`).
public protocol BlockToLivePolicy: Sendable {
    /// The collection's block-to-live; 0 means the data never expires.
    func blockToLive(namespace: String, collection: String, state: any CommittedStateReader) throws -> UInt64
}

extension BlockToLivePolicy {
    /// The block at whose commit data written in `committingBlock` expires: committingBlock + BTL + 1, with
    /// BTL 0 meaning never (`UInt64.max`) and overflow clamped to `UInt64.max`.
    public func expiringBlock(
        namespace: String,
        collection: String,
        committingBlock: UInt64,
        state: any CommittedStateReader
    ) throws -> UInt64 {
        BlockToLive.expiringBlock(
            committingBlock: committingBlock,
            blockToLive: try self.blockToLive(namespace: namespace, collection: collection, state: state)
        )
    }
}

/// Block-to-live arithmetic.
public enum BlockToLive {
    /// committingBlock + BTL + 1; BTL 0 means never expires (`UInt64.max`); overflow clamps to `UInt64.max`.
    public static func expiringBlock(committingBlock: UInt64, blockToLive: UInt64) -> UInt64 {
        guard blockToLive != 0 else { return UInt64.max }
        let (sum, overflow) = committingBlock.addingReportingOverflow(blockToLive)
        if overflow || sum == UInt64.max { return UInt64.max }
        return sum + 1
    }
}

/// A fixed table of block-to-live values, for tests and tools; collections not listed never expire.
public struct FixedBlockToLivePolicy: BlockToLivePolicy {
    /// namespace → collection → BTL.
    public var table: [String: [String: UInt64]]

    /// Creates the policy.
    public init(_ table: [String: [String: UInt64]] = [:]) { self.table = table }

    public func blockToLive(namespace: String, collection: String, state: any CommittedStateReader) throws -> UInt64 {
        self.table[namespace]?[collection] ?? 0
    }
}

/// The block-to-live a Fabric peer uses: the collection configuration committed on the channel, from the
/// `_lifecycle` chaincode definition (`namespaces/fields/<cc>/Collections`, a `StateData` holding a
/// `CollectionConfigPackage`), else from legacy `lscc` (`<cc>~collection`). A collection found in neither
/// never expires.
public struct CollectionConfigBlockToLivePolicy: BlockToLivePolicy {
    /// Creates the policy.
    public init() {}

    public func blockToLive(namespace: String, collection: String, state: any CommittedStateReader) throws -> UInt64 {
        if let package = try Self.lifecyclePackage(namespace, state) ?? Self.legacyPackage(namespace, state) {
            for config in package.config where config.staticCollectionConfig.name == collection {
                return config.staticCollectionConfig.blockToLive
            }
        }
        return 0
    }

    static func lifecyclePackage(
        _ namespace: String,
        _ state: any CommittedStateReader
    ) throws
        -> Protos_CollectionConfigPackage?
    {
        guard let value = try state.state(namespace: "_lifecycle", key: "namespaces/fields/\(namespace)/Collections")
        else { return nil }
        let stateData = try Lifecycle_StateData(serializedBytes: value.value)
        guard case .bytes(let bytes)? = stateData.type else { return nil }
        return try Protos_CollectionConfigPackage(serializedBytes: bytes)
    }

    static func legacyPackage(
        _ namespace: String,
        _ state: any CommittedStateReader
    ) throws
        -> Protos_CollectionConfigPackage?
    {
        guard let value = try state.state(namespace: "lscc", key: "\(namespace)~collection") else { return nil }
        return try Protos_CollectionConfigPackage(serializedBytes: value.value)
    }
}
