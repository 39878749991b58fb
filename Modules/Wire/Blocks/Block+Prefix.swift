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
            dataLength += 1 + ProtobufVarint.size(UInt64(envelope.count)) + envelope.count
        }
        // Written into a Data reserved to the exact size: one allocation and one copy of the envelopes (an
        // array turned into Data afterwards would copy them again into freshly faulted pages).
        var bytes = Data(
            capacity: (self.hasHeader ? 1 + ProtobufVarint.size(UInt64(header.count)) + header.count : 0)
                + (self.hasData ? 1 + ProtobufVarint.size(UInt64(dataLength)) + dataLength : 0)
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

    /// A length-delimited field's tag and length.
    private static func appendTagAndLength(field: UInt64, length: Int, to bytes: inout Data) {
        ProtobufVarint.append(field << 3 | 2, to: &bytes)
        ProtobufVarint.append(UInt64(length), to: &bytes)
    }
}
