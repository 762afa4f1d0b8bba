/// Lines of additions and multiplications with their results: `123+4567=4690\n`, `12*34=408\n`.
///
/// Each line adds two numbers of 1...`maxSumDigits` digits or multiplies two of
/// 1...`maxProductDigits` digits (a product with probability `productProbability`). A number
/// of L digits is uniform over the L-digit numbers (0...9 for L = 1), its length uniform.
/// Results are written most significant digit first, as people write them.
///
/// Labels: `operand` (operand digits), `symbol` (`+`, `*`, `=`), `result` (result digits:
/// entropy 0, fixed by the operands), `newline` (entropy 0: it follows the last result digit).
///
/// Ideal allocation of compute: result digits need the most, since the first digit written
/// depends on every operand digit through the carries (and, for products, on all partial
/// products); operands are random, so no computation lowers their loss; symbols and newlines
/// are cheap bookkeeping. A router that learnt this gives result digits the most FFN experts.
///
/// Difficulty order: newline (0) < symbol (1: `=` and the operator are nearly fixed by the
/// digit counts) < operand (2: about log 10 per digit for any model) < result (3). Result
/// digits rank highest although an ideal model predicts them with certainty: reaching that
/// certainty takes carries and partial products, and a model without that computation is
/// left with up to log 10 nats per digit.
public struct ArithmeticGenerator: SyntheticGenerator {
    public var maxSumDigits = 4
    public var maxProductDigits = 3
    public var productProbability = 0.5

    public enum Label: UInt8, CaseIterable, Sendable {
        case operand, symbol, result, newline
    }

    public init() {}

    public var name: String { "arithmetic" }
    public var labelNames: [String] { ["operand", "symbol", "result", "newline"] }

    public func analyticEntropy(label: Int) -> Double? {
        label == Int(Label.result.rawValue) || label == Int(Label.newline.rawValue) ? 0 : nil
    }

    public var difficulty: [Int] { [2, 1, 3, 0] }

    public func generate(bytes: Int, seed: UInt64) -> (tokens: [UInt8], labels: [UInt8]) {
        precondition((1...9).contains(maxSumDigits) && (1...9).contains(maxProductDigits), "operands of 1 to 9 digits")
        var random = DataRandom(seed: seed)
        var out = LabelledBytes(capacity: bytes)
        while out.count < bytes {
            let product = random.chance(productProbability)
            let digits = product ? maxProductDigits : maxSumDigits
            let a = ArithmeticGenerator.number(maxDigits: digits, &random)
            let b = ArithmeticGenerator.number(maxDigits: digits, &random)
            out.append(String(a), Label.operand.rawValue)
            out.append(product ? "*" : "+", Label.symbol.rawValue)
            out.append(String(b), Label.operand.rawValue)
            out.append("=", Label.symbol.rawValue)
            out.append(String(product ? a * b : a + b), Label.result.rawValue)
            out.append("\n", Label.newline.rawValue)
        }
        return out.truncated(to: bytes)
    }

    /// A length uniform in 1...maxDigits, then a number uniform among those of that length.
    static func number(maxDigits: Int, _ random: inout DataRandom) -> Int {
        let length = random.inRange(1...maxDigits)
        let low = length == 1 ? 0 : power10(length - 1)
        return random.inRange(low...(power10(length) - 1))
    }

    static func power10(_ n: Int) -> Int { (0..<n).reduce(1) { r, _ in r * 10 } }
}
