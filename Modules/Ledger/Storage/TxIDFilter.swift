/// A Bloom filter over every tx id in the tx index, so that the DUPLICATE_TXID check of a new transaction (almost
/// always absent) is answered in memory instead of by a look-up in `tx_index`, whose leaves outgrow SQLite's cache
/// as the chain grows.
///
/// "Absent" is certain; "may be present" sends the caller to the table. The filter is fixed in size, so memory
/// does not grow with the chain: a longer chain only answers "may be present" more often (with 2^24 bits and 4
/// probes, ≈ 0.2 % of absent ids at 1,000,000 tx ids, ≈ 14 % at 4,000,000). Until the ids already in the table
/// have been added (``covering``), everything may be present.
package struct TxIDFilter: Sendable {
    static let probes = 4

    private var words: [UInt64]
    private let mask: UInt64
    /// Whether every id in `tx_index` has been added; before that, every id may be present.
    package private(set) var covering = false

    /// A filter of `bits` bits, rounded up to a power of two of at least 64; 0 makes a filter that never
    /// answers "absent".
    package init(bits: Int) {
        guard bits > 0 else {
            self.words = []
            self.mask = 0
            return
        }
        let wanted = min(bits, 1 << 40)
        let count = max(64, 1 << (Int.bitWidth - (wanted - 1).leadingZeroBitCount))
        self.words = Array(repeating: 0, count: count / 64)
        self.mask = UInt64(count - 1)
    }

    package var isEnabled: Bool { !self.words.isEmpty }
    /// The filter's size in bits.
    package var bitCount: Int { self.words.count * 64 }

    mutating func insert(_ key: StagedTxIndex.Key) {
        guard self.isEnabled else { return }
        let (first, step) = Self.hashes(key)
        for probe in 0..<UInt64(Self.probes) {
            let bit = (first &+ probe &* step) & self.mask
            self.words[Int(bit >> 6)] |= 1 << (bit & 63)
        }
    }

    package mutating func insert(txID: String) { self.insert(StagedTxIndex.Key(txID)) }

    /// Marks the filter as holding every id of `tx_index` (each added before, or staged through ``insert(_:)``
    /// before it reached the table).
    package mutating func markCovering() { self.covering = self.isEnabled }

    package func mayContain(txID: String) -> Bool { self.mayContain(StagedTxIndex.Key(txID)) }

    /// Whether `key` may be in the tx index; false only when it certainly is not.
    func mayContain(_ key: StagedTxIndex.Key) -> Bool {
        guard self.covering else { return true }
        let (first, step) = Self.hashes(key)
        for probe in 0..<UInt64(Self.probes) {
            let bit = (first &+ probe &* step) & self.mask
            if self.words[Int(bit >> 6)] & (1 << (bit & 63)) == 0 { return false }
        }
        return true
    }

    /// Two 64-bit hashes for double hashing (the second odd). A Fabric tx id is already a SHA-256; it is mixed
    /// anyway, and any other id is hashed (FNV-1a) first.
    private static func hashes(_ key: StagedTxIndex.Key) -> (UInt64, UInt64) {
        switch key {
        case .hex(let a, let b, _, _):
            return (Self.mix(a), Self.mix(b) | 1)
        case .text(let text):
            var hash: UInt64 = 0xcbf2_9ce4_8422_2325
            for byte in text.utf8 {
                hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
            }
            return (Self.mix(hash), Self.mix(hash ^ 0x9e37_79b9_7f4a_7c15) | 1)
        }
    }

    /// SplitMix64's finalizer.
    private static func mix(_ value: UInt64) -> UInt64 {
        var z = value &+ 0x9e37_79b9_7f4a_7c15
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}
