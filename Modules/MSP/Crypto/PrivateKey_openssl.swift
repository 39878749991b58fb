internal import COpenSSL
package import Foundation

/// A private key (ECDSA on a NIST curve, or Ed25519), owning an OpenSSL `EVP_PKEY`.
///
/// Used by signing identities and by the issuing API (``CertificateAuthority``). Keys read from and written to
/// PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`), the format cryptogen writes to `keystore/priv_sk`.
package final class PrivateKey: @unchecked Sendable {  // the EVP_PKEY is immutable; signing makes a context per call.
    let pointer: OpaquePointer
    /// The matching public key.
    package let publicKey: PublicKey

    /// What kind of key to generate.
    package enum Kind: Sendable, Hashable {
        /// ECDSA on a NIST curve (cryptogen uses P-256).
        case ecdsa(EllipticCurve)
        /// Ed25519.
        case ed25519
        /// RSA with a modulus of `bits` (never a valid Fabric identity; for tests of that rule).
        case rsa(bits: Int)
    }

    /// Takes ownership of `pointer` (one reference).
    init(taking pointer: OpaquePointer) {
        self.pointer = pointer
        EVP_PKEY_up_ref(pointer)
        self.publicKey = PublicKey(taking: pointer)
    }

    deinit { EVP_PKEY_free(self.pointer) }

    /// Generates a fresh key.
    package static func generate(_ kind: Kind = .ecdsa(.p256)) throws(MSPError) -> PrivateKey {
        let name: String
        switch kind {
        case .ecdsa: name = "EC"
        case .ed25519: name = "ED25519"
        case .rsa: name = "RSA"
        }
        guard let context = EVP_PKEY_CTX_new_from_name(nil, name, nil) else {
            throw OpenSSL.error("could not create a \(name) key generation context")
        }
        defer { EVP_PKEY_CTX_free(context) }
        guard EVP_PKEY_keygen_init(context) == 1 else { throw OpenSSL.error("key generation init failed") }
        switch kind {
        case .ecdsa(let curve):
            guard EVP_PKEY_CTX_set_group_name(context, curve.rawValue) == 1 else {
                throw OpenSSL.error("could not select curve \(curve.rawValue)")
            }
        case .rsa(let bits):
            guard EVP_PKEY_CTX_set_rsa_keygen_bits(context, Int32(bits)) == 1 else {
                throw OpenSSL.error("could not set RSA key size \(bits)")
            }
        case .ed25519:
            break
        }
        var key: OpaquePointer? = nil
        guard EVP_PKEY_generate(context, &key) == 1, let key else { throw OpenSSL.error("key generation failed") }
        return PrivateKey(taking: key)
    }

    /// Reads a DER private key: PKCS#8, or a SEC1 `ECPrivateKey`.
    package convenience init(derEncoded der: Data) throws(MSPError) {
        guard let (key, _) = OpenSSL.decode(der, { d2i_AutoPrivateKey(nil, $0, $1) }) else {
            throw MSPError(.malformedIdentity, "not a private key (PKCS#8 or SEC1 DER): \(OpenSSL.drainErrors())")
        }
        self.init(taking: key)
    }

    /// Reads a PEM private key (`PRIVATE KEY`, `EC PRIVATE KEY`).
    package convenience init(pemEncoded pem: Data) throws(MSPError) {
        guard let (block, _) = PEM.decode(pem) else {
            throw MSPError(.malformedIdentity, "no PEM block in private key material")
        }
        guard block.type == "PRIVATE KEY" || block.type == "EC PRIVATE KEY" else {
            throw MSPError(.malformedIdentity, "PEM block of type \(block.type) is not a private key")
        }
        try self.init(derEncoded: block.bytes)
    }

    /// The key's algorithm.
    package var algorithm: KeyAlgorithm { self.publicKey.algorithm }

    /// The Subject Key Identifier cryptogen (Fabric v3) puts in CA certificates: SHA-256 of the private scalar
    /// (fixed width, big-endian) — not of the public key, as one might expect. For Ed25519, of the raw private key.
    package var cryptogenSubjectKeyIdentifier: Data {
        switch self.algorithm {
        case .ecdsa(let curve):
            var number: OpaquePointer? = nil
            guard EVP_PKEY_get_bn_param(self.pointer, "priv", &number) == 1, let number else { break }
            defer { BN_clear_free(number) }
            var bytes = [UInt8](repeating: 0, count: curve.order.count)
            guard BN_bn2binpad(number, &bytes, Int32(bytes.count)) == Int32(bytes.count) else { break }
            return HashFunction.sha256.digest(Data(bytes))
        case .ed25519:
            var length = 0
            var bytes = [UInt8](repeating: 0, count: 64)
            length = bytes.count
            guard EVP_PKEY_get_raw_private_key(self.pointer, &bytes, &length) == 1 else { break }
            return HashFunction.sha256.digest(Data(bytes.prefix(length)))
        default:
            break
        }
        _ = OpenSSL.drainErrors()
        return self.publicKey.subjectKeyIdentifier
    }

    /// PKCS#8 `PrivateKeyInfo` DER.
    package var pkcs8DER: Data {
        guard let info = EVP_PKEY2PKCS8(self.pointer) else { return Data() }
        defer { PKCS8_PRIV_KEY_INFO_free(info) }
        return OpenSSL.encode { i2d_PKCS8_PRIV_KEY_INFO(info, $0) } ?? Data()
    }

    /// PKCS#8 PEM, as cryptogen writes `priv_sk`.
    package var pkcs8PEM: Data { PEM.encode(type: "PRIVATE KEY", self.pkcs8DER) }

    /// Signs `message` the way Fabric does: ECDSA over SHA-256(message) as DER with low S; Ed25519 over the raw
    /// message.
    package func sign(_ message: Data) throws(MSPError) -> Data {
        switch self.algorithm {
        case .ecdsa(let curve):
            let der = try self.signDigest(HashFunction.sha256.digest(message))
            do {
                return try ECDSASignature(der: der).normalized(curve).signature.derEncoded
            } catch {
                throw MSPError(.signingFailed, "OpenSSL produced an unparsable ECDSA signature: \(error)")
            }
        case .ed25519:
            return try self.signEd25519(message)
        default:
            throw MSPError(.unsupportedAlgorithm, "cannot sign with a \(self.algorithm) key")
        }
    }

    /// ECDSA over a precomputed digest, exactly as OpenSSL returns it (S may be high).
    func signDigest(_ digest: Data) throws(MSPError) -> Data {
        guard let context = EVP_PKEY_CTX_new(self.pointer, nil) else { throw OpenSSL.error("no signing context") }
        defer { EVP_PKEY_CTX_free(context) }
        guard EVP_PKEY_sign_init(context) == 1 else { throw OpenSSL.error("signing init failed") }
        var length = 0
        let sized = digest.withUnsafeBytes { input in
            EVP_PKEY_sign(context, nil, &length, input.baseAddress?.assumingMemoryBound(to: UInt8.self), input.count)
        }
        guard sized == 1 else { throw OpenSSL.error("signing failed") }
        var signature = [UInt8](repeating: 0, count: length)
        let signed = digest.withUnsafeBytes { input in
            EVP_PKEY_sign(
                context,
                &signature,
                &length,
                input.baseAddress?.assumingMemoryBound(to: UInt8.self),
                input.count
            )
        }
        guard signed == 1 else { throw OpenSSL.error("signing failed") }
        return Data(signature.prefix(length))
    }

    /// Ed25519 over the raw message.
    func signEd25519(_ message: Data) throws(MSPError) -> Data {
        guard let context = EVP_MD_CTX_new() else { throw OpenSSL.error("no digest context") }
        defer { EVP_MD_CTX_free(context) }
        guard EVP_DigestSignInit(context, nil, nil, nil, self.pointer) == 1 else {
            throw OpenSSL.error("Ed25519 signing init failed")
        }
        var length = 0
        var signature = [UInt8](repeating: 0, count: 64)
        length = signature.count
        let result = message.withUnsafeBytes { input in
            EVP_DigestSign(
                context,
                &signature,
                &length,
                input.baseAddress?.assumingMemoryBound(to: UInt8.self),
                input.count
            )
        }
        guard result == 1 else { throw OpenSSL.error("Ed25519 signing failed") }
        return Data(signature.prefix(length))
    }
}
