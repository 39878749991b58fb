import Foundation

/// A minimal DER reader and writer: enough ASN.1 for certificate outer structures, ECDSA signatures, and the
/// TBSCertificate / TBSCertList bodies the issuing API builds. Tags are single-byte (number < 31).
enum DER {
    /// An error in DER input; callers turn it into an ``MSPError`` naming what was being parsed.
    struct ParseError: Error, CustomStringConvertible {
        var description: String
    }

    /// Universal and context tags used here.
    enum Tag {
        static let boolean: UInt8 = 0x01
        static let integer: UInt8 = 0x02
        static let bitString: UInt8 = 0x03
        static let octetString: UInt8 = 0x04
        static let null: UInt8 = 0x05
        static let objectIdentifier: UInt8 = 0x06
        static let utf8String: UInt8 = 0x0C
        static let printableString: UInt8 = 0x13
        static let utcTime: UInt8 = 0x17
        static let generalizedTime: UInt8 = 0x18
        static let sequence: UInt8 = 0x30
        static let set: UInt8 = 0x31
    }

    /// One parsed element: its tag, its whole encoding and its content.
    struct Element {
        var tag: UInt8
        var raw: ArraySlice<UInt8>
        var content: ArraySlice<UInt8>
    }

    /// Reads consecutive elements from a byte buffer; lengths must be definite and minimal (DER).
    struct Reader {
        private let bytes: [UInt8]
        private var offset: Int
        private let end: Int

        init(_ bytes: [UInt8]) {
            self.bytes = bytes
            self.offset = 0
            self.end = bytes.count
        }

        init(_ slice: ArraySlice<UInt8>) {
            self.bytes = Array(slice)
            self.offset = 0
            self.end = self.bytes.count
        }

        var isAtEnd: Bool { self.offset >= self.end }

        /// The bytes not read yet.
        var remaining: ArraySlice<UInt8> { self.bytes[self.offset..<self.end] }

        mutating func read() throws(ParseError) -> Element {
            let start = self.offset
            guard self.offset < self.end else { throw ParseError(description: "unexpected end of data") }
            let tag = self.bytes[self.offset]
            guard tag & 0x1F != 0x1F else { throw ParseError(description: "multi-byte tags are not supported") }
            self.offset += 1
            guard self.offset < self.end else { throw ParseError(description: "missing length") }
            let first = self.bytes[self.offset]
            self.offset += 1
            var length = 0
            if first < 0x80 {
                length = Int(first)
            } else {
                let count = Int(first & 0x7F)
                guard count > 0, count <= 4 else { throw ParseError(description: "unsupported length form") }
                guard self.offset + count <= self.end else { throw ParseError(description: "truncated length") }
                guard self.bytes[self.offset] != 0 else { throw ParseError(description: "non-minimal length") }
                for _ in 0..<count {
                    length = (length << 8) | Int(self.bytes[self.offset])
                    self.offset += 1
                }
                guard length >= 0x80 else { throw ParseError(description: "non-minimal length") }
            }
            guard length <= self.end - self.offset else { throw ParseError(description: "truncated element") }
            let contentStart = self.offset
            self.offset += length
            return Element(
                tag: tag,
                raw: self.bytes[start..<self.offset],
                content: self.bytes[contentStart..<self.offset]
            )
        }

        mutating func read(expecting tag: UInt8) throws(ParseError) -> Element {
            let element = try self.read()
            guard element.tag == tag else {
                throw ParseError(
                    description: "expected tag 0x\(String(tag, radix: 16)), found 0x\(String(element.tag, radix: 16))"
                )
            }
            return element
        }
    }

    /// Parses a DER INTEGER's content as Go's encoding/asn1 does: non-empty and minimally encoded. Returns the
    /// magnitude (no leading zeros) and whether the value is negative.
    static func parseInteger(_ content: ArraySlice<UInt8>) throws(ParseError) -> (magnitude: [UInt8], negative: Bool) {
        guard let first = content.first else { throw ParseError(description: "empty integer") }
        if content.count > 1 {
            let second = content[content.startIndex + 1]
            if (first == 0 && second & 0x80 == 0) || (first == 0xFF && second & 0x80 == 0x80) {
                throw ParseError(description: "integer not minimally-encoded")
            }
        }
        let negative = first & 0x80 != 0
        return (BigEndian.trimmed(Array(content)), negative)
    }

    // MARK: - Writing

    static func encode(tag: UInt8, _ content: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [tag]
        out.append(contentsOf: self.length(content.count))
        out.append(contentsOf: content)
        return out
    }

    static func length(_ count: Int) -> [UInt8] {
        if count < 0x80 { return [UInt8(count)] }
        var bytes: [UInt8] = []
        var value = count
        while value > 0 {
            bytes.insert(UInt8(value & 0xFF), at: 0)
            value >>= 8
        }
        return [0x80 | UInt8(bytes.count)] + bytes
    }

    static func sequence(_ elements: [[UInt8]]) -> [UInt8] { encode(tag: Tag.sequence, elements.flatMap { $0 }) }

