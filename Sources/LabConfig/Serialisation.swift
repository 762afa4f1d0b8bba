/// The resolved config as TOML, its hash, and differences between configs.
public extension LabConfig {
    /// Every table and key in `LabConfig.fields` order, floats in Swift's shortest round-trip
    /// form, so `parse(resolvedTOML())` gives back exactly this config. Saved with every run.
    func resolvedTOML() -> String {
        var out = ""
        for table in LabConfig.tables {
            if !out.isEmpty { out += "\n" }
            out += "[\(table)]\n"
            for key in LabConfig.fields where key.table == table {
                out += "\(key.name) = \(self[key])\n"
            }
        }
        return out
    }

    /// 16 lowercase hex digits: 64-bit FNV-1a of `resolvedTOML()`'s UTF-8 bytes. Equal configs
    /// hash equal on every machine and run; any changed value changes the text and the hash.
    var configHash: String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in resolvedTOML().utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }

    /// The keys whose values differ, in key order, with both values as `value(forKey:)` writes
    /// them (used to name sweep runs and to compare runs).
    func differences(from other: LabConfig) -> [(key: String, mine: String, theirs: String)] {
        LabConfig.fields.compactMap { key in
            let mine = self[key], theirs = other[key]
            guard mine != theirs else { return nil }
            return (key.path, value(forKey: key.path)!, other.value(forKey: key.path)!)
        }
    }
}
