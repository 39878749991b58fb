import ChannelConfig
import Foundation
public import Gossip
public import Logging
internal import SwiftProtobuf
import Wire

/// Fabric's privdata `puller`: fetches private data from the channel's peers with `RemotePvtDataRequest` /
/// `RemotePvtDataResponse`, and answers the requests of others from a ``PrivateDataRetriever``.
///
/// Fetching (``fetch(_:)``): poll membership (up to `membershipPolls` times, `membershipInterval` apart) for peers
/// accepted by a request's collection; drop digests some candidate peer has already purged (BTL > 0 and its height
/// + btlPullMargin ≥ block + BTL) and report them; then in rounds assign each digest to the first peer that
/// endorsed it (preferred) else the first eligible one, send one request per peer, wait for the responses (up to
/// `responseTimeout`), and retry what is left with peers not asked before.
public final class PrivateDataPuller: PrivateDataFetcher {
    /// The gossip side.
    public let gossip: any PrivdataGossip
    /// Serves requests.
    public let retriever: PrivateDataRetriever
    private let btlPullMargin: UInt64
    private let responseTimeout: Duration
    private let membershipPolls: Int
    private let membershipInterval: Duration
    private let clock: any GossipClock
    private let metrics: PrivdataMetrics
    private let logger: Logger

    /// Creates the puller.
    public init(
        gossip: any PrivdataGossip,
        retriever: PrivateDataRetriever,
        btlPullMargin: UInt64 = 10,
        responseTimeout: Duration = .seconds(5),
        membershipPolls: Int = 5,
        membershipInterval: Duration = .seconds(1),
        clock: any GossipClock = WallClock(),
        metrics: PrivdataMetrics? = nil,
        logger: Logger = Logger(label: "privdata.pull")
    ) {
        self.metrics = metrics ?? PrivdataMetrics(channelID: gossip.channelID)
        self.gossip = gossip
        self.retriever = retriever
        self.btlPullMargin = btlPullMargin
        self.responseTimeout = responseTimeout
        self.membershipPolls = max(1, membershipPolls)
        self.membershipInterval = membershipInterval
        self.clock = clock
        self.logger = logger
    }

    // MARK: - Serving

    /// Answers one `RemotePvtDataRequest` (ignores other messages): the elements the requester, identified by
    /// its connection's handshake, is eligible for, with the request's nonce.
    public func handleRequest(_ received: ReceivedMessage) {
        guard case .privateReq(let request)? = received.message.message.content else { return }
        let requester = SignedData(
            data: received.connection.auth.signedData,
            identity: received.connection.identity,
            signature: received.connection.auth.signature
        )
        let digests = request.digests.map(PrivateDataDigest.init)
        let found: [PrivateDataDigest: [Data]]
        do {
            found = try self.metrics.retrieve.time { () throws(PrivdataError) in
                try self.retriever.retrieve(digests, for: requester)
            }
        } catch {
            self.logger.warning("cannot serve a private data request from \(received.connection.endpoint): \(error)")
            return
        }
        var response = Gossip_RemotePvtDataResponse()
        for digest in digests {
            guard let payload = found[digest], !payload.isEmpty else { continue }
            var element = Gossip_PvtDataElement()
            element.digest = digest.message
            element.payload = payload
            response.elements.append(element)
        }
        var reply = Gossip_GossipMessage(channel: self.gossip.channelID, tag: .chanOnly, content: .privateRes(response))
        reply.nonce = received.message.message.nonce
        self.gossip.send(
            reply,
            to: RemotePeer(endpoint: received.connection.endpoint, pkiID: received.connection.pkiID)
        )
    }

    // MARK: - Fetching

    private struct Candidate {
        let member: NetworkMember
        let signedData: SignedData
        let identity: Data
    }

    public func fetch(_ requests: [PrivateDataRequest]) async throws -> FetchedPrivateData {
        var result = FetchedPrivateData()
        guard !requests.isEmpty else { return result }
        let candidates = try await self.candidates(for: requests)
        var pending: [PrivateDataRequest] = []
        for request in requests {
            if self.isPurged(request, at: candidates) {
                result.purged.insert(request.digest)
            } else {
                pending.append(request)
            }
        }
        var available = candidates.shuffled()
        while !pending.isEmpty {
            var assignment: [PKIID: (peer: RemotePeer, digests: [PrivateDataDigest])] = [:]
            for request in pending {
                let chosen =
                    available.first { self.isPreferred($0, for: request) }
                    ?? available.first { request.collection.accepts($0.signedData) }
                guard let chosen else { continue }
                assignment[chosen.member.pkiID, default: (peer: chosen.member.remotePeer, digests: [])].digests.append(
                    request.digest
                )
            }
            if assignment.isEmpty { break }
            let answered = await self.metrics.pull.time { await self.exchange(assignment) }
            for (digest, payload) in answered where !payload.isEmpty {
                result.elements[digest, default: []].append(contentsOf: payload)
            }
            pending = pending.filter { result.elements[$0.digest] == nil }
            available.removeAll { assignment[$0.member.pkiID] != nil }
            if available.isEmpty { break }
        }
        return result
    }

