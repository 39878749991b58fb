import Foundation
import Testing
import Wire

@Suite("zstd record codec")
struct ZstdCodecTests {
    static func sample(_ count: Int) -> Data { BlockCodecTests.sample(count) }

    @Test("round trip", arguments: [0, 1, 1000, 1 << 20])
    func roundTrip(_ size: Int) throws {
        let input = Self.sample(size)
        let compressed = try ZstdCodec.compress(input)
        #expect(try ZstdCodec.decompress(compressed) == input)
        #expect(try ZstdCodec.decompress(compressed, expectedSize: size) == input)
    }

    /// A frame made by the zstd command-line tool (`printf 'Hyperledger Fabric block %.0s' {1..40} > f; zstd -19
    /// --no-check f`), with its size in the header and no checksum, decompresses.
    @Test func framesMadeByZstdItself() throws {
        let expected = Data(String(repeating: "Hyperledger Fabric block ", count: 40).utf8)
        let frame = try #require(Data(hexString: Self.cliFrame))
        #expect(try ZstdCodec.decompress(frame) == expected)
        #expect(try ZstdCodec.decompress(frame + frame) == expected + expected)
    }

    static let cliFrame = "28b52ffd60e8020d0100c848797065726c65646765722046616272696320626c6f636b20010031e76a8e01"

    @Test("every level from the fastest to 19 round trips", arguments: [Int32(-7), -5, -1, 1, 3, 9, 19])
    func levels(_ level: Int32) throws {
        let input = Self.sample(50_000)
        #expect(try ZstdCodec.decompress(try ZstdCodec.compress(input, level: level)) == input)
    }

    @Test func levelOutOfRange() {
        #expect(throws: WireError(code: .compressionFailed, message: "")) {
            try ZstdCodec.compress(Data("block".utf8), level: 23)
        }
    }

    /// Random bytes do not shrink: the frame still holds them.
    @Test("incompressible input", arguments: [1, 4097, 300_000])
    func incompressible(_ size: Int) throws {
        var generator = SystemRandomNumberGenerator()
        let input = Data((0..<size).map { _ in UInt8.random(in: 0...255, using: &generator) })
        #expect(try ZstdCodec.decompress(try ZstdCodec.compress(input)) == input)
    }

    /// The frames' declared sizes are checked against the limit before anything is allocated.
    @Test func decompressionBomb() throws {
        let bomb = try ZstdCodec.compress(Data(repeating: 0, count: 64 << 20), level: 19)
        #expect(bomb.count < 64 << 10)
        #expect(throws: WireError(code: .decompressedTooLarge, message: "")) {
            try ZstdCodec.decompress(bomb, limit: 1 << 20)
        }
        // Two frames each under the limit, together over it.
        let half = try ZstdCodec.compress(Data(repeating: 1, count: 3000))
        #expect(try ZstdCodec.decompress(half + half, limit: 6000).count == 6000)
        #expect(throws: WireError(code: .decompressedTooLarge, message: "")) {
            try ZstdCodec.decompress(half + half, limit: 5999)
        }
    }

    @Test func expectedSizeMustMatch() throws {
        let compressed = try ZstdCodec.compress(Self.sample(4096))
        #expect(throws: WireError(code: .corruptCompressedData, message: "")) {
            try ZstdCodec.decompress(compressed, expectedSize: 4095)
        }
    }

    @Test(
        "frames compressed apart decompress to prefix ‖ suffix",
        arguments: [(0, 0), (0, 100), (1000, 0), (1 << 20, 37), (70_000, 70_000)]
    )
    func prefixThenSuffix(_ sizes: (Int, Int)) throws {
        let prefix = Self.sample(sizes.0)
        let suffix = Self.sample(sizes.1)
        let first = try ZstdCodec.compress(prefix)
        let whole = try first + ZstdCodec.compress(suffix)
        #expect(try ZstdCodec.decompress(whole) == prefix + suffix)
        #expect(try ZstdCodec.decompress(whole, expectedSize: prefix.count + suffix.count) == prefix + suffix)
        // A flipped bit in either frame's content checksum (each frame's last four bytes) is caught.
        for end in [first.count, whole.count] {
            var damaged = whole
            damaged[end - 1] ^= 0x01
            #expect(throws: WireError(code: .corruptCompressedData, message: "")) {
                try ZstdCodec.decompress(damaged)
            }
        }
        // Cut inside the second frame, or followed by bytes that are not a frame: errors, not a short result.
        #expect(throws: WireError(code: .corruptCompressedData, message: "")) {
            try ZstdCodec.decompress(whole.prefix(first.count + 3))
        }
        #expect(throws: WireError(code: .corruptCompressedData, message: "")) {
            try ZstdCodec.decompress(whole + Data("not zstd".utf8))
        }
    }

    /// A frame without its content size (what zstd writes when it compresses a stream of unknown length) is
    /// refused: the store only reads frames whose size it can check against its limit first.
    @Test func frameWithoutDeclaredSize() throws {
        let frame = try #require(Data(hexString: "28b52ffd00680d0100c848797065726c65646765722046616272696320626c6f636b20010031e76a8e01"))
        #expect(throws: WireError(code: .corruptCompressedData, message: "")) {
            try ZstdCodec.decompress(frame)
        }
    }

    @Test func garbageAndEmptyInput() {
        #expect(throws: WireError(code: .corruptCompressedData, message: "")) {
            try ZstdCodec.decompress(Data("definitely not zstd".utf8))
        }
        #expect(throws: WireError(code: .corruptCompressedData, message: "")) {
            try ZstdCodec.decompress(Data())
        }
    }
}
