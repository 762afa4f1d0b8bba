import Foundation
import LabConfig

/// Where the mix corpus's five domains come from: Debian packages the setup installs with
/// LONGCAT_OPTIONAL=1, the Bible text extracted by `KingJamesBible` and the bundled Tiny
/// Shakespeare. Tests point every path at small files of their own.
public struct MixSources: Sendable, Equatable {
    /// The kernel source tarball of `linux-source-6.1`, read with `tar` (never unpacked).
    public var linuxTarball = "/usr/src/linux-source-6.1.tar.xz"
    /// Top-level kernel folders whose .c and .h files are taken, in this order (each folder's
    /// files by path), until `data.c_bytes`.
    public var linuxFolders = ["kernel", "mm", "fs", "net", "drivers"]
    /// The interpreter's standard library (`libpython3.11-stdlib`): every .py file outside
    /// site-packages, dist-packages and __pycache__.
    public var pythonLibrary = "/usr/lib/python3.11"
    /// The documentation's reStructuredText sources (`python3.11-doc`): every .rst.txt file.
    public var pythonDocs = "/usr/share/doc/python3.11/html/_sources"
    /// The Bible text; nil extracts it with `KingJamesBible` into data.cache_dir.
    public var bibleText: String? = nil
    /// Tiny Shakespeare; nil takes the bundled copy.
    public var shakespeareText: String? = nil
    /// Long single texts (the Bible, Shakespeare) are cut into documents of about this many
    /// bytes, at line ends.
    public var documentBytes = 32_768

    public init() {}

    /// Debian's package behind each source, for the error that names what to install.
    static let packages = (linux: "linux-source-6.1", python: "libpython3.11-stdlib", docs: "python3.11-doc")
}

/// One document: its domain (index into `DataConfig.mixDomains`), name, and byte span.
struct MixDocument: Equatable {
    var domain: Int
    var name: String
    var offset: Int
    var length: Int
}

/// Appends documents to one file through a buffer, remembering each one's span.
final class DocumentWriter {
    let handle: FileHandle
    var buffer: [UInt8] = []
    var written = 0
    var documents: [MixDocument] = []
    /// Documents dropped because they are empty or not UTF-8.
    var skipped = 0

    init(path: String) throws {
        guard FileManager.default.createFile(atPath: path, contents: nil),
              let handle = FileHandle(forWritingAtPath: path) else {
            throw DataError.mixBuildFailed(reason: "cannot create \(path)")
        }
        self.handle = handle
        buffer.reserveCapacity(1 << 22)
    }

    /// Adds a document unless it is empty or not well-formed UTF-8.
    func add(domain: Int, name: String, bytes: UnsafeBufferPointer<UInt8>) throws {
        guard !bytes.isEmpty, firstInvalidUTF8Offset(bytes) == nil else { skipped += 1; return }
        documents.append(MixDocument(domain: domain, name: name, offset: written, length: bytes.count))
        buffer.append(contentsOf: bytes)
        written += bytes.count
        if buffer.count >= 1 << 22 { try flush() }
    }

    func flush() throws {
        guard !buffer.isEmpty else { return }
        do { try handle.write(contentsOf: buffer) } catch {
            throw DataError.mixBuildFailed(reason: "cannot write: \(error.localizedDescription)")
        }
        buffer.removeAll(keepingCapacity: true)
    }

    func close() throws { try flush(); try handle.close() }
}

