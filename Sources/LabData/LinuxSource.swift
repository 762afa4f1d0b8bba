import Foundation

/// The C domain of the mix corpus: .c and .h files of chosen kernel folders, read out of the
/// `linux-source-6.1` tarball with `tar` as a stream (the tree is never unpacked).
///
/// Two passes: `tar -tv` lists every member with its size, the chosen files (folder by folder
/// in `linuxFolders` order, by path within a folder, until the byte budget) go into a list
/// file, and `tar -xO -T list` writes their contents back to back in archive order, which the
/// listing's sizes cut into documents.
extension MixSources {
    /// One regular file of the listing.
    struct TarMember { var path: String; var size: Int }

    func extractC(into writer: DocumentWriter, domain: Int, budget: Int) throws {
        guard FileManager.default.fileExists(atPath: linuxTarball) else {
            throw DataError.missingPackage(package: Self.packages.linux, path: linuxTarball)
        }
        var listing: [TarMember] = []
        try runTar(["-tvf", linuxTarball, "--quoting-style=literal"]) { handle in
            let text = String(decoding: handle.readDataToEndOfFile(), as: UTF8.self)
            listing = text.split(separator: "\n").compactMap(Self.member)
        }
        let chosen = Self.choose(listing, folders: linuxFolders, budget: budget)
        let listPath = NSTemporaryDirectory() + "longcat-linux-\(getpid())-\(UUID().uuidString).txt"
        defer { try? FileManager.default.removeItem(atPath: listPath) }
        do { try (chosen.sorted().joined(separator: "\n") + "\n").write(toFile: listPath, atomically: true, encoding: .utf8) } catch {
            throw DataError.mixBuildFailed(reason: "cannot write \(listPath): \(error.localizedDescription)")
        }
        let members = listing.filter { chosen.contains($0.path) }   // archive order
        try runTar(["-xOf", linuxTarball, "--verbatim-files-from", "-T", listPath]) { handle in
            var reader = ExactReader(handle: handle)
            for m in members {
                let bytes = try reader.read(m.size)
                try bytes.withUnsafeBufferPointer { try writer.add(domain: domain, name: m.path, bytes: $0) }
            }
        }
    }

    /// A regular file of a `tar -tv` line (`-rw-r--r-- 0/0 20420 2026-11-06 18:15 path`); nil
    /// for folders, links and anything unparsable.
    static func member(_ line: Substring) -> TarMember? {
        guard line.first == "-", !line.contains(" link to ") else { return nil }
        let fields = line.split(separator: " ", maxSplits: 5, omittingEmptySubsequences: true)
        guard fields.count == 6, let size = Int(fields[2]) else { return nil }
        return TarMember(path: String(fields[5]), size: size)
    }

    /// Paths of the C files taken: folder by folder, by path, while the total stays within
    /// `budget` (the first file that would pass it ends the choice).
    static func choose(_ listing: [TarMember], folders: [String], budget: Int) -> Set<String> {
        var chosen: Set<String> = []
        var total = 0
        for folder in folders {
            let files = listing.filter { m in
                let parts = m.path.split(separator: "/", maxSplits: 2)
                return parts.count == 3 && parts[1] == folder && (m.path.hasSuffix(".c") || m.path.hasSuffix(".h"))
            }.sorted { $0.path < $1.path }
            for f in files {
                if total + f.size > budget { return chosen }
                total += f.size
                chosen.insert(f.path)
            }
        }
        return chosen
    }

    /// Runs `tar` with `arguments`, hands its output to `consume`, and throws unless it exits 0.
    private func runTar(_ arguments: [String], consume: (FileHandle) throws -> Void) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["tar"] + arguments
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        process.standardInput = FileHandle.nullDevice
        do { try process.run() } catch {
            throw DataError.mixBuildFailed(reason: "cannot start tar: \(error.localizedDescription)")
        }
        var failure: Error? = nil
        do { try consume(output.fileHandleForReading) } catch { failure = error }
        _ = output.fileHandleForReading.readDataToEndOfFile()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        if let failure { throw failure }
        guard process.terminationStatus == 0 else {
            throw DataError.mixBuildFailed(reason: "tar \(arguments.joined(separator: " ")) exited with status "
                                           + "\(process.terminationStatus): \(message.prefix(300))")
        }
    }
}

/// Reads exact byte counts from a pipe through a buffer.
struct ExactReader {
    let handle: FileHandle
    var buffer: [UInt8] = []
    var position = 0

    init(handle: FileHandle) { self.handle = handle }

    mutating func read(_ count: Int) throws -> [UInt8] {
        while buffer.count - position < count {
            let more = handle.readData(ofLength: 1 << 20)
            guard !more.isEmpty else {
                throw DataError.mixBuildFailed(reason: "tar's output ended \(count - (buffer.count - position)) bytes early")
            }
            buffer.removeFirst(position)
            position = 0
            buffer.append(contentsOf: more)
        }
        defer { position += count }
        return Array(buffer[position..<(position + count)])
    }
}
