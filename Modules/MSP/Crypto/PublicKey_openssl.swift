internal import COpenSSL
package import Foundation
import Synchronization

/// The algorithm of a key.
package enum KeyAlgorithm: Hashable, Sendable, CustomStringConvertible {
    /// ECDSA on a known NIST curve.
    case ecdsa(EllipticCurve)
    /// ECDSA on a curve Fabric has no half order for.
    case ecdsaUnknownCurve(String)
    /// Ed25519 (supported by Fabric's MSP v3.0 only).
    case ed25519
    /// RSA (never supported for Fabric identities).
    case rsa
    /// Anything else, by OpenSSL NID.
    case other(Int32)

    package var description: String {
        switch self {
        case .ecdsa(let curve): "ECDSA \(curve.rawValue)"
        case .ecdsaUnknownCurve(let name): "ECDSA \(name)"
        case .ed25519: "Ed25519"
        case .rsa: "RSA"
        case .other(let nid): "key type \(nid)"
        }
    }
}

/// A public key, owning an OpenSSL `EVP_PKEY`.
///
/// Immutable after init. ECDSA verification reuses `EVP_PKEY_CTX`s prepared for verification from a small pool
/// behind a `Mutex`, so concurrent verifications neither share a context nor pay for creating one each time.
// @unchecked Sendable: the EVP_PKEY is only read after init; verify contexts are handed out one caller at a time by `pool`.
package final class PublicKey: @unchecked Sendable {
    let pointer: OpaquePointer
    /// The key's algorithm.
    package let algorithm: KeyAlgorithm
    /// The encoded public key: the uncompressed point for EC keys, the 32 raw bytes for Ed25519.
    package let rawRepresentation: Data
    private let pool = Mutex<[VerifyContext]>([])
    private static let pooledContexts = 8

    /// Takes ownership of `pointer` (one reference).
    init(taking pointer: OpaquePointer) {
        self.pointer = pointer
        let id = EVP_PKEY_get_base_id(pointer)
        switch id {
        case NID_X9_62_id_ecPublicKey:
            var name = [CChar](repeating: 0, count: 64)
            var length = 0
            EVP_PKEY_get_group_name(pointer, &name, name.count, &length)
            let groupName = String(decoding: name.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self)
            self.algorithm = EllipticCurve(groupName: groupName).map { .ecdsa($0) } ?? .ecdsaUnknownCurve(groupName)
        case NID_ED25519: self.algorithm = .ed25519
        case NID_rsaEncryption, NID_rsassaPss: self.algorithm = .rsa
        default: self.algorithm = .other(id)
        }
        var encoded: UnsafeMutablePointer<UInt8>? = nil
        let size = EVP_PKEY_get1_encoded_public_key(pointer, &encoded)
        if size > 0, let encoded {
            self.rawRepresentation = Data(bytes: encoded, count: size)
            COpenSSL_free(encoded)
        } else {
            _ = OpenSSL.drainErrors()
            self.rawRepresentation = Data()
        }
    }

    deinit {
        self.pool.withLock { contexts in
            for context in contexts { EVP_PKEY_CTX_free(context.pointer) }
            contexts.removeAll()
        }
        EVP_PKEY_free(self.pointer)
    }

    /// The DER `SubjectPublicKeyInfo`.
    package var subjectPublicKeyInfo: Data {
        OpenSSL.encode { i2d_PUBKEY(self.pointer, $0) } ?? Data()
    }

    /// SHA-256 of the raw public key: the SKI that cryptogen and Fabric's BCCSP use.
    package var subjectKeyIdentifier: Data { HashFunction.sha256.digest(self.rawRepresentation) }

    /// Whether both keys are the same public key.
    package func matches(_ other: PublicKey) -> Bool {
        EVP_PKEY_eq(self.pointer, other.pointer) == 1
    }

    /// Verifies a DER ECDSA signature over an already computed digest (no low-S rule here).
    func verifyECDSA(signatureDER: Data, digest: Data) -> Bool {
        guard let context = self.takeVerifyContext() else { return false }
        let result = signatureDER.withUnsafeBytes { signature in
            digest.withUnsafeBytes { digest in
                EVP_PKEY_verify(
                    context,
                    signature.baseAddress?.assumingMemoryBound(to: UInt8.self),
                    signature.count,
                    digest.baseAddress?.assumingMemoryBound(to: UInt8.self),
                    digest.count
                )
            }
        }
        if result != 1 { _ = OpenSSL.drainErrors() }
        self.returnVerifyContext(context)
        return result == 1
    }

    /// Verifies an Ed25519 signature over the raw message.
    func verifyEd25519(signature: Data, message: Data) -> Bool {
        guard let context = EVP_MD_CTX_new() else { return false }
        defer { EVP_MD_CTX_free(context) }
        guard EVP_DigestVerifyInit(context, nil, nil, nil, self.pointer) == 1 else {
            _ = OpenSSL.drainErrors()
            return false
        }
        let result = signature.withUnsafeBytes { signature in
            message.withUnsafeBytes { message in
                EVP_DigestVerify(
                    context,
                    signature.baseAddress?.assumingMemoryBound(to: UInt8.self),
                    signature.count,
                    message.baseAddress?.assumingMemoryBound(to: UInt8.self),
                    message.count
                )
            }
        }
        if result != 1 { _ = OpenSSL.drainErrors() }
        return result == 1
    }

    /// A prepared verification context; only ever used by the one caller that took it from the pool.
    private struct VerifyContext: @unchecked Sendable {
        let pointer: OpaquePointer
    }

    private func takeVerifyContext() -> OpaquePointer? {
        if let context = self.pool.withLock({ $0.popLast() }) { return context.pointer }
        guard let context = EVP_PKEY_CTX_new(self.pointer, nil) else { return nil }
        guard EVP_PKEY_verify_init(context) == 1 else {
            _ = OpenSSL.drainErrors()
            EVP_PKEY_CTX_free(context)
            return nil
        }
        return context
    }

    private func returnVerifyContext(_ context: OpaquePointer) {
        let kept = self.pool.withLock { contexts -> Bool in
            guard contexts.count < Self.pooledContexts else { return false }
            contexts.append(VerifyContext(pointer: context))
            return true
        }
        if !kept { EVP_PKEY_CTX_free(context) }
    }
}
