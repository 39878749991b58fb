import Foundation

/// An ECDSA signature `SEQUENCE { INTEGER r, INTEGER s }`, parsed with the rules of Fabric's
/// `UnmarshalECDSASignature` (Go encoding/asn1: minimal integers; bytes after the SEQUENCE are ignored; r and s
/// must be positive).
struct ECDSASignature: Equatable {
    static func == (lhs: ECDSASignature, rhs: ECDSASignature) -> Bool { lhs.r == rhs.r && lhs.s == rhs.s }

    /// r, unsigned big-endian without leading zeros.
    var r: [UInt8]
    /// s, unsigned big-endian without leading zeros.
    var s: [UInt8]
    /// Whether the parsed input was exactly one DER SEQUENCE (no trailing bytes), hence already canonical.
    private(set) var parsedExactly = false

    init(r: [UInt8], s: [UInt8]) {
        self.r = BigEndian.trimmed(r)
        self.s = BigEndian.trimmed(s)
    }

    /// Parses `der`; throws a description of what is wrong.
    init(der: Data) throws(DER.ParseError) {
        var reader = DER.Reader([UInt8](der))
        let sequence = try reader.read(expecting: DER.Tag.sequence)
        var inner = DER.Reader(sequence.content)
        let rElement = try inner.read(expecting: DER.Tag.integer)
        let sElement = try inner.read(expecting: DER.Tag.integer)
        let r = try DER.parseInteger(rElement.content)
        let s = try DER.parseInteger(sElement.content)
        guard !r.negative, !r.magnitude.isEmpty else {
            throw DER.ParseError(description: "invalid signature, R must be larger than zero")
        }
        guard !s.negative, !s.magnitude.isEmpty else {
            throw DER.ParseError(description: "invalid signature, S must be larger than zero")
        }
        self.r = r.magnitude
        self.s = s.magnitude
        self.parsedExactly = reader.isAtEnd && inner.isAtEnd
    }

    /// The canonical DER encoding.
    var derEncoded: Data {
        Data(DER.sequence([DER.integer(unsigned: self.r), DER.integer(unsigned: self.s)]))
    }

    /// Whether s ≤ n/2 for `curve`.
    func isLowS(_ curve: EllipticCurve) -> Bool {
        BigEndian.compare(self.s, curve.halfOrder) <= 0
    }

    /// The low-S form (s replaced by n − s when above n/2), and whether it changed.
    func normalized(_ curve: EllipticCurve) -> (signature: ECDSASignature, modified: Bool) {
        guard !self.isLowS(curve) else { return (self, false) }
        return (ECDSASignature(r: self.r, s: BigEndian.subtract(curve.order, self.s)), true)
    }

    /// The high-S form (for tests that need Fabric-rejected signatures).
    func highS(_ curve: EllipticCurve) -> ECDSASignature {
        guard self.isLowS(curve) else { return self }
        return ECDSASignature(r: self.r, s: BigEndian.subtract(curve.order, self.s))
    }
}
