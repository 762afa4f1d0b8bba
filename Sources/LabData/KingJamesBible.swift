import Foundation

/// The King James Bible as a second real-text corpus (optional), from Debian's `bible-kjv`
/// package.
///
/// The package ships the text compressed with its `bible` program. `bible -f Gen1:1-Rev22:21`
/// prints every verse on one line after its reference (`Ge1:1 In the beginning God ...`);
/// dropping the references leaves 31,102 lines of verse text, about 4.1 MB of ASCII. The text
/// is extracted once into `<data.cache_dir>/kjv.txt` (written atomically) and then memory-mapped
/// like any text corpus, so later runs need neither the program nor the time.
public enum KingJamesBible {
    /// Name of the cached text inside the cache folder.
    public static let fileName = "kjv.txt"
    /// The verse range that spans the whole book (`bible` coerces it to Revelation 22:21).
    public static let wholeText = "Gen1:1-Rev22:21"
    /// Verses of the King James Bible: lines the extraction must produce.
    public static let verseCount = 31_102

    /// Path of the cached text, extracting it first when it is missing. `searchPath` lists the
    /// folders searched for `bible` (colon-separated, as `$PATH`); `expectedVerses` guards
    /// against a truncated dump. Throws `DataError.bibleNotInstalled` (saying how to install it)
    /// when neither the cache nor the program exists.
    public static func cachedText(cacheDirectory: String,
                                  searchPath: String? = ProcessInfo.processInfo.environment["PATH"],
                                  expectedVerses: Int = verseCount) throws -> String {
        let folder = NSString(string: cacheDirectory).expandingTildeInPath
        let path = folder + "/" + fileName
        if FileManager.default.fileExists(atPath: path) { return path }
        guard let program = findProgram(searchPath: searchPath ?? "") else {
            throw DataError.bibleNotInstalled(cachePath: path)
        }
        let text = verseText(try run(program: program))
        let lines = text.reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
        guard lines == expectedVerses else {
            throw DataError.bibleExtractionFailed(reason: "\(program) \(wholeText) gave \(lines) verses, expected \(expectedVerses)")
        }
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try Data(text).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw DataError.unreadable(path: path, reason: "cannot write the extracted text: \(error.localizedDescription)")
        }
        return path
    }

    /// The first executable `bible` in the folders of `searchPath`, or nil.
    static func findProgram(searchPath: String) -> String? {
        for folder in searchPath.split(separator: ":") where !folder.isEmpty {
            let candidate = String(folder) + "/bible"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// Runs `program -f wholeText` with no input and returns what it printed.
    static func run(program: String) throws -> [UInt8] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = ["-f", wholeText]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        do { try process.run() } catch {
            throw DataError.bibleExtractionFailed(reason: "cannot start \(program): \(error.localizedDescription)")
        }
        // Read before waiting: the text is larger than a pipe's buffer.
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw DataError.bibleExtractionFailed(reason: "\(program) exited with status \(process.terminationStatus)")
        }
        return [UInt8](data)
    }

    /// Each line of `bible -f` output without its leading reference (everything up to and
    /// including the first space); every kept line ends with a newline.
    public static func verseText(_ output: [UInt8]) -> [UInt8] {
        var text: [UInt8] = []
        text.reserveCapacity(output.count)
        for line in output.split(separator: 0x0A, omittingEmptySubsequences: true) {
            guard let space = line.firstIndex(of: 0x20) else { continue }
            text.append(contentsOf: line[(space + 1)...])
            text.append(0x0A)
        }
        return text
    }
}
