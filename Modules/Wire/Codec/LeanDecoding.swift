public import Foundation
public import SwiftProtobuf

/// Lean decoders (``LeanDecodable/leanDecoded(_:)``) for the messages every endorser transaction's validation and
/// commit decode, without SwiftProtobuf's general decoder: `bytes` fields become slices of the input (sharing its
/// storage) instead of copies, and there is no per-field dispatch through the generic decoding machinery. This enum
/// holds the wire-format reader and the decoders of the nested messages.
///
/// Each decoder returns a message equal to what `Message(serializedBytes:)` gives for the same bytes, or nil
/// whenever the bytes are anything but the plain case:
/// - a malformed encoding (truncated, a varint over 10 bytes, a length past the end, field number 0),
/// - a wire type other than varint and length-delimited,
/// - a field number the message does not define (SwiftProtobuf would keep it as an unknown field),
/// - a singular message field that appears twice (SwiftProtobuf would merge the two; a repeated scalar or `bytes`
///   field keeps its last value, here as there),
/// - a string that is not UTF-8,
/// - for `KVRWSet`, range-query information (rare; its nested Merkle summaries are left to SwiftProtobuf).
///
/// A caller that gets nil decodes with SwiftProtobuf, which gives the full behaviour, errors included; so the
/// result never depends on which decoder ran. What Fabric's clients and peers produce is always the plain case.
public enum LeanDecoding {
    // MARK: Nested messages

    fileprivate static func header(_ reader: Reader) -> Common_Header? {
        var message = Common_Header()
        return reader.fields { number, field in
            switch number {
            case 1: return field.bytes(&message.channelHeader)
            case 2: return field.bytes(&message.signatureHeader)
            default: return false
            }
        } ? message : nil
    }

    fileprivate static func timestamp(_ reader: Reader) -> Google_Protobuf_Timestamp? {
        var message = Google_Protobuf_Timestamp()
        return reader.fields { number, field in
            guard case .varint(let value) = field.value else { return false }
            switch number {
            case 1: message.seconds = Int64(bitPattern: value)
            case 2: message.nanos = Int32(truncatingIfNeeded: value)
            default: return false
            }
            return true
        } ? message : nil
    }

    fileprivate static func transactionAction(_ reader: Reader) -> Protos_TransactionAction? {
        var message = Protos_TransactionAction()
        return reader.fields { number, field in
            switch number {
            case 1: return field.bytes(&message.header)
            case 2: return field.bytes(&message.payload)
            default: return false
            }
        } ? message : nil
    }

    fileprivate static func endorsedAction(_ reader: Reader) -> Protos_ChaincodeEndorsedAction? {
        var message = Protos_ChaincodeEndorsedAction()
        return reader.fields { number, field in
            switch number {
            case 1: return field.bytes(&message.proposalResponsePayload)
            case 2: return field.append(&message.endorsements, endorsement)
            default: return false
            }
        } ? message : nil
    }

    fileprivate static func endorsement(_ reader: Reader) -> Protos_Endorsement? {
        var message = Protos_Endorsement()
        return reader.fields { number, field in
            switch number {
            case 1: return field.bytes(&message.endorser)
            case 2: return field.bytes(&message.signature)
            default: return false
            }
        } ? message : nil
    }

    fileprivate static func response(_ reader: Reader) -> Protos_Response? {
        var message = Protos_Response()
        return reader.fields { number, field in
            switch number {
            case 1: return field.int32(&message.status)
            case 2: return field.string(&message.message)
            case 3: return field.bytes(&message.payload)
            default: return false
            }
        } ? message : nil
    }

    fileprivate static func chaincodeID(_ reader: Reader) -> Protos_ChaincodeID? {
        var message = Protos_ChaincodeID()
        return reader.fields { number, field in
            switch number {
            case 1: return field.string(&message.path)
            case 2: return field.string(&message.name)
            case 3: return field.string(&message.version)
            default: return false
            }
        } ? message : nil
    }

    fileprivate static func nsReadWriteSet(_ reader: Reader) -> Rwset_NsReadWriteSet? {
        var message = Rwset_NsReadWriteSet()
        return reader.fields { number, field in
            switch number {
            case 1: return field.string(&message.namespace)
            case 2: return field.bytes(&message.rwset)
            case 3: return field.append(&message.collectionHashedRwset, collectionHashedReadWriteSet)
            default: return false
            }
        } ? message : nil
    }

