import Foundation
import SwiftProtobuf
import Testing
import Wire

@testable import MSP

/// msp_test.go TestOUPolicyPrincipal, TestAdminPolicyPrincipal, TestMemberPolicyPrincipal,
/// TestIdentityPolicyPrincipal, TestAnonymityIdentity; nodeous_test.go TestSatisfiesPrincipal{Peer,Client,Admin,
/// Orderer}, TestAdminInAdmincertsWith143MSP; COMBINED principals.
@Suite("Principals")
struct PrincipalTests {
    private func identity(
        _ enrollment: OrganizationPKI.Enrollment,
        _ msp: X509MSP = Fixtures.org1MSP
    ) throws -> X509Identity {
        try msp.deserializeX509Identity(Fixtures.serialized(enrollment, mspID: msp.name))
    }

    struct RoleCase: Sendable, CustomTestStringConvertible {
        let name: String
        let role: Common_MSPRole.MSPRoleType
        let satisfied: [String]
        var testDescription: String { "\(self.role) satisfied by \(self.satisfied)" }
    }

    static let everyone = ["peer", "client", "admin", "orderer"]
    static func enrollment(_ name: String) -> OrganizationPKI.Enrollment {
        switch name {
        case "peer": Fixtures.peer
        case "client": Fixtures.client
        case "admin": Fixtures.admin
        default: Fixtures.orderer
        }
    }

    @Test(arguments: [
        RoleCase(name: "member", role: .member, satisfied: everyone),
        RoleCase(name: "peer", role: .peer, satisfied: ["peer"]),
        RoleCase(name: "client", role: .client, satisfied: ["client"]),
        RoleCase(name: "admin", role: .admin, satisfied: ["admin"]),
        RoleCase(name: "orderer", role: .orderer, satisfied: ["orderer"]),
    ])
    func nodeOURoles(_ roleCase: RoleCase) throws {
        for name in Self.everyone {
            let error = mspError {
                try self.identity(Self.enrollment(name)).satisfiesPrincipal(Fixtures.role(roleCase.role))
            }
            if roleCase.satisfied.contains(name) {
                #expect(error == nil, "\(name) should satisfy \(roleCase.role): \(String(describing: error))")
            } else {
                #expect(error?.code == .principalNotSatisfied, "\(name) should not satisfy \(roleCase.role)")
            }
        }
    }

    @Test func aRoleOfAnotherMSPIsNotSatisfied() throws {
        let error = mspError { try self.identity(Fixtures.peer).satisfiesPrincipal(Fixtures.role(.member, "Org2MSP")) }
        #expect(error?.code == .principalNotSatisfied)
        #expect(error?.message.contains("different MSP") == true)
    }

    @Test func anInvalidIdentityIsNoMember() throws {
        let error = mspError { try self.identity(Fixtures.noOU).satisfiesPrincipal(Fixtures.role(.member)) }
        #expect(error?.code == .invalidIdentity)
    }

