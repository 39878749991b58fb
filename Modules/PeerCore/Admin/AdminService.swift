import Foundation
internal import GRPCCore
import Logging
import MSP
import SwiftProtobuf
import Wire

/// The peer's admin gRPC service (`swiftpeer.admin.Admin/Process`): join a channel, list channels, channel info,
/// for callers authenticated against the local MSP (admins for joins, members otherwise).
struct AdminService: Swiftpeer_Admin_Admin.SimpleServiceProtocol {
    let backend: any AdminBackend
    let localMSP: any MembershipServiceProvider
    let timeWindow: Duration
    let logger: Logger
    let now: @Sendable () -> Date

    func process(
        request: Swiftpeer_Admin_SignedAdminRequest,
        context: ServerContext
    ) async throws -> Swiftpeer_Admin_AdminResponse {
        let verified: Swiftpeer_Admin_AdminRequest
        do {
            verified = try AdminRequests.verify(
                request,
                localMSP: self.localMSP,
                now: self.now(),
                window: self.timeWindow
            ) { body in
                if case .joinChannel = body { return .admin }
                return .member
            }
        } catch {
            self.logger.warning("admin request refused", metadata: ["peer": "\(context.remotePeer)", "reason": "\(error)"])
            let code: RPCError.Code =
                switch error.code {
                case .invalidArgument: .invalidArgument
                case .unauthenticated: .unauthenticated
                case .permissionDenied: .permissionDenied
                }
            throw RPCError(code: code, message: error.message)
        }
        var response = Swiftpeer_Admin_AdminResponse()
        do {
            switch verified.body {
            case .joinChannel(let join):
                let block: Common_Block
                do {
                    block = try Common_Block(serializedBytes: join.block)
                } catch {
                    throw RPCError(code: .invalidArgument, message: "the join request's block is not a common.Block: \(error)")
                }
                var result = Swiftpeer_Admin_JoinChannelResult()
                result.channelID = try await self.backend.joinChannel(block: block)
                response.joined = result
            case .listChannels:
                var list = Swiftpeer_Admin_ChannelList()
                list.channelIds = self.backend.channelIDs()
                response.channels = list
            case .getChannelInfo(let get):
                response.channelInfo = try self.backend.channelInfo(get.channelID)
            case .distributePrivateData(let request):
                let data: Transientstore_TxPvtReadWriteSetWithConfigInfo
                do {
                    data = try Transientstore_TxPvtReadWriteSetWithConfigInfo(serializedBytes: request.privateData)
                } catch {
                    throw RPCError(
                        code: .invalidArgument,
                        message: "the private data of tx \(request.txID) is not a TxPvtReadWriteSetWithConfigInfo: \(error)"
                    )
                }
                do {
                    try await self.backend.distributePrivateData(
                        channelID: request.channelID,
                        txID: request.txID,
                        data: data,
                        blockHeight: request.blockHeight
                    )
                } catch let error as PeerCoreError {
                    throw error
                } catch {
                    // Fewer acknowledgements than the collection requires, or a bad collection config.
                    throw RPCError(
                        code: .failedPrecondition,
                        message: "cannot distribute the private data of tx \(request.txID): \(error)"
                    )
                }
                var result = Swiftpeer_Admin_PrivateDataDistributed()
                result.txID = request.txID
                response.distributed = result
            case nil:
                throw RPCError(code: .invalidArgument, message: "the admin request has no body")
            }
        } catch let error as PeerCoreError {
            throw RPCError(code: Self.status(error.code), message: error.description)
        }
        return response
    }

    static func status(_ code: PeerCoreError.Code) -> RPCError.Code {
        switch code {
        case .channelNotFound: .notFound
        case .channelExists: .alreadyExists
        case .badBlock, .unsupportedChannel, .badConfiguration: .invalidArgument
        case .unavailable: .unavailable
        default: .internalError
        }
    }
}
