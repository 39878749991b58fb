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

    /// Appends Fabric's order-preserving varint of `value` to `out`.
    public static func appendOrderPreserving(_ value: UInt64, to out: inout Data) {
        let significant = value == 0 ? 0 : (64 - value.leadingZeroBitCount + 7) / 8
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
