public import Wire

/// The answer to one broadcast envelope: a Fabric status and, for a refusal, the reason (Fabric's `info`).
public struct BroadcastResult: Sendable, Hashable, CustomStringConvertible {
    /// `SUCCESS` when the envelope was ordered; otherwise why not.
    public var status: Common_Status
    /// Empty on success; the reason for a refusal, as Fabric words it where it has words for it.
    public var info: String

    /// Creates a result.
    public init(_ status: Common_Status, _ info: String = "") {
        self.status = status
        self.info = info
    }

    /// The envelope was accepted for ordering.
    public static let success = BroadcastResult(.success)

    /// Whether the envelope was accepted.
    public var isSuccess: Bool { self.status == .success }

    /// The response message.
    public var response: Orderer_BroadcastResponse {
        var response = Orderer_BroadcastResponse()
        response.status = self.status
        response.info = self.info
        return response
    }

    public var description: String { self.info.isEmpty ? "\(self.status)" : "\(self.status): \(self.info)" }
}