    fileprivate static func collectionHashedReadWriteSet(_ reader: Reader) -> Rwset_CollectionHashedReadWriteSet? {
        var message = Rwset_CollectionHashedReadWriteSet()
        return reader.fields { number, field in
            switch number {
            case 1: return field.string(&message.collectionName)
            case 2: return field.bytes(&message.hashedRwset)
            case 3: return field.bytes(&message.pvtRwsetHash)
            default: return false
            }
        } ? message : nil
    }

    fileprivate static func kvRead(_ reader: Reader) -> Kvrwset_KVRead? {
        var message = Kvrwset_KVRead()
        return reader.fields { number, field in
            switch number {
            case 1: return field.string(&message.key)
            case 2: return field.message(&message.version, seen: message.hasVersion, version)
            default: return false
            }
        } ? message : nil
    }

    fileprivate static func version(_ reader: Reader) -> Kvrwset_Version? {
        var message = Kvrwset_Version()
        return reader.fields { number, field in
            switch number {
            case 1: return field.uint64(&message.blockNum)
            case 2: return field.uint64(&message.txNum)
            default: return false
            }
        } ? message : nil
    }

    fileprivate static func kvWrite(_ reader: Reader) -> Kvrwset_KVWrite? {
        var message = Kvrwset_KVWrite()
        return reader.fields { number, field in
            switch number {
            case 1: return field.string(&message.key)
            case 2:
                guard case .varint(let value) = field.value else { return false }
                message.isDelete = value != 0
                return true
            case 3: return field.bytes(&message.value)
            default: return false
            }
        } ? message : nil
    }

    fileprivate static func kvMetadataWrite(_ reader: Reader) -> Kvrwset_KVMetadataWrite? {
        var message = Kvrwset_KVMetadataWrite()
        return reader.fields { number, field in
            switch number {
            case 1: return field.string(&message.key)
            case 2: return field.append(&message.entries, kvMetadataEntry)
            default: return false
            }
        } ? message : nil
    }

    fileprivate static func kvMetadataEntry(_ reader: Reader) -> Kvrwset_KVMetadataEntry? {
        var message = Kvrwset_KVMetadataEntry()
        return reader.fields { number, field in
            switch number {
            case 1: return field.string(&message.name)
            case 2: return field.bytes(&message.value)
            default: return false
            }
        } ? message : nil
    }

    // MARK: Wire format

    fileprivate static func decode<Message>(_ bytes: Data, _ body: (Reader) -> Message?) -> Message? {
        bytes.withUnsafeBytes { raw in body(Reader(data: bytes, raw: raw, range: 0..<raw.count)) }
    }

    /// One message's bytes inside the input: `raw` is the whole input, `range` the message.
    fileprivate struct Reader {
        let data: Data
        let raw: UnsafeRawBufferPointer
        let range: Range<Int>

        /// Calls `visit` with each field in order; false (and stops) on malformed bytes or when `visit` refuses.
        func fields(_ visit: (Int, Field) -> Bool) -> Bool {
            var position = self.range.lowerBound
            let end = self.range.upperBound
            while position < end {
                guard let key = self.varint(&position, end), key >> 3 != 0, key >> 3 <= 0x1FFF_FFFF else {
                    return false
                }
                let value: Field.Value
                switch key & 7 {
                case 0:
                    guard let number = self.varint(&position, end) else { return false }
                    value = .varint(number)
                case 2:
                    guard let length = self.varint(&position, end), length <= UInt64(end - position) else {
                        return false
                    }
                    value = .bytes(position..<(position + Int(length)))
                    position += Int(length)
                default:
                    return false
                }
                guard visit(Int(key >> 3), Field(reader: self, value: value)) else { return false }
            }
            return true
        }

        private func varint(_ position: inout Int, _ end: Int) -> UInt64? {
            var result: UInt64 = 0
            var shift: UInt64 = 0
            while position < end, shift < 64 {
                let byte = self.raw[position]
                position += 1
                result |= UInt64(byte & 0x7F) << shift
                if byte & 0x80 == 0 { return result }
                shift += 7
            }
            return nil
        }
    }

