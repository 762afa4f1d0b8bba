/// An error a user can cause while plotting or exporting: a missing run, an unknown figure kind
/// or table, a table with no rows for the run, or gnuplot failing. The message says what was
/// asked for and what exists, e.g. `no run named 'qs' in results/lab.sqlite; runs: a, b`.
public struct PlotError: Error, CustomStringConvertible, Sendable {
    public let message: String

    public init(_ message: String) { self.message = message }

    public var description: String { message }
}
