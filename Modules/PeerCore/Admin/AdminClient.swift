public import Foundation
internal import GRPCCore
import SwiftProtobuf
internal import GRPCNIOTransportHTTP2
public import MSP
public import Wire

/// The client side of the admin service, used by `peer channel join|list|getinfo`: every call opens a connection,
/// sends one signed request and closes.
public struct AdminClient: Sendable {
    /// TLS towards the peer.
    public struct TLS: Sendable {
        /// PEM of the CA certificates the peer's TLS certificate must chain to.
        public var rootCertificatesPEM: Data
        /// PEM certificate and key to present when the peer requires client authentication.
        public var clientCertificatePEM: Data?
        public var clientKeyPEM: Data?

        public init(rootCertificatesPEM: Data, clientCertificatePEM: Data? = nil, clientKeyPEM: Data? = nil) {
            self.rootCertificatesPEM = rootCertificatesPEM
            self.clientCertificatePEM = clientCertificatePEM
            self.clientKeyPEM = clientKeyPEM
        }
    }

    /// host:port of the peer's admin service.
    public let address: String
    /// Who signs the requests.
    public let signer: any SigningIdentity
    /// TLS, or nil for plaintext.
    public let tls: TLS?
    /// The host name the peer's TLS certificate must name (default: the address's host).
    public let serverHostname: String?

    public init(address: String, signer: any SigningIdentity, tls: TLS? = nil, serverHostname: String? = nil) {
        self.address = address
        self.signer = signer
        self.tls = tls
        self.serverHostname = serverHostname
    }

    /// Joins the peer to the channel that `block` starts; returns the channel id.
    public func joinChannel(block: Common_Block) async throws -> String {
        var join = Swiftpeer_Admin_JoinChannel()
        join.block = try block.serializedData()
        let response = try await self.send(.joinChannel(join))
        return response.joined.channelID
    }

    /// The peer's channels.
    public func listChannels() async throws -> [String] {
        try await self.send(.listChannels(Swiftpeer_Admin_ListChannels())).channels.channelIds
    }

    /// Asks the peer to store and distribute an endorsed transaction's private data (the endorser's part).
    public func distributePrivateData(
        channelID: String,
        txID: String,
        data: Transientstore_TxPvtReadWriteSetWithConfigInfo,
        blockHeight: UInt64
    ) async throws {
        var request = Swiftpeer_Admin_DistributePrivateData()
        request.channelID = channelID
        request.txID = txID
        request.privateData = try data.serializedBytes()
        request.blockHeight = blockHeight
        _ = try await self.send(.distributePrivateData(request))
    }

    /// Height and hashes of `channelID`.
    public func channelInfo(_ channelID: String) async throws -> Swiftpeer_Admin_ChannelInfo {
        var get = Swiftpeer_Admin_GetChannelInfo()
        get.channelID = channelID
        return try await self.send(.getChannelInfo(get)).channelInfo
    }

    private func send(_ body: Swiftpeer_Admin_AdminRequest.OneOf_Body) async throws -> Swiftpeer_Admin_AdminResponse {
        let request = try AdminRequests.sign(body, signer: self.signer)
        let target = try GRPCAddress.target(self.address)
        let security: HTTP2ClientTransport.Posix.TransportSecurity
        if let tls = self.tls {
            let roots = TLSConfig.TrustRootsSource.certificates([.bytes(Array(tls.rootCertificatesPEM), format: .pem)])
            if let certificate = tls.clientCertificatePEM, let key = tls.clientKeyPEM {
                security = .mTLS(
                    certificateChain: [.bytes(Array(certificate), format: .pem)],
                    privateKey: .bytes(Array(key), format: .pem)
                ) { config in
                    config.trustRoots = roots
                }
            } else {
                security = .tls { config in
                    config.trustRoots = roots
                }
            }
        } else {
            security = .plaintext
        }
        var transportConfig = HTTP2ClientTransport.Posix.Config.defaults
        transportConfig.http2.authority = self.serverHostname
        let transport = try HTTP2ClientTransport.Posix(
            target: target,
            transportSecurity: security,
            config: transportConfig
        )
        return try await withGRPCClient(transport: transport) { client in
            let admin = Swiftpeer_Admin_Admin.Client(wrapping: client)
            var options = CallOptions.defaults
            options.timeout = .seconds(30)
            return try await admin.process(request, options: options)
        }
    }
}

/// Parsing "host:port" into a gRPC target or a server address.
enum GRPCAddress {
    static func split(_ address: String) throws(PeerCoreError) -> (host: String, port: Int) {
        guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]),
            (0...65535).contains(port)
        else {
            throw PeerCoreError(.badConfiguration, "address '\(address)' is not host:port")
        }
        var host = String(address[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { throw PeerCoreError(.badConfiguration, "address '\(address)' has no host") }
        return (host, port)
    }

    static func target(_ address: String) throws(PeerCoreError) -> any ResolvableTarget {
        let (host, port) = try self.split(address)
        if host.contains(":") { return ResolvableTargets.IPv6(addresses: [SocketAddress.IPv6(host: host, port: port)]) }
        let octets = host.split(separator: ".", omittingEmptySubsequences: false)
        if octets.count == 4, octets.allSatisfy({ UInt8($0) != nil }) {
            return ResolvableTargets.IPv4(addresses: [SocketAddress.IPv4(host: host, port: port)])
        }
        return ResolvableTargets.DNS(host: host, port: port)
    }

    static func bindAddress(_ address: String) throws(PeerCoreError) -> SocketAddress {
        let (host, port) = try self.split(address)
        if host.contains(":") { return .ipv6(host: host, port: port) }
        return .ipv4(host: host == "localhost" ? "127.0.0.1" : host, port: port)
    }
}
