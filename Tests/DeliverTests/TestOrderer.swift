import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import SwiftProtobuf
import Synchronization
import Wire

/// A small real `orderer.AtomicBroadcast` Deliver server for tests: each Deliver stream reads the seek request,
/// records it, and plays what the script returns for that connection.
final class TestOrderer: Orderer_AtomicBroadcast.SimpleServiceProtocol {
    /// What the server does on a stream.
    enum Action: Sendable {
        /// Send a block.
        case block(Common_Block)
        /// Send a status message (then the stream ends, as a Fabric orderer does).
        case status(Common_Status)
        /// End the stream without a status.
        case close
        /// Keep the stream open until the client goes away.
        case hold
    }

    /// One accepted stream: its index across the server's life and the seek's start.
    struct Connection: Sendable {
        var index: Int
        var start: UInt64
        var seek: Common_Envelope
    }

    typealias Script = @Sendable (_ connection: Connection) -> [Action]

    let name: String
    private let script: Script
    private let state = Mutex<[Connection]>([])

    init(_ name: String, script: @escaping Script) {
        self.name = name
        self.script = script
    }

    /// Serves `blocks[start...]` (by number) then holds.
    static func serving(_ name: String, _ blocks: [Common_Block]) -> TestOrderer {
        TestOrderer(name) { connection in
            blocks.filter { $0.header.number >= connection.start }.map { .block($0) } + [.hold]
        }
    }

    var connections: [Connection] { self.state.withLock { $0 } }
    var seekStarts: [UInt64] { self.connections.map(\.start) }

    func broadcast(
        request: RPCAsyncSequence<Common_Envelope, any Error>,
        response: RPCWriter<Orderer_BroadcastResponse>,
        context: ServerContext
    ) async throws {
        throw RPCError(code: .unimplemented, message: "test orderer does not broadcast")
    }

    func deliver(
        request: RPCAsyncSequence<Common_Envelope, any Error>,
        response: RPCWriter<Orderer_DeliverResponse>,
        context: ServerContext
    ) async throws {
        var iterator = request.makeAsyncIterator()
        guard let seek = try await iterator.next() else { return }
        let payload = try Common_Payload(serializedBytes: seek.payload)
        let info = try Orderer_SeekInfo(serializedBytes: payload.data)
        let connection = self.state.withLock { connections in
            let connection = Connection(index: connections.count, start: info.start.specified.number, seek: seek)
            connections.append(connection)
            return connection
        }
        for action in self.script(connection) {
            switch action {
            case .block(let block):
                var message = Orderer_DeliverResponse()
                message.block = block
                try await response.write(message)
            case .status(let status):
                var message = Orderer_DeliverResponse()
                message.status = status
                try await response.write(message)
                return
            case .close:
                return
            case .hold:
                // Until the client cancels (or the server shuts down).
                while try await iterator.next() != nil {}
                return
            }
        }
    }
}

/// TLS for the test server: a certificate chain and key, both PEM.
struct ServerTLS {
    var certificatePEM: Data
    var keyPEM: Data
    var clientCAPEM: Data?
}

/// Runs `orderers` on 127.0.0.1 (ephemeral ports) for the duration of `body`, which gets their "127.0.0.1:port"
/// addresses in order.
func withOrderers<T: Sendable>(
    _ orderers: [TestOrderer],
    tls: ServerTLS? = nil,
    _ body: @Sendable ([String]) async throws -> T
) async throws -> T {
    func serve(_ index: Int, _ addresses: [String]) async throws -> T {
        guard index < orderers.count else { return try await body(addresses) }
        let security: HTTP2ServerTransport.Posix.TransportSecurity
        if let tls {
            let chain: [TLSConfig.CertificateSource] = [.bytes(Array(tls.certificatePEM), format: .pem)]
            let key = TLSConfig.PrivateKeySource.bytes(Array(tls.keyPEM), format: .pem)
            if let clientCA = tls.clientCAPEM {
                security = .mTLS(certificateChain: chain, privateKey: key) { config in
                    config.trustRoots = .certificates([.bytes(Array(clientCA), format: .pem)])
                }
            } else {
                security = .tls(certificateChain: chain, privateKey: key)
            }
        } else {
            security = .plaintext
        }
        let transport = HTTP2ServerTransport.Posix(
            address: .ipv4(host: "127.0.0.1", port: 0),
            transportSecurity: security
        )
        return try await withGRPCServer(transport: transport, services: [orderers[index]]) { server in
            guard let port = try await server.transport.listeningAddress.ipv4?.port else {
                throw RPCError(code: .internalError, message: "no listening address")
            }
            return try await serve(index + 1, addresses + ["127.0.0.1:\(port)"])
        }
    }
    return try await serve(0, [])
}
