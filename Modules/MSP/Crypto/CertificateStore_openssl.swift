internal import COpenSSL
import Foundation

/// Roots and intermediates in an OpenSSL `X509_STORE`, building verified chains the way Fabric's MSP asks Go's
/// x509 to: any root is a trust anchor (partial chains allowed), the verification time is chosen by the caller
/// (Fabric pins it to the certificate's NotBefore + 1 s), and no purpose or key-usage policy is applied.
final class CertificateStore: @unchecked Sendable {  // the X509_STORE and stack are only read after init
    private let store: OpaquePointer
    private let untrusted: OpaquePointer
    private let byPointer: [OpaquePointer: Certificate]
    /// The trust anchors.
    let roots: [Certificate]
    /// The intermediate CAs.
    let intermediates: [Certificate]

    /// Why a chain could not be built.
    struct ChainError: Error, CustomStringConvertible {
        var description: String
    }

    init(roots: [Certificate], intermediates: [Certificate]) throws(MSPError) {
        guard let store = X509_STORE_new(), let untrusted = COpenSSL_sk_X509_new_null() else {
            throw OpenSSL.error("could not allocate a certificate store")
        }
        self.store = store
        self.untrusted = untrusted
        self.roots = roots
        self.intermediates = intermediates
        var byPointer: [OpaquePointer: Certificate] = [:]
        for root in roots {
            X509_STORE_add_cert(store, root.pointer)
            byPointer[root.pointer] = root
        }
        for intermediate in intermediates {
            X509_up_ref(intermediate.pointer)
            COpenSSL_sk_X509_push(untrusted, intermediate.pointer)
            byPointer[intermediate.pointer] = intermediate
        }
        _ = OpenSSL.drainErrors()
        self.byPointer = byPointer
    }

    deinit {
        COpenSSL_sk_X509_pop_free(self.untrusted)
        X509_STORE_free(self.store)
    }

    /// The verified chain from `certificate` (first) to a root (last), at `time`; an error when there is none or
    /// when more than one exists.
    func chain(for certificate: Certificate, at time: Date) -> Result<[Certificate], ChainError> {
        guard let context = X509_STORE_CTX_new() else { return .failure(ChainError(description: "out of memory")) }
        defer { X509_STORE_CTX_free(context) }
        guard X509_STORE_CTX_init(context, self.store, certificate.pointer, self.untrusted) == 1 else {
            return .failure(ChainError(description: "could not initialise verification: \(OpenSSL.drainErrors())"))
        }
        X509_STORE_CTX_set_flags(context, UInt(X509_V_FLAG_PARTIAL_CHAIN))
        X509_STORE_CTX_set_time(context, 0, time_t(time.timeIntervalSince1970.rounded(.down)))
        guard X509_verify_cert(context) == 1 else {
            let code = X509_STORE_CTX_get_error(context)
            let reason = String(cString: X509_verify_cert_error_string(Int(code)))
            _ = OpenSSL.drainErrors()
            if let root = self.rootCertifying(selfSigned: certificate, at: time) {
                return .success([certificate, root])
            }
            return .failure(ChainError(description: "x509: \(reason)"))
        }
        guard let stack = X509_STORE_CTX_get0_chain(context) else {
            return .failure(ChainError(description: "verification produced no chain"))
        }
        var chain: [Certificate] = [certificate]
        let count = COpenSSL_sk_X509_num(stack)
        if count > 1 {
            for index in 1..<count {
                guard let element = COpenSSL_sk_X509_value(stack, index) else { continue }
                if let known = self.byPointer[element] {
                    chain.append(known)
                } else if let known = (self.roots + self.intermediates).first(where: {
                    X509_cmp($0.pointer, element) == 0
                }) {
                    chain.append(known)
                } else {
                    return .failure(ChainError(description: "verification used a certificate outside the MSP"))
                }
            }
        }
        if let ambiguity = self.alternativeIssuer(in: chain) {
            return .failure(
                ChainError(description: "this MSP only supports a single validation chain, got more (\(ambiguity))")
            )
        }
        return .success(chain)
    }

    /// Go's x509 also chains a self-signed certificate to a *different* root with the same name and key (for
    /// instance the original, high-S encoding of a root the MSP holds sanitised): the chain is [certificate, root].
    /// OpenSSL refuses a self-signed leaf that is not itself trusted, so that case is handled here.
    private func rootCertifying(selfSigned certificate: Certificate, at time: Date) -> Certificate? {
        guard X509_check_issued(certificate.pointer, certificate.pointer) == X509_V_OK else { return nil }
        defer { _ = OpenSSL.drainErrors() }
        for root in self.roots where root.der != certificate.der {
            guard X509_check_issued(root.pointer, certificate.pointer) == X509_V_OK,
                X509_verify(certificate.pointer, root.publicKey.pointer) == 1,
                root.notBefore <= time, time <= root.notAfter,
                certificate.notBefore <= time, time <= certificate.notAfter
            else { continue }
            return root
        }
        return nil
    }

    /// Go's x509 returns every chain it can build and Fabric rejects more than one. OpenSSL builds one, so this
    /// looks for a second: another CA certificate (different bytes) that also issued and signed a link of the
    /// chain.
    private func alternativeIssuer(in chain: [Certificate]) -> String? {
        let candidates = self.roots + self.intermediates
        for index in 0..<(chain.count - 1) {
            let child = chain[index]
            let parent = chain[index + 1]
            for candidate in candidates where candidate.der != parent.der && candidate.der != child.der {
                // Go considers every pool certificate whose subject is the child's issuer (key ids only rank them).
                guard X509_NAME_cmp(X509_get_subject_name(candidate.pointer), X509_get_issuer_name(child.pointer)) == 0
                else { continue }
                if X509_verify(child.pointer, candidate.publicKey.pointer) == 1 {
                    return "\(child.commonName) is also issued by \(candidate)"
                }
                _ = OpenSSL.drainErrors()
            }
        }
        return nil
    }
}
