import Foundation
import MSP

/// Extracts X.509 certificates from PEM text the way Fabric reads an override's CA file: every `CERTIFICATE` block
/// without headers whose body parses as a certificate; anything else is skipped.
enum PEMCertificates {
    /// The DER of every usable certificate in `pem`, in file order.
    static func certificates(in pem: Data) -> [Data] {
        let text = String(decoding: pem, as: UTF8.self)
        var result: [Data] = []
        var rest = Substring(text)
        let begin = "-----BEGIN "
        while let start = rest.range(of: begin) {
            rest = rest[start.upperBound...]
            guard let typeEnd = rest.range(of: "-----") else { break }
            let type = rest[..<typeEnd.lowerBound]
            rest = rest[typeEnd.upperBound...]
            guard let end = rest.range(of: "-----END \(type)-----") else { break }
            let body = rest[..<end.lowerBound]
            rest = rest[end.upperBound...]
            guard type == "CERTIFICATE", !body.contains(":") else { continue }
            let base64 = body.filter { !$0.isWhitespace }
            guard let der = Data(base64Encoded: String(base64)), (try? Certificate(derEncoded: der)) != nil else {
                continue
            }
            result.append(der)
        }
        return result
    }
}
