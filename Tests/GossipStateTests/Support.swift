import Foundation
import Gossip
import GossipState
import SwiftProtobuf
import Synchronization
import TestSupport
import Wire

/// A value behind a lock, shareable between tasks.
final class Locked<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>
    init(_ value: Value) { self.mutex = Mutex(value) }
    func withLock<Result>(_ body: (inout Value) -> Result) -> Result { self.mutex.withLock { body(&$0) } }
    var value: Value { self.mutex.withLock { $0 } }
}

/// Polls `condition` every 5 ms (running `step` before each look) for up to `timeout` of real time. Only a bound
/// against hanging: assertions are on the outcome, never on how long it took.
func eventually(
    timeout: Duration = .seconds(60),
    step: () -> Void = {},
    _ condition: () -> Bool
) async throws -> Bool {
    let deadline = ContinuousClock.now.advanced(by: timeout)
    while ContinuousClock.now < deadline {
        step()
        if condition() { return true }
        try await Task.sleep(for: .milliseconds(5))
    }
    return condition()
}

/// A chain of blocks signed by `pki`'s fake orderer for `channel`: block 0 … count − 1, each naming the previous
/// header hash, as marshalled bytes.
func fakeChain(_ pki: FakePKI, channel: ChannelID, count: Int) throws -> [Data] {
    var blocks: [Data] = []
    var previous = Data()
    for number in 0..<count {
        let bytes = pki.makeBlock(number: UInt64(number), channel: channel, previousHash: previous, transactions: 2)
        previous = try Common_Block(serializedBytes: bytes).headerHash
        blocks.append(bytes)
    }
    return blocks
}

func payload(_ number: UInt64, _ bytes: Data, privateData: [Data] = []) -> Gossip_Payload {
    var payload = Gossip_Payload()
    payload.seqNum = number
    payload.data = bytes
    payload.privateData = privateData
    return payload
}

/// A small in-memory ledger behind both of GossipState's ledger protocols. It refuses what a real ledger refuses:
/// a block whose number is not the height, whose previous hash is not the last header's hash, or whose data hash
/// does not match. It can be told to fail a block, and to hold commits until released.
final class MemoryLedger: BlockCommitCoordinator, StateBlockSource {
    struct Refused: Error, CustomStringConvertible {
        let description: String
    }

    private struct State {
        var blocks: [Data] = []
        var headers: [Common_BlockHeader] = []
        var privateData: [UInt64: [TxPrivateWriteSet]] = [:]
        var failing: Set<UInt64> = []
        var attempts: [UInt64] = []
        var held = false
        var heldWaiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())

    /// A ledger holding `blocks` (the genesis block first).
    init(_ blocks: [Data]) throws {
        for block in blocks { try self.append(block, privateData: []) }
    }

    /// Every number storeBlock was called with, in order.
    var attempts: [UInt64] { self.state.withLock { $0.attempts } }
    var height: UInt64 { self.state.withLock { UInt64($0.blocks.count) } }
    var blocks: [Data] { self.state.withLock { $0.blocks } }
    func privateData(of number: UInt64) -> [TxPrivateWriteSet] { self.state.withLock { $0.privateData[number] ?? [] } }

    /// Makes storeBlock of `number` throw.
    func fail(_ number: UInt64) { self.state.withLock { _ = $0.failing.insert(number) } }

    /// Holds every commit until ``release()``.
    func hold() { self.state.withLock { $0.held = true } }

    func release() {
        let waiters = self.state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.held = false
            defer { state.heldWaiters = [] }
            return state.heldWaiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Whether a commit is waiting for ``release()``.
    var isHoldingACommit: Bool { self.state.withLock { !$0.heldWaiters.isEmpty } }

    func ledgerHeight() throws -> UInt64 { self.height }

    func storeBlock(_ block: Common_Block, privateData: [TxPrivateWriteSet]) async throws {
        self.state.withLock { $0.attempts.append(block.header.number) }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let wait = self.state.withLock { state -> Bool in
                guard state.held else { return false }
                state.heldWaiters.append(continuation)
                return true
            }
            if !wait { continuation.resume() }
        }
        if self.state.withLock({ $0.failing.contains(block.header.number) }) {
            throw Refused(description: "block \(block.header.number) is set to fail")
        }
        try self.append(try block.serializedBytes(), privateData: privateData)
    }

    private func append(_ bytes: Data, privateData: [TxPrivateWriteSet]) throws {
        let block = try Common_Block(serializedBytes: bytes)
        try self.state.withLock { (state) throws -> Void in
            let height = UInt64(state.blocks.count)
            guard block.header.number == height else {
                throw Refused(description: "block \(block.header.number) offered at height \(height)")
            }
            if let last = state.headers.last, block.header.previousHash != last.hash {
                throw Refused(description: "block \(height) does not chain")
            }
            guard block.header.dataHash == block.data.hash else {
                throw Refused(description: "block \(height) has a wrong data hash")
            }
            state.blocks.append(bytes)
            state.headers.append(block.header)
            state.privateData[height] = privateData
        }
    }

