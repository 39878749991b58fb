import Foundation
import SwiftProtobuf
import Testing
import Wire

@Suite("zlib block codec")
struct BlockCodecTests {
    static func sample(_ count: Int) -> Data {
        var generator = SystemRandomNumberGenerator()
        // Half random, half repetitive: compressible but not trivially.
        var bytes = Data((0..<count / 2).map { _ in UInt8.random(in: 0...255, using: &generator) })
        bytes.append(Data(repeating: 0x42, count: count - count / 2))
        return bytes
    }

    @Test("round trip", arguments: [0, 1, 1000, 1 << 20])
    func roundTrip(_ size: Int) throws {
        let input = Self.sample(size)
        let compressed = try BlockCodec.compress(input)
        #expect(try BlockCodec.decompress(compressed) == input)
        #expect(try BlockCodec.decompress(compressed, expectedSize: size) == input)
        #expect(try BlockCodec.decompress(compressed, expectedSize: 1) == input)
    }

    /// Random bytes deflate to more than they were: the output buffer (a quarter of the input to start with)
    /// must grow several times, finishing a stream and ending a sync-flushed prefix alike.
    @Test("incompressible input", arguments: [1, 4097, 300_000])
    func incompressible(_ size: Int) throws {
        var generator = SystemRandomNumberGenerator()
        let input = Data((0..<size).map { _ in UInt8.random(in: 0...255, using: &generator) })
        let compressed = try BlockCodec.compress(input)
        #expect(compressed.count > input.count)
        #expect(try BlockCodec.decompress(compressed) == input)
        let whole = try BlockCodec.compress(input, after: try BlockCodec.compressPrefix(input))
        #expect(try BlockCodec.decompress(whole) == input + input)
    }

    @Test("the size limit stops a zip bomb before it is inflated")
    func zipBomb() throws {
        let bomb = try BlockCodec.compress(Data(repeating: 0, count: 64 << 20), level: 9)
        #expect(bomb.count < 100_000)
        #expect(throws: WireError(code: .decompressedTooLarge, message: "")) {
            try BlockCodec.decompress(bomb, limit: 1 << 20)
        }
    }

    @Test("output of exactly the limit is accepted, one byte more is not")
    func exactLimit() throws {
        let input = Data(repeating: 7, count: 4096)
        let compressed = try BlockCodec.compress(input)
        #expect(try BlockCodec.decompress(compressed, limit: 4096) == input)
        #expect(throws: WireError(code: .decompressedTooLarge, message: "")) {
            try BlockCodec.decompress(compressed, limit: 4095)
        }
    }

    @Test("truncated stream is an error")
    func truncated() throws {
        let compressed = try BlockCodec.compress(Self.sample(10_000))
        let error = #expect(throws: WireError.self) {
            try BlockCodec.decompress(compressed.prefix(compressed.count / 2))
        }
        #expect(error?.code == .corruptCompressedData)
    }

    @Test("garbage and trailing bytes are errors")
    func garbage() throws {
        #expect(throws: WireError(code: .corruptCompressedData, message: "")) {
            try BlockCodec.decompress(Data("definitely not zlib".utf8))
        }
        var compressed = try BlockCodec.compress(Data("hello".utf8))
        compressed.append(0x00)
        #expect(throws: WireError(code: .corruptCompressedData, message: "")) {
            try BlockCodec.decompress(compressed)
        }
        var flipped = try BlockCodec.compress(Self.sample(5000))
        flipped[flipped.count - 2] ^= 0xff  // inside the Adler-32 trailer
        #expect(throws: WireError(code: .corruptCompressedData, message: "")) {
            try BlockCodec.decompress(flipped)
        }
    }

    @Test(
        "a prefix compressed ahead and completed with a suffix decompresses to prefix ‖ suffix",
        arguments: [(0, 0), (0, 100), (1000, 0), (1 << 20, 37), (70_000, 70_000)]
    )
    func prefixThenSuffix(_ sizes: (Int, Int)) throws {
        let prefix = Self.sample(sizes.0)
        let suffix = Self.sample(sizes.1)
        let deflated = try BlockCodec.compressPrefix(prefix)
        #expect(deflated.uncompressedCount == prefix.count)
        let whole = try BlockCodec.compress(suffix, after: deflated)
        #expect(try BlockCodec.decompress(whole) == prefix + suffix)
        #expect(try BlockCodec.decompress(whole, expectedSize: prefix.count + suffix.count) == prefix + suffix)
        // A damaged checksum (the last four bytes) is caught.
        var damaged = whole
        damaged[damaged.count - 1] ^= 0x01
        #expect(throws: WireError(code: .corruptCompressedData, message: "")) {
            try BlockCodec.decompress(damaged)
        }
    }
}
