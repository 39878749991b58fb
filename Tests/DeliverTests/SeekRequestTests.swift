import Foundation
import MSP
import SwiftProtobuf
import TestSupport
import Testing
import Wire

@testable import Deliver

/// The seek envelope, checked against bytes assembled by hand from Fabric's field numbers.
@Suite("Seek request")
struct SeekRequestTests {
    // A minimal protobuf writer, independent of SwiftProtobuf.
    static func varint(_ value: UInt64) -> Data {
        var value = value
        var out = Data()
        repeat {
            var byte = UInt8(value & 0x7f)
            value >>= 7
            if value != 0 { byte |= 0x80 }
            out.append(byte)
        } while value != 0
        return out
    }

    static func varintField(_ number: UInt64, _ value: UInt64) -> Data { varint(number << 3) + varint(value) }

    static func bytesField(_ number: UInt64, _ value: Data) -> Data {
        varint(number << 3 | 2) + varint(UInt64(value.count)) + value
    }

    static func expectedPayload(height: UInt64, creator: Data, nonce: Data, seconds: UInt64, tlsHash: Data?) -> Data {
        var channelHeader = varintField(1, 5)  // type DELIVER_SEEK_INFO; version 0 omitted
        channelHeader += bytesField(3, varintField(1, seconds))  // timestamp{seconds}, nanos 0 omitted
        channelHeader += bytesField(4, Data(Fixtures.channelID.utf8))  // tx_id empty and epoch 0 omitted
        if let tlsHash { channelHeader += bytesField(8, tlsHash) }
        let signatureHeader = bytesField(1, creator) + bytesField(2, nonce)
        let specified = { (number: UInt64) in bytesField(3, varintField(1, number)) }
        // start, stop; behavior BLOCK_UNTIL_READY, error_response STRICT, content_type BLOCK are 0 and omitted.
        let seekInfo = bytesField(1, specified(height)) + bytesField(2, specified(UInt64.max))
        let header = bytesField(1, channelHeader) + bytesField(2, signatureHeader)
        return bytesField(1, header) + bytesField(2, seekInfo)
    }

    @Test("the envelope is byte-exact and signed over the payload", arguments: [false, true])
    func bytes(_ withTLSHash: Bool) throws {
        let signer = Fixtures.peerSigner
        let nonce = Data((0..<24).map { UInt8($0) })
        let tlsHash = withTLSHash ? Digest.sha256(TestPKI.org1ClientTLS.certificate.der) : nil
        let envelope = try SeekRequest.envelope(
            channelID: Fixtures.channelID,
            from: 5,
            signer: signer,
            nonce: nonce,
            timestamp: Date(timeIntervalSince1970: 1_700_000_000.75),
            tlsCertificateHash: tlsHash
        )
        let expected = Self.expectedPayload(
            height: 5,
            creator: signer.serialized,
            nonce: nonce,
            seconds: 1_700_000_000,
            tlsHash: tlsHash
        )
        #expect(envelope.payload == expected)
        try signer.identity.verify(signature: envelope.signature, over: envelope.payload)
        // And the peer's MSP view verifies it as the orderer would.
        let identity = try TestPKI.manager.deserializeIdentity(signer.serialized)
        try identity.verify(signature: envelope.signature, over: envelope.payload)
        #expect(throws: MSPError.self) {
            try identity.verify(signature: envelope.signature, over: envelope.payload + Data([0]))
        }
    }

    @Test("the decoded seek info is start Specified(height), stop Specified(max), BLOCK_UNTIL_READY, STRICT, BLOCK")
    func seekInfo() throws {
        let envelope = try SeekRequest.envelope(
            channelID: Fixtures.channelID,
            from: 42,
            signer: Fixtures.peerSigner,
            nonce: Data(count: 24),
            timestamp: Date()
        )
        let payload = try Common_Payload(serializedBytes: envelope.payload)
        let header = try Common_ChannelHeader(serializedBytes: payload.header.channelHeader)
        #expect(header.type == 5 && header.version == 0 && header.epoch == 0 && header.txID.isEmpty)
        #expect(header.timestamp.nanos == 0 && header.tlsCertHash.isEmpty)
        let info = try Orderer_SeekInfo(serializedBytes: payload.data)
        #expect(info.start.specified.number == 42)
        #expect(info.stop.specified.number == UInt64.max)
        #expect(info.behavior == .blockUntilReady && info.errorResponse == .strict && info.contentType == .block)
    }
}
