// swift-tools-version:6.0
// LongCat Lab: a CPU research workbench for LongCat-Flash-style mixture-of-experts routing.
import PackageDescription

/// Numeric modules are compiled for AVX2 + FMA (about 2x on vectorisable loops); LabCPU checks
/// the CPU at start-up and explains, rather than crashing, where that is missing.
let fast: [SwiftSetting] = [
    .unsafeFlags(["-target-cpu", "haswell", "-enforce-exclusivity=unchecked"]),
]

let package = Package(
    name: "LongCatLab",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "longcat-lab", targets: ["longcat-lab"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // System libraries and the start-up CPU check.
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS"),
        .systemLibrary(name: "CSQLite", path: "Sources/CSQLite"),
        .target(name: "LabCPU", dependencies: ["CBLAS"], linkerSettings: [.linkedLibrary("openblas")]),

        // The lab, bottom up: kernels know nothing of the model; routing needs no BLAS;
        // records know rows, not layers.
        .target(name: "LabKernels", dependencies: ["CBLAS", "LabCPU"], swiftSettings: fast),
        .target(name: "LabRouting", dependencies: ["LabConfig"], swiftSettings: fast),
        .target(name: "LabConfig"),
        .target(name: "LabModel", dependencies: ["LabKernels", "LabRouting", "LabConfig"], swiftSettings: fast),
        .target(name: "LabData", dependencies: ["LabConfig"], resources: [.copy("Resources/tinyshakespeare.txt")], swiftSettings: fast),
        .target(name: "LabRecords", dependencies: ["CSQLite"]),
        .target(name: "LabSafetensors"),
        // Every statistic a report prints (final window, settling, paired differences, guards,
        // load stability), read from the records.
        .target(name: "LabAnalysis", dependencies: ["LabRecords", "LabRouting"]),
        .target(name: "LabTraining",
                dependencies: ["LabModel", "LabData", "LabRecords", "LabAnalysis", "LabConfig", "LabRouting", "LabKernels", "LabSafetensors"],
                swiftSettings: fast),
        .target(name: "LabPlots", dependencies: ["LabRecords", "LabAnalysis"]),
        .target(name: "LabSimulation", dependencies: ["LabConfig", "LabRouting", "LabRecords"], swiftSettings: fast),
        .target(name: "LabInterchange",
                dependencies: ["LabConfig", "LabModel", "LabSafetensors", "LabTraining", "LabRecords"]),
        .target(name: "LabSweeps", dependencies: ["LabConfig", "LabRecords", "LabAnalysis", "LabPlots", "LabTraining", "LabRouting", "LabSafetensors"]),
        .executableTarget(
            name: "longcat-lab",
            dependencies: [
                "LabKernels", "LabRouting", "LabConfig", "LabModel", "LabData", "LabRecords", "LabAnalysis",
                "LabTraining", "LabSimulation", "LabSafetensors", "LabInterchange", "LabPlots", "LabSweeps",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: fast),

        // Tests: one target per module, shared helpers, and end-to-end runs of the executable.
        .target(name: "TestSupport", dependencies: ["LabKernels"], path: "Tests/TestSupport", swiftSettings: fast),
        .testTarget(name: "LabKernelsTests", dependencies: ["LabKernels", "TestSupport"], swiftSettings: fast),
        .testTarget(name: "LabRoutingTests", dependencies: ["LabRouting", "TestSupport"], swiftSettings: fast),
        .testTarget(name: "LabConfigTests", dependencies: ["LabConfig"]),
        .testTarget(name: "LabModelTests", dependencies: ["LabModel", "TestSupport"], swiftSettings: fast),
        .testTarget(name: "LabDataTests", dependencies: ["LabData"]),
        .testTarget(name: "LabRecordsTests", dependencies: ["LabRecords"]),
        .testTarget(name: "LabSafetensorsTests", dependencies: ["LabSafetensors"]),
        .testTarget(name: "LabTrainingTests", dependencies: ["LabTraining", "TestSupport"], swiftSettings: fast),
        .testTarget(name: "LabAnalysisTests", dependencies: ["LabAnalysis", "LabRecords", "LabPlots", "LabSweeps", "LabTraining", "LabConfig", "LabSimulation"]),
        .testTarget(name: "LabPlotsTests", dependencies: ["LabPlots", "LabRecords"]),
        .testTarget(name: "LabSimulationTests", dependencies: ["LabSimulation"], swiftSettings: fast),
        .testTarget(name: "LabSweepsTests", dependencies: ["LabSweeps", "LabConfig", "LabRecords", "longcat-lab"]),
        .testTarget(name: "EndToEndTests", dependencies: ["longcat-lab", "LabRecords"]),
        // The reference fixture is written by scripts/reference/make_fixture.py.
        .testTarget(name: "LabInterchangeTests",
                    dependencies: ["LabInterchange", "LabModel", "LabSafetensors", "LabTraining", "LabRecords", "LabConfig", "LabKernels"],
                    resources: [.copy("Fixtures/reference")],
                    swiftSettings: fast),
    ]
)
