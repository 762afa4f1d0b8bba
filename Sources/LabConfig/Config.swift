/// The lab's configuration: one struct per TOML table, field names as in the reference
/// checkpoint's `config.json` (snake_case in TOML, camelCase here). Defaults are the lab's
/// small quickstart-sized model; presets in `experiments/` hold only what differs.
///
/// Each table's file declares its struct and, beside it, one `ConfigField` row per field: the
/// TOML key, what it means and the values it allows. `LabConfig.load` reads files, `validate`
/// applies the rows' rules and the few rules relating two keys (`Validation.swift`).
///
/// Dimension letters used in the rows: D model width, H heads, N routed experts,
/// Z zero experts, K top-k slots, F expert hidden, V vocabulary.
public struct LabConfig: Sendable, Equatable {
    public var model = ModelConfig()
    public var train = TrainConfig()
    public var data = DataConfig()
    public var initialization = InitConfig()   // TOML table `[init]`
    public var controller = ControllerConfig()
    public var balance = BalanceConfig()
    public var routing = RoutingConfig()
    public init() {}
}

public extension LabConfig {
    /// Every key, in the order of the structs' fields: the order of `resolvedTOML()`.
    static let fields: [ConfigField] = modelFields + trainFields + dataFields + initFields
        + controllerFields + balanceFields + routingFields

    /// The TOML tables in file order.
    static let tables = ["model", "train", "data", "init", "controller", "balance", "routing"]
}

extension LabConfig {
    /// The one top-level key that is not a table: a file to load first.
    static let baseKey = "base"

    static let fieldsByPath: [String: ConfigField] = Dictionary(uniqueKeysWithValues: fields.map { ($0.path, $0) })

    /// Key names of one table, in order.
    static func names(in table: String) -> [String] {
        fields.filter { $0.table == table }.map(\.name)
    }
}
