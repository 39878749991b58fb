public import Foundation
public import Ledger
public import Wire

/// What a ``DevOrderer`` serves and where it keeps its chains.
public struct DevOrdererConfiguration: Sendable {
    /// TLS for the listener: the orderer's server certificate chain and key, and, for mutual TLS, the client CAs.
    public struct TLS: Sendable {
        /// The server certificate chain, PEM (leaf first).
        public var certificateChainPEM: Data
        /// The server private key, PEM.
        public var privateKeyPEM: Data
        /// When set, clients must present a certificate issued by one of these CAs (PEM), as an orderer with
        /// `General.TLS.ClientAuthRequired`.
        public var clientRootCAsPEM: [Data]?

        /// Creates TLS settings.
        public init(certificateChainPEM: Data, privateKeyPEM: Data, clientRootCAsPEM: [Data]? = nil) {
            self.certificateChainPEM = certificateChainPEM
            self.privateKeyPEM = privateKeyPEM
            self.clientRootCAsPEM = clientRootCAsPEM
        }
    }

    /// Where the chains are stored: `<dataDirectory>/chains/<channel>/`.
    public var dataDirectory: URL
    /// The address to listen on, `host:port` with an IP address (or `localhost`) as host; port 0 picks a free port
    /// (read it back with ``DevOrderer/listeningAddress()``).
    public var listenAddress: String
    /// TLS, or nil for plaintext.
    public var tls: TLS?
    /// Channels to serve from their genesis blocks; a channel already stored is resumed (its stored block 0 must
    /// be this block).
    public var genesisBlocks: [Common_Block]
    /// The largest gRPC message accepted or sent (Fabric's `General.MaxRecvMsgSize` / `MaxSendMsgSize`: 100 MiB).
    public var maxMessageBytes: Int
    /// How far a Deliver request's timestamp may be from the orderer's clock (Fabric's
    /// `General.Authentication.TimeWindow`: 15 minutes).
    public var timeWindow: Duration
    /// How block files are written.
    public var blockStore: BlockStoreConfiguration
    /// Fault injection for tests of peers (a real orderer never does this): block number → how many of its
    /// deliveries carry the orderer's signature with one byte flipped, so that BlockValidation fails. Later
    /// deliveries of the block are correct.
    public var tamperedSignatures: [UInt64: Int] = [:]

    /// Creates a configuration with Fabric's orderer defaults for the limits.
    public init(
        dataDirectory: URL,
        listenAddress: String = "127.0.0.1:7050",
        tls: TLS? = nil,
        genesisBlocks: [Common_Block] = [],
        maxMessageBytes: Int = 100 * 1024 * 1024,
        timeWindow: Duration = .seconds(15 * 60),
        blockStore: BlockStoreConfiguration = BlockStoreConfiguration()
    ) {
        self.dataDirectory = dataDirectory
        self.listenAddress = listenAddress
        self.tls = tls
        self.genesisBlocks = genesisBlocks
        self.maxMessageBytes = maxMessageBytes
        self.timeWindow = timeWindow
        self.blockStore = blockStore
    }
}
