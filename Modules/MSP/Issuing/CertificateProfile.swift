package import Foundation

/// What goes into an issued certificate besides its names and key: serial, validity, CA flag, key usages, SANs,
/// name constraints, and how the signature is encoded (tests need high-S and non-canonical signatures).
package struct CertificateProfile: Sendable {
    /// X.509 key usage bits.
    package struct KeyUsage: OptionSet, Sendable, Hashable {
        package let rawValue: UInt16
        package init(rawValue: UInt16) { self.rawValue = rawValue }

        package static let digitalSignature = KeyUsage(rawValue: 1 << 0)
        package static let contentCommitment = KeyUsage(rawValue: 1 << 1)
        package static let keyEncipherment = KeyUsage(rawValue: 1 << 2)
        package static let dataEncipherment = KeyUsage(rawValue: 1 << 3)
        package static let keyAgreement = KeyUsage(rawValue: 1 << 4)
        package static let keyCertSign = KeyUsage(rawValue: 1 << 5)
        package static let cRLSign = KeyUsage(rawValue: 1 << 6)
    }

    /// Extended key usages cryptogen sets.
    package enum ExtendedKeyUsage: Sendable, Hashable {
        case clientAuth
        case serverAuth

        var oid: String {
            switch self {
            case .serverAuth: "1.3.6.1.5.5.7.3.1"
            case .clientAuth: "1.3.6.1.5.5.7.3.2"
            }
        }
    }

    /// How the issuer's ECDSA signature is encoded in the certificate.
    package enum SignatureEncoding: Sendable, Hashable {
        /// Canonical DER with S ≤ n/2 (what Fabric produces).
        case lowS
        /// Canonical DER with S > n/2 (what Go's ecdsa.Sign gives half the time; Fabric sanitises it).
        case highS
        /// Canonical DER followed by one stray byte inside the BIT STRING (not well formed for Fabric).
        case trailingByte
    }

    /// The serial number (unsigned big-endian); nil draws 128 random bits as cryptogen does.
    package var serialNumber: Data?
    /// Start of validity.
    package var notBefore: Date
    /// End of validity.
    package var notAfter: Date
    /// BasicConstraints cA.
    package var isCA: Bool
    /// Key usage (critical).
    package var keyUsage: KeyUsage
    /// Extended key usage.
    package var extendedKeyUsage: [ExtendedKeyUsage]
    /// Whether to add a Subject Key Identifier (SHA-256 of the public key, as cryptogen does for CAs).
    package var subjectKeyIdentifier: Bool
    /// DNS names of the Subject Alternative Name extension.
    package var dnsNames: [String]
    /// IP addresses (dotted IPv4 or IPv6 text) of the Subject Alternative Name extension.
    package var ipAddresses: [String]
    /// Permitted DNS subtrees of a Name Constraints extension (CAs only; empty for none).
    package var permittedDNSDomains: [String]
    /// Signature encoding.
    package var signatureEncoding: SignatureEncoding

    /// Creates a profile; see the static factories for cryptogen's shapes.
    package init(
        serialNumber: Data? = nil,
        notBefore: Date,
        notAfter: Date,
        isCA: Bool,
        keyUsage: KeyUsage,
        extendedKeyUsage: [ExtendedKeyUsage] = [],
        subjectKeyIdentifier: Bool = false,
        dnsNames: [String] = [],
        ipAddresses: [String] = [],
        permittedDNSDomains: [String] = [],
        signatureEncoding: SignatureEncoding = .lowS
    ) {
        self.serialNumber = serialNumber
        self.notBefore = notBefore
        self.notAfter = notAfter
        self.isCA = isCA
        self.keyUsage = keyUsage
        self.extendedKeyUsage = extendedKeyUsage
        self.subjectKeyIdentifier = subjectKeyIdentifier
        self.dnsNames = dnsNames
        self.ipAddresses = ipAddresses
        self.permittedDNSDomains = permittedDNSDomains
        self.signatureEncoding = signatureEncoding
    }

    /// cryptogen's validity: from now rounded to the minute minus 5 minutes, for 3650 days.
    package static func cryptogenValidity(now: Date = Date()) -> (notBefore: Date, notAfter: Date) {
        let minute = (now.timeIntervalSince1970 / 60).rounded() * 60
        let start = Date(timeIntervalSince1970: minute - 300)
        return (start, start.addingTimeInterval(3650 * 24 * 3600))
    }

    /// A CA as cryptogen makes it: KU digitalSignature, keyEncipherment, certSign, CRLSign; EKU client+server;
    /// cA TRUE; SKI.
    package static func certificateAuthority(
        notBefore: Date? = nil,
        notAfter: Date? = nil,
        permittedDNSDomains: [String] = []
    ) -> CertificateProfile {
        let validity = cryptogenValidity()
        return CertificateProfile(
            notBefore: notBefore ?? validity.notBefore,
            notAfter: notAfter ?? validity.notAfter,
            isCA: true,
            keyUsage: [.digitalSignature, .keyEncipherment, .keyCertSign, .cRLSign],
            extendedKeyUsage: [.clientAuth, .serverAuth],
            subjectKeyIdentifier: true,
            permittedDNSDomains: permittedDNSDomains
        )
    }

    /// A signing (enrollment) certificate as cryptogen makes it: KU digitalSignature, cA FALSE, AKI.
    package static func signing(notBefore: Date? = nil, notAfter: Date? = nil) -> CertificateProfile {
        let validity = cryptogenValidity()
        return CertificateProfile(
            notBefore: notBefore ?? validity.notBefore,
            notAfter: notAfter ?? validity.notAfter,
            isCA: false,
            keyUsage: [.digitalSignature]
        )
    }

    /// A TLS certificate as cryptogen makes it: KU digitalSignature+keyEncipherment, EKU server+client, SANs.
    package static func tls(dnsNames: [String], ipAddresses: [String] = ["127.0.0.1"]) -> CertificateProfile {
        let validity = cryptogenValidity()
        return CertificateProfile(
            notBefore: validity.notBefore,
            notAfter: validity.notAfter,
            isCA: false,
            keyUsage: [.digitalSignature, .keyEncipherment],
            extendedKeyUsage: [.serverAuth, .clientAuth],
            dnsNames: dnsNames,
            ipAddresses: ipAddresses
        )
    }
}
