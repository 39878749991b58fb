internal import Foundation
internal import Wire

/// Tx index rows held in memory until the block store writes them to its `tx_index` table, one key range at a
/// time.
///
/// Tx ids are random, so writing each block's rows at its commit dirties one B-tree leaf of `tx_index` per
/// transaction once the table outgrows the page cache: a WAL frame, a page read and a checkpoint write per row,
/// the largest cost of a commit outside the signatures. Instead the rows are staged, and the tx-id space is cut
/// into `sliceCount` contiguous key ranges: block n's commit writes the staged rows of range n mod `sliceCount`,
/// sorted, in the block's own transaction. Each range then receives about one block's rows at a time, into
/// 1/`sliceCount` of the table's leaves. A row waits at most `sliceCount` commits; when more than `rowLimit` rows
/// are staged, a commit writes every range, so memory stays bounded whatever the block size.
///
/// The table records how far it is complete (every row of every block below `complete` is in it), in the same
/// transaction. After a crash the store stages the rows of the blocks from there to its height again, from the
/// block files; writing a row twice replaces it with itself.
///
/// Readers see staged rows and the table together. Rows a commit wrote stay staged until the next commit, so a
/// reader whose SQLite snapshot began before a commit still finds them. A ``TxIDFilter`` of every id that was
/// ever admitted (before its rows reach the table) or found in the table on open answers most look-ups of an
/// absent id without reading the table.
package struct StagedTxIndex: Sendable {
    /// A staged row's tx id: Fabric's (64 lowercase hex digits) as its 32 bytes, held in the row itself, so that
    /// tens of thousands of staged rows are a few arrays rather than as many strings kept alive among the
    /// decoded blocks; any other id as its text.
    enum Key: Hashable, Sendable {
        case hex(UInt64, UInt64, UInt64, UInt64)
        case text(String)

        init(_ txID: String) {
            // Every validated transaction's id passes here twice (the duplicate check and the index rows), so
            // the digits are read in place into the four words, without an intermediate array.
            var txID = txID
            let words = txID.withUTF8 { Self.hexWords($0) }
            if let words {
                self = .hex(words.0, words.1, words.2, words.3)
            } else {
                self = .text(txID)
            }
        }

        /// The 32 bytes of exactly 64 lowercase hex digits as four big-endian words; nil for any other text
        /// (uppercase digits included: they spell another tx id).
        private static func hexWords(_ utf8: UnsafeBufferPointer<UInt8>) -> (UInt64, UInt64, UInt64, UInt64)? {
            guard utf8.count == 64 else { return nil }
            var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
            for word in 0..<4 {
                var value: UInt64 = 0
                for offset in (word * 16)..<(word * 16 + 16) {
                    let digit = utf8[offset]
                    let nibble: UInt8
                    switch digit {
                    case UInt8(ascii: "0")...UInt8(ascii: "9"): nibble = digit &- UInt8(ascii: "0")
                    case UInt8(ascii: "a")...UInt8(ascii: "f"): nibble = digit &- UInt8(ascii: "a") &+ 10
                    default: return nil
                    }
                    value = value << 4 | UInt64(nibble)
                }
                switch word {
                case 0: words.0 = value
                case 1: words.1 = value
                case 2: words.2 = value
                default: words.3 = value
                }
            }
            return words
        }

        /// The tx id as text.
        var text: String {
            switch self {
            case .text(let text):
                return text
            case .hex(let a, let b, let c, let d):
                return withUnsafeBytes(of: (a.bigEndian, b.bigEndian, c.bigEndian, d.bigEndian)) { Data($0).hexString }
            }
        }

        /// The first two bytes' ranks (see ``StagedTxIndex/slice(of:count:)``), 0 ..< 256.
        var rank: Int {
            switch self {
            case .hex(let a, _, _, _):
                return Int(truncatingIfNeeded: a >> 56)
            case .text(let text):
                var bytes = text.utf8.makeIterator()
                let first = StagedTxIndex.rank(bytes.next())
                return first * 16 + StagedTxIndex.rank(bytes.next())
            }
        }
    }

    /// One row of the index, its tx id held as `ID`.
    struct IndexRow<ID: Sendable>: Sendable {
        var id: ID
        var block: UInt64
        var tx: UInt32
        var code: UInt8
    }

    /// A staged row.
    typealias Row = IndexRow<Key>
    /// A row as written to `tx_index`.
    typealias WrittenRow = IndexRow<String>

    /// What one commit writes to `tx_index`, and how the staged rows change once it has committed.
    package struct Update: Sendable {
        /// The committed block's rows.
        let rows: [Row]
        /// The key ranges written.
        let slices: [Int]
        /// The rows written, in key order.
        let written: [WrittenRow]
        /// Every row of every block below this is in `tx_index` once the update commits.
        let complete: UInt64
    }

    let sliceCount: Int
    let rowLimit: Int
    /// The staged rows of each key range, in block order.
    private var slices: [[Row]]
    /// How many rows at the head of each range are already in `tx_index` (written by the last commit).
    private var writtenPrefix: [Int: Int] = [:]
    /// Staged rows per tx id.
    private var counts: [Key: Int] = [:]
    /// The number of staged rows.
    private(set) var rowCount = 0
    /// Every tx id admitted or loaded from the table.
    private var filter: TxIDFilter

    /// Where a look-up of a tx id finds it.
    enum Presence {
        /// A row of it is staged.
        case staged
        /// Not staged; it may be in `tx_index`.
        case mayBeStored
        /// Neither staged nor in `tx_index`.
        case absent
    }

    init(sliceCount: Int, rowLimit: Int, filterBits: Int = 0) {
        self.sliceCount = max(1, sliceCount)
        self.rowLimit = max(0, rowLimit)
        self.slices = Array(repeating: [], count: self.sliceCount)
        self.filter = TxIDFilter(bits: filterBits)
    }

    /// The key range of a tx id: a non-decreasing function of its first two bytes, ranking hex digits evenly
    /// (Fabric's tx ids are lowercase hex), so that each range is a contiguous run of `tx_index`'s keys.
    static func slice(of key: Key, count: Int) -> Int {
        count > 1 ? key.rank * count / 256 : 0
    }

    fileprivate static func rank(_ byte: UInt8?) -> Int {
        guard let byte else { return 0 }
        switch byte {
        case ..<0x30: return 0
        case 0x30...0x39: return Int(byte - 0x30)
        case 0x3A..<0x61: return 9
        case 0x61...0x66: return Int(byte - 0x61) + 10
        default: return 15
        }
    }

    /// The rows of a block: one per transaction whose tx id is known, with its code from `filter`.
    static func rows(block number: UInt64, txIDs: [String], filter: Data) -> [Row] {
        var rows: [Row] = []
        rows.reserveCapacity(txIDs.count)
        for (index, txID) in txIDs.enumerated() where !txID.isEmpty {
            let code = index < filter.count ? filter[filter.startIndex + index] : 0
            rows.append(Row(id: Key(txID), block: number, tx: UInt32(truncatingIfNeeded: index), code: code))
        }
        return rows
    }

    /// What committing block `number` with `rows` writes: the next key range in turn (every range when the
    /// staged rows would exceed the limit, or `everyRange`), with the block's own rows in it.
    func update(block number: UInt64, rows: [Row], everyRange: Bool = false) -> Update {
        let all =
            everyRange || self.sliceCount == 1 || self.rowCount - self.writtenCount + rows.count > self.rowLimit
        let slices = all ? Array(0..<self.sliceCount) : [Int(number % UInt64(self.sliceCount))]
        let writing = Set(slices)
        var written: [WrittenRow] = []
        func write(_ row: Row) {
            written.append(WrittenRow(id: row.id.text, block: row.block, tx: row.tx, code: row.code))
        }
        for slice in slices {
            for row in self.slices[slice].dropFirst(self.writtenPrefix[slice] ?? 0) { write(row) }
        }
        var unwrittenNew = false
        for row in rows {
            if writing.contains(Self.slice(of: row.id, count: self.sliceCount)) {
                write(row)
            } else {
                unwrittenNew = true
            }
        }
        written.sort { ($0.id, $0.block, $0.tx) < ($1.id, $1.block, $1.tx) }
        var complete = unwrittenNew ? number : number + 1
        for slice in 0..<self.sliceCount where !writing.contains(slice) {
            let head = self.writtenPrefix[slice] ?? 0
            if head < self.slices[slice].count { complete = min(complete, self.slices[slice][head].block) }
        }
        return Update(rows: rows, slices: slices, written: written, complete: complete)
    }

    /// Applies a committed update: drops the rows the previous commit wrote, stages the block's rows, and marks
    /// the rows this commit wrote (kept until the next commit).
    mutating func apply(_ update: Update) {
        for (slice, count) in self.writtenPrefix {
            for row in self.slices[slice].prefix(count) { self.unstage(row.id) }
            self.slices[slice].removeFirst(count)
            self.rowCount -= count
        }
        self.writtenPrefix = [:]
        self.stage(update.rows)
        for slice in update.slices where !self.slices[slice].isEmpty {
            self.writtenPrefix[slice] = self.slices[slice].count
        }
    }

    /// Stages rows without writing them (rows read back from the block files on open).
    mutating func stage(_ rows: [Row]) {
        for row in rows {
            self.slices[Self.slice(of: row.id, count: self.sliceCount)].append(row)
            self.counts[row.id, default: 0] += 1
        }
        self.rowCount += rows.count
    }

    private mutating func unstage(_ key: Key) {
        if let count = self.counts[key], count > 1 {
            self.counts[key] = count - 1
        } else {
            self.counts.removeValue(forKey: key)
        }
    }

    private var writtenCount: Int { self.writtenPrefix.values.reduce(0, +) }

    /// Where `txID` is: staged, maybe in `tx_index`, or certainly nowhere.
    func presence(_ txID: String) -> Presence {
        let key = Key(txID)
        if self.counts[key] != nil { return .staged }
        return self.filter.mayContain(key) ? .mayBeStored : .absent
    }

    /// Adds the ids of `rows` to the filter; every row must be admitted before it can reach `tx_index`.
    mutating func admit(_ rows: [Row]) {
        for row in rows { self.filter.insert(row.id) }
    }

    /// Adds tx ids read from `tx_index` to the filter.
    mutating func admitStored(_ txIDs: [String]) {
        for txID in txIDs { self.filter.insert(Key(txID)) }
    }

    /// Whether the filter is enabled but does not hold every id of `tx_index` yet.
    var filterNeedsLoading: Bool { self.filter.isEnabled && !self.filter.covering }
    /// Whether the filter answers look-ups of absent ids.
    var filterCovers: Bool { self.filter.covering }

    /// Records that every id of `tx_index` has been admitted: absent ids are now answered without the table.
    mutating func filterLoaded() { self.filter.markCovering() }

    /// The staged rows of `txID`, as index entries.
    func entries(_ txID: String) -> [TxIndexEntry] {
        let key = Key(txID)
        guard self.counts[key] != nil else { return [] }
        return self.slices[Self.slice(of: key, count: self.sliceCount)].lazy.filter { $0.id == key }.map {
            TxIndexEntry(
                blockNumber: $0.block,
                txNumber: UInt64($0.tx),
                validationCode: Protos_TxValidationCode(rawValue: Int($0.code)) ?? .invalidOtherReason
            )
        }
    }
}
