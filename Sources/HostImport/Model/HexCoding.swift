/// The import formats' JSON spelling of addresses, registers and descriptors: lowercase hex
/// strings with `0x` (IMPORT.md), while ids and counts stay integers.
extension KeyedEncodingContainer {
    public mutating func encodeHex(_ value: UInt64, forKey key: Key) throws {
        try encode("0x" + String(value, radix: 16), forKey: key)
    }

    /// Omitted when nil: absent facts are omitted, not invented.
    public mutating func encodeHexIfPresent(_ value: UInt64?, forKey key: Key) throws {
        if let value { try encodeHex(value, forKey: key) }
    }

    public mutating func encodeHex(_ values: [UInt64], forKey key: Key) throws {
        try encode(values.map { "0x" + String($0, radix: 16) }, forKey: key)
    }
}

extension KeyedDecodingContainer {
    public func decodeHex(forKey key: Key) throws -> UInt64 {
        let text = try decode(String.self, forKey: key)
        guard let value = parseHexWord(text) else {
            throw DecodingError.dataCorruptedError(forKey: key, in: self, debugDescription: "not a 0x hex value: \(text)")
        }
        return value
    }

    public func decodeHexIfPresent(forKey key: Key) throws -> UInt64? {
        guard contains(key) else { return nil }
        return try decodeHex(forKey: key)
    }

    public func decodeHexArray(forKey key: Key) throws -> [UInt64] {
        try decode([String].self, forKey: key).map { text in
            guard let value = parseHexWord(text) else {
                throw DecodingError.dataCorruptedError(forKey: key, in: self, debugDescription: "not a 0x hex value: \(text)")
            }
            return value
        }
    }
}

/// `0x` followed by 1 to 16 hex digits (either case); nil otherwise, never a trap.
public func parseHexWord<S: StringProtocol>(_ text: S) -> UInt64? {
    guard text.hasPrefix("0x") || text.hasPrefix("0X") else { return nil }
    return parseBareHex(text.dropFirst(2))
}

/// 1 to 16 hex digits without a prefix (the kernel's `%llx`, `%016llx`).
public func parseBareHex<S: StringProtocol>(_ digits: S) -> UInt64? {
    guard !digits.isEmpty, digits.count <= 16 else { return nil }
    return UInt64(digits, radix: 16)
}
