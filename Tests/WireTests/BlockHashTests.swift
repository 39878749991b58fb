import Foundation
import SwiftProtobuf
import Testing
import Wire

@Suite("Block header and data hashes")
struct BlockHashTests {
    struct Vector: Sendable, CustomTestStringConvertible {
        let number: UInt64
        let previousHash: Data
        let dataHash: Data
        let der: String
        let sha256: String?
        var testDescription: String { "number \(self.number)" }
    }

    // The vectors of spec §11.
    static let vectors: [Vector] = [
        Vector(
            number: 1,
            previousHash: Data("foo".utf8),
            dataHash: Data("bar".utf8),
            der: "300d0201010403666f6f0403626172",
            sha256: "e93c1382cc0ad21a64ae3286fd3ec883e2da582a793eb7b255954370b90a6b5b"
        ),
        Vector(
            number: UInt64.max,
            previousHash: Data("foo".utf8),
            dataHash: Data("bar".utf8),
            der: "3015020900ffffffffffffffff0403666f6f0403626172",
            sha256: "881d18bfd3f0892744d9ac21cec5c19df483b07f4f196654d758cd57dda1cace"
        ),
        Vector(number: 0, previousHash: Data(), dataHash: Data(), der: "300702010004000400", sha256: nil),
        // 128 has its top bit set, so it needs a leading zero byte; 255 and 256 check the byte boundaries.
        Vector(number: 128, previousHash: Data(), dataHash: Data(), der: "30080202008004000400", sha256: nil),
        Vector(number: 256, previousHash: Data(), dataHash: Data(), der: "30080202010004000400", sha256: nil),
    ]

    @Test("DER encoding and hash match Fabric's", arguments: vectors)
    func headerVectors(_ vector: Vector) {
        var header = Common_BlockHeader()
        header.number = vector.number
        header.previousHash = vector.previousHash
        header.dataHash = vector.dataHash
        #expect(header.derEncoding.hexString == vector.der)
        if let sha = vector.sha256 {
            #expect(header.hash.hexString == sha)
        }
    }

    @Test("hashes longer than 127 bytes use DER long-form lengths")
    func longFormLength() {
        var header = Common_BlockHeader()
        header.number = 5
        header.previousHash = Data(repeating: 0xaa, count: 200)
        let der = header.derEncoding
        // SEQUENCE length: 3 (INTEGER) + 3 + 200 (OCTET STRING, 0x81 0xc8 form) + 2 (empty OCTET STRING) = 208
        #expect(der.prefix(3) == Data([0x30, 0x81, 208]))
        #expect(der.dropFirst(3).prefix(3) == Data([0x02, 0x01, 0x05]))
        #expect(der.dropFirst(6).prefix(3) == Data([0x04, 0x81, 200]))
        #expect(der.count == 3 + 208)
    }

    @Test("data hash is SHA-256 over the concatenated raw envelopes")
    func dataHash() {
        var data = Common_BlockData()
        data.data = [Data("ab".utf8), Data("c".utf8)]
        #expect(data.hash == Digest.sha256(Data("abc".utf8)))
        #expect(Common_BlockData().hash == Digest.sha256(Data()))
    }

    @Test("SHA-256 known answers")
    func sha256KnownAnswers() {
        #expect(
            Digest.sha256(Data()).hexString == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        )
        #expect(
            Digest.sha256(Data("abc".utf8)).hexString
                == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        )
        #expect(
            Digest.sha3_256(Data("abc".utf8)).hexString
                == "3a985da74fe225b2045c172d6bd390bd855f086e3e9d525b46bfe24511431532"
        )
        let parts = [Data("a".utf8), Data(), Data("bc".utf8)]
        #expect(Digest.sha256(concatenating: parts) == Digest.sha256(Data("abc".utf8)))
    }

    /// Every algorithm MSPs may name (identity identifiers, signature and CRL hashes), one shot and in parts.
    @Test(
        "known answers of every digest algorithm",
        arguments: [
            (DigestAlgorithm.sha256, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
            (
                .sha384,
                "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7"
            ),
            (
                .sha512,
                "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
                    + "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"
            ),
            (.sha3_256, "3a985da74fe225b2045c172d6bd390bd855f086e3e9d525b46bfe24511431532"),
            (
                .sha3_384,
                "ec01498288516fc926459f58e2c6ad8df9b473cb0fc08c2596da7cf0e49be4b298d88cea927ac7f539f1edf228376d25"
            ),
        ]
    )
    func digestKnownAnswers(algorithm: DigestAlgorithm, abc: String) {
        #expect(Digest.digest(algorithm, Data("abc".utf8)).hexString == abc)
        #expect(Digest.digest(algorithm, Data("abc".utf8)).count == algorithm.size)
        let parts = [Data("a".utf8), Data(), Data("bc".utf8)]
        #expect(Digest.digest(algorithm, concatenating: parts).hexString == abc)
    }

    @Test("tx id is hex SHA-256 of nonce then creator")
    func txID() {
        let nonce = Data([1, 2, 3])
        let creator = Data("creator".utf8)
        #expect(TxID.compute(nonce: nonce, creator: creator) == Digest.sha256(nonce + creator).hexString)
        #expect(TxID.compute(nonce: nonce, creator: creator) != TxID.compute(nonce: creator, creator: nonce))
    }

    @Test("hex round trip and rejection of bad hex")
    func hex() {
        let bytes = Data([0x00, 0x7f, 0x80, 0xff])
        #expect(bytes.hexString == "007f80ff")
        #expect(Data(hexString: "007F80ff") == bytes)
        #expect(Data(hexString: "abc") == nil)
        #expect(Data(hexString: "zz") == nil)
    }
}
