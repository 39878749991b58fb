internal import COpenSSL
public import Foundation

/// Fabric's digests through OpenSSL's libcrypto: SHA-256 and SHA3-256 for the hashes Fabric defines over raw
/// bytes, and (package access) every ``DigestAlgorithm`` an MSP may name.
public enum Digest {
    /// The SHA-256 digest of `bytes` (32 bytes).
    public static func sha256(_ bytes: Data) -> Data {
        self.digest(.sha256, bytes)
    }

    /// The SHA-256 digest of the concatenation of `parts`, without building the concatenation.
    public static func sha256<Parts: Sequence>(concatenating parts: Parts) -> Data where Parts.Element == Data {
        self.digest(.sha256, concatenating: parts)
    }

    /// The SHA3-256 digest of `bytes` (32 bytes), for channels whose HashingAlgorithm is SHA3_256.
    public static func sha3_256(_ bytes: Data) -> Data {
        self.digest(.sha3_256, bytes)
    }

    /// The `algorithm` digest of `bytes`, in one call.
    package static func digest(_ algorithm: DigestAlgorithm, _ bytes: Data) -> Data {
        var out = Data(count: algorithm.size)
        var written: UInt32 = 0
        let succeeded = bytes.withUnsafeBytes { input in
            out.withUnsafeMutableBytes { output in
                EVP_Digest(
                    input.baseAddress,
                    input.count,
                    output.baseAddress!.assumingMemoryBound(to: UInt8.self),
                    &written,
                    algorithm.fetched,
                    nil
                )
            }
        }
        guard succeeded == 1, Int(written) == algorithm.size else {
            fatalError("OpenSSL could not compute a \(algorithm) digest (out of memory)")
        }
        return out
    }

    /// The `algorithm` digest of the concatenation of `parts`, without building the concatenation.
    package static func digest<Parts: Sequence>(
        _ algorithm: DigestAlgorithm,
        concatenating parts: Parts
    ) -> Data where Parts.Element == Data {
        let hasher = DigestHasher(algorithm)
        for part in parts { hasher.update(part) }
        return hasher.finalize()
    }
}

/// The digest algorithms Fabric uses (block and transaction hashes, MSP identifiers, certificate and CRL
/// signatures), each fetched from OpenSSL's default provider once per process.
///
/// OpenSSL 3's one-shot `SHA256()` and the `EVP_sha256()` family look the algorithm up in the provider store on
/// every call (a locked hash-table search), which costs more than hashing a transaction's few kilobytes; a
/// fetched `EVP_MD` skips that lookup.
package enum DigestAlgorithm: Sendable, CaseIterable {
    case sha256, sha384, sha512, sha3_256, sha3_384

    /// The digest's length in bytes.
    package var size: Int {
        switch self {
        case .sha256, .sha3_256: 32
        case .sha384, .sha3_384: 48
        case .sha512: 64
        }
    }

    /// The fetched `EVP_MD`.
    var fetched: OpaquePointer {
        switch self {
        case .sha256: Fetched.sha256
        case .sha384: Fetched.sha384
        case .sha512: Fetched.sha512
        case .sha3_256: Fetched.sha3_256
        case .sha3_384: Fetched.sha3_384
        }
    }

    // nonisolated(unsafe): each written once by its lazy global initialiser, then only read; an EVP_MD is
    // immutable and OpenSSL allows it to be used from any thread.
    private enum Fetched {
        nonisolated(unsafe) static let sha256 = fetch("SHA2-256")
        nonisolated(unsafe) static let sha384 = fetch("SHA2-384")
        nonisolated(unsafe) static let sha512 = fetch("SHA2-512")
        nonisolated(unsafe) static let sha3_256 = fetch("SHA3-256")
        nonisolated(unsafe) static let sha3_384 = fetch("SHA3-384")

        private static func fetch(_ name: String) -> OpaquePointer {
            guard let algorithm = EVP_MD_fetch(nil, name, nil) else {
                fatalError("OpenSSL's default provider has no \(name) (libcrypto is not usable)")
            }
            return algorithm
        }
    }
}

/// An incremental digest over OpenSSL's EVP interface: SHA-256 unless made for another algorithm.
///
/// Owns an `EVP_MD_CTX`, freed in `deinit`; not shared between tasks (it is a value-less reference used by one
/// caller at a time), hence not `Sendable`.
public final class DigestHasher {
    private let context: OpaquePointer
    private let algorithm: DigestAlgorithm

    /// Starts a new SHA-256 digest.
    public convenience init() {
        self.init(.sha256)
    }

    /// Starts a new `algorithm` digest.
    package init(_ algorithm: DigestAlgorithm) {
        guard let context = EVP_MD_CTX_new() else {
            fatalError("OpenSSL could not allocate a digest context (out of memory)")
        }
        EVP_DigestInit_ex(context, algorithm.fetched, nil)
        self.context = context
        self.algorithm = algorithm
    }

    deinit { EVP_MD_CTX_free(self.context) }

    /// Feeds `bytes` into the digest.
    public func update(_ bytes: Data) {
        bytes.withUnsafeBytes { buffer in
            _ = EVP_DigestUpdate(self.context, buffer.baseAddress, buffer.count)
        }
    }

    /// Feeds `bytes` into the digest.
    public func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { buffer in
            _ = EVP_DigestUpdate(self.context, buffer.baseAddress, buffer.count)
        }
    }

    /// Finishes the digest and returns it (32 bytes for SHA-256); the hasher must not be used afterwards.
    public func finalize() -> Data {
        var out = Data(count: self.algorithm.size)
        var size: UInt32 = 0
        out.withUnsafeMutableBytes { output in
            _ = EVP_DigestFinal_ex(self.context, output.baseAddress!.assumingMemoryBound(to: UInt8.self), &size)
        }
        return out
    }
}
