import Foundation

/// One PEM block.
struct PEMBlock {
    /// The type from the BEGIN line ("CERTIFICATE", "PRIVATE KEY", …); may be empty.
    var type: String
    /// The decoded body.
    var bytes: Data
}

/// PEM decoding with the exact semantics of Go's `encoding/pem.Decode`, since Fabric's well-formedness rules
/// ("exactly one block, no trailing bytes") are defined by what that function returns as `rest`: text before the
/// first BEGIN line is skipped, the END line is consumed up to and including its newline, and whatever follows is
/// the rest.
enum PEM {
    private static let begin = Array("\n-----BEGIN ".utf8)
    private static let end = Array("\n-----END ".utf8)
    private static let dashes = Array("-----".utf8)

    /// Decodes the first PEM block of `data`; nil when there is none. `rest` is what follows the block.
    static func decode(_ data: Data) -> (block: PEMBlock, rest: Data)? {
        let bytes = [UInt8](data)
        var rest = bytes[...]
        while true {
            if rest.starts(with: begin.dropFirst()) {
                rest = rest.dropFirst(begin.count - 1)
            } else if let range = firstRange(of: begin, in: rest) {
                rest = rest[range.upperBound...]
            } else {
                return nil
            }
            let (typeLineRaw, afterType) = line(rest)
            rest = afterType
            guard typeLineRaw.count >= dashes.count, typeLineRaw.suffix(dashes.count).elementsEqual(dashes) else {
                continue
            }
            let typeLine = typeLineRaw.dropLast(dashes.count)
            // Headers ("Key: value" lines) are skipped; Fabric never uses them.
            var headerCount = 0
            var truncated = false
            while true {
                if rest.isEmpty {
                    truncated = true
                    break
                }
                let (headerLine, next) = line(rest)
                guard headerLine.contains(UInt8(ascii: ":")) else { break }
                headerCount += 1
                rest = next
            }
            if truncated { return nil }
            var endIndex: Int
            var endTrailerIndex: Int
            if headerCount == 0 && rest.starts(with: end.dropFirst()) {
                endIndex = rest.startIndex
                endTrailerIndex = rest.startIndex + end.count - 1
            } else if let range = firstRange(of: end, in: rest) {
                endIndex = range.lowerBound
                endTrailerIndex = range.upperBound
            } else {
                continue
            }
            let trailerLength = typeLine.count + dashes.count
            guard rest.endIndex - endTrailerIndex >= trailerLength else { continue }
            let trailer = rest[endTrailerIndex..<(endTrailerIndex + trailerLength)]
            let restOfEndLine = rest[(endTrailerIndex + trailerLength)...]
            guard trailer.starts(with: typeLine), trailer.suffix(dashes.count).elementsEqual(dashes) else { continue }
            guard line(restOfEndLine).line.isEmpty else { continue }
            let body = rest[rest.startIndex..<endIndex].filter { $0 != 0x20 && $0 != 0x09 && $0 != 0x0A && $0 != 0x0D }
            guard let decoded = Data(base64Encoded: Data(body)) else { continue }
            let (_, after) = line(rest[(endIndex + end.count - 1)...])
            return (PEMBlock(type: String(decoding: typeLine, as: UTF8.self), bytes: decoded), Data(after))
        }
    }

    /// Encodes `der` as a PEM block of `type`, 64 base64 characters per line (as Go's pem.EncodeToMemory).
    static func encode(type: String, _ der: Data) -> Data {
        let base64 = Array(der.base64EncodedString().utf8)
        var out = Array("-----BEGIN \(type)-----\n".utf8)
        var index = 0
        while index < base64.count {
            let stop = min(index + 64, base64.count)
            out.append(contentsOf: base64[index..<stop])
            out.append(0x0A)
            index = stop
        }
        out.append(contentsOf: Array("-----END \(type)-----\n".utf8))
        return Data(out)
    }

    /// Splits off the first line (without its newline and trailing spaces, tabs and carriage returns).
    private static func line(_ bytes: ArraySlice<UInt8>) -> (line: ArraySlice<UInt8>, rest: ArraySlice<UInt8>) {
        var lineEnd: Int
        var restStart: Int
        if let newline = bytes.firstIndex(of: 0x0A) {
            lineEnd = newline
            restStart = newline + 1
        } else {
            lineEnd = bytes.endIndex
            restStart = bytes.endIndex
        }
        while lineEnd > bytes.startIndex, [0x20, 0x09, 0x0D].contains(bytes[lineEnd - 1]) { lineEnd -= 1 }
        return (bytes[bytes.startIndex..<lineEnd], bytes[restStart...])
    }

    private static func firstRange(of needle: [UInt8], in haystack: ArraySlice<UInt8>) -> Range<Int>? {
        guard haystack.count >= needle.count else { return nil }
        var index = haystack.startIndex
        let last = haystack.endIndex - needle.count
        while index <= last {
            if haystack[index] == needle[0] && haystack[index..<(index + needle.count)].elementsEqual(needle) {
                return index..<(index + needle.count)
            }
            index += 1
        }
        return nil
    }
}
