import GRPCNIOTransportHTTP2

/// A listen address `host:port` (`[v6]:port` for IPv6): an IPv4 or IPv6 literal, or `localhost` (127.0.0.1).
struct ListenAddress: Sendable {
    let host: String
    let port: Int
    let isIPv6: Bool

    init(_ text: String) throws(DevOrdererError) {
        var hostPart: Substring
        let portPart: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else {
                throw DevOrdererError(.badConfiguration, "listen address '\(text)' is not [host]:port")
            }
            hostPart = text[text.index(after: text.startIndex)..<close]
            portPart = text[text.index(close, offsetBy: 2)...]
        } else {
            guard let colon = text.lastIndex(of: ":") else {
                throw DevOrdererError(.badConfiguration, "listen address '\(text)' is not host:port")
            }
            hostPart = text[..<colon]
            portPart = text[text.index(after: colon)...]
        }
        guard let port = Int(portPart), (0...65535).contains(port) else {
            throw DevOrdererError(.badConfiguration, "listen address '\(text)': '\(portPart)' is not a port (0…65535)")
        }
        if hostPart == "localhost" { hostPart = "127.0.0.1" }
        if hostPart.isEmpty { hostPart = "0.0.0.0" }
        let isIPv4 =
            hostPart.split(separator: ".", omittingEmptySubsequences: false).count == 4
            && hostPart.split(separator: ".").allSatisfy { UInt8($0) != nil }
        let isIPv6 = hostPart.contains(":")
        guard isIPv4 || isIPv6 else {
            throw DevOrdererError(
                .badConfiguration,
                "listen address '\(text)': the host must be an IP address or localhost, not '\(hostPart)'"
            )
        }
        self.host = String(hostPart)
        self.port = port
        self.isIPv6 = isIPv6
    }

    var socketAddress: SocketAddress {
        self.isIPv6 ? .ipv6(host: self.host, port: self.port) : .ipv4(host: self.host, port: self.port)
    }

    /// `host:port` of the bound address (the port the system chose for port 0).
    static func text(of address: SocketAddress, requested: ListenAddress) -> String {
        if let v4 = address.ipv4 { return "\(v4.host):\(v4.port)" }
        if let v6 = address.ipv6 { return "[\(v6.host)]:\(v6.port)" }
        return requested.isIPv6 ? "[\(requested.host)]:\(requested.port)" : "\(requested.host):\(requested.port)"
    }
}
