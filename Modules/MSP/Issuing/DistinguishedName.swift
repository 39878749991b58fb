package import Foundation

/// An X.509 subject or issuer name, encoded the way Go's crypto/x509 (and so cryptogen) encodes it: attributes in
/// the order C, ST, L, O, OU, CN, all values of one attribute type in one RDN, PrintableString where possible and
/// UTF8String otherwise.
package struct DistinguishedName: Hashable, Sendable, CustomStringConvertible {
    /// Country (C).
    package var country: [String]
    /// State or province (ST).
    package var province: [String]
    /// Locality (L).
    package var locality: [String]
    /// Organisation (O).
    package var organization: [String]
    /// Organisational units (OU), in order: NodeOU classification reads these.
    package var organizationalUnit: [String]
    /// Common name (CN); empty for none.
    package var commonName: String

    /// Creates a name.
    package init(
        commonName: String,
        organization: [String] = [],
        organizationalUnit: [String] = [],
        country: [String] = [],
        province: [String] = [],
        locality: [String] = []
    ) {
        self.commonName = commonName
        self.organization = organization
        self.organizationalUnit = organizationalUnit
        self.country = country
        self.province = province
        self.locality = locality
    }

    /// A name as cryptogen makes it: C=US, ST=California, L=San Francisco, then O, OU and CN.
    package static func cryptogen(
        commonName: String,
        organization: String? = nil,
        organizationalUnits: [String] = []
    ) -> DistinguishedName {
        DistinguishedName(
            commonName: commonName,
            organization: organization.map { [$0] } ?? [],
            organizationalUnit: organizationalUnits,
            country: ["US"],
            province: ["California"],
            locality: ["San Francisco"]
        )
    }

    /// The DER `Name`.
    package var derEncoded: Data { Data(self.der) }

    var der: [UInt8] {
        var rdns: [[UInt8]] = []
        func append(_ values: [String], _ oid: String) {
            guard !values.isEmpty else { return }
            rdns.append(DER.set(values.map { DER.sequence([DER.objectIdentifier(oid), DER.directoryString($0)]) }))
        }
        append(self.country, "2.5.4.6")
        append(self.province, "2.5.4.8")
        append(self.locality, "2.5.4.7")
        append(self.organization, "2.5.4.10")
        append(self.organizationalUnit, "2.5.4.11")
        if !self.commonName.isEmpty { append([self.commonName], "2.5.4.3") }
        return DER.sequence(rdns)
    }

    package var description: String {
        var parts: [String] = []
        parts += self.country.map { "C=\($0)" }
        parts += self.province.map { "ST=\($0)" }
        parts += self.locality.map { "L=\($0)" }
        parts += self.organization.map { "O=\($0)" }
        parts += self.organizationalUnit.map { "OU=\($0)" }
        if !self.commonName.isEmpty { parts.append("CN=\(self.commonName)") }
        return parts.joined(separator: ", ")
    }
}
