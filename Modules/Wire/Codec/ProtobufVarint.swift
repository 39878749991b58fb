package import Foundation

/// The protobuf base-128 varint encoding, for the few places that write protobuf bytes by hand (the block
/// store's record prefix, the commit hash's bytes and length prefix).
package enum ProtobufVarint {
    /// The number of bytes `value` takes.
    @inlinable
    package static func size(_ value: UInt64) -> Int {
        value == 0 ? 1 : (UInt64.bitWidth - value.leadingZeroBitCount + 6) / 7
    }

    /// Appends `value` to `bytes`.
    @inlinable
    package static func append<Bytes: RangeReplaceableCollection>(_ value: UInt64, to bytes: inout Bytes)
    where Bytes.Element == UInt8 {
        var value = value
        while value >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
    }

    /// `value`'s encoding.
    package static func encoding(_ value: UInt64) -> Data {
        var bytes = Data()
        Self.append(value, to: &bytes)
        return bytes
    }
}
