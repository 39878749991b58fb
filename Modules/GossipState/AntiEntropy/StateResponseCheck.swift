public import Gossip
public import Wire

/// The checks a state response must pass before any of its blocks enters the payload buffer (spec §6.1
/// "Response handling", tightened): one bad payload rejects the whole response.
public enum StateResponseCheck {
    /// Why a response was refused; the raw value is the `reason` dimension of `gossip_state_bad_responses`.
    public enum Reason: String, Sendable, CaseIterable {
        /// The message is of another channel.
        case wrongChannel
        /// The sender does not satisfy the channel's Readers policy.
        case notReader
        /// No transfer runs, or the nonce is not the awaited one.
        case unsolicited
        /// No payloads (Fabric: "state transfer response without payload").
        case empty
        /// More payloads than blocks requested.
        case tooMany
        /// A payload outside the requested range.
        case outOfRange
        /// Two payloads with the same number.
        case duplicate
        /// A block that does not decode or does not verify (header, number, channel, data hash, orderer
        /// signatures).
        case badBlock
        /// A private-data element that is not a PvtDataPayload with a TxPvtReadWriteSet.
        case badPrivateData
        /// The response queue was full.
        case queueFull
    }

    /// Returns the payloads of `response` when it answers `request` on `channel`: non-empty, at most
    /// `end − start + 1` payloads, each inside [start, end], no number twice, private data decodable, and every
    /// block verified with `mcs.verifyBlock` (over the bytes as received). Throws naming the first violation.
    public static func validate(
        _ response: Gossip_RemoteStateResponse,
        answering request: AntiEntropy.Request,
        channel: ChannelID,
        mcs: any MessageCryptoService
    ) throws(StateResponseRejection) -> [Gossip_Payload] {
        let payloads = response.payloads
        guard !payloads.isEmpty else {
            throw StateResponseRejection(
                .empty,
                "state response for [\(request.start)...\(request.end)] has no payload"
            )
        }
        let width = request.end - request.start + 1
        guard UInt64(payloads.count) <= width else {
            throw StateResponseRejection(
                .tooMany,
                "state response holds \(payloads.count) payloads for \(width) requested blocks"
            )
        }
        var seen = Set<UInt64>()
        for payload in payloads {
            let number = payload.seqNum
            guard number >= request.start, number <= request.end else {
                throw StateResponseRejection(
                    .outOfRange,
                    "state response holds block \(number) outside [\(request.start)...\(request.end)]"
                )
            }
            guard seen.insert(number).inserted else {
                throw StateResponseRejection(.duplicate, "state response holds block \(number) twice")
            }
            do {
                _ = try PrivateDataCodec.decode(payload.privateData, block: number)
            } catch {
                throw StateResponseRejection(.badPrivateData, error.message)
            }
            do {
                try mcs.verifyBlock(channel: channel, sequence: number, block: payload.data)
            } catch {
                throw StateResponseRejection(.badBlock, "block \(number) of \(channel) does not verify: \(error)")
            }
        }
        return payloads
    }
}

/// A refused state response: the reason (a metric dimension) and what was wrong.
public struct StateResponseRejection: Error, Sendable, CustomStringConvertible {
    /// Why.
    public var reason: StateResponseCheck.Reason
    /// What was wrong, naming the block.
    public var message: String

    /// Creates a rejection.
    public init(_ reason: StateResponseCheck.Reason, _ message: String) {
        self.reason = reason
        self.message = message
    }

    public var description: String { "\(self.reason): \(self.message)" }
}