    @Test func withoutNodeOUsOnlyExplicitAdminsAreAdmins() throws {
        let msp = try X509MSP(
            config: Fixtures.org1.mspConfig(nodeOUs: false, admins: [Fixtures.client.certificate]),
            version: .v3_0
        )
        try self.identity(Fixtures.client, msp).satisfiesPrincipal(Fixtures.role(.admin))
        #expect(
            mspError { try self.identity(Fixtures.admin, msp).satisfiesPrincipal(Fixtures.role(.admin)) }?.code
                == .principalNotSatisfied
        )
        // CLIENT/PEER need NodeOUs; ORDERER is not a pre-v1.4.2 role without them.
        let client = mspError { try self.identity(Fixtures.client, msp).satisfiesPrincipal(Fixtures.role(.client)) }
        #expect(client?.code == .badPrincipal)
        #expect(client?.message.contains("NodeOUs not activated") == true)
        #expect(
            mspError { try self.identity(Fixtures.orderer, msp).satisfiesPrincipal(Fixtures.role(.orderer)) }?.code
                == .badPrincipal
        )
    }

    @Test func anAdminInAdmincertsIsAnAdminOnV143() throws {
        // TestAdminInAdmincertsWith143MSP: explicit admin with the client OU.
        let msp = try X509MSP(config: Fixtures.org1.mspConfig(admins: [Fixtures.client.certificate]), version: .v1_4_3)
        try self.identity(Fixtures.client, msp).satisfiesPrincipal(Fixtures.role(.admin))
        try self.identity(Fixtures.admin, msp).satisfiesPrincipal(Fixtures.role(.admin))
        #expect(mspError { try self.identity(Fixtures.peer, msp).satisfiesPrincipal(Fixtures.role(.admin)) } != nil)
    }

    @Test func adminComparisonUsesSanitisedCertificates() throws {
        let high = DeserializationTests.highSPeer
        let (client, _) = (high.certificate, high.privateKey)
        // The admin list holds the high-S encoding; a low-S encoding of the same certificate is the same admin.
        let msp = try X509MSP(config: Fixtures.org1.mspConfig(nodeOUs: false, admins: [client]), version: .v1_4_3)
        let lowS = try Certificate(
            derEncoded: try msp.deserializeX509Identity(Fixtures.serialized(client)).sanitizedDER
        )
        try msp.deserializeX509Identity(Fixtures.serialized(lowS)).satisfiesPrincipal(Fixtures.role(.admin))
    }

    @Test func identityPrincipals() throws {
        let peer = try self.identity(Fixtures.peer)
        try peer.satisfiesPrincipal(Fixtures.principal(.identity, Fixtures.serialized(Fixtures.peer)))
        let other = mspError {
            try peer.satisfiesPrincipal(Fixtures.principal(.identity, Fixtures.serialized(Fixtures.client)))
        }
        #expect(other?.code == .principalNotSatisfied)
        let garbage = mspError { try peer.satisfiesPrincipal(Fixtures.principal(.identity, Data("garbage".utf8))) }
        #expect(garbage?.code == .principalNotSatisfied)
    }

    @Test func organizationUnitPrincipals() throws {
        let peer = try self.identity(Fixtures.peer)
        let certifiers = try #require(peer.organizationalUnits.first?.certifiersIdentifier)
        #expect(certifiers == Digest.sha256(Fixtures.org1.ca.certificate.der))
        func unit(_ name: String, _ certifiers: Data, _ msp: String = "Org1MSP") throws -> Common_MSPPrincipal {
            var value = Common_OrganizationUnit()
            value.mspIdentifier = msp
            value.organizationalUnitIdentifier = name
            value.certifiersIdentifier = certifiers
            return Fixtures.principal(.organizationUnit, try value.serializedBytes())
        }
        try peer.satisfiesPrincipal(try unit("peer", certifiers))
        #expect(
            mspError { try peer.satisfiesPrincipal(try unit("peer", Data(repeating: 1, count: 32))) }?.code
                == .principalNotSatisfied
        )
        #expect(
            mspError { try peer.satisfiesPrincipal(try unit("client", certifiers)) }?.code == .principalNotSatisfied
        )
        #expect(
            mspError { try peer.satisfiesPrincipal(try unit("peer", certifiers, "Org2MSP")) }?.code
                == .principalNotSatisfied
        )
    }

    private func anonymity(_ type: Common_MSPIdentityAnonymity.MSPIdentityAnonymityType) throws -> Common_MSPPrincipal {
        var value = Common_MSPIdentityAnonymity()
        value.anonymityType = type
        return Fixtures.principal(.anonymity, try value.serializedBytes())
    }

    @Test func anonymityPrincipals() throws {
        let peer = try self.identity(Fixtures.peer)
        try peer.satisfiesPrincipal(try self.anonymity(.nominal))
        #expect(
            mspError { try peer.satisfiesPrincipal(try self.anonymity(.anonymous)) }?.code == .principalNotSatisfied
        )
    }

    private func combined(_ principals: [Common_MSPPrincipal]) throws -> Common_MSPPrincipal {
        var value = Common_CombinedPrincipal()
        value.principals = principals
        return Fixtures.principal(.combined, try value.serializedBytes())
    }

    @Test func combinedPrincipalsAreAConjunction() throws {
        let peer = try self.identity(Fixtures.peer)
        try peer.satisfiesPrincipal(try self.combined([Fixtures.role(.member), Fixtures.role(.peer)]))
        try peer.satisfiesPrincipal(
            try self.combined([try self.combined([Fixtures.role(.peer)]), try self.anonymity(.nominal)])
        )
        #expect(
            mspError {
                try peer.satisfiesPrincipal(try self.combined([Fixtures.role(.member), Fixtures.role(.client)]))
            }?.code == .principalNotSatisfied
        )
        #expect(mspError { try peer.satisfiesPrincipal(try self.combined([])) }?.code == .badPrincipal)
    }

    @Test(arguments: [MSPVersion.v1_0, .v1_1])
    func combinedAndAnonymityNeedV13(version: MSPVersion) throws {
        let msp = try X509MSP(
            config: Fixtures.org1.mspConfig(nodeOUs: false, admins: [Fixtures.admin.certificate]),
            version: version
        )
        let peer = try self.identity(Fixtures.peer, msp)
        #expect(
            mspError { try peer.satisfiesPrincipal(try self.combined([Fixtures.role(.member)])) }?.code == .badPrincipal
        )
        #expect(mspError { try peer.satisfiesPrincipal(try self.anonymity(.nominal)) }?.code == .badPrincipal)
        try peer.satisfiesPrincipal(Fixtures.role(.member))
    }

    @Test func malformedPrincipalsAreBadPrincipals() throws {
        let peer = try self.identity(Fixtures.peer)
        #expect(
            mspError { try peer.satisfiesPrincipal(Fixtures.principal(.role, Data([0xFF, 0xFF]))) }?.code
                == .badPrincipal
        )
        #expect(
            mspError { try peer.satisfiesPrincipal(Fixtures.principal(.UNRECOGNIZED(9), Data())) }?.code
                == .badPrincipal
        )
    }

    @Test func theProviderEntryPointsAgreeWithTheIdentity() throws {
        let peer = try self.identity(Fixtures.peer)
        try Fixtures.org1MSP.satisfiesPrincipal(peer, Fixtures.role(.peer))
        try Fixtures.org1MSP.validate(peer)
        // An identity from another MSP object with the same name is re-deserialised, not trusted as is.
        let twin = try X509MSP(config: Fixtures.org1.mspConfig(), version: .v3_0)
        try twin.validate(peer)
        #expect(mspError { try Fixtures.org2MSP.validate(peer) }?.code == .unknownMSP)
    }
}
