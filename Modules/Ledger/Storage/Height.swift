public import Foundation
public import Wire

/// A version in the state database: the block and the transaction index that last wrote a key.
public struct Height: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The block number.
    public var blockNumber: UInt64
    /// The index of the transaction inside the block.
    public var txNumber: UInt64

    /// Creates a height.
    public init(blockNumber: UInt64, txNumber: UInt64) {
        self.blockNumber = blockNumber
        self.txNumber = txNumber
    }

    /// The height of a `kvrwset.Version`.
    public init(_ version: Kvrwset_Version) {
        self.init(blockNumber: version.blockNum, txNumber: version.txNum)
    }

    /// The height as a `kvrwset.Version`.
    public var version: Kvrwset_Version {
        var version = Kvrwset_Version()
        version.blockNum = self.blockNumber
        version.txNum = self.txNumber
        return version
    }

    /// Fabric's version bytes: order-preserving varint of the block number, then of the tx number.
    ///
    /// Each number is one byte holding the count of its significant big-endian bytes, then those bytes:
    /// (10, 0) → `01 0a 00`, (300, 7) → `02 01 2c 01 07`.
    public var versionBytes: Data {
        var out = Data()
        out.reserveCapacity(18)
        Height.appendOrderPreserving(self.blockNumber, to: &out)
        Height.appendOrderPreserving(self.txNumber, to: &out)
        return out
    }

    /// The size of ``versionBytes``.
    package var versionBytesCount: Int {
        2 + Self.significantBytes(self.blockNumber) + Self.significantBytes(self.txNumber)
    }

    /// Appends ``versionBytes`` to `out`.
    package func appendVersionBytes(to out: inout [UInt8]) {
        Height.appendOrderPreserving(self.blockNumber, into: &out)
        Height.appendOrderPreserving(self.txNumber, into: &out)
    }

    /// The bytes of `value` without its leading zero bytes.
    private static func significantBytes(_ value: UInt64) -> Int {
        value == 0 ? 0 : (64 - value.leadingZeroBitCount + 7) / 8
    }

    /// Appends Fabric's order-preserving varint of `value` to `out`.
    public static func appendOrderPreserving(_ value: UInt64, to out: inout Data) {
        self.appendOrderPreserving(value, into: &out)
    }

    private static func appendOrderPreserving<Bytes: RangeReplaceableCollection<UInt8>>(
        _ value: UInt64,
        into out: inout Bytes
    ) {
        let significant = Self.significantBytes(value)
        out.append(UInt8(significant))
        var shift = (significant - 1) * 8
        while shift >= 0 {
            out.append(UInt8(truncatingIfNeeded: value >> UInt64(shift)))
            shift -= 8
        }
    }

    /// Orders by block, then tx.
    public static func < (lhs: Height, rhs: Height) -> Bool {
        (lhs.blockNumber, lhs.txNumber) < (rhs.blockNumber, rhs.txNumber)
    }

    public var description: String { "(\(self.blockNumber), \(self.txNumber))" }
}
