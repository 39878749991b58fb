public import ChannelConfig
public import Foundation
public import Logging
import Synchronization
import Wire

/// The orderer endpoints a channel's deliverer may connect to, kept current from channel configs (Fabric's
/// `orderers.ConnectionSource`).
///
/// - If any orderer org defines `Endpoints`, only org endpoints are used, each trusting that org's TLS CAs (global
///   addresses are then ignored, with a warning); otherwise the global `OrdererAddresses` are used, trusting the
///   union of every orderer org's TLS CAs.
/// - An address with an entry in the overrides is replaced by the override's address and CAs.
/// - ``update(_:)`` detects changes per org (SHA-256 over the org's CAs, then its addresses) and in the global list
///   (size or membership). On a change every endpoint handed out so far is marked *refreshed*, which tells a
///   connection made to it to drop and reconnect with the new set without counting a failure.
public final class OrdererConnectionSource: Sendable {
    /// One endpoint: where to connect and what to trust, plus its refresh signal.
    public struct Endpoint: Sendable, CustomStringConvertible {
        /// Where to connect ("host:port"), after overrides.
        public let address: String
        /// DER of the CA certificates to trust for the endpoint's TLS server certificate.
        public let tlsRootCAs: [Data]
        /// The orderer org's MSP id for org endpoints; nil for global addresses.
        public let organization: String?
        /// The address as the channel config has it (differs from ``address`` when overridden).
        public let configAddress: String
        let refreshed: OneShotSignal

        /// Whether a newer config replaced this endpoint's set.
        public var isRefreshed: Bool { self.refreshed.isFired }

        public var description: String {
            self.address == self.configAddress ? self.address : "\(self.address) (for \(self.configAddress))"
        }
    }

    private struct State {
        var orgHashes: [String: Data] = [:]
        /// The config addresses of the global endpoints in use; nil when org endpoints are in use.
        var globalAddresses: [String]? = nil
        var endpoints: [Endpoint] = []
        var updates = 0
    }

    private let overrides: [String: OrdererEndpoint]
    private let logger: Logger
    private let state = Mutex(State())

    /// An empty source using `overrides` (config address → replacement endpoint; see
    /// ``DeliverConfig/loadAddressOverrides(logger:)``).
    public init(overrides: [String: OrdererEndpoint] = [:], logger: Logger = Logger(label: "deliver.orderers")) {
        self.overrides = overrides
        self.logger = logger
    }

    /// The current endpoints, in a stable order (org MSP id, then config order).
    public var endpoints: [Endpoint] { self.state.withLock { $0.endpoints } }

    /// How many updates changed the endpoint set (the first non-empty update counts).
    public var changeCount: Int { self.state.withLock { $0.updates } }

    /// Applies a channel config's orderer addresses. Returns whether the endpoint set was rebuilt (and the old
    /// endpoints marked refreshed).
    @discardableResult
    public func update(_ config: OrdererAddressConfig) -> Bool {
        let (changed, stale) = self.state.withLock { state -> (Bool, [Endpoint]) in
            var anyChange = false
            var hasOrgEndpoints = false
            var hashes: [String: Data] = [:]
            for (mspID, org) in config.organizations {
                let hasher = DigestHasher()
                for certificate in org.tlsRootCAs { hasher.update(certificate) }
                for address in org.addresses {
                    hasOrgEndpoints = true
                    hasher.update(Data(address.utf8))
                }
                let hash = hasher.finalize()
                hashes[mspID] = hash
                if state.orgHashes[mspID] != hash {
                    self.logger.debug("orderer org \(mspID) has updates")
                    anyChange = true
                }
            }
            for mspID in state.orgHashes.keys where hashes[mspID] == nil {
                self.logger.debug("orderer org \(mspID) has been removed")
                anyChange = true
            }
            state.orgHashes = hashes

            if hasOrgEndpoints && !config.globalAddresses.isEmpty {
                self.logger.warning(
                    "config defines both orderer org specific endpoints and global endpoints; global endpoints are ignored"
                )
            }
            if !hasOrgEndpoints && !anyChange {
                // Compared with the config addresses in use (Fabric compares with the endpoint addresses, so an
                // overridden global address looks changed on every update; see Docs/deliver.md).
                let old = state.globalAddresses ?? []
                if old.count != config.globalAddresses.count
                    || !Set(config.globalAddresses).subtracting(old).isEmpty
                {
                    self.logger.debug("no org endpoints, and the global addresses have changed")
                    anyChange = true
                }
            }
            guard anyChange else {
                self.logger.debug("no orderer endpoint addresses or TLS certs were changed")
                return (false, [])
            }

            let stale = state.endpoints
            var endpoints: [Endpoint] = []
            if hasOrgEndpoints {
                for mspID in config.organizations.keys.sorted() {
                    let org = config.organizations[mspID]!
                    for address in org.addresses {
                        endpoints.append(self.endpoint(address, organization: mspID, tlsRootCAs: org.tlsRootCAs))
                    }
                }
                state.globalAddresses = nil
            } else {
                let all = config.organizations.keys.sorted().flatMap { config.organizations[$0]!.tlsRootCAs }
                for address in config.globalAddresses {
                    endpoints.append(self.endpoint(address, organization: nil, tlsRootCAs: all))
                }
                state.globalAddresses = config.globalAddresses
            }
            state.endpoints = endpoints
            state.updates += 1
            return (true, stale)
        }
        // Tell connections to the old set that it is stale; even unchanged endpoints are refreshed so that the
        // deliverers rebalance over the new set, as Fabric does.
        for endpoint in stale { endpoint.refreshed.fire() }
        if changed {
            self.logger.info(
                "orderer endpoints updated",
                metadata: ["endpoints": "\(self.endpoints.map(\.description))"]
            )
        }
        return changed
    }

    /// A uniformly random endpoint of the current set, or nil when there is none.
    public func randomEndpoint(using random: some DeliverRandomSource) -> Endpoint? {
        let endpoints = self.endpoints
        guard !endpoints.isEmpty else { return nil }
        return endpoints[random.nextIndex(below: endpoints.count)]
    }

    private func endpoint(_ address: String, organization: String?, tlsRootCAs: [Data]) -> Endpoint {
        if let override = self.overrides[address] {
            return Endpoint(
                address: override.address,
                tlsRootCAs: override.tlsRootCAs,
                organization: organization,
                configAddress: address,
                refreshed: OneShotSignal()
            )
        }
        return Endpoint(
            address: address,
            tlsRootCAs: tlsRootCAs,
            organization: organization,
            configAddress: address,
            refreshed: OneShotSignal()
        )
    }
}