    func block(number: UInt64, for requester: StateRequester) async throws -> ServedBlock? {
        self.state.withLock { state in
            guard number < UInt64(state.blocks.count) else { return nil }
            return ServedBlock(block: state.blocks[Int(number)], privateData: state.privateData[number] ?? [])
        }
    }
}

/// The gossip side of one peer without a network: the test pushes received messages into the provider's streams,
/// sets the channel peers and their heights, and reads what the provider sent.
final class LocalStateGossip: StateGossipAdapter {
    struct Sent: Sendable {
        let message: Gossip_GossipMessage
        let peer: RemotePeer
    }

    private struct State {
        var peers: [NetworkMember] = []
        var sent: [Sent] = []
        var replies: [(message: Gossip_GossipMessage, to: ConnectionInfo)] = []
        var heights: [UInt64] = []
    }

    private let state = Mutex(State())
    private let blocks: (stream: AsyncStream<ReceivedMessage>, continuation: AsyncStream<ReceivedMessage>.Continuation)
    private let direct: (stream: AsyncStream<ReceivedMessage>, continuation: AsyncStream<ReceivedMessage>.Continuation)

    init() {
        self.blocks = AsyncStream.makeStream(of: ReceivedMessage.self)
        self.direct = AsyncStream.makeStream(of: ReceivedMessage.self)
    }

    func blockMessages() -> AsyncStream<ReceivedMessage> { self.blocks.stream }
    func stateMessages() -> AsyncStream<ReceivedMessage> { self.direct.stream }

    func send(_ message: Gossip_GossipMessage, to peer: RemotePeer) {
        self.state.withLock { $0.sent.append(Sent(message: message, peer: peer)) }
    }

    func reply(_ message: Gossip_GossipMessage, to connection: ConnectionInfo) {
        self.state.withLock { $0.replies.append((message, connection)) }
    }

    func peersOfChannel() -> [NetworkMember] { self.state.withLock { $0.peers } }

    func updateLedgerHeight(_ height: UInt64) { self.state.withLock { $0.heights.append(height) } }

    // MARK: test side

    func setPeers(_ peers: [NetworkMember]) { self.state.withLock { $0.peers = peers } }
    var sent: [Sent] { self.state.withLock { $0.sent } }
    var replies: [(message: Gossip_GossipMessage, to: ConnectionInfo)] { self.state.withLock { $0.replies } }
    var publishedHeights: [UInt64] { self.state.withLock { $0.heights } }

    func receiveBlock(_ message: Gossip_GossipMessage, from connection: ConnectionInfo) throws {
        self.blocks.continuation.yield(
            ReceivedMessage(message: try SignedGossipMessage.noopSign(message), connection: connection)
        )
    }

    func receiveDirect(_ message: Gossip_GossipMessage, from connection: ConnectionInfo) throws {
        self.direct.continuation.yield(
            ReceivedMessage(message: try SignedGossipMessage.noopSign(message), connection: connection)
        )
    }
}

/// A channel member advertising `height`.
func member(_ identity: FakeSigningIdentity, height: UInt64?) -> NetworkMember {
    var properties = Gossip_Properties()
    properties.ledgerHeight = height ?? 0
    return NetworkMember(
        pkiID: identity.pkiID,
        endpoint: "\(identity.name):7051",
        properties: height == nil ? nil : properties
    )
}

/// The connection of `identity` as the in-memory transport would report it: its real signed ConnEstablish.
func connection(of identity: FakeSigningIdentity, pki: FakePKI) throws -> ConnectionInfo {
    let hello = try Handshake.connEstablish(identity: identity.serialized, mcs: pki.crypto(for: identity))
    return ConnectionInfo(
        pkiID: identity.pkiID,
        identity: identity.serialized,
        endpoint: "\(identity.name):7051",
        auth: AuthInfo(signedData: hello.payload, signature: hello.signature)
    )
}

/// Readers = the handshake verifies with the CA and the identity's organisation is one of `organizations`.
struct OrganizationReaders: StateAccessPolicy {
    let pki: FakePKI
    let organizations: Set<String>
    let verifier: FakeMessageCryptoService

    init(pki: FakePKI, organizations: Set<String>, verifier: FakeSigningIdentity) {
        self.pki = pki
        self.organizations = organizations
        self.verifier = pki.crypto(for: verifier)
    }

    func authorize(_ requester: StateRequester, channel: ChannelID) throws(GossipStateError) {
        do {
            try self.verifier.verify(
                identity: requester.identity,
                signature: requester.signature,
                message: requester.signedData
            )
        } catch {
            throw GossipStateError(.accessDenied, "handshake of \(requester) does not verify", cause: error)
        }
        let organization = FakeSecurityAdvisor().organization(of: requester.identity) ?? ""
        guard self.organizations.contains(organization) else {
            throw GossipStateError(.accessDenied, "\(requester) of \(organization) is not a reader of \(channel)")
        }
    }
}
