public import Foundation

/// Fabric's transaction id: lowercase hex of SHA-256(nonce ‖ creator), where both come from the SignatureHeader.
public enum TxID {
    /// Computes the tx id a client derives from its nonce and serialized creator identity.
    public static func compute(nonce: Data, creator: Data) -> String {
        Digest.sha256(concatenating: [nonce, creator]).hexString
    }
}

extension Data {
    /// The bytes as lowercase hexadecimal.
    public var hexString: String {
        let digits: StaticString = "0123456789abcdef"
        return self.withUnsafeBytes { bytes in
            String(unsafeUninitializedCapacity: bytes.count * 2) { out in
                digits.withUTF8Buffer { digits in
                    for (index, byte) in bytes.enumerated() {
                        out[2 * index] = digits[Int(byte >> 4)]
                        out[2 * index + 1] = digits[Int(byte & 0x0f)]
                    }
                }
                return bytes.count * 2
            }
        }
    }

    /// Parses lowercase or uppercase hexadecimal; nil if `hex` has odd length or a non-hex character.
    public init?(hexString hex: String) {
        let chars = Array(hex.utf8)
        guard chars.count % 2 == 0 else { return nil }
        var bytes = [UInt8]()
        bytes.reserveCapacity(chars.count / 2)
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
            default: return nil
            }
        }
        var index = 0
        while index < chars.count {
            guard let high = nibble(chars[index]), let low = nibble(chars[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        self.init(bytes)
    }
}
