import LabKernels

// Where the model's memory goes: the bytes of every buffer it holds, by role, counted by walking
// its stored properties (so a buffer added to LayerSaved or a scratch class is counted without
// touching this file). Each buffer is counted once, under the first role that reaches it.

extension LongCatModel {
    /// Bytes the model holds, by role, in the order the bench prints them.
    public func memorySplit() -> [(role: String, bytes: Int)] {
        var seen = Set<ObjectIdentifier>()
        func bytes(_ values: Any...) -> Int { values.reduce(0) { $0 + heldBytes($1, seen: &seen) } }
        var rows: [(role: String, bytes: Int)] = [
            ("parameters", bytes(params)),
            ("gradients", bytes(grads)),
            ("saved activations (for backward)", bytes(saved)),
            ("hidden states, final norm, logits", bytes(hidden, finalNormed, finalRstd, logits)),
            ("scratch (MLA, FFN, MoE, layer, dHidden)", bytes(mlaScratch, ffnScratch, moeScratch, layerScratch, dHidden)),
        ]
        if let mtp { rows.append(("MTP head", bytes(mtp))) }
        rows.append(("bias, RoPE tables", bytes(bias, rope)))
        return rows
    }
}

/// Bytes of the FloatBuffers and numeric arrays reachable from `value` through stored properties,
/// each object counted once (`seen` holds those already counted).
func heldBytes(_ value: Any, seen: inout Set<ObjectIdentifier>) -> Int {
    if let buffer = value as? FloatBuffer {
        return seen.insert(ObjectIdentifier(buffer)).inserted ? buffer.count * MemoryLayout<Float>.stride : 0
    }
    switch value {
    case let a as [Float]: return a.count * MemoryLayout<Float>.stride
    case let a as [Int32]: return a.count * MemoryLayout<Int32>.stride
    case let a as [Int]: return a.count * MemoryLayout<Int>.stride
    case let a as [Double]: return a.count * MemoryLayout<Double>.stride
    case let a as [UInt8]: return a.count
    default: break
    }
    let mirror = Mirror(reflecting: value)
    if mirror.displayStyle == .class {
        guard seen.insert(ObjectIdentifier(value as AnyObject)).inserted else { return 0 }
    }
    var total = 0
    var current: Mirror? = mirror
    while let m = current {
        for child in m.children { total += heldBytes(child.value, seen: &seen) }
        current = m.superclassMirror
    }
    return total
}
