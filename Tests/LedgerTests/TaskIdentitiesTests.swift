import ChannelConfig
import Foundation
import SwiftProtobuf
import Ledger
import MSP
import TestSupport
import Testing
import Wire

/// A prepare task's own identities in front of the channel's MSP manager, with the conformance network's real
/// creators and endorsers.
@Suite("Validation: a task's identities", .enabled(if: Conformance.isAvailable, Conformance.missingReason))
struct TaskIdentitiesTests {
    /// Every creator and endorser identity of the conformance chain's endorser transactions, as the bytes inside
    /// their blocks (slices of the block's buffer, as lean decoding leaves them).
    static func identities() throws -> [Data] {
        var found: [Data] = []
        for number in try Conformance.blockNumbers() where number > 0 {
            for bytes in try Conformance.block(number).data.data {
                guard let transaction = try? EndorserTransaction(bytes: bytes) else { continue }
                found.append(transaction.envelope.signatureHeader.creator)
                found.append(contentsOf: transaction.action.endorsements.map { $0.endorser })
            }
        }
        return found
    }

    @Test func theSameIdentitiesAsTheManager() throws {
        let bundle = try ChannelBundle(configBlock: try Conformance.block(0), mspBuilder: MSPBuilders.x509)
        let identities = try Self.identities()
        #expect(Set(identities).count >= 2, "the chain has several creators and endorsers")
        let task = TaskIdentities(bundle.mspManager)
        for _ in 0..<2 {
            for bytes in identities {
                let mine = try task.deserializeIdentity(bytes)
                let managers = try bundle.mspManager.deserializeIdentity(bytes)
                #expect(mine.identifier == managers.identifier)
                #expect(mine.mspID == managers.mspID)
            }
        }
        // The same bytes at another offset of another buffer are the same identity.
        let moved = (Data(repeating: 0, count: 7) + identities[0]).dropFirst(7)
        #expect(try task.deserializeIdentity(moved).identifier == task.deserializeIdentity(identities[0]).identifier)
    }

    @Test func whatFailsIsNotKept() throws {
        let bundle = try ChannelBundle(configBlock: try Conformance.block(0), mspBuilder: MSPBuilders.x509)
        let task = TaskIdentities(bundle.mspManager)
        var unknown = Msp_SerializedIdentity()
        unknown.mspid = "NoSuchMSP"
        unknown.idBytes = Data("-----BEGIN CERTIFICATE-----\n".utf8)
        let bytes = try unknown.serializedBytes() as Data
        for _ in 0..<3 {
            #expect(throws: MSPError.self) { try task.deserializeIdentity(bytes) }
        }
        #expect(throws: MSPError.self) { try task.deserializeIdentity(Data([0xff, 0x01])) }
    }
}
