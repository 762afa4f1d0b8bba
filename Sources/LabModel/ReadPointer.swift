/// A read-only pointer that a parallel loop may capture: the loop only reads through it, so no
/// `UnsafeMutablePointer(mutating:)` is needed to pass an input into `parallelFor`.
struct ReadPointer<T>: @unchecked Sendable {
    let base: UnsafePointer<T>
    init(_ base: UnsafePointer<T>) { self.base = base }
}
