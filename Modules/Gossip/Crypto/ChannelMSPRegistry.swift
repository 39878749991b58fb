public import ChannelConfig
public import Foundation
internal import MSP
internal import Synchronization

/// The channel configs gossip's crypto consults: per channel the current ``ChannelBundle`` (its MSP manager for
/// identities of other organisations, its policies for `/Channel/Application/Readers` and
/// `/Channel/Orderer/BlockValidation`).
///
/// Fabric's MCS asks the peer for "every channel's MSP manager" at each call; here the peer pushes them instead:
/// PeerCore calls ``update(_:)`` when a channel is joined and again from its bundle-source callback after every
/// config block, and ``remove(_:)`` when it leaves. ``MSPMessageCryptoService`` and ``MSPSecurityAdvisor`` share
/// one registry, so both see a config change at once.
public final class ChannelMSPRegistry: Sendable {
    private let bundles = Mutex<[ChannelID: ChannelBundle]>([:])

    /// An empty registry (a peer that has joined no channel yet).
    public init() {}

    /// A registry holding `bundles`.
    public convenience init(_ bundles: [ChannelBundle]) {
        self.init()
        for bundle in bundles { self.update(bundle) }
    }

    /// Sets (or replaces) the config of `bundle.channelID`.
    public func update(_ bundle: ChannelBundle) {
        self.bundles.withLock { $0[bundle.channelID] = bundle }
    }

    /// Forgets a channel.
    public func remove(_ channel: ChannelID) {
        self.bundles.withLock { _ = $0.removeValue(forKey: channel) }
    }

    /// The current config of `channel`, if the channel is known.
    public func bundle(of channel: ChannelID) -> ChannelBundle? {
        self.bundles.withLock { $0[channel] }
    }

    /// Every known channel with its config, ordered by channel id (so lookups are deterministic).
    public var all: [(channel: ChannelID, bundle: ChannelBundle)] {
        self.bundles.withLock { bundles in bundles.sorted { $0.key < $1.key }.map { ($0.key, $0.value) } }
    }

    /// DER of every TLS root and intermediate CA certificate of every organisation of every known channel, without
    /// duplicates: the trust roots of the gossip transport (``GRPCGossipTransport/TLS/trustRoots``).
    public var tlsRootCertificates: [Data] {
        var seen: Set<Data> = []
        var result: [Data] = []
        for (_, bundle) in self.all {
            for mspID in bundle.mspManager.mspIDs {
                guard let provider = bundle.mspManager.provider(mspID) else { continue }
                for der in provider.tlsRootCertificates + provider.tlsIntermediateCertificates
                where seen.insert(der).inserted {
                    result.append(der)
                }
            }
        }
        return result
    }
}
