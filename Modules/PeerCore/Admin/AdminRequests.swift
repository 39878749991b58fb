public import Foundation
public import MSP
import SwiftProtobuf
public import Wire

/// What the admin service does for a verified caller: implemented by ``Peer``.
public protocol AdminBackend: Sendable {
    /// Joins the channel that `block` (a genesis or config block) describes; returns the channel id.
    func joinChannel(block: Common_Block) async throws(PeerCoreError) -> String
    /// The joined channels, sorted.
    func channelIDs() -> [String]
    /// Height, hashes and fingerprints of a joined channel.
    func channelInfo(_ channelID: String) throws(PeerCoreError) -> Swiftpeer_Admin_ChannelInfo
    /// Fabric's DistributePrivateData: stores an endorsed transaction's private data in the transient store and
    /// pushes it to eligible peers.
    func distributePrivateData(
        channelID: String,
        txID: String,
        data: Transientstore_TxPvtReadWriteSetWithConfigInfo,
        blockHeight: UInt64
    ) async throws
}

/// Building and checking signed admin requests (`swiftpeer.admin.SignedAdminRequest`).
public enum AdminRequests {
    /// Wraps `body` into a request from `signer`, stamped `now`, signed.
    public static func sign(
        _ body: Swiftpeer_Admin_AdminRequest.OneOf_Body,
        signer: any SigningIdentity,
        now: Date = Date()
    ) throws -> Swiftpeer_Admin_SignedAdminRequest {
        var request = Swiftpeer_Admin_AdminRequest()
        request.creator = signer.serialized
        request.timestamp = Google_Protobuf_Timestamp(date: now)
        var nonce = [UInt8](repeating: 0, count: 24)
        var generator = SystemRandomNumberGenerator()
        for index in nonce.indices { nonce[index] = generator.next() }
        request.nonce = Data(nonce)
        request.body = body
        var signed = Swiftpeer_Admin_SignedAdminRequest()
        signed.request = try request.serializedData()
        signed.signature = try signer.sign(signed.request)
        return signed
    }

    /// What a caller may do.
    public enum Requirement: Sendable {
        /// Any valid member of the local MSP.
        case member
        /// An admin of the local MSP (NodeOU admin or listed in admincerts).
        case admin
    }

    /// Decodes and authenticates `signed` against the local MSP: the creator deserializes and validates, the
    /// signature verifies over the request bytes as received, the timestamp is within `window` of `now`, and the
    /// creator satisfies the role `requirement(body)` asks for.
    ///
    /// - Throws: ``AdminRequestError`` naming what failed.
    public static func verify(
        _ signed: Swiftpeer_Admin_SignedAdminRequest,
        localMSP: any MembershipServiceProvider,
        now: Date,
        window: Duration,
        requirement: (Swiftpeer_Admin_AdminRequest.OneOf_Body) -> Requirement
    ) throws(AdminRequestError) -> Swiftpeer_Admin_AdminRequest {
        let request: Swiftpeer_Admin_AdminRequest
        do {
            request = try Swiftpeer_Admin_AdminRequest(serializedBytes: signed.request)
        } catch {
            throw AdminRequestError(.invalidArgument, "the admin request is not a valid AdminRequest: \(error)")
        }
        guard let body = request.body else {
            throw AdminRequestError(.invalidArgument, "the admin request has no body")
        }
        let identity: any Identity
        do {
            identity = try localMSP.deserializeIdentity(request.creator)
            try localMSP.validate(identity)
        } catch {
            throw AdminRequestError(
                .unauthenticated,
                "the request's creator is not a valid identity of the peer's MSP \(localMSP.name): \(error)"
            )
        }
        do {
            try identity.verify(signature: signed.signature, over: signed.request)
        } catch {
            throw AdminRequestError(.unauthenticated, "the request's signature does not verify for its creator")
        }
        guard request.hasTimestamp else {
            throw AdminRequestError(.invalidArgument, "the admin request has no timestamp")
        }
        let skew = abs(request.timestamp.date.timeIntervalSince(now))
        let limit = Double(window.components.seconds) + Double(window.components.attoseconds) / 1e18
        guard skew <= limit else {
            throw AdminRequestError(
                .unauthenticated,
                "the request's timestamp is \(Int(skew)) s away from the peer's clock (peer.authentication.timewindow "
                    + "allows \(Int(limit)) s)"
            )
        }
        var principal = Common_MSPPrincipal()
        principal.principalClassification = .role
        var role = Common_MSPRole()
        role.mspIdentifier = localMSP.name
        let required = requirement(body)
        role.role = required == .admin ? .admin : .member
        principal.principal = (try? role.serializedData()) ?? Data()
        do {
            try localMSP.satisfiesPrincipal(identity, principal)
        } catch {
            throw AdminRequestError(
                .permissionDenied,
                required == .admin
                    ? "this request needs an admin of \(localMSP.name); the creator is not one"
                    : "this request needs a member of \(localMSP.name); the creator is not one"
            )
        }
        return request
    }
}

/// Why an admin request was refused; mapped to a gRPC status by the service.
public struct AdminRequestError: Error, Sendable, CustomStringConvertible {
    /// The kind of refusal.
    public enum Code: Sendable {
        case invalidArgument, unauthenticated, permissionDenied
    }

    /// The kind of refusal.
    public var code: Code
    /// What was wrong.
    public var message: String

    /// Creates an error.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { self.message }
}
