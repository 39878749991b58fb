public import ChannelConfig
import Foundation
public import Logging

extension DeliverConfig {
    /// Reads ``addressOverrides`` into a map from config address to replacement endpoint (Fabric's
    /// `LoadOverridesMap`). An override whose CA file cannot be read, or holds no PEM certificate, is skipped with a
    /// warning; an override without a CA file trusts nothing (it works only without TLS).
    public func loadAddressOverrides(logger: Logger) -> [String: OrdererEndpoint] {
        var result: [String: OrdererEndpoint] = [:]
        for override in self.addressOverrides {
            var roots: [Data] = []
            if let file = override.caCertsFile, !file.isEmpty {
                guard let pem = FileManager.default.contents(atPath: file) else {
                    logger.warning(
                        """
                        could not read file '\(file)' specified for caCertsFile of orderer endpoint override from \
                        '\(override.from)' to '\(override.to)'; override skipped
                        """
                    )
                    continue
                }
                roots = PEMCertificates.certificates(in: pem)
                guard !roots.isEmpty else {
                    logger.warning(
                        """
                        attempted to create a cert pool for override of orderer address '\(override.from)' to \
                        '\(override.to)' but did not find any valid certs in '\(file)'; override skipped
                        """
                    )
                    continue
                }
            }
            result[override.from] = OrdererEndpoint(address: override.to, organization: nil, tlsRootCAs: roots)
        }
        return result
    }
}
