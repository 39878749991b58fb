public import Foundation
public import Gossip
internal import SwiftProtobuf
internal import Synchronization
internal import Wire

/// A tiny certificate authority for tests: it issues identities (real `msp.SerializedIdentity` bytes with a fake
/// certificate), remembers each one's secret key, expiry and revocation, and signs blocks as an orderer.
///
/// A "signature" is SHA-256(secret ‖ message). Only the holder of an identity's secret can make one, and every
/// verifier checks it against the secret the CA holds for the identity it is given, so a forged or misattributed
/// signature fails, just as with real keys. Identities not issued by this CA do not validate.
public final class FakePKI: Sendable {
    private struct Entry: Sendable {
        var secret: Data
        var expiresAt: Date?
        var revoked = false
    }

    private let entries = Mutex<[Data: Entry]>([:])
    private let counter = Mutex<UInt64>(0)
    private let ordererSecret: Data

    /// Creates an empty CA; `seed` makes the issued secrets reproducible.
    public init(seed: UInt64 = 1) {
        self.ordererSecret = Digest.sha256(Data("orderer-\(seed)".utf8))
    }

    /// Issues an identity of `mspID` called `name`.
    public func issue(mspID: String, name: String, expiresAt: Date? = nil) -> FakeSigningIdentity {
        let serial = self.counter.withLock { value -> UInt64 in
            value += 1
            return value
        }
        var identity = Msp_SerializedIdentity()
        identity.mspid = mspID
        identity.idBytes = Data(
            "-----BEGIN CERTIFICATE-----\nFAKE \(name) \(mspID) #\(serial)\n-----END CERTIFICATE-----\n".utf8
        )
        let serialized: Data = (try? identity.serializedBytes()) ?? Data()
        let secret = Digest.sha256(Data("secret \(name) \(mspID) \(serial)".utf8))
        self.entries.withLock { $0[serialized] = Entry(secret: secret, expiresAt: expiresAt) }
        return FakeSigningIdentity(serialized: serialized, mspID: mspID, name: name, secret: secret)
    }

    /// Revokes `identity`: it no longer validates.
    public func revoke(_ identity: Data) {
        self.entries.withLock { $0[identity]?.revoked = true }
    }

    /// The crypto service of a peer holding `identity`.
    public func crypto(for identity: FakeSigningIdentity) -> FakeMessageCryptoService {
        FakeMessageCryptoService(pki: self, local: identity)
    }

    /// A block of `channel` with `transactions` fake transactions, its data hash, and the orderer's signature
    /// in metadata[0]: the bytes a deliverer would gossip.
    public func makeBlock(
        number: UInt64,
        channel: ChannelID,
        previousHash: Data = Data(),
        transactions: Int = 1
    ) -> Data {
        var block = Common_Block()
        block.header.number = number
        block.header.previousHash = previousHash
        block.data.data = (0..<transactions).map { Data("tx \($0) of block \(number) on \(channel)".utf8) }
        block.header.dataHash = Digest.sha256(concatenating: block.data.data)
        block.metadata.metadata = [self.ordererSignature(block, channel: channel), Data(), Data(), Data(), Data()]
        return (try? block.serializedBytes()) ?? Data()
    }

    func ordererSignature(_ block: Common_Block, channel: ChannelID) -> Data {
        var header = Data()
        withUnsafeBytes(of: block.header.number.bigEndian) { header.append(contentsOf: $0) }
        return Digest.sha256(concatenating: [self.ordererSecret, Data(channel.utf8), header, block.header.dataHash])
    }

    func secret(of identity: Data) throws(GossipError) -> (secret: Data, expiresAt: Date?) {
        guard let entry = self.entries.withLock({ $0[identity] }) else {
            throw GossipError(.invalidIdentity, "identity was not issued by this CA")
        }
        guard !entry.revoked else { throw GossipError(.invalidIdentity, "identity is revoked") }
        return (entry.secret, entry.expiresAt)
    }

    /// SHA-256(secret ‖ message).
    static func signature(secret: Data, message: Data) -> Data { Digest.sha256(concatenating: [secret, message]) }
}

/// An identity issued by ``FakePKI`` with its secret.
public struct FakeSigningIdentity: Sendable, Hashable {
    /// The marshalled `msp.SerializedIdentity`.
    public let serialized: Data
    /// The MSP id.
    public let mspID: String
    /// The name it was issued with.
    public let name: String
    let secret: Data

    /// The PKI-ID.
    public var pkiID: PKIID { (try? PKIID.of(serializedIdentity: self.serialized)) ?? PKIID(Data()) }

    /// Signs `message` with this identity.
    public func sign(_ message: Data) -> Data { FakePKI.signature(secret: self.secret, message: message) }
}

/// ``MessageCryptoService`` over ``FakePKI``: real checks, fake keys.
public struct FakeMessageCryptoService: MessageCryptoService {
    let pki: FakePKI
    /// The local signing identity.
    public let local: FakeSigningIdentity

    public func pkiID(of identity: Data) throws(GossipError) -> PKIID { try PKIID.of(serializedIdentity: identity) }

    public func validateIdentity(_ identity: Data) throws(GossipError) { _ = try self.pki.secret(of: identity) }

    public func sign(_ message: Data) throws(GossipError) -> Data { self.local.sign(message) }

    public func verify(identity: Data, signature: Data, message: Data) throws(GossipError) {
        let secret = try self.pki.secret(of: identity).secret
        guard FakePKI.signature(secret: secret, message: message) == signature else {
            throw GossipError(.badSignature, "signature does not verify with the given identity")
        }
    }

    public func verifyByChannel(
        _ channel: ChannelID,
        identity: Data,
        signature: Data,
        message: Data
    ) throws(GossipError) {
        try self.verify(identity: identity, signature: signature, message: message)
    }

    public func verifyBlock(channel: ChannelID, sequence: UInt64, block bytes: Data) throws(GossipError) {
        let block: Common_Block
        do {
            block = try Common_Block(serializedBytes: bytes)
        } catch {
            throw GossipError(.badBlock, "block \(sequence) of \(channel) does not decode", cause: error)
        }
        guard block.hasHeader else { throw GossipError(.badBlock, "block \(sequence) has no header") }
        guard block.header.number == sequence else {
            throw GossipError(.badBlock, "block claims number \(block.header.number) but came as \(sequence)")
        }
        guard block.header.dataHash == Digest.sha256(concatenating: block.data.data) else {
            throw GossipError(.badBlock, "block \(sequence) of \(channel): data hash mismatch")
        }
        guard let signature = block.metadata.metadata.first,
            signature == self.pki.ordererSignature(block, channel: channel)
        else {
            throw GossipError(.badBlock, "block \(sequence) of \(channel): orderer signature does not verify")
        }
    }

    public func expiration(of identity: Data) throws(GossipError) -> Date? {
        try self.pki.secret(of: identity).expiresAt
    }
}

/// ``SecurityAdvisor`` that reads the MSP id from the serialised identity.
public struct FakeSecurityAdvisor: SecurityAdvisor {
    /// Creates the advisor.
    public init() {}

    public func organization(of identity: Data) -> String? {
        guard let decoded = try? Msp_SerializedIdentity(serializedBytes: identity), !decoded.mspid.isEmpty else {
            return nil
        }
        return decoded.mspid
    }
}
