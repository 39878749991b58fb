import Foundation
internal import SwiftProtobuf
internal import Wire

/// Fabric's Merkle summary of range-query results (`QueryReadsMerkleSummary`), rebuilt during MVCC to compare
/// with the summary a transaction recorded at simulation.
///
/// Results are hashed in groups: once more than `maxDegree` results are pending, SHA-256 of
/// `QueryReads{kv_reads}` over them becomes a level-1 node; a level with more than `maxDegree` nodes is
/// collapsed into one node of the next level (SHA-256 of the nodes concatenated). At the end, lower levels are
/// folded upward to the top level, which is collapsed once more if it is wider than `maxDegree`.
struct RangeQueryMerkleBuilder {
    let maxDegree: UInt32
    private var pending: [Kvrwset_KVRead] = []
    private var levels: [Int: [Data]] = [:]
    private var maxLevel = 1

    init(maxDegree: UInt32) { self.maxDegree = maxDegree }

    mutating func add(_ read: Kvrwset_KVRead) throws {
        self.pending.append(read)
        if UInt32(self.pending.count) > self.maxDegree { try self.flushPending() }
    }

    private mutating func flushPending() throws {
        var reads = Kvrwset_QueryReads()
        reads.kvReads = self.pending
        self.pending = []
        let bytes: Data = try reads.serializedBytes()
        self.update(Digest.sha256(bytes))
    }

    private mutating func update(_ leaf: Data) {
        self.levels[1, default: []].append(leaf)
        var level = 1
        while let hashes = self.levels[level], UInt32(hashes.count) > self.maxDegree {
            let combined = Digest.sha256(concatenating: hashes)
            self.levels[level] = nil
            level += 1
            self.levels[level, default: []].append(combined)
            self.maxLevel = max(self.maxLevel, level)
        }
    }

    private var isEmpty: Bool { self.maxLevel == 1 && (self.levels[1] ?? []).isEmpty }

    /// The summary of everything added, or nil when the results never filled a first group (Fabric then
    /// records raw reads instead of a summary).
    mutating func finish() throws -> Kvrwset_QueryReadsMerkleSummary? {
        guard self.maxDegree >= 2, !self.isEmpty else { return nil }
        if !self.pending.isEmpty { try self.flushPending() }
        var level = 1
        while level < self.maxLevel {
            let hashes = self.levels[level] ?? []
            if hashes.isEmpty {
                level += 1
                continue
            }
            let node = hashes.count == 1 ? hashes[0] : Digest.sha256(concatenating: hashes)
            self.levels[level] = nil
            level += 1
            self.levels[level, default: []].append(node)
        }
        let top = self.levels[self.maxLevel] ?? []
        if UInt32(top.count) > self.maxDegree {
            self.levels[self.maxLevel] = nil
            self.maxLevel += 1
            self.levels[self.maxLevel] = [Digest.sha256(concatenating: top)]
        }
        var summary = Kvrwset_QueryReadsMerkleSummary()
        summary.maxDegree = self.maxDegree
        summary.maxLevel = UInt32(self.maxLevel)
        summary.maxLevelHashes = self.levels[self.maxLevel] ?? []
        return summary
    }
}
