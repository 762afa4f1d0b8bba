import Foundation
import LabConfig
import LabRecords

/// The step times of the finished training runs in a database, for `SweepEstimate`.
public enum RecordedTimings {
    /// One `StepTiming` per finished training run whose recorded config still parses: its
    /// FLOPs per step from that config, its threads and its median `step_ms`.
    public static func read(from store: RecordStore) throws -> [StepTiming] {
        let runs = try store.query("""
            SELECT run_id, name, config_toml, threads FROM runs
            WHERE status = 'finished' AND kind = 'train' AND config_toml IS NOT NULL
            """)
        var timings: [StepTiming] = []
        for row in runs {
            guard case .integer(let id) = row[0], case .text(let name) = row[1], case .text(let toml) = row[2],
                  let config = try? LabConfig.parse(text: toml, file: "runs.config_toml of \(name)", overrides: [])
            else { continue }
            let threads: Int
            if case .integer(let t) = row[3] { threads = Int(t) } else { threads = 0 }
            let ms = try store.query("SELECT step_ms FROM steps WHERE run_id = ?1 AND step_ms IS NOT NULL", [.integer(id)])
                .compactMap { r -> Double? in if case .real(let x) = r[0] { x } else { nil } }
            guard !ms.isEmpty else { continue }
            timings.append(StepTiming(name: name, flopsPerStep: SweepEstimate.flopsPerStep(config), threads: threads,
                                      secondsPerStep: SweepEstimate.median(ms) / 1000))
        }
        return timings
    }
}
