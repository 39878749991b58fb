internal import COpenSSL
public import Foundation

/// SHA-256 and SHA3-256 through OpenSSL's libcrypto, for the hashes Fabric defines over raw bytes.
public enum Digest {
    /// The SHA-256 digest of `bytes` (32 bytes).
    public static func sha256(_ bytes: Data) -> Data {
        self.oneShot(bytes, FetchedAlgorithm.sha256, size: Int(SHA256_DIGEST_LENGTH))
    }

    /// The SHA-256 digest of the concatenation of `parts`, without building the concatenation.
    public static func sha256<Parts: Sequence>(concatenating parts: Parts) -> Data where Parts.Element == Data {
        let hasher = SHA256Hasher()
        for part in parts { hasher.update(part) }
        return hasher.finalize()
    }

    /// The SHA3-256 digest of `bytes` (32 bytes), for channels whose HashingAlgorithm is SHA3_256.
    public static func sha3_256(_ bytes: Data) -> Data {
        self.oneShot(bytes, FetchedAlgorithm.sha3_256, size: 32)
    }

    private static func oneShot(_ bytes: Data, _ algorithm: OpaquePointer, size: Int) -> Data {
        var out = Data(count: size)
        var written: UInt32 = 0
        let succeeded = bytes.withUnsafeBytes { input in
            out.withUnsafeMutableBytes { output in
                EVP_Digest(
                    input.baseAddress,
                    input.count,
                    output.baseAddress!.assumingMemoryBound(to: UInt8.self),
                    &written,
                    algorithm,
                    nil
                )
            }
        }
        guard succeeded == 1, Int(written) == size else {
            fatalError("OpenSSL could not compute a digest (out of memory)")
        }
        return out
    }
}

/// The digest algorithms, fetched from OpenSSL's default provider once per process.
///
/// OpenSSL 3's one-shot `SHA256()` and the `EVP_sha256()` family look the algorithm up in the provider store on
/// every call (a locked hash-table search), which costs more than hashing a transaction's few kilobytes; a
/// fetched `EVP_MD` skips that lookup.
enum FetchedAlgorithm {
    // nonisolated(unsafe): written once by the lazy global initialiser, then only read; an EVP_MD is immutable
    // and OpenSSL allows it to be used from any thread.
    nonisolated(unsafe) static let sha256: OpaquePointer = fetch("SHA2-256")
    nonisolated(unsafe) static let sha3_256: OpaquePointer = fetch("SHA3-256")

    private static func fetch(_ name: String) -> OpaquePointer {
        guard let algorithm = EVP_MD_fetch(nil, name, nil) else {
            fatalError("OpenSSL's default provider has no \(name) (libcrypto is not usable)")
        }
        return algorithm
    }
}

/// An incremental SHA-256 computation over OpenSSL's EVP interface.
///
/// Owns an `EVP_MD_CTX`, freed in `deinit`; not shared between tasks (it is a value-less reference used by one
/// caller at a time), hence not `Sendable`.
public final class SHA256Hasher {
    private let context: OpaquePointer

    /// Starts a new digest.
    public init() {
        guard let context = EVP_MD_CTX_new() else {
            fatalError("OpenSSL could not allocate a digest context (out of memory)")
        }
        EVP_DigestInit_ex(context, FetchedAlgorithm.sha256, nil)
        self.context = context
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

    /// Finishes the digest and returns it (32 bytes); the hasher must not be used afterwards.
    public func finalize() -> Data {
        var out = Data(count: Int(SHA256_DIGEST_LENGTH))
        var size: UInt32 = 0
        out.withUnsafeMutableBytes { output in
            _ = EVP_DigestFinal_ex(self.context, output.baseAddress!.assumingMemoryBound(to: UInt8.self), &size)
        }
        return out
    }
}
