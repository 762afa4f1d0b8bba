import Foundation
import LabInterchange
import Testing

@Suite("Token files and .npy")
struct FileFormatTests {
    /// Guards the NPY 1.0 layout numpy expects: magic, version, header length, a dict with
    /// descr / fortran_order / shape, padding to a 64-byte boundary ending in a newline, then
    /// little-endian data.
    @Test func npyFloatFileHasTheNumpyLayout() throws {
        let path = temporaryDirectory("npy") + "/x.npy"
        let values: [Float] = [1.5, -2, .pi, 0, 1e-30, -0.0]
        try NPY.write(values, shape: [1, 2, 3], to: path)
        let file = try NPYFile(path: path)
        #expect(file.header.hasPrefix("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2, 3), }"))
        #expect(file.header.hasSuffix("\n") && (10 + file.headerLength) % 64 == 0)
        #expect(file.floats.map(\.bitPattern) == values.map(\.bitPattern))
    }

    /// One-dimensional shapes need numpy's trailing comma; int32 uses '<i4'.
    @Test func npyInt32AndOneDimensionalShape() throws {
        let path = temporaryDirectory("npy") + "/r.npy"
        let values: [Int32] = [0, 7, -1, .max, .min]
        try NPY.write(values, shape: [5], to: path)
        let file = try NPYFile(path: path)
        #expect(file.header.contains("'descr': '<i4'") && file.header.contains("'shape': (5,)"))
        #expect(file.int32s == values)
        #expect(throws: InterchangeError.self) { try NPY.write(values, shape: [2, 2], to: path) }
    }

    /// Guards the token file format: blank lines and CR/LF are fine, ids row-major.
    @Test func tokenFileParses() throws {
        let b = try TokenBatch(text: "1 2 3\r\n\n4\t5 6\n", path: "t.txt", vocabSize: 10)
        #expect(b.batch == 2 && b.seqLen == 3 && b.tokens == [1, 2, 3, 4, 5, 6])
    }

    /// Every malformed token file is refused with the file, line and problem.
    @Test(arguments: [
        ("1 2 3\n4 5\n", "t.txt:2: 2 tokens"),
        ("1 2\n3 x\n", "t.txt:2: 'x'"),
        ("1 10\n", "t.txt:1: '10' is not a token id in 0..<10"),
        ("1 -1\n", "t.txt:1: '-1'"),
        ("99999999999 1\n", "t.txt:1: '99999999999'"),
        ("\n \n", "t.txt: no token sequences"),
    ])
    func tokenFileErrorsNameTheLine(text: String, expected: String) throws {
        let error = #expect(throws: InterchangeError.self) { try TokenBatch(text: text, path: "t.txt", vocabSize: 10) }
        #expect(error?.description.contains(expected) == true, "\(String(describing: error))")
    }
}
