/// A comparison that cannot be made as asked (unknown baseline, no runs), with a message that
/// names what was given and what exists.
public struct AnalysisError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
