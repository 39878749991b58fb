internal import COpenSSL
import Foundation

/// The NIST curves Fabric's BCCSP knows a half order for (P-224, P-256, P-384, P-521).
package enum EllipticCurve: String, Sendable, CaseIterable {
    case p224 = "P-224"
    case p256 = "P-256"
    case p384 = "P-384"
    case p521 = "P-521"

    /// The curve for an OpenSSL group name ("prime256v1", "secp384r1", "P-256", …).
    init?(groupName: String) {
        switch groupName {
        case "secp224r1", "P-224": self = .p224
        case "prime256v1", "secp256r1", "P-256": self = .p256
        case "secp384r1", "P-384": self = .p384
        case "secp521r1", "P-521": self = .p521
        default: return nil
        }
    }

    var nid: Int32 {
        switch self {
        case .p224: NID_secp224r1
        case .p256: NID_X9_62_prime256v1
        case .p384: NID_secp384r1
        case .p521: NID_secp521r1
        }
    }

    /// The group order n, big-endian.
    var order: [UInt8] { Self.orders[self]! }

    /// ⌊n/2⌋, the largest S Fabric accepts.
    var halfOrder: [UInt8] { Self.halfOrders[self]! }

    private static let orders: [EllipticCurve: [UInt8]] = {
        var table: [EllipticCurve: [UInt8]] = [:]
        for curve in EllipticCurve.allCases {
            guard let group = EC_GROUP_new_by_curve_name(curve.nid) else {
                fatalError("OpenSSL does not know curve \(curve.rawValue)")
            }
            defer { EC_GROUP_free(group) }
            let order = EC_GROUP_get0_order(group)
            var bytes = [UInt8](repeating: 0, count: (Int(BN_num_bits(order)) + 7) / 8)
            _ = BN_bn2bin(order, &bytes)
            table[curve] = bytes
        }
        return table
    }()

    private static let halfOrders: [EllipticCurve: [UInt8]] = orders.mapValues { BigEndian.halved($0) }
}
