/// A checkpoint or config that cannot cross between the lab and the reference implementation;
/// `description` names the file, the tensor or key, the value and what is allowed.
public struct InterchangeError: Error, CustomStringConvertible, Sendable, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
