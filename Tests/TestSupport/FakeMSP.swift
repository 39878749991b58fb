public import Foundation
public import MSP
public import Wire

/// A small, real MSP for tests of modules that evaluate policies without X.509: identities are
/// `fake:<msp>:<name>:<role,role>` strings, and a signature is SHA-256(secret ‖ message) where the secret is
/// derived from the identity, so a signature made for one message or one identity never verifies for another.
public final class FakeMSP: MembershipServiceProvider {
    public let name: String
    public let version: MSPVersion = .v3_0
    public let tlsRootCertificates: [Data] = []
    public let tlsIntermediateCertificates: [Data] = []
    /// Identity names this MSP refuses to validate (as if revoked).
    public let revoked: Set<String>

    /// Creates the MSP `name`.
    public init(name: String, revoked: Set<String> = []) {
        self.name = name
        self.revoked = revoked
    }

    /// Makes a signing identity of this MSP with the given roles (`member` is implied).
    public func identity(_ identityName: String, roles: Set<Common_MSPRole.MSPRoleType> = []) -> FakeIdentity {
        FakeIdentity(mspID: self.name, name: identityName, roles: roles.union([.member]), msp: self)
    }

    public func deserializeIdentity(_ serialized: Data) throws(MSPError) -> any Identity {
        let identity = try MSPManager.decode(serialized)
        guard identity.mspid == self.name else {
            throw MSPError(.unknownMSP, "identity of \(identity.mspid) given to MSP \(self.name)")
        }
        let text = String(decoding: identity.idBytes, as: UTF8.self)
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == "fake", parts[1] == self.name else {
            throw MSPError(.malformedIdentity, "not a fake identity of \(self.name): \(text)")
        }
        var roles: Set<Common_MSPRole.MSPRoleType> = []
        for role in parts[3].split(separator: ",") {
            guard let value = Int(role), let parsed = Common_MSPRole.MSPRoleType(rawValue: value) else {
                throw MSPError(.malformedIdentity, "bad role \(role) in \(text)")
            }
            roles.insert(parsed)
        }
        return FakeIdentity(mspID: self.name, name: String(parts[2]), roles: roles, msp: self)
    }

    public func isWellFormed(_ identity: Msp_SerializedIdentity) throws(MSPError) {
        guard String(decoding: identity.idBytes, as: UTF8.self).hasPrefix("fake:") else {
            throw MSPError(.notWellFormed, "not a fake identity")
        }
    }

    public func validate(_ identity: any Identity) throws(MSPError) {
        guard let fake = identity as? FakeIdentity, fake.mspID == self.name else {
            throw MSPError(.invalidIdentity, "identity is not of MSP \(self.name)")
        }
        guard !self.revoked.contains(fake.name) else {
            throw MSPError(.revoked, "\(fake.name) of \(self.name) is revoked")
        }
    }

    public func satisfiesPrincipal(_ identity: any Identity, _ principal: Common_MSPPrincipal) throws(MSPError) {
        guard let fake = identity as? FakeIdentity else {
            throw MSPError(.invalidIdentity, "identity is not a fake identity")
        }
        try self.validate(fake)
        switch principal.principalClassification {
        case .role:
            let role: Common_MSPRole
            do {
                role = try Common_MSPRole(decoding: principal.principal, field: "MSPPrincipal.principal")
            } catch {
                throw MSPError(.badPrincipal, "role principal does not decode", cause: error)
            }
            guard role.mspIdentifier == self.name else {
                throw MSPError(
                    .principalNotSatisfied,
                    "identity of \(self.name) is not of MSP \(role.mspIdentifier)"
                )
            }
            guard fake.roles.contains(role.role) else {
                throw MSPError(.principalNotSatisfied, "\(fake.name) does not have role \(role.role)")
            }
        case .identity:
            guard principal.principal == fake.serialized else {
                throw MSPError(.principalNotSatisfied, "\(fake.name) is not the identity of the principal")
            }
        default:
            throw MSPError(.badPrincipal, "fake MSP does not evaluate \(principal.principalClassification)")
        }
    }
}

/// An identity of a ``FakeMSP``.
public struct FakeIdentity: SigningIdentity, Hashable {
    public let mspID: String
    public let name: String
    public let roles: Set<Common_MSPRole.MSPRoleType>
    private let msp: FakeMSP

    init(mspID: String, name: String, roles: Set<Common_MSPRole.MSPRoleType>, msp: FakeMSP) {
        self.mspID = mspID
        self.name = name
        self.roles = roles
        self.msp = msp
    }

    public static func == (lhs: FakeIdentity, rhs: FakeIdentity) -> Bool {
        lhs.mspID == rhs.mspID && lhs.name == rhs.name && lhs.roles == rhs.roles
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(self.mspID)
        hasher.combine(self.name)
    }

    var idBytes: Data {
        let roles = self.roles.map { String($0.rawValue) }.sorted().joined(separator: ",")
        return Data("fake:\(self.mspID):\(self.name):\(roles)".utf8)
    }

    public var id: String { Digest.sha256(Data("\(self.mspID):\(self.name)".utf8)).hexString }

    public var serialized: Data {
        var identity = Msp_SerializedIdentity()
        identity.mspid = self.mspID
        identity.idBytes = self.idBytes
        return (try? identity.encoded()) ?? Data()
    }

    public var expiresAt: Date? { nil }
    public var organizationalUnits: [OrganizationalUnit] { [] }
    public var isAnonymous: Bool { false }

    private var secret: Data { Digest.sha256(Data("secret:\(self.mspID):\(self.name)".utf8)) }

    public func validate() throws(MSPError) { try self.msp.validate(self) }

    public func verify(signature: Data, over message: Data) throws(MSPError) {
        guard signature == Digest.sha256(self.secret + message) else {
            throw MSPError(.badSignature, "signature of \(self.name) does not verify")
        }
    }

    public func satisfiesPrincipal(_ principal: Common_MSPPrincipal) throws(MSPError) {
        try self.msp.satisfiesPrincipal(self, principal)
    }

    public func sign(_ message: Data) throws(MSPError) -> Data { Digest.sha256(self.secret + message) }
}

extension FakeMSP {
    /// An MSP builder for config bundles: every org's MSP becomes a ``FakeMSP`` named by its config, so a
    /// config tree can be parsed and its policies evaluated with fake identities.
    public static let builder: @Sendable (Msp_FabricMSPConfig, MSPVersion) throws(MSPError) -> any MembershipServiceProvider = {
        config, _ throws(MSPError) in
        guard !config.name.isEmpty else { throw MSPError(.badConfiguration, "MSP config has no name") }
        return FakeMSP(name: config.name)
    }

    /// A `FabricMSPConfig` that only names the MSP (what ``builder`` needs).
    public static func config(_ name: String) -> Msp_FabricMSPConfig {
        var config = Msp_FabricMSPConfig()
        config.name = name
        return config
    }
}
