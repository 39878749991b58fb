public import Foundation
public import Testing
public import Wire
import SwiftProtobuf

/// The artifacts a real Fabric v3.1 network made (../shared/conformance, beside the project's root).
///
/// Tests read them in place and never copy them. `FABRIC_CONFORMANCE_DIR` points the tests at another set of
/// artifacts with the same layout. When the folder is missing, suites gated on ``isAvailable`` are recorded as
/// skipped with ``missingReason``, never as passed.
public enum Conformance {
    /// The package root, found from this file's path (Tests/TestSupport/Conformance.swift).
    public static let packageRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()
        .deletingLastPathComponent()
        .deletingLastPathComponent()

    /// The conformance folder, or nil when it does not exist.
    public static let directory: URL? = {
        let candidate: URL
        if let override = ProcessInfo.processInfo.environment["FABRIC_CONFORMANCE_DIR"], !override.isEmpty {
            candidate = URL(fileURLWithPath: override)
        } else {
            candidate = packageRoot.deletingLastPathComponent().appendingPathComponent("shared/conformance")
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: candidate.path, isDirectory: &isDirectory), isDirectory.boolValue
        else { return nil }
        return candidate
    }()

    /// Whether the artifacts are present.
    public static var isAvailable: Bool { directory != nil }

    /// Why conformance suites are skipped.
    public static let missingReason: Comment =
        "../shared/conformance is missing (or FABRIC_CONFORMANCE_DIR points nowhere): conformance tests skipped"

    /// Errors from reading the artifacts.
    public struct MissingArtifact: Error, CustomStringConvertible {
        public let path: String
        public var description: String { "conformance artifact missing: \(self.path)" }
    }

    /// An artifact that contradicts itself (for example private writes that do not hash as recorded).
    public struct InconsistentArtifact: Error, CustomStringConvertible {
        public let path: String
        public let problem: String
        public var description: String { "conformance artifact \(self.path): \(self.problem)" }
    }

    /// The URL of `relativePath` inside the conformance folder.
    public static func url(_ relativePath: String) throws -> URL {
        guard let directory else { throw MissingArtifact(path: relativePath) }
        let url = directory.appendingPathComponent(relativePath)
        guard FileManager.default.fileExists(atPath: url.path) else { throw MissingArtifact(path: url.path) }
        return url
    }

    /// The bytes of `relativePath`.
    public static func data(_ relativePath: String) throws -> Data {
        try Data(contentsOf: url(relativePath))
    }

    /// The block numbers present in `folder` (`orderer`, `peer0.org1`, …), ascending.
    public static func blockNumbers(in folder: String = "orderer") throws -> [UInt64] {
        let names = try FileManager.default.contentsOfDirectory(atPath: url(folder).path)
        return names.compactMap { name in
            name.hasSuffix(".block") ? UInt64(name.dropLast(".block".count)) : nil
        }.sorted()
    }

    /// The raw bytes of block `number` in `folder`.
    public static func blockBytes(_ number: UInt64, in folder: String = "orderer") throws -> Data {
        try data("\(folder)/\(number).block")
    }

    /// Block `number` of `folder`, decoded.
    public static func block(_ number: UInt64, in folder: String = "orderer") throws -> Common_Block {
        try Common_Block(serializedBytes: blockBytes(number, in: folder))
    }

    /// Every block of `folder` in order.
    public static func blocks(in folder: String = "orderer") throws -> [Common_Block] {
        try blockNumbers(in: folder).map { try block($0, in: folder) }
    }

    /// The peers whose committed blocks are shipped.
    public static let committingPeers = ["peer0.org1", "peer0.org2"]

    /// expected.json, decoded.
    public static func expected() throws -> [UInt64: ExpectedBlock] {
        let raw = try JSONDecoder().decode([String: ExpectedBlock].self, from: data("expected.json"))
        return Dictionary(uniqueKeysWithValues: raw.compactMap { key, value in UInt64(key).map { ($0, value) } })
    }
}

/// One block of expected.json.
public struct ExpectedBlock: Decodable, Sendable {
    public let part: String
    public let headerHash: String
    public let commitHashOrg1: String
    public let commitHashOrg2: String
    public let commitHashOrg1Peer1: String?
    public let txs: [ExpectedTx]

    enum CodingKeys: String, CodingKey {
        case part
        case headerHash = "header_hash"
        case commitHashOrg1 = "commit_hash_org1"
        case commitHashOrg2 = "commit_hash_org2"
        case commitHashOrg1Peer1 = "commit_hash_org1_peer1"
        case txs
    }
}

/// One transaction of expected.json.
public struct ExpectedTx: Decodable, Sendable {
    public let txid: String
    public let type: String
    public let chaincode: String
    public let label: String
    public let codeOrg1: String
    public let codeOrg2: String
    public let codeOrg1Peer1: String?

    enum CodingKeys: String, CodingKey {
        case txid, type, chaincode, label
        case codeOrg1 = "code_org1"
        case codeOrg2 = "code_org2"
        case codeOrg1Peer1 = "code_org1_peer1"
    }
}

