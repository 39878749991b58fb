import Foundation
import SwiftProtobuf
import TestSupport
import Testing
import Wire

/// The lean decoders give exactly SwiftProtobuf's message, or decline: on every layer of the conformance chain's
/// endorser transactions, on mutated copies of them, and on the edge cases they must leave to SwiftProtobuf.
@Suite("Lean decoding")
struct LeanDecodingTests {
    /// Every (message kind, bytes) layer of one endorser transaction that the validator decodes.
    static func layers(of envelopeBytes: Data) throws -> [(kind: Kind, bytes: Data)] {
        var layers: [(Kind, Data)] = [(.envelope, envelopeBytes)]
        let envelope = try Common_Envelope(serializedBytes: envelopeBytes)
        layers.append((.payload, envelope.payload))
        let payload = try Common_Payload(serializedBytes: envelope.payload)
        layers.append((.channelHeader, payload.header.channelHeader))
        layers.append((.signatureHeader, payload.header.signatureHeader))
        let channelHeader = try Common_ChannelHeader(serializedBytes: payload.header.channelHeader)
        guard channelHeader.type == Int32(Common_HeaderType.endorserTransaction.rawValue) else { return layers }
        layers.append((.chaincodeHeaderExtension, channelHeader.extension))
        layers.append((.transaction, payload.data))
        let transaction = try Protos_Transaction(serializedBytes: payload.data)
        for action in transaction.actions {
            layers.append((.signatureHeader, action.header))
            layers.append((.chaincodeActionPayload, action.payload))
            let actionPayload = try Protos_ChaincodeActionPayload(serializedBytes: action.payload)
            layers.append((.proposalResponsePayload, actionPayload.action.proposalResponsePayload))
            let response = try Protos_ProposalResponsePayload(
                serializedBytes: actionPayload.action.proposalResponsePayload
            )
            layers.append((.chaincodeAction, response.extension))
            let chaincodeAction = try Protos_ChaincodeAction(serializedBytes: response.extension)
            layers.append((.txReadWriteSet, chaincodeAction.results))
            let rwset = try Rwset_TxReadWriteSet(serializedBytes: chaincodeAction.results)
            for ns in rwset.nsRwset { layers.append((.kvRWSet, ns.rwset)) }
        }
        return layers
    }

    enum Kind: CaseIterable {
        case envelope, payload, channelHeader, signatureHeader, transaction, chaincodeActionPayload
        case proposalResponsePayload, chaincodeAction, chaincodeHeaderExtension, txReadWriteSet, kvRWSet

        /// The message type.
        var type: any LeanDecodable.Type {
            switch self {
            case .envelope: Common_Envelope.self
            case .payload: Common_Payload.self
            case .channelHeader: Common_ChannelHeader.self
            case .signatureHeader: Common_SignatureHeader.self
            case .transaction: Protos_Transaction.self
            case .chaincodeActionPayload: Protos_ChaincodeActionPayload.self
            case .proposalResponsePayload: Protos_ProposalResponsePayload.self
            case .chaincodeAction: Protos_ChaincodeAction.self
            case .chaincodeHeaderExtension: Protos_ChaincodeHeaderExtension.self
            case .txReadWriteSet: Rwset_TxReadWriteSet.self
            case .kvRWSet: Kvrwset_KVRWSet.self
            }
        }

        /// The lean decoder's result and SwiftProtobuf's (nil when it throws), as the same message type.
        func both(_ bytes: Data) -> (lean: (any SwiftProtobuf.Message)?, full: (any SwiftProtobuf.Message)?) {
            typealias Pair = (lean: (any SwiftProtobuf.Message)?, full: (any SwiftProtobuf.Message)?)
            func pair<M: LeanDecodable>(_: M.Type) -> Pair {
                (M.leanDecoded(bytes), try? M(serializedBytes: bytes))
            }
            return pair(self.type)
        }
    }

