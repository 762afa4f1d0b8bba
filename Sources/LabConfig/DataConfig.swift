import Foundation

/// `[data]`: what to train on. Each field's meaning and allowed values are in its row of
/// `LabConfig.dataFields` below.
public struct DataConfig: Sendable, Equatable {
    public var corpus = CorpusKind.tinyshakespeare
    public var path = ""
    public var validationFraction = 0.1
    public var synthetic = SyntheticKind.mixture
    public var syntheticBytes = 1_000_000
    public var markovOrder = 1
    public var tokenizer = TokenizerKind.byte
    public var cacheDir = "results/cache"
    public var domainWeights = ""
    public var cBytes = 200_000_000
    public var bpeSampleBytes = 16_000_000
    public init() {}

    /// The mix corpus's domains, in corpus order.
    public static let mixDomains = ["c", "python", "bible", "shakespeare", "docs"]

    /// `domain_weights` as (domain, weight) pairs; nil when malformed (an unknown domain, a
    /// repeated one, a negative or non-finite weight, or all weights zero). Empty for "".
    public var parsedDomainWeights: [(String, Double)]? { DataConfig.parseDomainWeights(domainWeights) }

    static func parseDomainWeights(_ text: String) -> [(String, Double)]? {
        guard let pairs: [(String, Double)] = DataConfig.parseList(text, { item in
            let parts = item.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count == 2, let w = Double(parts[1].trimmingCharacters(in: .whitespaces)),
                  w.isFinite, w >= 0 else { return nil }
            return (parts[0].trimmingCharacters(in: .whitespaces), w)
        }) else { return nil }
        let names = pairs.map(\.0)
        guard names.allSatisfy(DataConfig.mixDomains.contains), Set(names).count == names.count,
              pairs.isEmpty || pairs.contains(where: { $0.1 > 0 }) else { return nil }
        return pairs
    }

    /// The items of a comma-separated list through `parse`; nil when any item fails. "" is [].
    public static func parseList<T>(_ text: String, _ parse: (String) -> T?) -> [T]? {
        let items = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        if items.allSatisfy(\.isEmpty) { return [] }
        var out: [T] = []
        for item in items { guard let v = parse(item) else { return nil }; out.append(v) }
        return out
    }
}

extension LabConfig {
    static let dataFields: [ConfigField] = [
        ConfigField("data.corpus", \.data.corpus,
                    doc: "tinyshakespeare (the repo copy), text (any UTF-8 file, see path), synthetic, kjv "
                        + "(the King James Bible of Debian's optional bible-kjv package, extracted once into cache_dir), "
                        + "or mix (C, Python, the Bible, Shakespeare and the Python docs, by document, from Debian "
                        + "packages the setup installs with LONGCAT_OPTIONAL=1)."),
        ConfigField("data.path", \.data.path, doc: "File for corpus = \"text\"."),
        ConfigField("data.validation_fraction", \.data.validationFraction,
                    doc: "Fraction of the corpus held out for validation (the last part).",
                    Constraint("in (0, 0.5]") { $0 > 0 && $0 <= 0.5 }),
        ConfigField("data.synthetic", \.data.synthetic, doc: "Synthetic corpus: the generator."),
        ConfigField("data.synthetic_bytes", \.data.syntheticBytes, doc: "Synthetic corpus: size in bytes.", .atLeast(1)),
        ConfigField("data.markov_order", \.data.markovOrder,
                    doc: "Symbols of context of the mixture's Markov segments: 1 is a bigram table; n is a table "
                        + "of 8^n rows, which takes attention and capacity to learn.", .within(1...4)),
        ConfigField("data.tokenizer", \.data.tokenizer,
                    doc: "byte (a token is a byte, model.vocab_size 256) or bpe: a byte-pair-encoding tokenizer of "
                        + "model.vocab_size tokens (257...65536), trained on the train split and saved with the run "
                        + "as tokenizer.json."),
        ConfigField("data.cache_dir", \.data.cacheDir,
                    doc: "Folder for corpora extracted from other programs (the King James Bible text) and for the "
                        + "mix corpus's extracted text, tokenizer and token ids."),
        ConfigField("data.domain_weights", \.data.domainWeights,
                    doc: "Mix corpus: sampling weight of each domain's training windows, \"c:0.4, python:0.2, ...\"; "
                        + "domains left out get weight 0; \"\" weighs each domain by its share of the train tokens.",
                    Constraint("\"\" or a list like \"c:0.4, python:0.2\" over the domains "
                        + DataConfig.mixDomains.joined(separator: ", ") + " (each once, weights >= 0, not all 0)") {
                        DataConfig.parseDomainWeights($0) != nil }),
        ConfigField("data.c_bytes", \.data.cBytes,
                    doc: "Mix corpus: bytes of Linux C source taken from linux-source-6.1 (0 leaves C out).",
                    .atLeast(0)),
        ConfigField("data.bpe_sample_bytes", \.data.bpeSampleBytes,
                    doc: "Mix corpus with tokenizer = \"bpe\": bytes of the train split the tokenizer learns from.",
                    .atLeast(1)),
    ]
}
