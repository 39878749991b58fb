import ChannelConfig
import Foundation
import Ledger
import Logging
import MSP
import SwiftProtobuf
import Wire

/// Fabric's Deliver handler (`common/deliver`) for the orderer: each request on a stream is a signed
/// DELIVER_SEEK_INFO envelope; blocks of the requested range are streamed (waiting for blocks not cut yet with
/// BLOCK_UNTIL_READY), then a `SUCCESS` status, and the stream waits for the next request. Any other status ends
/// the stream.
///
/// Statuses, as Fabric gives them: `BAD_REQUEST` for an envelope that does not parse, a timestamp missing or
/// outside the time window, a SeekInfo that does not decode, a missing start or stop, a stop before the start;
/// `NOT_FOUND` for an unknown channel, a start beyond the chain's height, or a block not there yet with
/// FAIL_IF_NOT_READY; `FORBIDDEN` when the requester does not satisfy `/Channel/Readers` (checked again for each
/// block after a config change) or its certificate expired; `SERVICE_UNAVAILABLE` when the channel can no longer
/// write blocks (unless the request asks for BEST_EFFORT).
struct DeliverHandler: Sendable {
    let lookup: @Sendable (String) -> OrdererChannel?
    let timeWindow: Duration
    let wallClock: @Sendable () -> Date
    let logger: Logger
    /// Applied to each block before it is sent (fault injection; the identity otherwise).
    var tamper: @Sendable (Common_Block) -> Common_Block = { $0 }

    /// Serves the requests of one Deliver stream until the client ends it or a request ends with a status other
    /// than `SUCCESS`.
    func handle(
        requests: some AsyncSequence<Common_Envelope, any Error>,
        send: (Orderer_DeliverResponse) async throws -> Void
    ) async throws {
        var iterator = requests.makeAsyncIterator()
        while let envelope = try await iterator.next() {
            let status = try await self.deliverBlocks(envelope, send: send)
            var response = Orderer_DeliverResponse()
            response.status = status
            try await send(response)
            if status != .success { return }
        }
    }

