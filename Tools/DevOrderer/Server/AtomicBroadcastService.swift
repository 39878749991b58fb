import Foundation
public import GRPCCore
import Logging
public import Wire

/// The `orderer.AtomicBroadcast` gRPC service of a ``DevOrderer``: Broadcast and Deliver as a Fabric orderer serves
/// them. ``DevOrderer/run()`` serves it on its own listener; an embedding process may register it on a server of its
/// own (``DevOrderer/service``).
public struct AtomicBroadcastService: Orderer_AtomicBroadcast.SimpleServiceProtocol {
    let lookup: @Sendable (String) -> OrdererChannel?
    let deliverHandler: DeliverHandler
    let shutdown: OneShotSignal
    let logger: Logger

    /// Fabric's Broadcast: every envelope gets one response; a response other than `SUCCESS` ends the stream.
    public func broadcast(
        request: RPCAsyncSequence<Common_Envelope, any Error>,
        response: RPCWriter<Orderer_BroadcastResponse>,
        context: ServerContext
    ) async throws {
        try await self.untilCancelled(context) {
            for try await envelope in request {
                let result = await self.process(envelope)
                if !result.isSuccess {
                    self.logger.warning("broadcast from \(context.remotePeer) refused: \(result)")
                }
                try await response.write(result.response)
                if !result.isSuccess { return }
            }
        }
    }

    /// Checks and orders one broadcast envelope (what a Fabric orderer's `ProcessMessage` does).
    func process(_ envelope: Common_Envelope) async -> BroadcastResult {
        let header: Common_ChannelHeader
        do {
            header = try envelope.unpackPayload().unpackChannelHeader()
        } catch {
            return BroadcastResult(.badRequest, "could not determine channel ID: \(reason(error))")
        }
        guard let channel = self.lookup(header.channelID) else {
            return BroadcastResult(.badRequest, "channel does not exist: '\(header.channelID)'")
        }
        return await channel.submit(envelope)
    }

    /// Fabric's Deliver (see ``DeliverHandler``).
    public func deliver(
        request: RPCAsyncSequence<Common_Envelope, any Error>,
        response: RPCWriter<Orderer_DeliverResponse>,
        context: ServerContext
    ) async throws {
        try await self.untilCancelled(context) {
            try await self.deliverHandler.handle(requests: request) { message in try await response.write(message) }
        }
    }

    /// Runs `body` until it returns, the client cancels the RPC or the orderer shuts down (a Deliver stream waiting
    /// for blocks would otherwise hold the server open).
    private func untilCancelled(
        _ context: ServerContext,
        _ body: @escaping @Sendable () async throws -> Void
    ) async throws {
        let cancellation = context.cancellation
        let shutdown = self.shutdown
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await body() }
            group.addTask {
                try await cancellation.cancelled
                throw CancellationError()
            }
            group.addTask {
                await shutdown.wait()
                throw CancellationError()
            }
            defer { group.cancelAll() }
            _ = try await group.next()
        }
    }
}
