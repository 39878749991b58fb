/// Parses a Go `time.ParseDuration` string ("500ms", "1h2m3.5s", "-1.5h", "0") into seconds, or nil if invalid.
///
/// Orderer BatchTimeout values are written by Go tools in this format.
func parseGoDuration(_ text: String) -> Double? {
    var chars = Substring(text)
    var sign = 1.0
    if chars.first == "-" || chars.first == "+" {
        if chars.first == "-" { sign = -1 }
        chars = chars.dropFirst()
    }
    if chars == "0" { return 0 }
    guard !chars.isEmpty else { return nil }
    let units: [(String, Double)] = [
        ("ns", 1e-9), ("us", 1e-6), ("µs", 1e-6), ("μs", 1e-6), ("ms", 1e-3), ("s", 1), ("m", 60), ("h", 3600),
    ]
    var total = 0.0
    while !chars.isEmpty {
        let number = chars.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
        guard !number.isEmpty, number != ".", number.filter({ $0 == "." }).count <= 1, let value = Double(number)
        else { return nil }
        chars = chars.dropFirst(number.count)
        let unitText = chars.prefix { !($0.isASCII && ($0.isNumber || $0 == ".")) }
        guard let unit = units.first(where: { $0.0 == unitText }) else { return nil }
        chars = chars.dropFirst(unitText.count)
        total += value * unit.1
    }
    return sign * total
}