extension MixSources {
    /// Writes the documents of every domain (C only when `cBytes > 0`) into `writer`.
    func extract(into writer: DocumentWriter, cBytes: Int, cacheDirectory: String) throws {
        let domains = DataConfig.mixDomains
        if cBytes > 0 { try extractC(into: writer, domain: domains.firstIndex(of: "c")!, budget: cBytes) }
        for file in try files(under: pythonLibrary, suffix: ".py", package: Self.packages.python) {
            try addFile(pythonLibrary + "/" + file, name: file, domain: domains.firstIndex(of: "python")!, to: writer)
        }
        let bible = try bibleText ?? KingJamesBible.cachedText(cacheDirectory: cacheDirectory)
        try addSplitText(bible, name: "kjv", domain: domains.firstIndex(of: "bible")!, to: writer)
        try addSplitText(try shakespearePath(), name: "tinyshakespeare", domain: domains.firstIndex(of: "shakespeare")!,
                         to: writer)
        for file in try files(under: pythonDocs, suffix: ".rst.txt", package: Self.packages.docs) {
            try addFile(pythonDocs + "/" + file, name: file, domain: domains.firstIndex(of: "docs")!, to: writer)
        }
    }

    /// What the extraction reads, as text: every path with its size and modification time
    /// (the Bible's after its one-time extraction), so any changed input changes the hash.
    func fingerprint(cBytes: Int, cacheDirectory: String) throws -> String {
        var lines = ["folders \(linuxFolders.joined(separator: ",")) document_bytes \(documentBytes)"]
        if cBytes > 0 {
            guard FileManager.default.fileExists(atPath: linuxTarball) else {
                throw DataError.missingPackage(package: Self.packages.linux, path: linuxTarball)
            }
            lines.append(stamp(linuxTarball))
        }
        for (folder, suffix, package) in [(pythonLibrary, ".py", Self.packages.python),
                                          (pythonDocs, ".rst.txt", Self.packages.docs)] {
            for file in try files(under: folder, suffix: suffix, package: package) { lines.append(stamp(folder + "/" + file)) }
        }
        lines.append(stamp(try bibleText ?? KingJamesBible.cachedText(cacheDirectory: cacheDirectory)))
        lines.append(stamp(try shakespearePath()))
        return lines.joined(separator: "\n")
    }

    private func stamp(_ path: String) -> String {
        let a = try? FileManager.default.attributesOfItem(atPath: path)
        let size = (a?[.size] as? NSNumber)?.intValue ?? -1
        let time = (a?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
        return "\(path) \(size) \(time)"
    }

    private func shakespearePath() throws -> String {
        if let shakespeareText { return shakespeareText }
        guard let url = Bundle.module.url(forResource: "tinyshakespeare", withExtension: "txt") else {
            throw DataError.missingResource("tinyshakespeare.txt")
        }
        return url.path
    }

    /// Files under `folder` ending in `suffix`, relative and sorted; throws naming `package`
    /// when the folder is missing.
    private func files(under folder: String, suffix: String, package: String) throws -> [String] {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder), isFolder.boolValue,
              let walker = FileManager.default.enumerator(atPath: folder) else {
            throw DataError.missingPackage(package: package, path: folder)
        }
        let skip: Set<Substring> = ["site-packages", "dist-packages", "__pycache__"]
        var out: [String] = []
        while let file = walker.nextObject() as? String {
            guard file.hasSuffix(suffix), !file.split(separator: "/").contains(where: skip.contains) else { continue }
            out.append(file)
        }
        return out.sorted()
    }

    private func addFile(_ path: String, name: String, domain: Int, to writer: DocumentWriter) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DataError.unreadable(path: path, reason: "cannot read a source file of the mix corpus")
        }
        try [UInt8](data).withUnsafeBufferPointer { try writer.add(domain: domain, name: name, bytes: $0) }
    }

    /// Cuts one long text into documents of about `documentBytes`, each ending at a line end.
    private func addSplitText(_ path: String, name: String, domain: Int, to writer: DocumentWriter) throws {
        let file = try MappedFile(path: path)
        let text = file.bytes
        var start = 0, part = 0
        while start < text.count {
            var end = min(text.count, start + documentBytes)
            while end < text.count && text[end - 1] != 0x0A { end += 1 }
            try writer.add(domain: domain, name: "\(name)#\(part)", bytes: UnsafeBufferPointer(rebasing: text[start..<end]))
            start = end
            part += 1
        }
    }
}