    private func deliverBlocks(
        _ envelope: Common_Envelope,
        send: (Orderer_DeliverResponse) async throws -> Void
    ) async throws -> Common_Status {
        let payload: Common_Payload
        let channelHeader: Common_ChannelHeader
        let signatureHeader: Common_SignatureHeader
        do {
            payload = try envelope.unpackPayload()
            channelHeader = try payload.unpackChannelHeader()
            signatureHeader = try payload.unpackSignatureHeader()
        } catch {
            self.logger.warning("deliver: error parsing envelope: \(reason(error))")
            return .badRequest
        }
        guard channelHeader.hasTimestamp else {
            self.logger.warning("deliver: channel header in envelope must contain timestamp")
            return .badRequest
        }
        let now = self.wallClock()
        let sent = Date(timeIntervalSince1970: TimeInterval(channelHeader.timestamp.seconds))
            .addingTimeInterval(TimeInterval(channelHeader.timestamp.nanos) / 1e9)
        let window = Double(self.timeWindow.components.seconds) + Double(self.timeWindow.components.attoseconds) / 1e18
        if abs(now.timeIntervalSince(sent)) > window {
            self.logger.warning(
                "deliver: envelope timestamp \(sent) is more than \(self.timeWindow) apart from current server time \(now)"
            )
            return .badRequest
        }
        let channelID = channelHeader.channelID
        guard let channel = self.lookup(channelID) else {
            self.logger.debug("deliver: rejecting deliver because channel \(channelID) not found")
            return .notFound
        }
        let seekInfo: Orderer_SeekInfo
        do {
            seekInfo = try Orderer_SeekInfo(serializedBytes: payload.data)
        } catch {
            self.logger.warning("[channel: \(channelID)] deliver request with malformed seekInfo payload: \(error)")
            return .badRequest
        }
        let strict = seekInfo.errorResponse != .bestEffort
        if strict, let failure = channel.failure {
            self.logger.warning("[channel: \(channelID)] rejecting deliver request: \(failure)")
            return .serviceUnavailable
        }
        var access = SessionAccessControl(
            signedData: SignedData(
                data: envelope.payload,
                identity: signatureHeader.creator,
                signature: envelope.signature
            )
        )
        if let denied = access.evaluate(channel.bundle, now: now) {
            self.logger.warning("[channel: \(channelID)] client is not authorized: \(denied)")
            return .forbidden
        }
        guard seekInfo.hasStart, seekInfo.hasStop else {
            self.logger.warning("[channel: \(channelID)] seekInfo with missing start or stop")
            return .badRequest
        }

        // The start, as Fabric's file ledger iterator reads it; nil is its "not found" iterator.
        let height = channel.height
        let start: UInt64?
        switch seekInfo.start.type {
        case .oldest: start = 0
        case .newest: start = height - 1
        case .specified(let specified): start = specified.number > height ? nil : specified.number
        case .nextCommit: start = height
        case nil: start = nil
        }
        var number = start ?? 0
        var stopNumber: UInt64 = 0
        switch seekInfo.stop.type {
        case .oldest:
            stopNumber = number
        case .newest:
            stopNumber = seekInfo.start == seekInfo.stop ? number : channel.height - 1
        case .specified(let specified):
            stopNumber = specified.number
            if stopNumber < number {
                self.logger.warning(
                    "[channel: \(channelID)] invalid seekInfo: start number \(number) greater than stop number \(stopNumber)"
                )
                return .badRequest
            }
        case .nextCommit, nil:
            stopNumber = 0
        }

        var blocks = channel.store.blocks(from: number).makeAsyncIterator()
        while true {
            if seekInfo.behavior == .failIfNotReady, number > channel.height - 1 {
                self.logger.warning(
                    "[channel: \(channelID)] block \(number) not found, block number greater than chain length bounds"
                )
                return .notFound
            }
            guard start != nil else { return .notFound }
            guard let block = try await blocks.next() else { throw CancellationError() }
            if strict, let failure = channel.failure {
                self.logger.warning("[channel: \(channelID)] aborting deliver: \(failure)")
                return .serviceUnavailable
            }
            number += 1
            if let denied = access.evaluate(channel.bundle, now: self.wallClock()) {
                self.logger.warning("[channel: \(channelID)] client authorization revoked: \(denied)")
                return .forbidden
            }
            var response = Orderer_DeliverResponse()
            if seekInfo.contentType == .headerWithSig, !BlockVerifier.isConfigBlock(block) {
                var attestation = Common_Block()
                attestation.header = block.header
                attestation.metadata = block.metadata
                response.block = attestation
            } else {
                response.block = self.tamper(block)
            }
            try await send(response)
            if stopNumber == block.header.number { break }
        }
        return .success
    }
}

/// Fabric's `SessionAccessControl`: the requester's certificate must not have expired, and its signature must satisfy
/// `/Channel/Readers` on first use and again whenever the config sequence has moved.
struct SessionAccessControl {
    let signedData: SignedData
    private var usedAtLeastOnce = false
    private var lastSequence: UInt64 = 0

    init(signedData: SignedData) { self.signedData = signedData }

    /// Nil when allowed; otherwise why not.
    mutating func evaluate(_ bundle: ChannelBundle, now: Date) -> String? {
        if let identity = try? bundle.mspManager.deserializeIdentity(self.signedData.identity),
            let expiry = identity.expiresAt, now > expiry
        {
            return "deliver client identity expired \(now.timeIntervalSince(expiry)) seconds before"
        }
        var needed = !self.usedAtLeastOnce
        if bundle.sequence > self.lastSequence {
            self.lastSequence = bundle.sequence
            needed = true
        }
        guard needed else { return nil }
        self.usedAtLeastOnce = true
        return MessageFilters.checkPolicy(
            ChannelBundle.PolicyPath.channelReaders,
            signedData: self.signedData,
            bundle: bundle
        )?.info
    }
}
