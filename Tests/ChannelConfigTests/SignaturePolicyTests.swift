import ChannelConfig
import Foundation
import SwiftProtobuf
import MSP
import TestSupport
import Testing
import Wire

/// Ports of Fabric's cauthdsl tests: greedy, order-dependent evaluation with identity de-duplication.
@Suite("Signature policies")
struct SignaturePolicyTests {
    let manager: MSPManager
    let a = Fixtures.org1.identity("a", roles: [.peer])
    let b = Fixtures.org2.identity("b", roles: [.peer, .admin])
    let c = Fixtures.org3.identity("c", roles: [.client])
    let message = Data("message".utf8)

    init() throws {
        self.manager = try MSPManager([Fixtures.org1, Fixtures.org2, Fixtures.org3])
    }

    func compile(_ text: String) throws -> SignaturePolicy {
        try SignaturePolicy(envelope: PolicyDSL.parse(text), deserializer: self.manager)
    }

    func satisfied(_ policy: SignaturePolicy, _ signers: [FakeIdentity]) throws -> Bool {
        (try? policy.evaluate(signedData: Fixtures.signed(self.message, by: signers))) != nil
    }

    @Test("a single signature satisfies its own principal only (TestSimpleSignature)")
    func simple() throws {
        let policy = try compile("OR('Org1MSP.member')")
        #expect(try satisfied(policy, [a]))
        #expect(try !satisfied(policy, [b]))
        #expect(try !satisfied(policy, []))
    }

    @Test("AND needs both signers, in any order (TestMultipleSignature)")
    func multiple() throws {
        let policy = try compile("AND('Org1MSP.member', 'Org2MSP.member')")
        #expect(try satisfied(policy, [a, b]))
        #expect(try satisfied(policy, [b, a]))
        #expect(try !satisfied(policy, [a]))
        #expect(try !satisfied(policy, [a, a]))
    }

    @Test("nested gates (TestComplexNestedSignature)")
    func nested() throws {
        let policy = try compile("AND(OR('Org1MSP.member', 'Org2MSP.member'), 'Org3MSP.member')")
        #expect(try satisfied(policy, [a, c]))
        #expect(try satisfied(policy, [c, b]))
        #expect(try !satisfied(policy, [a, b]))
        let twoOfThree = try compile("OutOf(2, 'Org1MSP.member', 'Org2MSP.member', 'Org3MSP.member')")
        #expect(try satisfied(twoOfThree, [a, c]))
        #expect(try !satisfied(twoOfThree, [c]))
    }

    @Test("roles are checked (TestSignedByMspPeer, TestNegatively)")
    func roles() throws {
        #expect(try satisfied(compile("OR('Org1MSP.peer')"), [a]))
        #expect(try !satisfied(compile("OR('Org1MSP.admin')"), [a]))
        #expect(try satisfied(compile("OR('Org2MSP.admin')"), [b]))
        #expect(try !satisfied(compile("OR('Org3MSP.peer')"), [c]))
    }

    @Test("one identity signing twice counts once")
    func deduplication() throws {
        let policy = try compile("OutOf(2, 'Org1MSP.member', 'Org1MSP.member')")
        #expect(try !satisfied(policy, [a, a]))
        let other = Fixtures.org1.identity("a2")
        #expect(try satisfied(policy, [a, other]))
    }

    /// validIdentities keeps the identities it accepted in a list, then in a set past 16: repeats count once on
    /// both sides of the switch.
    @Test("many signers: each distinct identity counts once, repeats dropped", arguments: [3, 16, 17, 40])
    func manySigners(_ count: Int) throws {
        let signers = (0..<count).map { Fixtures.org1.identity("s\($0)") }
        let repeated = signers + signers.reversed() + [signers[0]]
        let identities = validIdentities(try Fixtures.signed(self.message, by: repeated), deserializer: self.manager)
        #expect(identities.count == count)
        #expect(Set(identities.map(\.identifier)).count == count)
        #expect(identities.map(\.identifier) == signers.map { try! self.manager.deserializeIdentity($0.serialized).identifier })
        let policy = try compile(
            "OutOf(\(count), " + Array(repeating: "'Org1MSP.member'", count: count).joined(separator: ", ") + ")"
        )
        #expect(try satisfied(policy, repeated))
        let oneMore = try compile(
            "OutOf(\(count + 1), " + Array(repeating: "'Org1MSP.member'", count: count + 1).joined(separator: ", ") + ")"
        )
        #expect(try !satisfied(oneMore, repeated))
    }

