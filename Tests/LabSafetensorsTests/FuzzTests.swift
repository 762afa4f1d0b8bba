import Foundation
import Testing
import LabSafetensors

@Suite("Safetensors fuzzing")
struct FuzzTests {
    /// A valid file with several dtypes, metadata and a non-float tensor, the seed of every mutant.
    static func seedFile() -> [UInt8] {
        let header = #"{"__metadata__":{"format":"pt"},"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},"#
            + #""h":{"dtype":"F16","shape":[3],"data_offsets":[16,22]},"g":{"dtype":"BF16","shape":[1],"data_offsets":[22,24]},"#
            + #""i":{"dtype":"I32","shape":[1],"data_offsets":[24,28]},"d":{"dtype":"F64","shape":[],"data_offsets":[28,36]}}"#
        let body = littleEndianBytes([1, -2, 3.5, 0] as [Float]) + littleEndianBytes([0x3c00, 0x7bff, 0x0001, 0x3f80] as [UInt16])
            + [7, 0, 0, 0] + withUnsafeBytes(of: (2.5 as Double).bitPattern.littleEndian, Array.init)
        return safetensorsBytes(header: header, body: body)
    }

    /// One seeded random edit: byte flips, truncation, a new header length, or digits inserted
    /// into the header (which reach the offsets and shapes).
    static func mutate(_ bytes: [UInt8], using generator: inout SeededGenerator) -> [UInt8] {
        var out = bytes
        // Edits that need a whole length field and a header fall back to truncation on stubs.
        let kind = out.count > 8 ? generator.next() % 5 : 1
        switch kind {
        case 0:
            for _ in 0...(generator.next() % 4) where !out.isEmpty {
                out[Int(generator.next() % UInt64(out.count))] ^= UInt8(truncatingIfNeeded: 1 << (generator.next() % 8))
            }
        case 1:
            out.removeLast(Int(generator.next() % UInt64(out.count + 1)))
        case 2:
            let lengths: [UInt64] = [0, 1, 7, 8, UInt64(out.count), UInt64(out.count - 8), .max, 1 << 40,
                                     generator.next() % 400, UInt64(100_000_001)]
            let length = lengths[Int(generator.next() % UInt64(lengths.count))]
            out.replaceSubrange(0..<8, with: withUnsafeBytes(of: length.littleEndian, Array.init))
        case 3:
            let at = 8 + Int(generator.next() % UInt64(out.count - 8))
            let symbols = Array("0123456789-.e[]{}\",:".utf8)
            out[at] = symbols[Int(generator.next() % UInt64(symbols.count))]
        default:
            out[8 + Int(generator.next() % UInt64(out.count - 8))] = UInt8(truncatingIfNeeded: generator.next())
        }
        return out
    }

    /// Guards against crashes, hangs and unchecked allocations on arbitrary input: thousands of
    /// seeded mutants of a valid file must each either open (and then read consistently) or throw
    /// a `SafetensorsError`.
    @Test(.timeLimit(.minutes(1)))
    func mutatedFilesThrowOrReadNeverCrash() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let seed = Self.seedFile()
        let pristine = try SafetensorsFile(path: try scratch.write(seed, to: "seed.safetensors"))
        #expect(pristine.names == ["w", "h", "g", "i", "d"])
        #expect(try pristine.floats("d") == [2.5])

        var generator = SeededGenerator(seed: 2024)
        var opened = 0, rejected = 0
        for round in 0..<3000 {
            var mutant = Self.mutate(seed, using: &generator)
            if round % 3 == 0 { mutant = Self.mutate(mutant, using: &generator) }
            // A fresh name each round: rewriting a truncated file makes ext4 flush it to disk.
            let path = try scratch.write(mutant, to: "mutant-\(round).safetensors")
            defer { unlink(path) }
            do {
                let file = try SafetensorsFile(path: path)
                opened += 1
                for name in file.names {
                    let info = try #require(file.info(name))
                    #expect(info.dataOffsets.upperBound <= mutant.count)
                    if let values = try? file.floats(name) { #expect(values.count == info.elementCount) }
                }
            } catch is SafetensorsError {
                rejected += 1
            }
        }
        // Both outcomes must occur, or the mutations are not exercising the reader.
        #expect(opened > 50 && rejected > 50, "opened \(opened), rejected \(rejected)")
    }
}
