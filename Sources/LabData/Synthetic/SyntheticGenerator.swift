import LabConfig

/// A seeded source of synthetic byte corpora whose tokens carry difficulty labels.
///
/// Researchers compare, per label, the loss a model reaches and the compute its router spends
/// (e.g. FFN experts versus zero experts per token). Each generator documents what the ideal
/// allocation of compute would be, and gives the achievable loss of a label where it has a
/// closed form.
public protocol SyntheticGenerator: Sendable {
    /// The name `data.synthetic` selects it by.
    var name: String { get }
    /// Names of the label ids, in id order.
    var labelNames: [String] { get }
    /// Exactly `bytes` tokens and one label id per token; the same seed gives the same output.
    func generate(bytes: Int, seed: UInt64) -> (tokens: [UInt8], labels: [UInt8])
    /// Nats per token an ideal model reaches on tokens with this label (given enough context),
    /// nil where there is no closed form.
    func analyticEntropy(label: Int) -> Double?
    /// Ordinal difficulty of each label, in id order: 0 for tokens the lab's models predict
    /// with certainty at no cost, higher for tokens that leave them more loss; ties share a
    /// value. `longcat-lab allocation` rank-correlates it with FFN experts per token. The
    /// analytic entropy decides the order where every label has one; each generator's doc
    /// comment explains its order otherwise.
    var difficulty: [Int] { get }
}

/// The registry of generators by name.
public enum SyntheticCorpora {
    /// Every name `data.synthetic` accepts.
    public static let names = SyntheticKind.allCases.map(\.rawValue)

    /// The generator `[data]` selects, with its settings (`data.markov_order` for the mixture).
    public static func generator(for data: DataConfig) throws -> any SyntheticGenerator {
        let generator = try generator(named: data.synthetic.rawValue)
        guard var mixture = generator as? MixtureGenerator else { return generator }
        mixture.markovOrder = data.markovOrder
        return mixture
    }

    /// The generator with default settings for `name`.
    public static func generator(named name: String) throws -> any SyntheticGenerator {
        switch name {
        case "copy": return CopyGenerator()
        case "mixture": return MixtureGenerator()
        case "arithmetic": return ArithmeticGenerator()
        case "structured": return StructuredGenerator()
        case "suite": return SuiteGenerator()
        default: throw DataError.unknownGenerator(name, known: names)
        }
    }
}

/// Output under construction: tokens and their labels grow together.
struct LabelledBytes {
    var tokens: [UInt8] = []
    var labels: [UInt8] = []

    init(capacity: Int) {
        tokens.reserveCapacity(capacity + 64)
        labels.reserveCapacity(capacity + 64)
    }

    var count: Int { tokens.count }

    mutating func append(_ byte: UInt8, _ label: UInt8) {
        tokens.append(byte)
        labels.append(label)
    }

    mutating func append(_ text: String, _ label: UInt8) {
        for byte in text.utf8 { append(byte, label) }
    }

    /// Cut to exactly `count` tokens (the last unit of a generator may be incomplete).
    func truncated(to count: Int) -> (tokens: [UInt8], labels: [UInt8]) {
        (Array(tokens.prefix(count)), Array(labels.prefix(count)))
    }
}