    /// Channel peers accepted by any request's collection, polling membership a few times while there are none.
    private func candidates(for requests: [PrivateDataRequest]) async throws -> [Candidate] {
        for attempt in 0..<self.membershipPolls {
            var found: [Candidate] = []
            for member in self.gossip.peersOfChannel() {
                guard let signed = self.gossip.signedData(of: member) else { continue }
                if requests.contains(where: { $0.collection.accepts(signed) }) {
                    found.append(Candidate(member: member, signedData: signed, identity: signed.identity))
                }
            }
            if !found.isEmpty { return found }
            if attempt + 1 < self.membershipPolls { try await self.clock.sleep(for: self.membershipInterval) }
        }
        self.logger.debug("no eligible peer to pull \(requests.count) digest(s) from")
        return []
    }

    private func isPreferred(_ candidate: Candidate, for request: PrivateDataRequest) -> Bool {
        if let original = request.originalCollection {
            return original.accepts(candidate.signedData) && request.collection.accepts(candidate.signedData)
        }
        return request.endorsers.contains(candidate.identity) && request.collection.accepts(candidate.signedData)
    }

    private func isPurged(_ request: PrivateDataRequest, at candidates: [Candidate]) -> Bool {
        let btl = request.collection.blockToLive
        guard btl > 0 else { return false }
        let (limit, overflow) = request.digest.blockSeq.addingReportingOverflow(btl)
        guard !overflow else { return false }
        return candidates.contains { candidate in
            guard request.collection.accepts(candidate.signedData),
                let height = candidate.member.properties?.ledgerHeight
            else { return false }
            return height + self.btlPullMargin >= limit
        }
    }

    /// Sends one request per peer and collects the responses of those peers until every digest is answered, every
    /// peer responded, or the response timeout passes.
    private func exchange(
        _ assignment: [PKIID: (peer: RemotePeer, digests: [PrivateDataDigest])]
    ) async -> [PrivateDataDigest: [Data]] {
        let responses = self.gossip.privateMessages()
        var nonces: [UInt64: PKIID] = [:]
        for (pkiID, job) in assignment {
            var request = Gossip_RemotePvtDataRequest()
            request.digests = job.digests.map(\.message)
            var message = Gossip_GossipMessage(
                channel: self.gossip.channelID,
                tag: .chanOnly,
                content: .privateReq(request)
            )
            message.nonce = UInt64.random(in: 1...UInt64.max)
            nonces[message.nonce] = pkiID
            self.gossip.send(message, to: job.peer)
        }
        let wanted = Set(assignment.values.flatMap(\.digests))
        let expectedNonces = nonces
        let timeout = self.responseTimeout
        return await withTaskGroup(of: [PrivateDataDigest: [Data]]?.self) { group in
            group.addTask {
                try? await Task.sleep(for: timeout)
                return nil
            }
            group.addTask {
                var collected: [PrivateDataDigest: [Data]] = [:]
                var waiting = Set(expectedNonces.keys)
                for await received in responses {
                    guard case .privateRes(let response)? = received.message.message.content,
                        let asked = expectedNonces[received.message.message.nonce],
                        asked == received.connection.pkiID,
                        waiting.remove(received.message.message.nonce) != nil
                    else { continue }
                    for element in response.elements {
                        guard element.hasDigest else { break }
                        let digest = PrivateDataDigest(element.digest)
                        guard wanted.contains(digest) else { continue }
                        collected[digest, default: []].append(contentsOf: element.payload)
                    }
                    if waiting.isEmpty || wanted.allSatisfy({ collected[$0] != nil }) { break }
                }
                return collected
            }
            var collected: [PrivateDataDigest: [Data]] = [:]
            if let first = await group.next(), let value = first {
                collected = value
            }
            group.cancelAll()
            // The timer finished first: what was collected so far is lost with the cancelled task; wait for it.
            while let next = await group.next() {
                if let value = next { collected.merge(value) { $0 + $1 } }
            }
            return collected
        }
    }
}