    static func set(_ elements: [[UInt8]]) -> [UInt8] { encode(tag: Tag.set, elements.flatMap { $0 }) }

    /// An INTEGER from an unsigned big-endian magnitude.
    static func integer(unsigned magnitude: [UInt8]) -> [UInt8] {
        var content = BigEndian.trimmed(magnitude)
        if content.isEmpty { content = [0] }
        if content[0] & 0x80 != 0 { content.insert(0, at: 0) }
        return encode(tag: Tag.integer, content)
    }

    static func integer(_ value: Int) -> [UInt8] {
        precondition(value >= 0)
        var bytes: [UInt8] = []
        var rest = value
        repeat {
            bytes.insert(UInt8(rest & 0xFF), at: 0)
            rest >>= 8
        } while rest > 0
        return integer(unsigned: bytes)
    }

    static func boolean(_ value: Bool) -> [UInt8] { encode(tag: Tag.boolean, [value ? 0xFF : 0x00]) }

    static func octetString(_ bytes: [UInt8]) -> [UInt8] { encode(tag: Tag.octetString, bytes) }

    /// A BIT STRING with no unused bits.
    static func bitString(_ bytes: [UInt8]) -> [UInt8] { encode(tag: Tag.bitString, [0] + bytes) }

    static let null: [UInt8] = [0x05, 0x00]

    /// An OBJECT IDENTIFIER from its dotted form.
    static func objectIdentifier(_ dotted: String) -> [UInt8] {
        let arcs = dotted.split(separator: ".").map { UInt64($0)! }
        var content: [UInt8] = []
        func base128(_ value: UInt64) -> [UInt8] {
            var out: [UInt8] = [UInt8(value & 0x7F)]
            var rest = value >> 7
            while rest > 0 {
                out.insert(UInt8(rest & 0x7F) | 0x80, at: 0)
                rest >>= 7
            }
            return out
        }
        content.append(contentsOf: base128(arcs[0] * 40 + arcs[1]))
        for arc in arcs.dropFirst(2) { content.append(contentsOf: base128(arc)) }
        return encode(tag: Tag.objectIdentifier, content)
    }

    static func contextSpecific(_ number: UInt8, constructed: Bool, _ content: [UInt8]) -> [UInt8] {
        encode(tag: 0x80 | (constructed ? 0x20 : 0) | number, content)
    }

    /// A string the way Go's encoding/asn1 writes pkix names: PrintableString when every character is printable,
    /// UTF8String otherwise.
    static func directoryString(_ value: String) -> [UInt8] {
        let printable = value.utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"):
                return true
            default:
                return " '()+,-./:=?".utf8.contains(byte)
            }
        }
        return encode(tag: printable ? Tag.printableString : Tag.utf8String, Array(value.utf8))
    }

    /// UTCTime for years 1950..2049, GeneralizedTime otherwise (RFC 5280 §4.1.2.5), at second precision.
    static func time(_ date: Date) -> [UInt8] {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        let year = c.year!
        func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let rest = two(c.month!) + two(c.day!) + two(c.hour!) + two(c.minute!) + two(c.second!) + "Z"
        if year >= 1950 && year < 2050 {
            return encode(tag: Tag.utcTime, Array((two(year % 100) + rest).utf8))
        }
        return encode(tag: Tag.generalizedTime, Array((String(year) + rest).utf8))
    }
}

/// Arithmetic on unsigned big-endian byte strings, as needed for ECDSA low-S (s' = n − s).
enum BigEndian {
    /// `bytes` without leading zero bytes.
    static func trimmed(_ bytes: [UInt8]) -> [UInt8] {
        guard let first = bytes.firstIndex(where: { $0 != 0 }) else { return [] }
        return Array(bytes[first...])
    }

    /// Compares two unsigned magnitudes: -1, 0 or 1.
    static func compare(_ lhs: [UInt8], _ rhs: [UInt8]) -> Int {
        let a = trimmed(lhs)
        let b = trimmed(rhs)
        if a.count != b.count { return a.count < b.count ? -1 : 1 }
        for (x, y) in zip(a, b) where x != y { return x < y ? -1 : 1 }
        return 0
    }

    /// `lhs − rhs` for `lhs ≥ rhs`.
    static func subtract(_ lhs: [UInt8], _ rhs: [UInt8]) -> [UInt8] {
        var result = lhs
        var borrow = 0
        var j = rhs.count - 1
        for i in stride(from: result.count - 1, through: 0, by: -1) {
            var value = Int(result[i]) - borrow - (j >= 0 ? Int(rhs[j]) : 0)
            j -= 1
            if value < 0 {
                value += 256
                borrow = 1
            } else {
                borrow = 0
            }
            result[i] = UInt8(value)
        }
        return trimmed(result)
    }

    /// `value >> 1`.
    static func halved(_ value: [UInt8]) -> [UInt8] {
        var result = [UInt8](repeating: 0, count: value.count)
        var carry: UInt8 = 0
        for (index, byte) in value.enumerated() {
            result[index] = (byte >> 1) | (carry << 7)
            carry = byte & 1
        }
        return trimmed(result)
    }
}