    @Test("bad signatures and undeserializable identities are dropped; a later good signature still counts")
    func badSignaturesDropped() throws {
        let policy = try compile("OR('Org1MSP.member')")
        let bad = SignedData(data: message, identity: a.serialized, signature: Data("forged".utf8))
        let good = try Fixtures.signed(message, by: [a])[0]
        let garbage = SignedData(data: message, identity: Data([0xff, 0x01]), signature: Data())
        #expect(throws: ChannelConfigError(.policyNotSatisfied, "")) { try policy.evaluate(signedData: [bad]) }
        try policy.evaluate(signedData: [garbage, bad, good])
        // A signature over other bytes does not verify.
        let moved = SignedData(data: Data("other".utf8), identity: a.serialized, signature: good.signature)
        #expect(throws: ChannelConfigError(.policyNotSatisfied, "")) { try policy.evaluate(signedData: [moved]) }
    }

    @Test("evaluation is greedy: the first unused satisfying identity is consumed")
    func greedy() throws {
        // b satisfies both 'Org2MSP.member' and 'Org2MSP.admin'; d only 'Org2MSP.member'.
        let d = Fixtures.org2.identity("d")
        let policy = try compile("AND('Org2MSP.member', 'Org2MSP.admin')")
        // [d, b]: member takes d, admin takes b → satisfied.
        #expect(try satisfied(policy, [d, b]))
        // [b, d]: member takes b (first unused), admin finds only d → not satisfied, although a perfect matching
        // exists. Fabric's evaluator behaves exactly so.
        #expect(try !satisfied(policy, [b, d]))
    }

    @Test("a failed sub-rule does not consume identities")
    func scratchCopy() throws {
        // The first OR-branch AND(a-peer, Org3 admin) fails after consuming a; the scratch copy is dropped, so the
        // second rule can still use a.
        let policy = try compile("OutOf(2, AND('Org1MSP.peer', 'Org3MSP.admin'), 'Org1MSP.peer', 'Org3MSP.member')")
        #expect(try satisfied(policy, [a, c]))
    }

    @Test("compile errors: index out of range, version, empty rule")
    func compileErrors() throws {
        var envelope = try PolicyDSL.parse("OR('Org1MSP.member')")
        envelope.identities = []
        #expect(throws: ChannelConfigError(.badPolicy, "")) {
            try SignaturePolicy(envelope: envelope, deserializer: manager)
        }
        var versioned = try PolicyDSL.parse("OR('Org1MSP.member')")
        versioned.version = 1
        #expect(throws: ChannelConfigError(.badPolicy, "")) {
            try SignaturePolicy(envelope: versioned, deserializer: manager)
        }
        #expect(throws: ChannelConfigError(.badPolicy, "")) {
            try SignaturePolicy(bytes: Data([0xff]), deserializer: manager)
        }
        #expect(throws: ChannelConfigError(.badPolicy, "")) {
            try SignaturePolicy(envelope: Common_SignaturePolicyEnvelope(), deserializer: manager)
        }
    }

    @Test("identity principals match the exact serialized identity")
    func identityPrincipal() throws {
        var principal = Common_MSPPrincipal()
        principal.principalClassification = .identity
        principal.principal = a.serialized
        var envelope = Common_SignaturePolicyEnvelope()
        envelope.identities = [principal]
        envelope.rule.signedBy = 0
        let policy = try SignaturePolicy(envelope: envelope, deserializer: manager)
        #expect(try satisfied(policy, [a]))
        #expect(try !satisfied(policy, [Fixtures.org1.identity("a-prime", roles: [.peer])]))
    }
}

@Suite("Policy language")
struct PolicyDSLTests {
    @Test("OR of three roles encodes as Fabric's parser encodes it")
    func encoding() throws {
        let envelope = try PolicyDSL.parse("OR('Org1MSP.admin', 'Org1MSP.peer', 'Org1MSP.client')")
        #expect(envelope.identities.count == 3)
        #expect(envelope.rule.nOutOf.n == 1)
        #expect(envelope.rule.nOutOf.rules.map(\.signedBy) == [0, 1, 2])
    }

    @Test("nested gates number their own principals after the nested ones, as Fabric does")
    func numbering() throws {
        let envelope = try PolicyDSL.parse("OR('A.member', AND('B.member', 'C.member'))")
        let roles = try envelope.identities.map { try Common_MSPRole(serializedBytes: $0.principal).mspIdentifier }
        #expect(roles == ["B", "C", "A"])
        #expect(envelope.rule.nOutOf.rules[0].signedBy == 2)
        #expect(envelope.rule.nOutOf.rules[1].nOutOf.rules.map(\.signedBy) == [0, 1])
        #expect(envelope.rule.nOutOf.rules[1].nOutOf.n == 2)
    }

    @Test("bad policies are refused with the offending text", arguments: [
        "", "OR(", "OR('Org1MSP.member'", "XOR('A.member')", "OR('A.king')", "OR('A')", "'A.member'",
        "OutOf(5, 'A.member', 'B.member')", "OR('A.member') trailing", "OutOf('A.member')",
    ])
    func badPolicies(_ text: String) {
        #expect(throws: ChannelConfigError(.badPolicy, "")) { try PolicyDSL.parse(text) }
    }
}