    /// One field of a message.
    fileprivate struct Field {
        enum Value {
            case varint(UInt64)
            case bytes(Range<Int>)
        }

        let reader: Reader
        let value: Value

        /// A `bytes` field (the last occurrence wins, as in SwiftProtobuf; only refused for other wire types).
        func bytes(_ target: inout Data) -> Bool {
            guard case .bytes(let range) = self.value else { return false }
            let start = self.reader.data.startIndex
            target = self.reader.data[(start + range.lowerBound)..<(start + range.upperBound)]
            return true
        }

        func string(_ target: inout String) -> Bool {
            guard case .bytes(let range) = self.value,
                let string = String(validating: UnsafeRawBufferPointer(rebasing: self.reader.raw[range]), as: UTF8.self)
            else { return false }
            target = string
            return true
        }

        func int32(_ target: inout Int32) -> Bool {
            guard case .varint(let value) = self.value else { return false }
            target = Int32(truncatingIfNeeded: value)
            return true
        }

        func uint64(_ target: inout UInt64) -> Bool {
            guard case .varint(let value) = self.value else { return false }
            target = value
            return true
        }

        /// A singular message field; refused if it appeared before (`seen`), since SwiftProtobuf merges repeats.
        func message<Message>(_ target: inout Message, seen: Bool, _ decode: (Reader) -> Message?) -> Bool {
            guard !seen, case .bytes(let range) = self.value,
                let message = decode(Reader(data: self.reader.data, raw: self.reader.raw, range: range))
            else { return false }
            target = message
            return true
        }

        /// One element of a repeated message field.
        func append<Message>(_ target: inout [Message], _ decode: (Reader) -> Message?) -> Bool {
            guard case .bytes(let range) = self.value,
                let message = decode(Reader(data: self.reader.data, raw: self.reader.raw, range: range))
            else { return false }
            target.append(message)
            return true
        }
    }
}

/// A message with a ``LeanDecoding`` decoder, which ``init(decoding:field:)`` tries before SwiftProtobuf's.
public protocol LeanDecodable: SwiftProtobuf.Message {
    /// The lean decoder's result, or nil when SwiftProtobuf must decode `bytes`.
    static func leanDecoded(_ bytes: Data) -> Self?
}

extension LeanDecodable {
    /// Decodes `bytes` as this message, naming `field` (where the bytes came from) in the error: the lean decoder
    /// first, SwiftProtobuf when it declines. The result is the same either way.
    @inlinable
    public init(decoding bytes: Data, field: @autoclosure () -> String) throws(WireError) {
        if let message = Self.leanDecoded(bytes) {
            self = message
        } else {
            self = try Self.fullyDecoded(bytes, field: field())
        }
    }
}

extension Common_Envelope: LeanDecodable {
    public static func leanDecoded(_ bytes: Data) -> Self? {
        LeanDecoding.decode(bytes) { reader in
            var message = Common_Envelope()
            return reader.fields { number, field in
                switch number {
                case 1: return field.bytes(&message.payload)
                case 2: return field.bytes(&message.signature)
                default: return false
                }
            } ? message : nil
        }
    }
}

extension Common_Payload: LeanDecodable {
    public static func leanDecoded(_ bytes: Data) -> Self? {
        LeanDecoding.decode(bytes) { reader in
            var message = Common_Payload()
            return reader.fields { number, field in
                switch number {
                case 1: return field.message(&message.header, seen: message.hasHeader, LeanDecoding.header)
                case 2: return field.bytes(&message.data)
                default: return false
                }
            } ? message : nil
        }
    }
}

extension Common_ChannelHeader: LeanDecodable {
    public static func leanDecoded(_ bytes: Data) -> Self? {
        LeanDecoding.decode(bytes) { reader in
            var message = Common_ChannelHeader()
            return reader.fields { number, field in
                switch number {
                case 1: return field.int32(&message.type)
                case 2: return field.int32(&message.version)
                case 3:
                    return field.message(&message.timestamp, seen: message.hasTimestamp, LeanDecoding.timestamp)
                case 4: return field.string(&message.channelID)
                case 5: return field.string(&message.txID)
                case 6: return field.uint64(&message.epoch)
                case 7: return field.bytes(&message.extension)
                case 8: return field.bytes(&message.tlsCertHash)
                default: return false
                }
            } ? message : nil
        }
    }
}

