import Foundation
import Ledger
import TestSupport
import Testing

/// The write-through cache of committed versions that MVCC consults before state.
@Suite("Committed versions (MVCC's cache)")
struct CommittedVersionsTests {
    static func write(_ value: String?, _ block: UInt64, _ tx: UInt64) -> PendingWrite {
        PendingWrite(value: value.map { Data($0.utf8) }, metadata: nil, version: Height(blockNumber: block, txNumber: tx))
    }

    @Test func recordsValuesAndDeletesAndMissesTheRest() {
        let versions = CommittedVersions()
        versions.record([
            "ns1": [Data("a".utf8): Self.write("v", 3, 1), Data("gone".utf8): Self.write(nil, 3, 2)],
            "ns2": [Data("empty".utf8): Self.write("", 3, 4)],
        ])
        #expect(versions.version("ns1", Data("a".utf8)) == .some(Height(blockNumber: 3, txNumber: 1)))
        // A delete, and an empty value (which state stores as a delete), are known absences.
        #expect(versions.version("ns1", Data("gone".utf8)) == .some(nil))
        #expect(versions.version("ns2", Data("empty".utf8)) == .some(nil))
        // Not written: unknown, so MVCC reads state.
        #expect(versions.version("ns1", Data("b".utf8)) == .none)
        #expect(versions.version("ns2", Data("a".utf8)) == .none)
        // A later block's write replaces the entry; clearing forgets everything.
        versions.record(["ns1": [Data("a".utf8): Self.write("w", 4, 0)]])
        #expect(versions.version("ns1", Data("a".utf8)) == .some(Height(blockNumber: 4, txNumber: 0)))
        versions.clear()
        #expect(versions.version("ns1", Data("a".utf8)) == .none)
    }

    /// A block that would take it past its capacity starts it again with only that block's writes; a block
    /// larger than the capacity leaves it empty.
    @Test func boundedByCapacity() {
        let versions = CommittedVersions(capacity: 4)
        func keys(_ range: Range<Int>, block: UInt64) -> [String: [Data: PendingWrite]] {
            ["ns": Dictionary(uniqueKeysWithValues: range.map { (Data("k\($0)".utf8), Self.write("v", block, 0)) })]
        }
        versions.record(keys(0..<3, block: 1))
        versions.record(keys(3..<5, block: 2))
        #expect(versions.version("ns", Data("k0".utf8)) == .none)
        #expect(versions.version("ns", Data("k3".utf8)) == .some(Height(blockNumber: 2, txNumber: 0)))
        versions.record(keys(10..<15, block: 3))
        for key in [3, 4, 10, 14] { #expect(versions.version("ns", Data("k\(key)".utf8)) == .none) }
    }
}
