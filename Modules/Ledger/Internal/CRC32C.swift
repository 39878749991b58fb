/// CRC-32C (Castagnoli), the checksum of block-file records.
///
/// Written here rather than taken from zlib because only Wire may import CZlib (Tools/check-c-imports.sh);
/// slicing-by-8 keeps it near memory speed for the block sizes the store writes.
package enum CRC32C {
    private static let tables: [[UInt32]] = {
        let polynomial: UInt32 = 0x82F6_3B78
        var tables = [[UInt32]](repeating: [UInt32](repeating: 0, count: 256), count: 8)
        for index in 0..<256 {
            var crc = UInt32(index)
            for _ in 0..<8 { crc = (crc & 1) != 0 ? (crc >> 1) ^ polynomial : crc >> 1 }
            tables[0][index] = crc
        }
        for index in 0..<256 {
            var crc = tables[0][index]
            for slice in 1..<8 {
                crc = tables[0][Int(crc & 0xff)] ^ (crc >> 8)
                tables[slice][index] = crc
            }
        }
        return tables
    }()

    /// The checksum of `bytes`.
    package static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        let tables = Self.tables
        tables.withUnsafeBufferPointer { outer in
            let t0 = outer[0]
            let t1 = outer[1]
            let t2 = outer[2]
            let t3 = outer[3]
            let t4 = outer[4]
            let t5 = outer[5]
            let t6 = outer[6]
            let t7 = outer[7]
            var index = 0
            let count = bytes.count
            while count - index >= 8 {
                let low =
                    UInt32(bytes[index]) | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2]) << 16
                    | UInt32(bytes[index + 3]) << 24
                let high =
                    UInt32(bytes[index + 4]) | UInt32(bytes[index + 5]) << 8
                    | UInt32(bytes[index + 6]) << 16 | UInt32(bytes[index + 7]) << 24
                let mixed = crc ^ low
                crc =
                    t7[Int(mixed & 0xff)] ^ t6[Int((mixed >> 8) & 0xff)] ^ t5[Int((mixed >> 16) & 0xff)]
                    ^ t4[Int(mixed >> 24)] ^ t3[Int(high & 0xff)] ^ t2[Int((high >> 8) & 0xff)]
                    ^ t1[Int((high >> 16) & 0xff)] ^ t0[Int(high >> 24)]
                index += 8
            }
            while index < count {
                crc = t0[Int((crc ^ UInt32(bytes[index])) & 0xff)] ^ (crc >> 8)
                index += 1
            }
        }
        return crc ^ 0xFFFF_FFFF
    }

    /// The checksum of `bytes`.
    package static func checksum(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBytes { checksum($0) }
    }
}
