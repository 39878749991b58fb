public import Foundation
internal import SwiftProtobuf

extension Common_Block {
    /// The serialized block without its metadata field: `header` (1) and `data` (2) exactly as a protobuf encoder
    /// writes them, so that these bytes followed by the serialized metadata field are the whole serialized block.
    ///
    /// Written by hand around the header's own encoding: a block's data is megabytes of envelopes, which the
    /// encoder would copy into a zero-filled buffer after walking them once for their size; here they are copied
    /// once. Nil when the block or its data carry unknown fields (the encoder would write those too).
    public func headerAndDataBytes() throws(WireError) -> Data? {
        guard self.unknownFields.data.isEmpty, self.data.unknownFields.data.isEmpty else { return nil }
        let header = self.hasHeader ? try self.header.encoded() : Data()
        var dataLength = 0
        for envelope in self.data.data {
            dataLength += 1 + Self.varintSize(UInt64(envelope.count)) + envelope.count
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(
            (self.hasHeader ? 1 + Self.varintSize(UInt64(header.count)) + header.count : 0)
                + (self.hasData ? 1 + Self.varintSize(UInt64(dataLength)) + dataLength : 0)
        )
        if self.hasHeader {
            bytes.append(1 << 3 | 2)
            Self.appendVarint(UInt64(header.count), to: &bytes)
            bytes.append(contentsOf: header)
        }
        if self.hasData {
            bytes.append(2 << 3 | 2)
            Self.appendVarint(UInt64(dataLength), to: &bytes)
            for envelope in self.data.data {
                bytes.append(1 << 3 | 2)
                Self.appendVarint(UInt64(envelope.count), to: &bytes)
                bytes.append(contentsOf: envelope)
            }
        }
        return Data(bytes)
    }

    private static func varintSize(_ value: UInt64) -> Int {
        value == 0 ? 1 : (UInt64.bitWidth - value.leadingZeroBitCount + 6) / 7
    }

    private static func appendVarint(_ value: UInt64, to bytes: inout [UInt8]) {
        var value = value
        while value >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
    }
}
