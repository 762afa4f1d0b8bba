/// Errors a user can cause through `[data]` and `[train]` settings: each message names the
/// setting, the file and the value, and says what would be accepted.
public enum DataError: Error, Equatable, CustomStringConvertible {
    /// `data.corpus` is not a known corpus kind.
    case unknownCorpus(String, known: [String])
    /// `data.synthetic` is not a registered generator.
    case unknownGenerator(String, known: [String])
    /// A setting out of its allowed range.
    case invalidValue(key: String, value: String, allowed: String)
    /// `data.corpus = "text"` without `data.path`.
    case missingPath
    case fileNotFound(path: String)
    case notARegularFile(path: String)
    case unreadable(path: String, reason: String)
    case emptyFile(path: String)
    /// The first ill-formed UTF-8 sequence starts at byte `offset` (0-based) on `line` (1-based).
    case notUTF8(path: String, offset: Int, line: Int)
    /// The bundled copy of Tiny Shakespeare is missing from the installation.
    case missingResource(String)
    /// `data.corpus = "kjv"` without a cached text and without the `bible` program to extract it.
    case bibleNotInstalled(cachePath: String)
    /// The `bible` program ran but did not produce the whole text.
    case bibleExtractionFailed(reason: String)
    /// `data.corpus = "mix"` needs `path`, which Debian's `package` provides.
    case missingPackage(package: String, path: String)
    /// Building the mix corpus's cache failed.
    case mixBuildFailed(reason: String)
    /// A split holds `bytes` tokens (bytes, or subwords), fewer than the `needed` for one batch.
    case corpusTooSmall(corpus: String, split: String, bytes: Int, needed: Int, batchSize: Int, seqLen: Int)

    public var description: String {
        switch self {
        case let .unknownCorpus(name, known):
            return "data.corpus = \"\(name)\" is not a corpus kind; use one of \(known.joined(separator: ", "))"
        case let .unknownGenerator(name, known):
            return "data.synthetic = \"\(name)\" is not a synthetic generator; use one of \(known.joined(separator: ", "))"
        case let .invalidValue(key, value, allowed):
            return "\(key) = \(value) is invalid; allowed: \(allowed)"
        case .missingPath:
            return "data.corpus = \"text\" needs data.path, the UTF-8 file to train on"
        case let .fileNotFound(path):
            return "data.path: no file at '\(path)'"
        case let .notARegularFile(path):
            return "data.path: '\(path)' is not a regular file"
        case let .unreadable(path, reason):
            return "data.path: cannot read '\(path)': \(reason)"
        case let .emptyFile(path):
            return "data.path: '\(path)' is empty"
        case let .notUTF8(path, offset, line):
            return "data.path: '\(path)' is not valid UTF-8: ill-formed sequence at byte offset \(offset) (line \(line))"
        case let .missingResource(name):
            return "the bundled resource '\(name)' is missing from this installation; "
                + "use data.corpus = \"text\" with data.path pointing at a copy"
        case let .bibleNotInstalled(cachePath):
            return "data.corpus = \"kjv\" needs the King James Bible of Debian's optional bible-kjv package, "
                + "which is not installed: run LONGCAT_OPTIONAL=1 scripts/setup.sh (or apt-get install bible-kjv); "
                + "its text is then extracted once into \(cachePath) (data.cache_dir)"
        case let .bibleExtractionFailed(reason):
            return "data.corpus = \"kjv\": extracting the text with the bible program failed: \(reason)"
        case let .missingPackage(package, path):
            return "data.corpus = \"mix\" needs \(path) from Debian's optional \(package) package, which is not installed: "
                + "run LONGCAT_OPTIONAL=1 scripts/setup.sh (or apt-get install \(package))"
        case let .mixBuildFailed(reason):
            return "data.corpus = \"mix\": building the cached corpus failed: \(reason)"
        case let .corpusTooSmall(corpus, split, bytes, needed, batchSize, seqLen):
            let fix = split == "validation"
                ? "raise data.validation_fraction, use a larger corpus or lower train.seq_len"
                : "use a larger corpus or lower train.batch_size / train.seq_len"
            return "corpus '\(corpus)': its \(split) split holds \(bytes) tokens, but one batch "
                + "(train.batch_size = \(batchSize), train.seq_len = \(seqLen)) needs \(needed); \(fix)"
        }
    }
}
