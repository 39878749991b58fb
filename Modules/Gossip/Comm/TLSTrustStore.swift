public import Foundation
public import GRPCNIOTransportHTTP2
internal import NIOCore
internal import NIOSSL
internal import SwiftASN1
internal import Synchronization
@_spi(FixedExpiryValidationTime) internal import X509

/// The TLS CA certificates a peer's servers accept client certificates from, kept current while the peer runs.
///
/// Fabric's trusted-roots callback: the roots are the configured ones (`peer.tls.rootcert.file`,
/// `peer.tls.clientRootCAs.files`) plus the TLS root and intermediate CAs of every organisation of every channel
/// the peer has joined. PeerCore calls ``setChannelRoots(_:)`` from its bundle-source callback after each config
/// block, so an organisation added by a config update is accepted on the next handshake, without a restart, and a
/// removed one is refused.
///
/// Servers consult the store on every handshake (``mutualTLSServerSecurity(certificateChain:privateKey:)``);
/// clients read ``roots`` each time they dial.
public final class TLSTrustStore: Sendable {
    private struct State {
        var configured: [Data]
        var configuredParsed: [Certificate]
        /// The union of both, parsed, without duplicates.
        var parsed: [Certificate]
        var ders: [Data]
    }

    private let state: Mutex<State>

    /// A store holding `configuredRoots` (PEM or DER), which stay whatever channels come and go.
    /// - Throws: ``GossipError/Code/badConfiguration`` naming the certificate that does not parse.
    public init(configuredRoots: [Data]) throws(GossipError) {
        let ders = try Self.ders(configuredRoots, origin: "configured TLS root")
        let parsed = try Self.parse(ders, origin: "configured TLS root")
        self.state = Mutex(State(configured: ders, configuredParsed: parsed, parsed: parsed, ders: ders))
    }

    /// DER of every root currently trusted, configured ones first.
    public var roots: [Data] { self.state.withLock { $0.ders } }

    /// Replaces the roots taken from channel configs with `certificates` (DER or PEM, e.g.
    /// ``ChannelMSPRegistry/tlsRootCertificates``). A certificate that does not parse is skipped (a channel
    /// config was validated when it was committed; one odd certificate must not stop the others from being
    /// trusted). Returns the number of roots now trusted.
    @discardableResult
    public func setChannelRoots(_ certificates: [Data]) -> Int {
        var channelDERs: [Data] = []
        var parsed: [Certificate] = []
        for certificate in certificates {
            guard let der = try? TLSMaterial.der(of: certificate),
                let certificate = try? Certificate(derEncoded: Array(der))
            else { continue }
            channelDERs.append(der)
            parsed.append(certificate)
        }
        return self.state.withLock { state in
            var seen: Set<Data> = []
            var ders: [Data] = []
            var certificates: [Certificate] = []
            for (der, certificate) in zip(state.configured + channelDERs, state.configuredParsed + parsed)
            where seen.insert(der).inserted {
                ders.append(der)
                certificates.append(certificate)
            }
            state.ders = ders
            state.parsed = certificates
            return ders.count
        }
    }

    /// Whether `chain` (DER; the leaf first, then any intermediates the client sent) chains to a trusted root
    /// and is valid now (RFC 5280 path validation).
    public func verify(chain: [Data], at time: Date = Date()) async -> Bool {
        guard let leafDER = chain.first, let leaf = try? Certificate(derEncoded: Array(leafDER)) else { return false }
        let intermediates = chain.dropFirst().compactMap { try? Certificate(derEncoded: Array($0)) }
        let roots = self.state.withLock { $0.parsed }
        guard !roots.isEmpty else { return false }
        var verifier = Verifier(rootCertificates: CertificateStore(roots)) {
            RFC5280Policy(fixedExpiryValidationTime: time)
        }
        switch await verifier.validate(leaf: leaf, intermediates: CertificateStore(intermediates)) {
        case .validCertificate: return true
        case .couldNotValidate: return false
        }
    }

    /// Server transport security that requires a client certificate and accepts it when it chains to the roots
    /// trusted at the time of the handshake.
    public func mutualTLSServerSecurity(
        certificateChain: [TLSConfig.CertificateSource],
        privateKey: TLSConfig.PrivateKeySource
    ) -> HTTP2ServerTransport.Posix.TransportSecurity {
        .mTLS(certificateChain: certificateChain, privateKey: privateKey) { config in
            config.clientCertificateVerification = .noHostnameVerification
            config.customVerificationCallback = { [self] certificates, promise in
                let chain = certificates.compactMap { try? Data($0.toDERBytes()) }
                Task {
                    let trusted = await self.verify(chain: chain)
                    promise.succeed(trusted ? .certificateVerified(VerificationMetadata(nil)) : .failed)
                }
            }
        }
    }

    private static func ders(_ certificates: [Data], origin: String) throws(GossipError) -> [Data] {
        var result: [Data] = []
        for (index, certificate) in certificates.enumerated() {
            do {
                result.append(try TLSMaterial.der(of: certificate))
            } catch {
                throw GossipError(.badConfiguration, "\(origin) \(index) is not a certificate", cause: error)
            }
        }
        return result
    }

    private static func parse(_ ders: [Data], origin: String) throws(GossipError) -> [Certificate] {
        var result: [Certificate] = []
        for (index, der) in ders.enumerated() {
            do {
                result.append(try Certificate(derEncoded: Array(der)))
            } catch {
                throw GossipError(.badConfiguration, "\(origin) \(index) does not parse as X.509", cause: error)
            }
        }
        return result
    }
}
