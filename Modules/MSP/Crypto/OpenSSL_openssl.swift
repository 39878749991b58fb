internal import COpenSSL
import Foundation
import Wire

/// The one place where OpenSSL's error queue becomes text for an ``MSPError``.
enum OpenSSL {
    /// Drains the thread's OpenSSL error queue into one line ("" when empty).
    static func drainErrors() -> String {
        var messages: [String] = []
        while true {
            let code = ERR_get_error()
            if code == 0 { break }
            var buffer = [CChar](repeating: 0, count: 256)
            ERR_error_string_n(code, &buffer, buffer.count)
            messages.append(String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        return messages.joined(separator: "; ")
    }

    /// An ``MSPError`` with code `.crypto` for a failed OpenSSL call, with the error queue as detail.
    static func error(_ what: String, file: String = #fileID, line: Int = #line) -> MSPError {
        let detail = drainErrors()
        return MSPError(.crypto, detail.isEmpty ? what : "\(what): \(detail)", file: file, line: line)
    }

    /// Calls an `i2d_*`-style encoder twice (size, then bytes) and returns the DER.
    static func encode(_ encoder: (UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>?) -> Int32) -> Data? {
        let size = encoder(nil)
        guard size > 0 else { return nil }
        var out = Data(count: Int(size))
        let written = out.withUnsafeMutableBytes { buffer -> Int32 in
            var pointer: UnsafeMutablePointer<UInt8>? = buffer.baseAddress!.assumingMemoryBound(to: UInt8.self)
            return encoder(&pointer)
        }
        guard written == size else { return nil }
        return out
    }

    /// Calls a `d2i_*`-style decoder on `der`; returns the object and how many bytes it consumed.
    static func decode(
        _ der: Data,
        _ decoder: (UnsafeMutablePointer<UnsafePointer<UInt8>?>, Int) -> OpaquePointer?
    ) -> (object: OpaquePointer, consumed: Int)? {
        der.withUnsafeBytes { buffer -> (OpaquePointer, Int)? in
            guard let base = buffer.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return nil }
            var pointer: UnsafePointer<UInt8>? = base
            guard let object = decoder(&pointer, buffer.count) else { return nil }
            return (object, pointer.map { $0 - base } ?? buffer.count)
        }
    }

    /// Bytes of an ASN1_STRING (ASN1_OCTET_STRING, ASN1_INTEGER, …).
    static func bytes(of string: UnsafePointer<ASN1_STRING>?) -> Data? {
        guard let string, let data = ASN1_STRING_get0_data(string) else { return nil }
        return Data(bytes: data, count: Int(ASN1_STRING_length(string)))
    }

    /// An ASN1_STRING's text as UTF-8.
    static func text(of string: UnsafePointer<ASN1_STRING>?) -> String? {
        guard let string else { return nil }
        var out: UnsafeMutablePointer<UInt8>? = nil
        let length = ASN1_STRING_to_UTF8(&out, string)
        guard length >= 0, let out else { return nil }
        defer { COpenSSL_free(out) }
        return String(decoding: UnsafeBufferPointer(start: out, count: Int(length)), as: UTF8.self)
    }

    /// An ASN1_TIME as a Date.
    static func date(of time: UnsafePointer<ASN1_TIME>?) -> Date? {
        guard let time else { return nil }
        var parts = tm()
        guard ASN1_TIME_to_tm(time, &parts) == 1 else { return nil }
        return Date(timeIntervalSince1970: TimeInterval(timegm(&parts)))
    }
}

/// Digests by their Fabric names, for identity identifiers, signature hashes and CRL signatures; computed by
/// Wire's ``Digest`` with its once-fetched OpenSSL algorithms.
enum HashFunction: String, Sendable {
    case sha256 = "SHA256"
    case sha384 = "SHA384"
    case sha512 = "SHA512"
    case sha3_256 = "SHA3_256"
    case sha3_384 = "SHA3_384"

    private var algorithm: DigestAlgorithm {
        switch self {
        case .sha256: .sha256
        case .sha384: .sha384
        case .sha512: .sha512
        case .sha3_256: .sha3_256
        case .sha3_384: .sha3_384
        }
    }

    /// The digest of `bytes`.
    func digest(_ bytes: Data) -> Data {
        Digest.digest(self.algorithm, bytes)
    }

    /// The digest of the concatenation of `parts`.
    func digest(concatenating parts: [Data]) -> Data {
        Digest.digest(self.algorithm, concatenating: parts)
    }
}
