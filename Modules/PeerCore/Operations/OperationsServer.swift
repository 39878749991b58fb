import Foundation
public import Logging
internal import NIOCore
internal import NIOHTTP1
internal import NIOPosix
public import Prometheus

/// The operations endpoint (`operations.listenAddress`): `GET /metrics` in Prometheus text format and
/// `GET /healthz` (200 `{"status":"OK"}` while the peer runs, 503 once it is shutting down).
public final class OperationsServer: Sendable {
    let registry: PrometheusCollectorRegistry
    let address: String
    let healthy: @Sendable () -> Bool
    let logger: Logger

    /// Serves `registry` on `address` (host:port, port 0 for any).
    public init(
        address: String,
        registry: PrometheusCollectorRegistry,
        healthy: @escaping @Sendable () -> Bool,
        logger: Logger = Logger(label: "peer.operations")
    ) {
        self.address = address
        self.registry = registry
        self.healthy = healthy
        self.logger = logger
    }

    /// Binds, reports the bound port through `bound`, and serves until cancelled.
    public func run(bound: @Sendable (Int) -> Void = { _ in }) async throws {
        let (host, port) = try GRPCAddress.split(self.address)
        let registry = self.registry
        let healthy = self.healthy
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.pipeline.configureHTTPServerPipeline().flatMap {
                    channel.pipeline.addHandler(OperationsHandler(registry: registry, healthy: healthy))
                }
            }
            .bind(host: host, port: port)
            .get()
        let boundPort = channel.localAddress?.port ?? port
        bound(boundPort)
        self.logger.info("operations endpoint listening", metadata: ["address": "\(host):\(boundPort)"])
        await withTaskCancellationHandler {
            try? await channel.closeFuture.get()
        } onCancel: {
            channel.close(promise: nil)
        }
    }
}

private final class OperationsHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let registry: PrometheusCollectorRegistry
    let healthy: @Sendable () -> Bool
    private var request: HTTPRequestHead?

    init(registry: PrometheusCollectorRegistry, healthy: @escaping @Sendable () -> Bool) {
        self.registry = registry
        self.healthy = healthy
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch self.unwrapInboundIn(data) {
        case .head(let head): self.request = head
        case .body: break
        case .end:
            guard let head = self.request else { return }
            self.request = nil
            let (status, type, body) = self.respond(to: head)
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: type)
            headers.add(name: "Content-Length", value: "\(body.count)")
            headers.add(name: "Connection", value: "close")
            context.write(self.wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))), promise: nil)
            var buffer = context.channel.allocator.buffer(capacity: body.count)
            buffer.writeBytes(body)
            context.write(self.wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
            let channel = context.channel
            context.writeAndFlush(self.wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
        }
    }

    private func respond(to head: HTTPRequestHead) -> (HTTPResponseStatus, String, [UInt8]) {
        let path = head.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? head.uri
        guard head.method == .GET else { return (.methodNotAllowed, "text/plain", Array("use GET\n".utf8)) }
        switch path {
        case "/metrics":
            var buffer: [UInt8] = []
            self.registry.emit(into: &buffer)
            return (.ok, "text/plain; version=0.0.4", buffer)
        case "/healthz":
            if self.healthy() {
                return (.ok, "application/json", Array(#"{"status":"OK"}"#.utf8))
            }
            return (.serviceUnavailable, "application/json", Array(#"{"status":"Service Unavailable"}"#.utf8))
        default:
            return (.notFound, "text/plain", Array("not found: \(path)\n".utf8))
        }
    }
}