extension Conformance {
    /// One private collection write set as pvtdata.json lists it.
    public struct PrivateCollection: Sendable {
        public var namespace: String
        public var collection: String
        /// (key, value, isDelete) in order.
        public var writes: [(key: String, value: String, isDelete: Bool)]
        /// SHA-256 of the serialized KVRWSet (the block's `pvt_rwset_hash`).
        public var rwsetSHA256: String
    }

    /// pvtdata.json's `deliver_with_private_data` view of `peer` at `phase` ("before_expiry" / "after_expiry"):
    /// block → tx index → collections.
    public static func privateData(peer: String, phase: String) throws -> [UInt64: [UInt64: [PrivateCollection]]] {
        let json = try JSONSerialization.jsonObject(with: data("pvtdata.json")) as? [String: Any]
        guard
            let blocks = ((json?[phase] as? [String: Any])?["deliver_with_private_data"] as? [String: Any])?[peer]
                as? [String: Any], let byBlock = blocks["blocks"] as? [String: Any]
        else { throw MissingArtifact(path: "pvtdata.json \(phase)/\(peer)") }
        var result: [UInt64: [UInt64: [PrivateCollection]]] = [:]
        for (blockKey, txs) in byBlock {
            guard let block = UInt64(blockKey), let txs = txs as? [String: Any] else { continue }
            var byTx: [UInt64: [PrivateCollection]] = [:]
            for (txKey, namespaces) in txs {
                guard let tx = UInt64(txKey), let namespaces = namespaces as? [String: Any] else { continue }
                var collections: [PrivateCollection] = []
                for (namespace, colls) in namespaces {
                    for (collection, body) in (colls as? [String: Any]) ?? [:] {
                        let body = body as? [String: Any] ?? [:]
                        let writes = (body["writes"] as? [[String: Any]] ?? []).map {
                            (
                                key: $0["key"] as? String ?? "", value: $0["value"] as? String ?? "",
                                isDelete: $0["is_delete"] as? Bool ?? false
                            )
                        }
                        collections.append(
                            PrivateCollection(
                                namespace: namespace,
                                collection: collection,
                                writes: writes,
                                rwsetSHA256: body["rwset_sha256"] as? String ?? ""
                            )
                        )
                    }
                }
                byTx[tx] = collections.sorted { ($0.namespace, $0.collection) < ($1.namespace, $1.collection) }
            }
            result[block] = byTx
        }
        return result
    }

    /// The cleartext private write sets of ``privateData(peer:phase:)``, as a peer commits them: block → tx index
    /// → `TxPvtReadWriteSet`, one namespace entry per namespace in order. Each collection's serialized KVRWSet is
    /// checked against the `rwset_sha256` the Fabric peer recorded, so the bytes are the ones its block hashes.
    public static func privateWriteSets(
        peer: String,
        phase: String = "before_expiry"
    ) throws -> [UInt64: [UInt64: Rwset_TxPvtReadWriteSet]] {
        var result: [UInt64: [UInt64: Rwset_TxPvtReadWriteSet]] = [:]
        for (block, txs) in try self.privateData(peer: peer, phase: phase) {
            for (tx, collections) in txs where !collections.isEmpty {
                var set = Rwset_TxPvtReadWriteSet()
                for collection in collections {
                    let writes = collection.writes.map { TestBlocks.write($0.key, $0.isDelete ? nil : $0.value) }
                    let bytes = TestBlocks.privateRWSetBytes(writes)
                    guard Digest.sha256(bytes).hexString == collection.rwsetSHA256 else {
                        throw InconsistentArtifact(
                            path: "pvtdata.json \(phase)/\(peer)",
                            problem: "block \(block) tx \(tx) \(collection.collection): the writes do not serialize "
                                + "to rwset_sha256"
                        )
                    }
                    var coll = Rwset_CollectionPvtReadWriteSet()
                    coll.collectionName = collection.collection
                    coll.rwset = bytes
                    if set.nsPvtRwset.last?.namespace != collection.namespace {
                        var namespace = Rwset_NsPvtReadWriteSet()
                        namespace.namespace = collection.namespace
                        set.nsPvtRwset.append(namespace)
                    }
                    set.nsPvtRwset[set.nsPvtRwset.count - 1].collectionPvtRwset.append(coll)
                }
                result[block, default: [:]][tx] = set
            }
        }
        return result
    }

    /// pvtdata.json's `query` answers of `peer` at `phase`: collection → key → value ("" = absent), omitting
    /// keys whose query was refused.
    public static func privateQueries(peer: String, phase: String) throws -> [String: [String: String]] {
        let json = try JSONSerialization.jsonObject(with: data("pvtdata.json")) as? [String: Any]
        guard
            let collections =
                (((json?[phase] as? [String: Any])?["query"] as? [String: Any])?[peer]
                as? [String: Any])?["collections"] as? [String: Any]
        else { throw MissingArtifact(path: "pvtdata.json \(phase)/query/\(peer)") }
        var result: [String: [String: String]] = [:]
        for (collection, keys) in collections {
            for (key, answer) in (keys as? [String: Any]) ?? [:] {
                guard let results = (answer as? [String: Any])?["result"] as? [[String: Any]],
                    let value = results.first?["value"] as? String
                else { continue }
                result[collection, default: [:]][key] = value
            }
        }
        return result
    }
}
