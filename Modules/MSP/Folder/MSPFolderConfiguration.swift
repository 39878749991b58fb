/// The `config.yaml` of a Fabric MSP folder: OU identifiers and NodeOUs, with certificate paths relative to the
/// folder (Fabric's msp.Configuration).
struct MSPFolderConfiguration: Codable, Sendable {
    /// One OU identifier: a CA certificate path and an OU name.
    struct OUIdentifier: Codable, Sendable {
        var certificate: String?
        var organizationalUnitIdentifier: String?

        enum CodingKeys: String, CodingKey {
            case certificate = "Certificate"
            case organizationalUnitIdentifier = "OrganizationalUnitIdentifier"
        }
    }

    /// The NodeOUs section.
    struct NodeOUs: Codable, Sendable {
        var enable: Bool?
        var clientOUIdentifier: OUIdentifier?
        var peerOUIdentifier: OUIdentifier?
        var adminOUIdentifier: OUIdentifier?
        var ordererOUIdentifier: OUIdentifier?

        enum CodingKeys: String, CodingKey {
            case enable = "Enable"
            case clientOUIdentifier = "ClientOUIdentifier"
            case peerOUIdentifier = "PeerOUIdentifier"
            case adminOUIdentifier = "AdminOUIdentifier"
            case ordererOUIdentifier = "OrdererOUIdentifier"
        }
    }

    var organizationalUnitIdentifiers: [OUIdentifier]?
    var nodeOUs: NodeOUs?

    enum CodingKeys: String, CodingKey {
        case organizationalUnitIdentifiers = "OrganizationalUnitIdentifiers"
        case nodeOUs = "NodeOUs"
    }

    /// cryptogen's config.yaml: NodeOUs enabled, the four OUs pinned to `caCertificatePath`.
    static func cryptogenYAML(caCertificatePath: String) -> String {
        var text = "NodeOUs:\n    Enable: true\n"
        for (key, ou) in [
            ("ClientOUIdentifier", "client"), ("PeerOUIdentifier", "peer"), ("AdminOUIdentifier", "admin"),
            ("OrdererOUIdentifier", "orderer"),
        ] {
            text +=
                "    \(key):\n        Certificate: \(caCertificatePath)\n        OrganizationalUnitIdentifier: \(ou)\n"
        }
        return text
    }
}
