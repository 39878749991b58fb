public import Foundation

extension Common_BlockHeader {
    /// The header's ASN.1 DER encoding, `SEQUENCE { INTEGER number, OCTET STRING previous_hash,
    /// OCTET STRING data_hash }`: the bytes Fabric hashes for the block hash and signs in orderer signatures.
    ///
    /// The INTEGER is the minimal two's-complement encoding of the unsigned number (a leading 0x00 when its top
    /// bit is set); an empty hash is an empty OCTET STRING.
    public var derEncoding: Data {
        var body = DER.integer(self.number)
        body.append(DER.octetString(self.previousHash))
        body.append(DER.octetString(self.dataHash))
        return DER.sequence(body)
    }

    /// The block hash: SHA-256 of ``derEncoding``. Block N+1's `previous_hash` must equal block N's hash.
    public var hash: Data { Digest.sha256(self.derEncoding) }
}

extension Common_BlockData {
    /// SHA-256 over the raw envelope bytes concatenated in order, without length prefixes; must equal the
    /// header's `data_hash`.
    public var hash: Data { Digest.sha256(concatenating: self.data) }
}

extension Common_Block {
    /// The block hash (SHA-256 of the DER-encoded header).
    public var headerHash: Data { self.header.hash }
}

/// The minimal DER writer the block header needs.
enum DER {
    static func integer(_ value: UInt64) -> Data {
        var bytes: [UInt8] = []
        var remaining = value
        repeat {
            bytes.insert(UInt8(truncatingIfNeeded: remaining), at: 0)
            remaining >>= 8
        } while remaining != 0
        if bytes[0] & 0x80 != 0 { bytes.insert(0, at: 0) }
        return element(tag: 0x02, Data(bytes))
    }

    static func octetString(_ value: Data) -> Data { element(tag: 0x04, value) }

    static func sequence(_ body: Data) -> Data { element(tag: 0x30, body) }

    static func element(tag: UInt8, _ content: Data) -> Data {
        var out = Data([tag])
        out.append(length(content.count))
        out.append(content)
        return out
    }

    static func length(_ count: Int) -> Data {
        if count < 0x80 { return Data([UInt8(count)]) }
        var bytes: [UInt8] = []
        var remaining = count
        while remaining > 0 {
            bytes.insert(UInt8(truncatingIfNeeded: remaining), at: 0)
            remaining >>= 8
        }
        return Data([0x80 | UInt8(bytes.count)] + bytes)
    }
}
