import Foundation
import Testing
import LabSafetensors

@Suite("Safetensors large files")
struct LargeFileTests {
    /// Guards against 32-bit offset arithmetic and whole-file loading: a sparse 4 GiB file
    /// (no disk blocks, no memory) whose last tensor lies beyond 2^32 bytes must read back.
    @Test func tensorBeyondFourGigabytesReads() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let bigCount = (1 << 30) + 2  // 4 GiB + 8 bytes of F32
        let bigBytes = bigCount * 4
        let header = #"{"big":{"dtype":"F32","shape":[\#(bigCount)],"data_offsets":[0,\#(bigBytes)]},"#
            + #""tail":{"dtype":"BF16","shape":[2],"data_offsets":[\#(bigBytes),\#(bigBytes + 4)]}}"#
        let path = try scratch.write(safetensorsBytes(header: header, body: []), to: "large.safetensors")
        let headerEnd = 8 + header.utf8.count

        let fd = open(path, O_WRONLY)
        #expect(fd >= 0)
        defer { close(fd) }
        let tail = littleEndianBytes([0x3f80, 0xc020] as [UInt16])  // BF16 1.0, -2.5
        let wrote = tail.withUnsafeBytes { pwrite(fd, $0.baseAddress, 4, off_t(headerEnd + bigBytes)) }
        try #require(wrote == 4, "cannot write a sparse 4 GiB file here")

        let file = try SafetensorsFile(path: path)
        #expect(file.fileSize == headerEnd + bigBytes + 4)
        #expect(file.info("big")?.elementCount == bigCount)
        #expect(try file.floats("tail") == [1.0, -2.5])
    }
}
