import ChannelConfig
import Foundation
import MSP
import TestSupport
import Testing
import Wire

/// Implicit meta policies and path resolution (ports of implicitmeta_test.go and TestNestedManager).
@Suite("Policy manager and implicit meta policies")
struct PolicyManagerTests {
    let message = Data("config".utf8)

    func bundle(orgs: [String]) throws -> ChannelBundle {
        try Fixtures.bundle(Fixtures.profile(orgs: orgs))
    }

    func evaluate(_ bundle: ChannelBundle, _ path: String, _ signers: [FakeIdentity]) throws -> Bool {
        (try? bundle.policyManager.evaluate(path, signedData: Fixtures.signed(message, by: signers))) != nil
    }

    @Test("ANY needs one org, ALL every org, MAJORITY floor(n/2)+1")
    func thresholds() throws {
        let orgs = ["Org1MSP", "Org2MSP", "Org3MSP"]
        var profile = Fixtures.profile(orgs: orgs)
        profile.applicationPolicies["AllAdmins"] = "ALL Admins"
        let bundle = try Fixtures.bundle(profile)
        let admin1 = Fixtures.org1.identity("admin1", roles: [.admin])
        let admin2 = Fixtures.org2.identity("admin2", roles: [.admin])
        let admin3 = Fixtures.org3.identity("admin3", roles: [.admin])
        let peer1 = Fixtures.org1.identity("peer1", roles: [.peer])

        #expect(try evaluate(bundle, "/Channel/Application/Readers", [peer1]))
        #expect(try !evaluate(bundle, "/Channel/Application/Readers", []))
        #expect(try !evaluate(bundle, "/Channel/Application/Admins", [admin1]))
        #expect(try evaluate(bundle, "/Channel/Application/Admins", [admin1, admin3]))
        #expect(try !evaluate(bundle, "/Channel/Application/AllAdmins", [admin1, admin2]))
        #expect(try evaluate(bundle, "/Channel/Application/AllAdmins", [admin3, admin1, admin2]))
        // Endorsement: MAJORITY of the orgs' Endorsement (peer) policies.
        #expect(try !evaluate(bundle, "/Channel/Application/Endorsement", [peer1]))
        #expect(
            try evaluate(
                bundle,
                "/Channel/Application/Endorsement",
                [peer1, Fixtures.org2.identity("peer2", roles: [.peer])]
            )
        )
    }

    @Test("MAJORITY of two needs both; of four needs three")
    func majority() throws {
        let two = try bundle(orgs: ["Org1MSP", "Org2MSP"])
        let admin1 = Fixtures.org1.identity("admin1", roles: [.admin])
        let admin2 = Fixtures.org2.identity("admin2", roles: [.admin])
        #expect(try !evaluate(two, "/Channel/Application/Admins", [admin1]))
        #expect(try evaluate(two, "/Channel/Application/Admins", [admin1, admin2]))
        let policy = two.policyManager.policy("/Channel/Application/Admins").policy
        let meta = try #require(policy as? ImplicitMetaPolicy)
        #expect(meta.threshold == 2)
        #expect(meta.subPolicies.map(\.group) == ["Org1MSP", "Org2MSP"])

        let four = try bundle(orgs: ["A", "B", "C", "D"])
        let fourMeta = try #require(four.policyManager.policy("/Channel/Application/Admins").policy as? ImplicitMetaPolicy)
        #expect(fourMeta.threshold == 3)
    }

    @Test("an implicit meta policy over no child groups has threshold 0 and passes")
    func zeroChildren() throws {
        let bundle = try bundle(orgs: [])
        #expect(try evaluate(bundle, "/Channel/Application/Admins", []))
        #expect(try evaluate(bundle, "/Channel/Application/Readers", []))
        // The root Readers is ANY over Application (no orgs: passes) and Orderer (one org, needs a member).
        #expect(try evaluate(bundle, "/Channel/Readers", []))
    }

    @Test("a child without the sub-policy contributes a reject policy")
    func missingSubPolicy() throws {
        var profile = Fixtures.profile()
        profile.applicationOrgs[1].policies["Endorsement"] = nil
        let bundle = try Fixtures.bundle(profile)
        let peer1 = Fixtures.org1.identity("peer1", roles: [.peer])
        let peer2 = Fixtures.org2.identity("peer2", roles: [.peer])
        // MAJORITY of 2 needs both; Org2 has no Endorsement policy, so nothing satisfies it.
        #expect(try !evaluate(bundle, "/Channel/Application/Endorsement", [peer1, peer2]))
    }

    @Test("paths resolve absolutely and relatively; unknown names reject with found == false (TestNestedManager)")
    func paths() throws {
        let bundle = try bundle(orgs: ["Org1MSP"])
        let root = bundle.policyManager
        #expect(root.path == "Channel")
        #expect(root.policy("/Channel/Application/Org1MSP/Admins").found)
        #expect(root.policy("Application/Org1MSP/Admins").found)
        #expect(root.policy("Readers").found)
        #expect(!root.policy("").found)
        #expect(!root.policy("/Nope/Readers").found)
        #expect(!root.policy("/Channel").found)
        #expect(!root.policy("/Channel/Application/Nope").found)
        let application = try #require(root.manager(["Application"]))
        #expect(application.path == "Channel/Application")
        #expect(application.policy("/Channel/Application/Readers").found)
        #expect(application.policy("Org1MSP/Readers").found)
        #expect(!application.policy("/Channel/Readers").found)
        #expect(root.manager(["Application", "Org1MSP"]) != nil)
        #expect(root.manager(["Application", "Org9MSP"]) == nil)
        let (missing, found) = root.policy("Application/Unknown")
        #expect(!found)
        #expect(throws: ChannelConfigError(.policyNotFound, "")) { try missing.evaluate(signedData: []) }
    }

    @Test("unknown policy types do not compile")
    func unknownType() throws {
        var config = try Fixtures.profile().makeConfig()
        config.channelGroup.groups["Application"]!.policies["Readers"]!.policy.type = 2  // MSP
        #expect(throws: ChannelConfigError(.badPolicy, "")) { try Fixtures.bundle(config: config) }
        config.channelGroup.groups["Application"]!.policies["Readers"]!.policy.type = 0
        #expect(throws: ChannelConfigError(.badPolicy, "")) { try Fixtures.bundle(config: config) }
    }
}
