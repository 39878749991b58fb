public import Foundation
public import Wire

/// One signature to evaluate against a policy: the signed bytes, the signer's serialized identity and the
/// signature, exactly as received.
public struct SignedData: Sendable, Hashable {
    /// The bytes that were signed.
    public var data: Data
    /// The signer's marshalled `msp.SerializedIdentity`.
    public var identity: Data
    /// The signature over `data`.
    public var signature: Data

    /// Creates a signed-data triple.
    public init(data: Data, identity: Data, signature: Data) {
        self.data = data
        self.identity = identity
        self.signature = signature
    }
}

extension SignedData {
    /// The creator's signature over an envelope's payload bytes.
    public static func envelope(_ envelope: Common_Envelope) throws(WireError) -> SignedData {
        let payload = try envelope.unpackPayload()
        let header = try payload.unpackSignatureHeader()
        return SignedData(data: envelope.payload, identity: header.creator, signature: envelope.signature)
    }

    /// One signed-data triple per `ConfigSignature`: signed bytes = signature_header ‖ config_update, identity =
    /// the creator in the signature header.
    public static func configUpdate(_ envelope: Common_ConfigUpdateEnvelope) throws(WireError) -> [SignedData] {
        var result: [SignedData] = []
        result.reserveCapacity(envelope.signatures.count)
        for (index, signature) in envelope.signatures.enumerated() {
            let header = try Common_SignatureHeader(
                decoding: signature.signatureHeader,
                field: "ConfigUpdateEnvelope.signatures[\(index)].signature_header"
            )
            var data = signature.signatureHeader
            data.append(envelope.configUpdate)
            result.append(SignedData(data: data, identity: header.creator, signature: signature.signature))
        }
        return result
    }
}
