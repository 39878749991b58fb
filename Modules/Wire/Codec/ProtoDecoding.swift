public import Foundation
public import SwiftProtobuf

extension SwiftProtobuf.Message {
    /// Decodes `bytes` as this message, naming `field` (where the bytes came from) in the error.
    ///
    /// Unknown fields are kept, so bytes from a newer Fabric still decode; hashes and signatures are always
    /// computed over the bytes as received, never over a re-encoding. `field` is only built for an error: the
    /// commit path decodes many small messages whose field names are interpolated.
    @inlinable
    public init(decoding bytes: Data, field: @autoclosure () -> String) throws(WireError) {
        self = try Self.fullyDecoded(bytes, field: field())
    }

    /// Decodes `bytes` with SwiftProtobuf's decoder (see ``LeanDecodable`` for the types with a faster one).
    @inlinable
    public static func fullyDecoded(_ bytes: Data, field: @autoclosure () -> String) throws(WireError) -> Self {
        do {
            return try Self(serializedBytes: bytes)
        } catch {
            throw WireError.malformed(Self.protoMessageName, field: field(), cause: error)
        }
    }

    /// Encodes the message; encoding an in-memory message only fails on a programming error, which becomes a
    /// ``WireError`` rather than a crash.
    @inlinable
    public func encoded() throws(WireError) -> Data {
        do {
            return try self.serializedBytes()
        } catch {
            throw WireError(
                code: .malformedMessage,
                message: "\(Self.protoMessageName) does not encode",
                cause: error
            )
        }
    }

    /// Whether `bytes` decode as this message and re-encode to exactly the same bytes.
    ///
    /// Fabric's deliver path rejects envelopes that do not round-trip (trailing bytes, unknown fields, fields out
    /// of order, non-minimal varints); this is the same check.
    public static func isCanonicalEncoding(_ bytes: Data) -> Bool {
        guard let message = try? Self(serializedBytes: bytes),
            let again: Data = try? message.serializedBytes()
        else { return false }
        return again == bytes
    }
}