    /// Lean and full results agree: when the lean decoder answers, SwiftProtobuf decodes the same message.
    static func agree(_ kind: Kind, _ bytes: Data, _ place: String) -> Bool {
        let (lean, full) = kind.both(bytes)
        guard let lean else { return false }
        guard let full else {
            Issue.record("\(place): lean \(kind) decoded bytes SwiftProtobuf rejects")
            return true
        }
        #expect(lean.isEqualTo(message: full), "\(place): lean \(kind) differs from SwiftProtobuf")
        return true
    }

    @Test("every layer of the conformance chain's endorser transactions decodes leanly, equal to SwiftProtobuf",
        .enabled(if: Conformance.isAvailable, Conformance.missingReason))
    func conformanceLayers() throws {
        var decoded = Set<String>()
        var count = 0
        var rangeQueries = 0
        for block in try Conformance.blocks() {
            for (index, raw) in block.data.data.enumerated() {
                for (kind, bytes) in try Self.layers(of: raw) {
                    let place = "block \(block.header.number) tx \(index)"
                    let answered = Self.agree(kind, bytes, place)
                    if kind == .kvRWSet, !(try Kvrwset_KVRWSet(serializedBytes: bytes)).rangeQueriesInfo.isEmpty {
                        // Range-query information is left to SwiftProtobuf by design.
                        #expect(!answered, "\(place): lean KVRWSet decoded range-query information")
                        rangeQueries += 1
                        continue
                    }
                    #expect(answered, "\(place): lean \(kind) declined a plain Fabric message")
                    decoded.insert("\(kind)")
                    count += 1
                }
            }
        }
        #expect(decoded.count == Kind.allCases.count, "kinds seen: \(decoded.sorted())")
        #expect(count > 100)
        #expect(rangeQueries > 0, "the chain's range queries were not seen")
    }

    @Test("mutated transactions: whenever the lean decoder answers, SwiftProtobuf gives the same message",
        .enabled(if: Conformance.isAvailable, Conformance.missingReason))
    func mutations() throws {
        var samples: [(Kind, Data)] = []
        for block in try Conformance.blocks() where block.header.number > 0 {
            for raw in block.data.data.prefix(2) { samples.append(contentsOf: try Self.layers(of: raw)) }
        }
        var answered = 0
        var declined = 0
        for (sampleIndex, (kind, bytes)) in samples.enumerated() where !bytes.isEmpty {
            for round in 0..<40 {
                // Deterministic positions and values spread over the message (reproducible without a generator).
                var mutated = [UInt8](bytes)
                let at = (round * 7_919 + sampleIndex * 104_729) % mutated.count
                let value = UInt8(truncatingIfNeeded: round * 37 + sampleIndex * 11)
                switch round % 4 {
                case 0: mutated[at] ^= 1 << UInt8(round % 8)
                case 1: mutated.removeLast(1 + at % min(mutated.count, 8))
                case 2: mutated[at] = value
                default: mutated.insert(contentsOf: [value, value &+ 0x80], at: at)
                }
                if Self.agree(kind, Data(mutated), "sample \(sampleIndex) round \(round)") {
                    answered += 1
                } else {
                    declined += 1
                }
            }
        }
        // Both outcomes occur: mutations inside a bytes value keep the message plain, others break it.
        #expect(answered > 0)
        #expect(declined > 0)
    }

