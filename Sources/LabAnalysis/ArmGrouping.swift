import LabRecords

/// Runs grouped into arms: runs whose configs agree on every key except `train.seed` form one
/// arm. Its label is the run names' shared stem when they are `STEM-s<seed>` (the sweep's
/// naming), else the run's name for a lone run, else the distinguishing `key=value` pairs.
/// With `key`, runs are grouped by that key's value instead, labelled `key=value`.
public func groupIntoArms(_ runs: [RunAnalysis], by key: String? = nil) -> [(label: String, runs: [RunAnalysis])] {
    var order: [String] = [], members: [String: [RunAnalysis]] = [:]
    if let key {
        for run in runs {
            let id = "\(key)=\(run.config[key] ?? "(unset)")"
            if members[id] == nil { order.append(id) }
            members[id, default: []].append(run)
        }
        return order.map { ($0, members[$0]!) }
    }
    for run in runs {
        let id = run.config.keys.filter { $0 != "train.seed" }.map { "\($0)=\(run.config[$0]!)" }.joined(separator: "\n")
        if members[id] == nil { order.append(id) }
        members[id, default: []].append(run)
    }
    let keys = distinguishingKeys(runs.map(\.config)).filter { $0 != "train.seed" }
    return order.map { id in
        let rs = members[id]!
        let stems = Set(rs.map { seedStem($0.name) })
        if stems.count == 1, rs.count > 1 || stems.first! != rs[0].name { return (stems.first!, rs) }
        if rs.count == 1 { return (rs[0].name, rs) }
        let label = keys.isEmpty ? "all runs" : keys.map { "\($0)=\(rs[0].config[$0] ?? "(unset)")" }.joined(separator: ", ")
        return (label, rs)
    }
}

/// `name` without a trailing `-s<digits>` (`zero-experts-top2-s3` -> `zero-experts-top2`).
public func seedStem(_ name: String) -> String {
    guard let dash = name.lastIndex(of: "-") else { return name }
    let tail = name[name.index(after: dash)...]
    guard tail.count >= 2, tail.first == "s", tail.dropFirst().allSatisfy(\.isNumber) else { return name }
    return String(name[..<dash])
}

extension ArmComparison {
    /// Reads the runs named `names` from `store`, groups them into arms (`groupIntoArms`) and
    /// compares them with the arm `baseline` names: an arm's label, or the name of one of its
    /// runs. Throws an `AnalysisError` naming an unknown run (with the runs the store holds) or
    /// an unknown baseline (with the arms).
    public static func load(runs names: [String], from store: RecordStore, baseline: String,
                            groupBy key: String? = nil) throws -> ArmComparison {
        var runs: [RunAnalysis] = []
        for name in names {
            guard let run = try RunAnalysis.load(name, from: store) else {
                let known = try store.runs().map(\.name)
                throw AnalysisError("no run named '\(name)' in \(store.path); "
                                    + (known.isEmpty ? "it holds no runs" : "runs: " + known.joined(separator: ", ")))
            }
            runs.append(run)
        }
        let arms = groupIntoArms(runs, by: key)
        let chosen = arms.first { $0.label == baseline } ?? arms.first { $0.runs.contains { $0.name == baseline } }
        guard let chosen else {
            throw AnalysisError("--baseline \(baseline): no arm of that name and no run of that name among them; arms: "
                                + arms.map(\.label).joined(separator: ", "))
        }
        return try ArmComparison(arms: arms, baseline: chosen.label)
    }
}
