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
    public init() {}
}

extension LabConfig {
    static let dataFields: [ConfigField] = [
        ConfigField("data.corpus", \.data.corpus,
                    doc: "tinyshakespeare (the repo copy), text (any UTF-8 file, see path), synthetic, or kjv "
                        + "(the King James Bible of Debian's optional bible-kjv package, extracted once into cache_dir)."),
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
                    doc: "Folder for corpora extracted from other programs (the King James Bible text)."),
    ]
}