    @Test("what the lean decoders leave to SwiftProtobuf")
    func declines() throws {
        var header = Common_ChannelHeader()
        header.type = 3
        header.channelID = "mychannel"
        header.txID = "abc"
        header.timestamp = Google_Protobuf_Timestamp(seconds: 1_700_000_000, nanos: 5)
        header.extension = Data([1, 2, 3])
        let plain = try header.serializedBytes() as Data
        #expect(Common_ChannelHeader.leanDecoded(plain) == header)

        // An unknown field: SwiftProtobuf keeps it, so the lean decoder declines (and `init(decoding:)` still works).
        let unknown = plain + Data([0x48, 0x01])  // field 9, varint 1
        #expect(Common_ChannelHeader.leanDecoded(unknown) == nil)
        let viaFallback = try Common_ChannelHeader(decoding: unknown, field: "test")
        #expect(viaFallback.txID == "abc")
        #expect(!viaFallback.unknownFields.data.isEmpty)

        // A singular message field twice: SwiftProtobuf merges the two.
        var secondTimestamp = Common_ChannelHeader()
        secondTimestamp.timestamp.nanos = 9
        let timestampAgain = plain + (try secondTimestamp.serializedBytes() as Data)
        #expect(Common_ChannelHeader.leanDecoded(timestampAgain) == nil)
        #expect(try Common_ChannelHeader(decoding: timestampAgain, field: "test").timestamp.seconds == 1_700_000_000)

        // A string that is not UTF-8: SwiftProtobuf rejects it; the lean decoder declines rather than decide.
        let badString = Data([0x22, 0x02, 0xC3, 0x28])  // field 4 (channel_id), invalid UTF-8
        #expect(Common_ChannelHeader.leanDecoded(badString) == nil)
        #expect((try? Common_ChannelHeader(serializedBytes: badString)) == nil)

        // Other wire types, truncation, field number 0, an over-long varint.
        #expect(Common_SignatureHeader.leanDecoded(Data([0x0D, 1, 2, 3, 4])) == nil)  // field 1 as fixed32
        #expect(Common_SignatureHeader.leanDecoded(Data([0x0A, 0x05, 1, 2])) == nil)  // length past the end
        #expect(Common_SignatureHeader.leanDecoded(Data([0x02, 0x00])) == nil)  // field 0
        #expect(Common_ChannelHeader.leanDecoded(Data([0x08] + [UInt8](repeating: 0xFF, count: 10) + [0x01])) == nil)

        // A repeated scalar keeps its last value, as in SwiftProtobuf.
        let channelTwice = plain + Data([0x22, 0x03]) + Data("two".utf8)
        #expect(Common_ChannelHeader.leanDecoded(channelTwice)?.channelID == "two")
        #expect(Common_ChannelHeader.leanDecoded(channelTwice) == (try Common_ChannelHeader(serializedBytes: channelTwice)))

        // A repeated bytes field keeps the last value, as SwiftProtobuf does.
        let twice = Data([0x0A, 0x01, 0x41, 0x0A, 0x01, 0x42])
        #expect(Common_SignatureHeader.leanDecoded(twice) == (try Common_SignatureHeader(serializedBytes: twice)))
        #expect(Common_SignatureHeader.leanDecoded(twice)?.creator == Data([0x42]))

        // A present but empty message field is present.
        let emptyHeader = Data([0x0A, 0x00])
        #expect(Common_Payload.leanDecoded(emptyHeader)?.hasHeader == true)
        #expect(Common_Payload.leanDecoded(emptyHeader) == (try Common_Payload(serializedBytes: emptyHeader)))

        // Range-query information is left to SwiftProtobuf.
        var kv = Kvrwset_KVRWSet()
        kv.rangeQueriesInfo = [Kvrwset_RangeQueryInfo()]
        #expect(Kvrwset_KVRWSet.leanDecoded(try kv.serializedBytes()) == nil)
    }

    @Test("bytes fields are the input's own bytes, also when the input is a slice")
    func slices() throws {
        var envelope = Common_Envelope()
        envelope.payload = Data((0..<200).map { UInt8($0) })
        envelope.signature = Data([9, 8, 7])
        let bytes = try envelope.serializedBytes() as Data
        let slice = (Data(repeating: 0xEE, count: 13) + bytes + Data([0xEE]))[13..<(13 + bytes.count)]
        let decoded = try #require(Common_Envelope.leanDecoded(slice))
        #expect(decoded == envelope)
        #expect(Digest.sha256(decoded.payload) == Digest.sha256(envelope.payload))
        #expect(decoded.signature.hexString == "090807")
    }
}
