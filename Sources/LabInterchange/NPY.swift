import Foundation

/// Writes NumPy `.npy` files (format version 1.0): the magic `\x93NUMPY`, version bytes 1 0, a
/// little-endian UInt16 header length, an ASCII dict header padded with spaces and ended by a
/// newline so that the data starts on a 64-byte boundary, then the raw little-endian elements
/// in C (row-major) order. `numpy.load` reads them back with the given shape.
public enum NPY {
    /// Writes `values` as `'<f4'` with `shape` (product must equal `values.count`).
    public static func write(_ values: [Float], shape: [Int], to path: String) throws {
        try write(descr: "<f4", shape: shape, count: values.count, path: path) { out in
            for v in values { append(v.bitPattern, to: &out) }
        }
    }

    /// Writes `values` as `'<i4'` with `shape` (product must equal `values.count`).
    public static func write(_ values: [Int32], shape: [Int], to path: String) throws {
        try write(descr: "<i4", shape: shape, count: values.count, path: path) { out in
            for v in values { append(UInt32(bitPattern: v), to: &out) }
        }
    }

    /// The header bytes (magic through the newline) for `descr` and `shape`.
    static func header(descr: String, shape: [Int]) -> [UInt8] {
        let dims = shape.count == 1 ? "\(shape[0])," : shape.map(String.init).joined(separator: ", ")
        var dict = "{'descr': '\(descr)', 'fortran_order': False, 'shape': (\(dims)), }"
        let fixed = 10  // magic (6) + version (2) + header length (2)
        let total = (fixed + dict.utf8.count + 1 + 63) / 64 * 64
        dict += String(repeating: " ", count: total - fixed - dict.utf8.count - 1) + "\n"
        let length = UInt16(dict.utf8.count)
        return [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(length & 0xff), UInt8(length >> 8)] + Array(dict.utf8)
    }

    private static func write(descr: String, shape: [Int], count: Int, path: String, body: (inout Data) -> Void) throws {
        guard shape.allSatisfy({ $0 >= 0 }), shape.reduce(1, *) == count else {
            throw InterchangeError("\(path): shape \(shape) does not hold \(count) elements")
        }
        var out = Data(header(descr: descr, shape: shape))
        out.reserveCapacity(out.count + count * 4)
        body(&out)
        do {
            try out.write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw InterchangeError("\(path): cannot write (\(error.localizedDescription))")
        }
    }

    private static func append(_ bits: UInt32, to out: inout Data) {
        var le = bits.littleEndian
        withUnsafeBytes(of: &le) { out.append(contentsOf: $0) }
    }
}
