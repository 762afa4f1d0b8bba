import Foundation

/// Fixed-length segments of three kinds of known difficulty: deterministic filler, a Markov
/// source and uniform random bytes.
///
/// Every segment is `segmentLength` bytes: a separator `\n`, a kind byte (`F`, `M` or `R`,
/// chosen uniformly) and `segmentLength - 2` content bytes:
/// - `filler`: `fillerPattern` repeated from its start. Entropy 0.
/// - `markov`: a run of a `MarkovSource` of order n = `markovOrder` over `markovAlphabet`,
///   its first n symbols drawn from the stationary distribution pi of contexts. Achievable
///   loss per markov token, averaged over a segment of L content bytes:
///   (H(pi) + (L - n) h) / L, with h the entropy rate.
/// - `random`: uniform over `randomSet`. Entropy log |randomSet|.
/// - `separator` (the `\n`): entropy 0 once the model knows the segment phase, which one
///   earlier boundary in the window reveals because the length is fixed.
/// - `kind`: log 3.
/// The three kinds use disjoint bytes, so the kind is visible in the content too.
///
/// Ideal allocation of compute: filler needs none (a zero expert suffices: copying the
/// pattern is attention's job); random bytes need none either, because no computation beats
/// log |set|, so compute spent there is wasted; markov tokens are where computation pays
/// (looking up the transition row of the context). A router that learnt this gives markov
/// tokens the most FFN experts, random and filler the fewest. (A first-order table is a
/// bigram, which the embedding and LM head alone can represent; markov tokens then reward
/// computation only while that table is being learnt. Order 3, `data.markov_order = 3`, is a
/// table of 512 contexts that keeps rewarding it much longer.)
///
/// Difficulty order: the analytic entropies, filler = separator (0) < kind (log 3) < markov
/// (about 1.4 nats with the default first-order table) < random (log 16). It ranks random bytes hardest,
/// the ideal allocation ranks them with filler: the per-label means tell the two apart.
public struct MixtureGenerator: SyntheticGenerator {
    public var segmentLength = 64
    public var fillerPattern: [UInt8] = Array("=-~-".utf8)
    public var markovAlphabet: [UInt8] = Array("stuvwxyz".utf8)
    /// n: symbols of context of the Markov source (`data.markov_order`).
    public var markovOrder = 1
    public var randomSet: [UInt8] = Array("0123456789abcdef".utf8)
    /// Seeds the transition table (not the corpus seed), so the analytic entropies are known
    /// before any corpus is generated and are the same for every training seed.
    public var tableSeed: UInt64 = 0x4D61_726B_6F76
    /// Kind bytes of filler, markov, random.
    public static let kindBytes: [UInt8] = Array("FMR".utf8)

    public enum Label: UInt8, CaseIterable, Sendable {
        case filler, markov, random, separator, kind
    }

    public init() {}

    public var name: String { "mixture" }
    public var labelNames: [String] { ["filler", "markov", "random", "separator", "kind"] }

    /// The Markov source behind `markov` segments.
    public var markov: MarkovSource { MarkovSource(alphabet: markovAlphabet, order: markovOrder, seed: tableSeed) }

    public func analyticEntropy(label: Int) -> Double? {
        guard let label = Label(rawValue: UInt8(clamping: label)) else { return nil }
        switch label {
        case .filler, .separator: return 0
        case .random: return log(Double(randomSet.count))
        case .kind: return log(3)
        case .markov:
            let source = markov
            let l = Double(segmentLength - 2)
            return (source.stationaryEntropy + (l - Double(markovOrder)) * source.entropyRate) / l
        }
    }

    /// Ranks of the analytic entropies (equal entropies share a rank).
    public var difficulty: [Int] {
        let entropies = Label.allCases.map { analyticEntropy(label: Int($0.rawValue)) ?? 0 }
        let distinct = Array(Set(entropies)).sorted()
        return entropies.map { e in distinct.firstIndex(of: e)! }
    }

    public func generate(bytes: Int, seed: UInt64) -> (tokens: [UInt8], labels: [UInt8]) {
        precondition(segmentLength >= 2 + markovOrder, "a segment needs its two header bytes and a Markov context")
        var random = DataRandom(seed: seed)
        let source = markov
        let contentLength = segmentLength - 2
        var out = LabelledBytes(capacity: bytes)
        while out.count < bytes {
            let kind = random.below(3)
            out.append(UInt8(ascii: "\n"), Label.separator.rawValue)
            out.append(MixtureGenerator.kindBytes[kind], Label.kind.rawValue)
            switch kind {
            case 0:
                for i in 0..<contentLength {
                    out.append(fillerPattern[i % fillerPattern.count], Label.filler.rawValue)
                }
            case 1:
                var context = source.first(&random)
                for s in source.symbols(ofContext: context) { out.append(markovAlphabet[s], Label.markov.rawValue) }
                for _ in markovOrder..<contentLength {
                    let symbol = source.next(after: context, &random)
                    out.append(markovAlphabet[symbol], Label.markov.rawValue)
                    context = source.context(context, then: symbol)
                }
            default:
                for _ in 0..<contentLength {
                    out.append(randomSet[random.below(randomSet.count)], Label.random.rawValue)
                }
            }
        }
        return out.truncated(to: bytes)
    }
}