extension Common_SignatureHeader: LeanDecodable {
    public static func leanDecoded(_ bytes: Data) -> Self? {
        LeanDecoding.decode(bytes) { reader in
            var message = Common_SignatureHeader()
            return reader.fields { number, field in
                switch number {
                case 1: return field.bytes(&message.creator)
                case 2: return field.bytes(&message.nonce)
                default: return false
                }
            } ? message : nil
        }
    }
}

extension Protos_Transaction: LeanDecodable {
    public static func leanDecoded(_ bytes: Data) -> Self? {
        LeanDecoding.decode(bytes) { reader in
            var message = Protos_Transaction()
            return reader.fields { number, field in
                switch number {
                case 1: return field.append(&message.actions, LeanDecoding.transactionAction)
                default: return false
                }
            } ? message : nil
        }
    }
}

extension Protos_ChaincodeActionPayload: LeanDecodable {
    public static func leanDecoded(_ bytes: Data) -> Self? {
        LeanDecoding.decode(bytes) { reader in
            var message = Protos_ChaincodeActionPayload()
            return reader.fields { number, field in
                switch number {
                case 1: return field.bytes(&message.chaincodeProposalPayload)
                case 2: return field.message(&message.action, seen: message.hasAction, LeanDecoding.endorsedAction)
                default: return false
                }
            } ? message : nil
        }
    }
}

extension Protos_ProposalResponsePayload: LeanDecodable {
    public static func leanDecoded(_ bytes: Data) -> Self? {
        LeanDecoding.decode(bytes) { reader in
            var message = Protos_ProposalResponsePayload()
            return reader.fields { number, field in
                switch number {
                case 1: return field.bytes(&message.proposalHash)
                case 2: return field.bytes(&message.extension)
                default: return false
                }
            } ? message : nil
        }
    }
}

extension Protos_ChaincodeAction: LeanDecodable {
    public static func leanDecoded(_ bytes: Data) -> Self? {
        LeanDecoding.decode(bytes) { reader in
            var message = Protos_ChaincodeAction()
            return reader.fields { number, field in
                switch number {
                case 1: return field.bytes(&message.results)
                case 2: return field.bytes(&message.events)
                case 3: return field.message(&message.response, seen: message.hasResponse, LeanDecoding.response)
                case 4:
                    return field.message(&message.chaincodeID, seen: message.hasChaincodeID, LeanDecoding.chaincodeID)
                default: return false
                }
            } ? message : nil
        }
    }
}

extension Protos_ChaincodeHeaderExtension: LeanDecodable {
    public static func leanDecoded(_ bytes: Data) -> Self? {
        LeanDecoding.decode(bytes) { reader in
            var message = Protos_ChaincodeHeaderExtension()
            return reader.fields { number, field in
                switch number {
                case 2:
                    return field.message(&message.chaincodeID, seen: message.hasChaincodeID, LeanDecoding.chaincodeID)
                default: return false
                }
            } ? message : nil
        }
    }
}

extension Rwset_TxReadWriteSet: LeanDecodable {
    public static func leanDecoded(_ bytes: Data) -> Self? {
        LeanDecoding.decode(bytes) { reader in
            var message = Rwset_TxReadWriteSet()
            return reader.fields { number, field in
                switch number {
                case 1:
                    guard case .varint(let value) = field.value,
                        let model = Rwset_TxReadWriteSet.DataModel(rawValue: Int(Int32(truncatingIfNeeded: value)))
                    else { return false }
                    message.dataModel = model
                    return true
                case 2: return field.append(&message.nsRwset, LeanDecoding.nsReadWriteSet)
                default: return false
                }
            } ? message : nil
        }
    }
}

extension Kvrwset_KVRWSet: LeanDecodable {
    public static func leanDecoded(_ bytes: Data) -> Self? {
        LeanDecoding.decode(bytes) { reader in
            var message = Kvrwset_KVRWSet()
            return reader.fields { number, field in
                switch number {
                case 1: return field.append(&message.reads, LeanDecoding.kvRead)
                case 3: return field.append(&message.writes, LeanDecoding.kvWrite)
                case 4: return field.append(&message.metadataWrites, LeanDecoding.kvMetadataWrite)
                default: return false
                }
            } ? message : nil
        }
    }
}
