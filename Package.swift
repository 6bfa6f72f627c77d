// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "iommuscope",
    products: [
        .library(name: "IOMMUCore", targets: ["IOMMUCore"]),
        .executable(name: "iommuscope", targets: ["iommuscope"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // The translation core: iommufd objects, IOAS, platforms, domains. No UI, no I/O.
        .target(name: "IOMMUCore"),
        // Parser and runner of the scenario language (../shared/SCRIPT.md).
        .target(name: "ScenarioScript", dependencies: ["IOMMUCore"]),
        .executableTarget(
            name: "iommuscope",
            dependencies: [
                "IOMMUCore", "ScenarioScript",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            resources: [.copy("Scenarios")]
        ),
        // Helpers shared by the test targets (a seeded generator for randomised tests).
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "IOMMUCoreTests", dependencies: ["IOMMUCore", "TestSupport"]),
        .testTarget(
            name: "ScenarioScriptTests",
            dependencies: ["ScenarioScript", "IOMMUCore", "TestSupport"],
            resources: [.copy("Scenarios")]
        ),
    ]
)
