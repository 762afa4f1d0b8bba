import LabConfig
import LabKernels
import Testing
@testable import LabModel

/// The bench's memory split: every buffer counted once, under the role that holds it.
@Suite("Memory split")
struct MemorySplitTests {
    final class Node { var buffer: FloatBuffer; var next: Node?; init(_ b: FloatBuffer) { buffer = b } }
    struct Holder { let a: FloatBuffer; let again: FloatBuffer; let values: [Float]; let ids: [Int32] }

    @Test func aSharedBufferIsCountedOnceAndArraysByTheirElements() {
        let shared = FloatBuffer(count: 10)
        var seen = Set<ObjectIdentifier>()
        let h = Holder(a: shared, again: shared, values: [1, 2, 3], ids: [1, 2])
        #expect(heldBytes(h, seen: &seen) == 10 * 4 + 3 * 4 + 2 * 4)
        #expect(heldBytes(shared, seen: &seen) == 0)   // already counted
    }

    @Test func aCycleOfObjectsTerminatesAndCountsEachBuffer() {
        let a = Node(FloatBuffer(count: 5)), b = Node(FloatBuffer(count: 7))
        a.next = b; b.next = a
        var seen = Set<ObjectIdentifier>()
        #expect(heldBytes(a, seen: &seen) == (5 + 7) * 4)
    }

    @Test func theModelsSplitMatchesItsShapes() {
        let c = tinyConfig()
        let batch = 3, seqLen = 5, r = batch * seqLen, d = c.model.hiddenSize
        let model = LongCatModel(config: c, batch: batch, seqLen: seqLen)
        let split = Dictionary(uniqueKeysWithValues: model.memorySplit().map { ($0.role, $0.bytes) })
        #expect(split["parameters"] == model.layout.count * 4)
        #expect(split["gradients"] == model.layout.count * 4)
        // hidden[0...L], final norm output [R, D], its 1/rms [R], logits [R, V]
        #expect(split["hidden states, final norm, logits"] == ((c.model.numLayers + 1) * r * d + r * d + r + r * c.model.vocabSize) * 4)
        // Saved activations grow with the rows: twice the batch, twice the bytes (up to per-layer constants).
        let twice = LongCatModel(config: c, batch: 2 * batch, seqLen: seqLen)
        let savedTwice = twice.memorySplit().first { $0.role.hasPrefix("saved") }!.bytes
        let saved = split["saved activations (for backward)"]!
        #expect(saved > 0 && savedTwice > saved * 19 / 10 && savedTwice <= saved * 2)
        // Every buffer the model holds is in one role: the roles add up to all it holds but its
        // config and layout (plain values), so a new buffer outside every role fails here.
        var seen = Set<ObjectIdentifier>(), none = Set<ObjectIdentifier>()
        let plain = heldBytes(model.config, seen: &none) + heldBytes(model.layout, seen: &none)
        #expect(split.values.reduce(0, +) + plain == heldBytes(model, seen: &seen))
    }
}
