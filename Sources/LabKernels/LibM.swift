/// The C math library's Double functions under one name on Linux and macOS (the kernels avoid
/// Foundation). Used off the hot paths: tables, references, Double-precision reductions.
#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

@inline(__always) func _log(_ x: Double) -> Double { log(x) }
@inline(__always) func _exp(_ x: Double) -> Double { exp(x) }
@inline(__always) func _sin(_ x: Double) -> Double { sin(x) }
@inline(__always) func _cos(_ x: Double) -> Double { cos(x) }
@inline(__always) func _pow(_ x: Double, _ y: Double) -> Double { pow(x, y) }
@inline(__always) func _logf(_ x: Float) -> Float { logf(x) }
