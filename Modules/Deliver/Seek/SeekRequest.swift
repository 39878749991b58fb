public import Foundation
public import MSP
import SwiftProtobuf
public import Wire

/// The signed `DELIVER_SEEK_INFO` envelope a peer sends to an orderer's `Deliver` stream, byte for byte as Fabric's
/// `CreateSignedEnvelopeWithTLSBinding` makes it.
///
/// Channel header: type DELIVER_SEEK_INFO (5), version 0, timestamp with the current second and **nanos 0**, the
/// channel id, epoch 0, empty tx id, and `tls_cert_hash` = SHA-256(client TLS certificate DER) only when the
/// orderer requires client authentication. Signature header: the signer's serialized identity and a 24-byte
/// nonce. Data: `SeekInfo{start: Specified(height), stop: Specified(2^64-1), BLOCK_UNTIL_READY, STRICT,
/// content_type}`. The signature covers the payload bytes.
public enum SeekRequest {
    /// The length of the signature header nonce.
    public static let nonceLength = 24

    /// The seek info for "every block from `height` on, waiting for new ones".
    public static func seekInfo(
        from height: UInt64,
        contentType: Orderer_SeekInfo.SeekContentType = .block
    )
        -> Orderer_SeekInfo
    {
        var info = Orderer_SeekInfo()
        info.start.specified.number = height
        info.stop.specified.number = UInt64.max
        info.behavior = .blockUntilReady
        info.errorResponse = .strict
        info.contentType = contentType
        return info
    }

    /// Builds and signs the seek envelope for blocks from `height` on.
    ///
    /// - Parameters:
    ///   - timestamp: the wall-clock time; only its whole seconds are used.
    ///   - nonce: the signature header nonce (``nonceLength`` random bytes).
    ///   - tlsCertificateHash: SHA-256 of the client TLS certificate's DER, when client authentication is on.
    public static func envelope(
        channelID: String,
        from height: UInt64,
        signer: any SigningIdentity,
        nonce: Data,
        timestamp: Date,
        tlsCertificateHash: Data? = nil,
        contentType: Orderer_SeekInfo.SeekContentType = .block
    ) throws(DeliverError) -> Common_Envelope {
        var channelHeader = Common_ChannelHeader()
        channelHeader.type = Int32(Common_HeaderType.deliverSeekInfo.rawValue)
        channelHeader.version = 0
        channelHeader.timestamp.seconds = Int64(timestamp.timeIntervalSince1970.rounded(.down))
        channelHeader.timestamp.nanos = 0
        channelHeader.channelID = channelID
        channelHeader.epoch = 0
        channelHeader.tlsCertHash = tlsCertificateHash ?? Data()
        var signatureHeader = Common_SignatureHeader()
        signatureHeader.creator = signer.serialized
        signatureHeader.nonce = nonce
        var envelope = Common_Envelope()
        do {
            var payload = Common_Payload()
            payload.header.channelHeader = try channelHeader.encoded()
            payload.header.signatureHeader = try signatureHeader.encoded()
            payload.data = try seekInfo(from: height, contentType: contentType).encoded()
            envelope.payload = try payload.encoded()
        } catch {
            throw DeliverError(.seekRequest, "seek request for channel \(channelID) does not encode", cause: error)
        }
        do {
            envelope.signature = try signer.sign(envelope.payload)
        } catch {
            throw DeliverError(
                .seekRequest,
                "could not sign the seek request for channel \(channelID) as \(signer.mspID)",
                cause: error
            )
        }
        return envelope
    }
}
