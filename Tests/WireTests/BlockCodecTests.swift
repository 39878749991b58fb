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

    /// Random bytes deflate to more than they were: the output must still fit, alone and as a prefix.
    @Test("incompressible input", arguments: [1, 4097, 300_000])
    func incompressible(_ size: Int) throws {
        var generator = SystemRandomNumberGenerator()
        let input = Data((0..<size).map { _ in UInt8.random(in: 0...255, using: &generator) })
        let compressed = try BlockCodec.compress(input)
        #expect(compressed.count > input.count)
        #expect(try BlockCodec.decompress(compressed) == input)
        let whole = try BlockCodec.compress(input) + BlockCodec.compress(input)
        #expect(try BlockCodec.decompress(whole, concatenated: true) == input + input)
    }

    /// Stores written before libdeflate compressed their blocks with zlib's own deflate; those streams (made here
    /// by Python's zlib at levels 1 and 9) still decompress.
    @Test("streams made by zlib itself decompress", arguments: [
        "7801f3a82c482dca494d494f2d52704b4c2aca4c5648cac94fce56f01895180d92d1c4305cb201032313330b2b1b3b072717370f2f1f"
            + "bf80a090b088a898b884a494b48cac9cbc82a292b28aaa9aba86a696b68eae9ebe81a191b189a999b985a595b58dad9dbd83a393"
            + "b38bab9bbb87a797b78faf9f7f4060507048685878446454744c6c5c7c426252724a6a5a7a466656764e6e5e7e416151714969"
            + "5979456555754d6d5d7d436353734b6b5b7b476757774f6f5fff848993264f993a6dfa8c99b366cf993b6ffe82858b162f59ba6c"
            + "f98a95ab56af59bb6efd868d9b366fd9ba6dfb8e9dbb76efd9bb6fff8183870e1f397aecf88993a74e9f397beefc858b972e5fb9"
            + "7aedfa8d9bb76edfb97beffe83878f1e3f79faecf98b97af5ebf79fbeefd878f9f3e7ff9faedfb8f9fbf7efff9fbef3f003d5cee98",
        "78daf3a82c482dca494d494f2d52704b4c2aca4c5648cac94fce56f0189518951895182e120c8c4ccc2cac6cec1c9c5cdc3cbc7cfc02"
            + "8242c222a262e2129252d232b272f20a8a4aca2aaa6aea1a9a5ada3aba7afa068646c626a666e6169656d636b676f60e8e4ece2ea"
            + "e6eee1e9e5ede3ebe7efe018141c121a161e1119151d131b171f1098949c929a969e9199959d939b979f9058545c525a565e5159"
            + "555d535b575f50d8d4dcd2dad6ded1d9d5ddd3dbd7dfd13264e9a3c65eab4e93366ce9a3d67eebcf90b162e5abc64e9b2e52b56ae"
            + "5abd66edbaf51b366edabc65ebb6ed3b76eedabd67efbefd070e1e3a7ce4e8b1e3274e9e3a7de6ecb9f3172e5eba7ce5eab5eb376e"
            + "deba7de7eebdfb0f1e3e7afce4e9b3e72f5ebe7afde6edbbf71f3e7efafce5ebb7ef3f7efefafde7efbfff003d5cee98",
    ])
    func zlibMadeStreams(_ hex: String) throws {
        let expected = Data(String(repeating: "Hyperledger Fabric block ", count: 40).utf8) + Data(0...255)
        let stream = try #require(Data(hexString: hex))
        #expect(try BlockCodec.decompress(stream) == expected)
        #expect(try BlockCodec.decompress(stream, expectedSize: expected.count, concatenated: true) == expected)
    }

    @Test("every compression level round trips", arguments: Array(Int32(0)...12))
    func everyLevel(_ level: Int32) throws {
        let input = Self.sample(50_000)
        #expect(try BlockCodec.decompress(try BlockCodec.compress(input, level: level)) == input)
    }

    @Test("a level outside 0 … 12 is an error", arguments: [Int32(-1), 13])
    func badLevel(_ level: Int32) throws {
        #expect(throws: WireError(code: .compressionFailed, message: "")) {
            try BlockCodec.compress(Data("block".utf8), level: level)
        }
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
        "two streams compressed apart decompress to prefix ‖ suffix",
        arguments: [(0, 0), (0, 100), (1000, 0), (1 << 20, 37), (70_000, 70_000)]
    )
    func prefixThenSuffix(_ sizes: (Int, Int)) throws {
        let prefix = Self.sample(sizes.0)
        let suffix = Self.sample(sizes.1)
        let first = try BlockCodec.compress(prefix)
        let whole = try first + BlockCodec.compress(suffix)
        #expect(try BlockCodec.decompress(whole, concatenated: true) == prefix + suffix)
        #expect(
            try BlockCodec.decompress(whole, expectedSize: prefix.count + suffix.count, concatenated: true)
                == prefix + suffix
        )
        // Two streams are an error where one is expected.
        #expect(throws: WireError(code: .corruptCompressedData, message: "")) {
            try BlockCodec.decompress(whole)
        }
        // A damaged checksum of either stream (the last four bytes of each) is caught.
        for end in [first.count, whole.count] {
            var damaged = whole
            damaged[end - 1] ^= 0x01
            #expect(throws: WireError(code: .corruptCompressedData, message: "")) {
                try BlockCodec.decompress(damaged, concatenated: true)
            }
        }
        // Cut inside the second stream, or followed by bytes that are not a stream: errors, not a short result.
        #expect(throws: WireError.self) {
            try BlockCodec.decompress(whole.prefix(first.count + 3), concatenated: true)
        }
        #expect(throws: WireError(code: .corruptCompressedData, message: "")) {
            try BlockCodec.decompress(whole + Data("not zlib".utf8), concatenated: true)
        }
    }
}
