// The controller's state as checkpoints store it: every field, bit for bit.
import Foundation
import Testing
import LabRouting

@Suite struct ControllerStateTests {
    /// A state with edge values in every field: -0.0, subnormals, the largest finite values,
    /// values one ulp apart, nil-free optionals.
    static func edgeState() -> BiasController.State {
        var s = BiasController.State(experts: 6)
        s.bias = [-0.0, .leastNonzeroMagnitude, Float.leastNormalMagnitude.nextDown, .greatestFiniteMagnitude,
                  Float(0.1).nextUp, -1 / 3]
        s.integral = [-0.0, .leastNonzeroMagnitude, Double.leastNormalMagnitude.nextDown, -.greatestFiniteMagnitude,
                      0.1, 1.0.nextUp]
        s.previousError = [Double.leastNormalMagnitude / 3, -0.0, -.leastNonzeroMagnitude, 2.0.nextDown, -1e300, 0.3]
        s.pendingLoads = [0, 1, Int.max, Int.min, 7, 3]
        s.pendingTokens = 123_456_789
        s.lastUpdateStep = 41
        s.shareHistory = [[-0.0, .leastNonzeroMagnitude], [(0.1 as Double).nextUp, -1e300]]
        s.fitShares = [[0.25, Double.leastNormalMagnitude / 3]]
        s.fitBiases = [[-0.0, 1e-7]]
        s.sensitivity = (0.1 as Double).nextDown
        return s
    }

    /// Every stored field of `value` as text that differs whenever a bit differs; records an
    /// issue for a field type it cannot compare exactly, or a float stored without `@BitExact`.
    static func fieldBits(_ value: Any) -> [String: String] {
        var out: [String: String] = [:]
        for child in Mirror(reflecting: value).children {
            var label = child.label!, field = child.value
            if label.hasPrefix("_"), let wrapped = Mirror(reflecting: field).children.first(where: { $0.label == "wrappedValue" }) {
                label.removeFirst()
                field = wrapped.value
            } else if field is Float || field is Double || field is [Float] || field is [Double] || field is [Double]? {
                Issue.record("State.\(label) holds floats without @BitExact: a checkpoint may round them")
            }
            switch field {
            case let x as [Float]: out[label] = x.map { String($0.bitPattern) }.joined(separator: ",")
            case let x as [Double]: out[label] = x.map { String($0.bitPattern) }.joined(separator: ",")
            case let x as [Double]?: out[label] = x.map { $0.map { String($0.bitPattern) }.joined(separator: ",") } ?? "nil"
            case let x as [[Double]]?:
                out[label] = x.map { $0.map { $0.map { String($0.bitPattern) }.joined(separator: ",") }.joined(separator: ";") } ?? "nil"
            case let x as Double?: out[label] = x.map { String($0.bitPattern) } ?? "nil"
            case let x as [Int]: out[label] = "\(x)"
            case let x as Int: out[label] = "\(x)"
            case let x as Int?: out[label] = x.map(String.init) ?? "nil"
            default: Issue.record("State.\(label): no exact comparison for \(type(of: field)); add one here")
            }
        }
        return out
    }

    /// Guards against a resumed run that diverges because a field of the controller's state is
    /// lost or rounded on its way through a checkpoint: every stored field (found by
    /// reflection, so a new one is covered too) comes back bit for bit.
    @Test func everyStateFieldRoundTripsBitExactly() throws {
        let state = Self.edgeState()
        let json = try JSONEncoder().encode(state)
        let back = try JSONDecoder().decode(BiasController.State.self, from: json)
        let before = Self.fieldBits(state), after = Self.fieldBits(back)
        #expect(before.count == 10, "\(before.keys.sorted())")
        for (field, bits) in before { #expect(after[field] == bits, "State.\(field) changed on its way through JSON") }
        // Bits, not decimals: -0.0 and a subnormal survive, and nil stays nil.
        #expect(back.bias[0].sign == .minus && back.integral[1] == .leastNonzeroMagnitude)
        var fresh = BiasController.State(experts: 2)
        fresh.pendingTokens = 1
        #expect(try JSONDecoder().decode(BiasController.State.self, from: JSONEncoder().encode(fresh)) == fresh)
    }

    /// Guards against checkpoints written before the state was `Codable` becoming unreadable:
    /// their JSON (bit patterns, nil fields left out) still decodes.
    @Test func firstFormatCheckpointStateStillLoads() throws {
        let v1 = #"{"bias":[0,1065353216],"integral":[0,4607182418800017408],"pendingLoads":[3,4],"pendingTokens":7}"#
        let s = try JSONDecoder().decode(BiasController.State.self, from: Data(v1.utf8))
        #expect(s.bias == [0, 1] && s.integral == [0, 1] && s.previousError == nil)
        #expect(s.pendingLoads == [3, 4] && s.pendingTokens == 7 && s.lastUpdateStep == nil)
    }
}
