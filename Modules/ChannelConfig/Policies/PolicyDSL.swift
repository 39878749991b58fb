import Foundation
public import Wire

/// Fabric's signature-policy language, as configtxgen and the peer CLI accept it:
/// `OR('Org1MSP.member', AND('Org2MSP.peer', 'Org3MSP.admin'))`, `OutOf(2, 'A.member', 'B.member', 'C.member')`.
///
/// Gates: `AND`/`And`/`and` (all), `OR`/`Or`/`or` (one), `OutOf`/`outof`/`OUTOF` (n). Principals: `'<MSP id>.<role>'`
/// with role member, admin, client, peer or orderer. Each principal occurrence gets its own identity entry,
/// numbered as Fabric numbers them (a gate's nested gates first, then its own principals), so the envelope is
/// byte-for-byte what Fabric's parser makes.
public enum PolicyDSL {
    indirect enum Node {
        case principal(mspID: String, role: Common_MSPRole.MSPRoleType)
        case gate(n: Int, children: [Node])
    }

    /// Parses `text` into a signature policy envelope.
    public static func parse(_ text: String) throws(ChannelConfigError) -> Common_SignaturePolicyEnvelope {
        var parser = Parser(Array(text.unicodeScalars), source: text)
        let node = try parser.parseExpression()
        parser.skipSpaces()
        guard parser.atEnd else { throw parser.error("unexpected text after the policy") }
        guard case .gate = node else { throw parser.error("a policy must be a gate (AND, OR, OutOf)") }
        var identities: [Common_MSPPrincipal] = []
        let rule = build(node, &identities)
        var envelope = Common_SignaturePolicyEnvelope()
        envelope.version = 0
        envelope.rule = rule
        envelope.identities = identities
        return envelope
    }

    private static func build(_ node: Node, _ identities: inout [Common_MSPPrincipal]) -> Common_SignaturePolicy {
        guard case .gate(let n, let children) = node else { preconditionFailure("principals are built by their gate") }
        var built: [Common_SignaturePolicy?] = children.map { child in
            if case .gate = child { return build(child, &identities) }
            return nil
        }
        for (index, child) in children.enumerated() {
            guard case .principal(let mspID, let role) = child else { continue }
            var mspRole = Common_MSPRole()
            mspRole.mspIdentifier = mspID
            mspRole.role = role
            var principal = Common_MSPPrincipal()
            principal.principalClassification = .role
            principal.principal = (try? mspRole.encoded()) ?? .init()
            var signedBy = Common_SignaturePolicy()
            signedBy.signedBy = Int32(identities.count)
            identities.append(principal)
            built[index] = signedBy
        }
        var nOutOf = Common_SignaturePolicy.NOutOf()
        nOutOf.n = Int32(n)
        nOutOf.rules = built.map { $0! }
        var policy = Common_SignaturePolicy()
        policy.nOutOf = nOutOf
        return policy
    }

    struct Parser {
        let chars: [Unicode.Scalar]
        let source: String
        var index = 0

        init(_ chars: [Unicode.Scalar], source: String) {
            self.chars = chars
            self.source = source
        }

        var atEnd: Bool { self.index >= self.chars.count }

        func error(_ message: String) -> ChannelConfigError {
            ChannelConfigError(.badPolicy, "policy '\(self.source)': \(message) at offset \(self.index)")
        }

        mutating func skipSpaces() {
            while !atEnd, chars[index].properties.isWhitespace { index += 1 }
        }

        mutating func expect(_ char: Unicode.Scalar) throws(ChannelConfigError) {
            skipSpaces()
            guard !atEnd, chars[index] == char else { throw error("expected '\(char)'") }
            index += 1
        }

        mutating func parseExpression() throws(ChannelConfigError) -> Node {
            skipSpaces()
            guard !atEnd else { throw error("unexpected end") }
            if chars[index] == "'" { return try parsePrincipal() }
            var name = ""
            while !atEnd, chars[index].properties.isAlphabetic { name.unicodeScalars.append(chars[index]); index += 1 }
            let gate: String
            switch name {
            case "AND", "And", "and": gate = "and"
            case "OR", "Or", "or": gate = "or"
            case "OutOf", "outof", "OUTOF": gate = "outof"
            case "": throw error("expected a gate or a quoted principal")
            default: throw error("unrecognized token '\(name)'")
            }
            try expect("(")
            var threshold: Int?
            if gate == "outof" {
                skipSpaces()
                var digits = ""
                while !atEnd, ("0"..."9").contains(chars[index]) {
                    digits.unicodeScalars.append(chars[index])
                    index += 1
                }
                guard let value = Int(digits) else { throw error("OutOf needs a number first") }
                threshold = value
                try expect(",")
            }
            var children: [Node] = []
            while true {
                children.append(try parseExpression())
                skipSpaces()
                guard !atEnd else { throw error("unterminated gate") }
                if chars[index] == "," {
                    index += 1
                    continue
                }
                try expect(")")
                break
            }
            let n: Int
            switch gate {
            case "and": n = children.count
            case "or": n = 1
            default:
                n = threshold!
                guard n >= 0, n <= children.count + 1 else {
                    throw error("invalid t-out-of-n predicate, t \(n), n \(children.count)")
                }
            }
            if gate == "outof", children.count < 1 {
                throw error("expected at least two arguments to NOutOf")
            }
            return .gate(n: n, children: children)
        }

        mutating func parsePrincipal() throws(ChannelConfigError) -> Node {
            index += 1
            var text = ""
            while !atEnd, chars[index] != "'" { text.unicodeScalars.append(chars[index]); index += 1 }
            guard !atEnd else { throw error("unterminated principal") }
            index += 1
            guard let dot = text.lastIndex(of: ".") else { throw error("error parsing principal \(text)") }
            let mspID = String(text[..<dot])
            let roleName = String(text[text.index(after: dot)...])
            let role: Common_MSPRole.MSPRoleType
            switch roleName {
            case "member": role = .member
            case "admin": role = .admin
            case "client": role = .client
            case "peer": role = .peer
            case "orderer": role = .orderer
            default: throw error("error parsing principal \(text): unknown role \(roleName)")
            }
            let validID =
                !mspID.isEmpty
                && mspID.unicodeScalars.allSatisfy {
                    ($0.isASCII && $0.properties.isAlphabetic) || ("0"..."9").contains($0) || $0 == "." || $0 == "-"
                }
            guard validID else { throw error("error parsing principal \(text)") }
            return .principal(mspID: mspID, role: role)
        }
    }
}
