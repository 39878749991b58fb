import Foundation

/// The small grammars of profile values: Go durations, byte sizes, and the names Fabric and DNS accept.
enum ProfileSyntax {
    /// Seconds of a Go `time.ParseDuration` string ("500ms", "1m30s", "0"), or nil when it is not one.
    static func goDuration(_ text: String) -> Double? {
        var rest = Substring(text)
        var sign = 1.0
        if let first = rest.first, first == "-" || first == "+" {
            if first == "-" { sign = -1 }
            rest = rest.dropFirst()
        }
        if rest == "0" { return 0 }
        guard !rest.isEmpty else { return nil }
        let units: [(String, Double)] = [
            ("ns", 1e-9), ("us", 1e-6), ("µs", 1e-6), ("μs", 1e-6), ("ms", 1e-3), ("s", 1), ("m", 60), ("h", 3600),
        ]
        var total = 0.0
        while !rest.isEmpty {
            let number = rest.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
            guard !number.isEmpty, number != ".", number.filter({ $0 == "." }).count <= 1, let value = Double(number)
            else { return nil }
            rest = rest.dropFirst(number.count)
            let unitText = rest.prefix { !($0.isASCII && ($0.isNumber || $0 == ".")) }
            guard let unit = units.first(where: { $0.0 == unitText }) else { return nil }
            rest = rest.dropFirst(unitText.count)
            total += value * unit.1
        }
        return sign * total
    }

    /// Bytes of a size as configtx.yaml writes it: a plain number of bytes, or a number with `KB`, `MB` or `GB`
    /// (powers of 1024, as configtxgen reads them), with or without a space. Nil when it is neither, or does not
    /// fit 32 bits.
    static func byteSize(_ text: String) -> UInt32? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let digits = trimmed.prefix { $0.isASCII && $0.isNumber }
        guard !digits.isEmpty, let value = UInt64(digits) else { return nil }
        let unit = trimmed.dropFirst(digits.count).trimmingCharacters(in: .whitespaces).uppercased()
        let multiplier: UInt64
        switch unit {
        case "", "B": multiplier = 1
        case "KB": multiplier = 1024
        case "MB": multiplier = 1024 * 1024
        case "GB": multiplier = 1024 * 1024 * 1024
        default: return nil
        }
        let (bytes, overflow) = value.multipliedReportingOverflow(by: multiplier)
        guard !overflow, bytes <= UInt64(UInt32.max) else { return nil }
        return UInt32(bytes)
    }

    /// Fabric's channel id rule: `[a-z][a-z0-9.-]*`, shorter than 250 characters.
    static func isChannelID(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first, ("a"..."z").contains(first), text.count < 250 else { return false }
        return text.unicodeScalars.allSatisfy {
            ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "." || $0 == "-"
        }
    }

    /// A config group name (configtx's rule): `[A-Za-z0-9._-]`, 1…249 characters, not `.` or `..`.
    static func isConfigName(_ text: String) -> Bool {
        guard !text.isEmpty, text.count < 250, text != ".", text != ".." else { return false }
        return text.unicodeScalars.allSatisfy { isAlphanumeric($0) || $0 == "." || $0 == "_" || $0 == "-" }
    }

    /// An MSP id that Fabric's policy language accepts in `'<MSP id>.<role>'`: `[A-Za-z0-9.-]+`.
    static func isMSPID(_ text: String) -> Bool {
        !text.isEmpty && text.unicodeScalars.allSatisfy { isAlphanumeric($0) || $0 == "." || $0 == "-" }
    }

    /// One DNS label: letters, digits and inner hyphens, 1…63 characters.
    static func isHostLabel(_ text: String) -> Bool {
        guard !text.isEmpty, text.count <= 63, !text.hasPrefix("-"), !text.hasSuffix("-") else { return false }
        return text.unicodeScalars.allSatisfy { isAlphanumeric($0) || $0 == "-" }
    }

    /// A DNS domain: one or more labels separated by dots.
    static func isDomain(_ text: String) -> Bool {
        !text.isEmpty && text.count <= 253
            && text.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { isHostLabel(String($0)) }
    }

    /// A host of an endpoint: a domain name or an IP address.
    static func isHost(_ text: String) -> Bool {
        isDomain(text) || isIPAddress(text)
    }

    /// Whether `text` is an IPv4 or IPv6 address.
    static func isIPAddress(_ text: String) -> Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, text, &v4) == 1 || inet_pton(AF_INET6, text, &v6) == 1
    }

    /// An implicit-meta rule `<ANY|ALL|MAJORITY> <sub-policy>`.
    static func isImplicitMetaRule(_ text: String) -> Bool {
        let parts = text.split(separator: " ")
        return parts.count == 2 && ["ANY", "ALL", "MAJORITY"].contains(parts[0]) && isConfigName(String(parts[1]))
    }

    private static func isAlphanumeric(_ scalar: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar)
    }

    /// The candidate closest to `word` (case-insensitive edit distance at most 2), for "did you mean" hints.
    static func closest(to word: String, in candidates: [String]) -> String? {
        let lowered = Array(word.lowercased())
        var best: (String, Int)?
        for candidate in candidates {
            let distance = editDistance(lowered, Array(candidate.lowercased()))
            if distance <= 2, distance < (best?.1 ?? Int.max) { best = (candidate, distance) }
        }
        return best?.0
    }

    private static func editDistance(_ a: [Character], _ b: [Character]) -> Int {
        guard !a.isEmpty else { return b.count }
        guard !b.isEmpty else { return a.count }
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }
}
