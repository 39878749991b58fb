import ChannelConfig
import Foundation
import Gossip
import MSP
import Privdata
import Synchronization
import Wire

/// An in-process gossip fabric for the private-data services: each ``LocalGossip`` is one peer with a real
/// identity; messages are delivered to the addressee's subscribers with the sender's connection info (its
/// identity and a handshake signed with its key), acknowledgements travel back the same way. Channel membership
/// lists the other peers with a StateInfo stand-in signed by each peer, and the ledger height the test sets.
final class LocalHub: Sendable {
    private let peers = Mutex<[PKIID: LocalGossip]>([:])

    func add(_ peer: LocalGossip) { self.peers.withLock { $0[peer.pkiID] = peer } }
    func peer(_ pkiID: PKIID) -> LocalGossip? { self.peers.withLock { $0[pkiID] } }
    var all: [LocalGossip] { self.peers.withLock { Array($0.values) } }
}

final class LocalGossip: PrivdataGossip {
    let channelID: ChannelID
    let hub: LocalHub
    let pkiID: PKIID
    let identity: Data
    let organization: String
    let endpoint: String
    let connection: ConnectionInfo
    let stateInfo: Gossip_Envelope
    let height = Mutex<UInt64>(0)
    /// Whether this peer is listed in the others' membership.
    let visible = Mutex(true)
    private let subscribers = Mutex<
        [Int: (filter: @Sendable (ReceivedMessage) -> Bool, continuation: AsyncStream<ReceivedMessage>.Continuation)]
    >([:])
    private let nextID = Mutex(0)
    let sent = Mutex<[(message: Gossip_GossipMessage, to: PKIID?)]>([])

    init(hub: LocalHub, channel: ChannelID, signer: X509SigningIdentity, mspID: String, endpoint: String) throws {
        self.hub = hub
        self.channelID = channel
        self.identity = signer.serialized
        self.organization = mspID
        self.endpoint = endpoint
        self.pkiID = try PKIID.of(serializedIdentity: signer.serialized)
        let handshake = Data("conn-establish \(endpoint)".utf8)
        self.connection = ConnectionInfo(
            pkiID: self.pkiID,
            identity: signer.serialized,
            endpoint: endpoint,
            auth: AuthInfo(signedData: handshake, signature: try signer.sign(handshake))
        )
        var envelope = Gossip_Envelope()
        envelope.payload = Data("state-info \(endpoint)".utf8)
        envelope.signature = try signer.sign(envelope.payload)
        self.stateInfo = envelope
        hub.add(self)
    }

    func subscribe(_ filter: @escaping @Sendable (ReceivedMessage) -> Bool) -> AsyncStream<ReceivedMessage> {
        let (stream, continuation) = AsyncStream.makeStream(of: ReceivedMessage.self)
        let id = self.nextID.withLock { id in
            defer { id += 1 }
            return id
        }
        self.subscribers.withLock { $0[id] = (filter, continuation) }
        continuation.onTermination = { [weak self] _ in _ = self?.subscribers.withLock { $0.removeValue(forKey: id) } }
        return stream
    }

    func deliver(_ message: Gossip_GossipMessage, from sender: ConnectionInfo) {
        guard let signed = try? SignedGossipMessage.noopSign(message) else { return }
        let received = ReceivedMessage(message: signed, connection: sender)
        for subscriber in self.subscribers.withLock({ Array($0.values) }) where subscriber.filter(received) {
            subscriber.continuation.yield(received)
        }
    }

    func finish() {
        for subscriber in self.subscribers.withLock({ Array($0.values) }) { subscriber.continuation.finish() }
    }

    // MARK: PrivdataGossip

    func privateMessages() -> AsyncStream<ReceivedMessage> {
        let channel = self.channelID
        return self.subscribe { received in
            switch received.message.message.content {
            case .privateReq, .privateRes, .privateData: return received.channel == channel
            default: return false
            }
        }
    }

    func send(_ message: Gossip_GossipMessage, to peer: RemotePeer) {
        self.sent.withLock { $0.append((message, peer.pkiID)) }
        guard let pkiID = peer.pkiID, let target = self.hub.peer(pkiID) else { return }
        target.deliver(message, from: self.connection)
    }

    func sendWithAck(
        _ message: Gossip_GossipMessage,
        to peers: [RemotePeer],
        minAck: Int,
        timeout: Duration
    ) async throws -> AckResults {
        var message = message
        message.nonce = UInt64.random(in: 1...UInt64.max)
        let nonce = message.nonce
        let acks = self.subscribe { received in
            if case .ack = received.message.message.content { return received.message.message.nonce == nonce }
            return false
        }
        for peer in peers { self.send(message, to: peer) }
        let expected = Set(peers.compactMap(\.pkiID))
        return await withTaskGroup(of: AckResults?.self) { group in
            group.addTask {
                try? await Task.sleep(for: timeout)
                return nil
            }
            group.addTask {
                var results = AckResults()
                var waiting = expected
                for await received in acks {
                    guard waiting.remove(received.connection.pkiID) != nil,
                        case .ack(let ack)? = received.message.message.content
                    else { continue }
                    if ack.error.isEmpty {
                        results.acknowledged.append(received.connection.pkiID)
                    } else {
                        results.failed[received.connection.pkiID] = ack.error
                    }
                    if waiting.isEmpty || results.successes >= minAck { break }
                }
                return results
            }
            var results = AckResults()
            if let first = await group.next(), let value = first { results = value }
            group.cancelAll()
            for pkiID in expected where !results.acknowledged.contains(pkiID) && results.failed[pkiID] == nil {
                results.failed[pkiID] = "timed out"
            }
            return results
        }
    }

    func acknowledge(_ received: ReceivedMessage, error: String) {
        var ack = Gossip_Acknowledgement()
        ack.error = error
        var reply = Gossip_GossipMessage()
        reply.nonce = received.message.message.nonce
        reply.content = .ack(ack)
        self.hub.peer(received.connection.pkiID)?.deliver(reply, from: self.connection)
    }

    func peersOfChannel() -> [NetworkMember] {
        self.hub.all.filter { $0.pkiID != self.pkiID && $0.visible.withLock { $0 } }.map { peer in
            var properties = Gossip_Properties()
            properties.ledgerHeight = peer.height.withLock { $0 }
            return NetworkMember(
                pkiID: peer.pkiID,
                endpoint: peer.endpoint,
                properties: properties,
                envelope: peer.stateInfo
            )
        }
    }

    func identity(of pkiID: PKIID) -> (identity: Data, organization: String?)? {
        self.hub.peer(pkiID).map { ($0.identity, $0.organization) }
    }
}
