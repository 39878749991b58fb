public import ChannelConfig
public import Foundation
import MSP

/// What a channel config says about where its orderers are: the global `OrdererAddresses` and, per orderer org, the
/// org's own `Endpoints` with the org's TLS root and intermediate CAs.
public struct OrdererAddressConfig: Sendable, Hashable {
    /// One orderer org's endpoints and TLS CAs.
    public struct Organization: Sendable, Hashable {
        /// The org's `Endpoints` ("host:port"), empty when the org defines none.
        public var addresses: [String]
        /// DER of the org's TLS root certificates followed by its TLS intermediate certificates.
        public var tlsRootCAs: [Data]

        /// Creates an org entry.
        public init(addresses: [String], tlsRootCAs: [Data]) {
            self.addresses = addresses
            self.tlsRootCAs = tlsRootCAs
        }
    }

    /// The channel-level `OrdererAddresses` (legacy; ignored when any org defines endpoints).
    public var globalAddresses: [String]
    /// Orderer orgs by MSP id.
    public var organizations: [String: Organization]

    /// Creates a config.
    public init(globalAddresses: [String], organizations: [String: Organization]) {
        self.globalAddresses = globalAddresses
        self.organizations = organizations
    }

    /// The orderer addresses of `bundle` (no orgs when the bundle has no orderer section).
    public init(bundle: ChannelBundle) {
        var organizations: [String: Organization] = [:]
        for org in bundle.orderer.map({ Array($0.organizations.values) }) ?? [] {
            let msp = org.organization.msp
            organizations[org.mspID] = Organization(
                addresses: org.endpoints,
                tlsRootCAs: msp.tlsRootCertificates + msp.tlsIntermediateCertificates
            )
        }
        self.init(globalAddresses: bundle.channel.ordererAddresses, organizations: organizations)
    }
}
