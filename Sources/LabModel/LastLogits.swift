extension LongCatModel {
    /// The main head's logits of the last forward pass, `[B*T, V]`, for per-token losses in
    /// evaluation telemetry. Valid until the next pass, and only after a pass with
    /// `train: false`: a training pass overwrites them with their gradient.
    public var lastLogits: UnsafePointer<Float> { UnsafePointer(logits.ptr) }
}
