import Foundation
internal import GRPCCore
internal import GRPCNIOTransportHTTP2
public import Logging
// Transitive through grpc-swift-nio-transport: the transport's channel callbacks speak NIO futures.
internal import NIOCore
public import Wire

/// ``OrdererConnector`` over grpc-swift-2's HTTP/2 transport: one connection per stream, dialled within
/// `connTimeout`, with keepalive, a 100 MiB message limit, and TLS when the peer's TLS is enabled.
///
/// With TLS the endpoint's TLS CAs are the only trust roots and the server name is verified against the address
/// (DNS name or IP); with client authentication the peer's client certificate and key are presented. An endpoint
/// without CAs cannot be reached over TLS (as with Fabric's empty cert pool).
public struct GRPCOrdererConnector: OrdererConnector {
    private let config: DeliverConfig
    private let logger: Logger

    /// A connector for `config` (its TLS, connTimeout, keepalive and message size settings).
    ///
    /// Throws when client authentication is required but no client certificate and key are configured.
    public init(config: DeliverConfig, logger: Logger = Logger(label: "deliver.grpc")) throws(DeliverError) {
        if config.tls.enabled && config.tls.clientAuthRequired {
            guard config.tls.clientCertificatePEM != nil, config.tls.clientKeyPEM != nil else {
                throw DeliverError(
                    .tls,
                    "TLS client authentication is required but no client certificate and key are set"
                )
            }
        }
        self.config = config
        self.logger = logger
    }

    public func deliver(
        to endpoint: OrdererConnectionSource.Endpoint,
        seek: Common_Envelope,
        onResponse: @escaping @Sendable (Orderer_DeliverResponse) async throws -> Void
    ) async throws {
        let target = try Self.target(endpoint.address)
        let security = try self.transportSecurity(for: endpoint)
        let connected = OneShotSignal()
        var transportConfig = HTTP2ClientTransport.Posix.Config.defaults
        transportConfig.connection.keepalive = HTTP2ClientTransport.Config.Keepalive(
            time: self.config.keepaliveInterval,
            timeout: self.config.keepaliveTimeout,
            allowWithoutCalls: true
        )
        // The stream is created only on an established (and TLS-verified) connection: that is the dial's end.
        transportConfig.channelDebuggingCallbacks.onCreateHTTP2Stream = { channel in
            connected.fire()
            return channel.eventLoop.makeSucceededVoidFuture()
        }
        let transport: HTTP2ClientTransport.Posix
        do {
            transport = try HTTP2ClientTransport.Posix(
                target: target,
                transportSecurity: security,
                config: transportConfig
            )
        } catch {
            throw DeliverError(.connection, "cannot create a transport to orderer \(endpoint)", cause: error)
        }
        var options = CallOptions.defaults
        options.waitForReady = false
        // grpc-swift-nio-transport applies this limit to messages in both directions of the stream.
        options.maxRequestMessageBytes = self.config.maxReceiveMessageBytes
        options.maxResponseMessageBytes = self.config.maxReceiveMessageBytes
        let callOptions = options
        let connTimeout = self.config.connTimeout
        let address = endpoint.description

        try await withGRPCClient(transport: transport) { client in
            let broadcast = Orderer_AtomicBroadcast.Client(wrapping: client)
            try await withThrowingTaskGroup(of: Bool.self) { group in
                group.addTask {
                    // Dial watchdog: the connection must be up within connTimeout.
                    let dialled = await withTaskGroup(of: Bool.self) { race in
                        race.addTask {
                            await connected.wait()
                            return true
                        }
                        race.addTask {
                            try? await Task.sleep(for: connTimeout)
                            return false
                        }
                        let first = await race.next() ?? false
                        race.cancelAll()
                        return first
                    }
                    guard dialled || Task.isCancelled else {
                        throw DeliverError(.connection, "could not connect to orderer \(address) within \(connTimeout)")
                    }
                    return false
                }
                group.addTask {
                    try await broadcast.deliver(
                        request: StreamingClientRequest(of: Common_Envelope.self) { writer in
                            try await writer.write(seek)
                            // Keep the request side open until the call ends (Fabric never half-closes).
                            await OneShotSignal().wait()
                        },
                        options: callOptions
                    ) { response in
                        for try await message in response.messages {
                            try await onResponse(message)
                        }
                    }
                    return true
                }
                while let streamEnded = try await group.next() {
                    if streamEnded {
                        group.cancelAll()
                        return
                    }
                }
            }
        }
    }

    private func transportSecurity(
        for endpoint: OrdererConnectionSource.Endpoint
    ) throws(DeliverError) -> HTTP2ClientTransport.Posix.TransportSecurity {
        let tls = self.config.tls
        guard tls.enabled else { return .plaintext }
        guard !endpoint.tlsRootCAs.isEmpty else {
            throw DeliverError(.tls, "orderer \(endpoint) has no TLS root CAs to verify it with")
        }
        let roots = TLSConfig.TrustRootsSource.certificates(
            endpoint.tlsRootCAs.map { TLSConfig.CertificateSource.bytes(Array($0), format: .der) }
        )
        if tls.clientAuthRequired, let certificate = tls.clientCertificatePEM, let key = tls.clientKeyPEM {
            return .mTLS(
                certificateChain: [.bytes(Array(certificate), format: .pem)],
                privateKey: .bytes(Array(key), format: .pem)
            ) { config in
                config.trustRoots = roots
                config.serverCertificateVerification = .fullVerification
            }
        }
        return .tls { config in
            config.trustRoots = roots
            config.serverCertificateVerification = .fullVerification
        }
    }

    /// The gRPC target of "host:port" ("[v6]:port" for IPv6 literals).
    static func target(_ address: String) throws(DeliverError) -> any ResolvableTarget {
        guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]),
            (0...65535).contains(port)
        else {
            throw DeliverError(.connection, "orderer address '\(address)' is not host:port")
        }
        var host = String(address[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") {
            host = String(host.dropFirst().dropLast())
            return ResolvableTargets.IPv6(addresses: [SocketAddress.IPv6(host: host, port: port)])
        }
        guard !host.isEmpty else { throw DeliverError(.connection, "orderer address '\(address)' has no host") }
        let octets = host.split(separator: ".", omittingEmptySubsequences: false)
        if octets.count == 4, octets.allSatisfy({ UInt8($0) != nil }) {
            return ResolvableTargets.IPv4(addresses: [SocketAddress.IPv4(host: host, port: port)])
        }
        return ResolvableTargets.DNS(host: host, port: port)
    }
}
