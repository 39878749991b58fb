import Foundation
import SwiftProtobuf
import TestSupport
import Testing
import Wire

/// `Common_Block.headerAndDataBytes()` writes by hand what the protobuf encoder writes for a block without its
/// metadata; the block store stores those bytes followed by the metadata field as the whole block.
@Suite("Block header and data bytes")
struct BlockPrefixTests {
    static func withoutMetadata(_ block: Common_Block) throws -> Data {
        var prefix = block
        prefix.clearMetadata()
        return try prefix.serializedBytes()
    }

    static func metadataField(_ block: Common_Block) throws -> Data {
        var metadataOnly = Common_Block()
        metadataOnly.metadata = block.metadata
        return try metadataOnly.serializedBytes()
    }

    @Test(
        "the encoder's bytes, for envelopes whose lengths take one to three varint bytes",
        arguments: [[], [0], [1, 127, 128, 300], [16_383, 16_384, 70_000], Array(repeating: 4_000, count: 500)]
    )
    func encodersBytes(_ sizes: [Int]) throws {
        var generator = SystemRandomNumberGenerator()
        let envelopes = sizes.map { size in Data((0..<size).map { _ in UInt8.random(in: 0...255, using: &generator) }) }
        var block = BlockBuilder.block(number: 7, previousHash: Data(repeating: 1, count: 32), envelopes: envelopes)
        block.metadata.metadata[2] = Data([1, 2, 3])
        let bytes = try #require(try block.headerAndDataBytes())
        #expect(bytes == (try Self.withoutMetadata(block)))
        #expect(bytes + (try Self.metadataField(block)) == (try block.serializedBytes()))
    }

    @Test func varintsAsProtobufWritesThem() {
        let cases: [(UInt64, [UInt8])] = [
            (0, [0]), (1, [1]), (127, [0x7f]), (128, [0x80, 0x01]), (300, [0xac, 0x02]),
            (UInt64.max, Array(repeating: 0xff, count: 9) + [0x01]),
        ]
        for (value, expected) in cases {
            #expect(ProtobufVarint.encoding(value) == Data(expected))
            #expect(ProtobufVarint.size(value) == expected.count)
        }
    }

    @Test func missingHeaderOrDataAndEmptyData() throws {
        var noHeader = Common_Block()
        noHeader.data.data = [Data("x".utf8)]
        #expect(try noHeader.headerAndDataBytes() == (try Self.withoutMetadata(noHeader)))
        var noData = Common_Block()
        noData.header.number = 3
        #expect(try noData.headerAndDataBytes() == (try Self.withoutMetadata(noData)))
        var emptyData = noData
        emptyData.data = Common_BlockData()
        #expect(emptyData.hasData)
        #expect(try emptyData.headerAndDataBytes() == (try Self.withoutMetadata(emptyData)))
        #expect(try Common_Block().headerAndDataBytes() == Data())
    }

    @Test func unknownFieldsAreLeftToTheEncoder() throws {
        var block = BlockBuilder.block(number: 1, previousHash: Data(), envelopes: [Data("e".utf8)])
        // Field 9, varint 1: unknown to common.Block and to common.BlockData.
        let unknown = try Common_Block(serializedBytes: (try block.serializedBytes() as Data) + Data([0x48, 0x01]))
        #expect(try unknown.headerAndDataBytes() == nil)
        var data = try Common_BlockData(serializedBytes: (try block.data.serializedBytes() as Data) + Data([0x48, 0x01]))
        #expect(!data.unknownFields.data.isEmpty)
        block.data = data
        #expect(try block.headerAndDataBytes() == nil)
        data = Common_BlockData()
        block.data = data
        #expect(try block.headerAndDataBytes() != nil)
    }

    @Test("the conformance chain's blocks", .enabled(if: Conformance.isAvailable, Conformance.missingReason))
    func conformanceBlocks() throws {
        for block in try Conformance.blocks(in: "orderer") {
            let bytes = try #require(try block.headerAndDataBytes())
            #expect(bytes + (try Self.metadataField(block)) == (try block.serializedBytes()))
        }
    }
}
