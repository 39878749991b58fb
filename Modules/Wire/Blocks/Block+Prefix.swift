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
        // Written into a Data reserved to the exact size: one allocation and one copy of the envelopes (an
        // array turned into Data afterwards would copy them again into freshly faulted pages).
        var bytes = Data(
            capacity: (self.hasHeader ? 1 + Self.varintSize(UInt64(header.count)) + header.count : 0)
                + (self.hasData ? 1 + Self.varintSize(UInt64(dataLength)) + dataLength : 0)
        )
        if self.hasHeader {
            Self.appendTagAndLength(field: 1, length: header.count, to: &bytes)
            bytes.append(header)
        }
        if self.hasData {
            Self.appendTagAndLength(field: 2, length: dataLength, to: &bytes)
            for envelope in self.data.data {
                Self.appendTagAndLength(field: 1, length: envelope.count, to: &bytes)
                bytes.append(envelope)
            }
        }
        return bytes
    }

    private static func varintSize(_ value: UInt64) -> Int {
        value == 0 ? 1 : (UInt64.bitWidth - value.leadingZeroBitCount + 6) / 7
    }

    /// A length-delimited field's tag and length (at most 11 bytes), appended in one step.
    private static func appendTagAndLength(field: UInt64, length: Int, to bytes: inout Data) {
        var scratch: (UInt64, UInt64) = (0, 0)
        let count = withUnsafeMutableBytes(of: &scratch) { raw in
            var index = 0
            func put(_ value: UInt64) {
                var value = value
                while value >= 0x80 {
                    raw[index] = UInt8(truncatingIfNeeded: value) | 0x80
                    value >>= 7
                    index += 1
                }
                raw[index] = UInt8(value)
                index += 1
            }
            put(field << 3 | 2)
            put(UInt64(length))
            return index
        }
        withUnsafeBytes(of: &scratch) { bytes.append(contentsOf: $0.prefix(count)) }
    }
}
