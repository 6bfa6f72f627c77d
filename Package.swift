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
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
    ],
    targets: [
        // The translation core: iommufd objects, IOAS, platforms, domains. No UI, no I/O.
        .target(name: "IOMMUCore"),
        // The text every front end prints of the core's answers: units, words, escaped input.
        .target(name: "Presentation", dependencies: ["IOMMUCore"]),
        // Parser and runner of the scenario language (docs/scenario-language.md).
        .target(name: "ScenarioScript", dependencies: ["IOMMUCore", "Presentation"]),
        // Readers of a real host (sysfs, procfs, debugfs, captures) and of kernel fault logs:
        // text in, typed snapshots and fault records out. The core imports nothing of it.
        .target(name: "HostImport", dependencies: ["IOMMUCore", "Presentation", "ScenarioScript"]),
        // Snapshots of the whole model as versioned JSON (docs/snapshots.md) and diffs of two,
        // stale cache entries included.
        .target(name: "Snapshots", dependencies: ["IOMMUCore", "Presentation", "ScenarioScript"]),
        // ncursesw as a system library (pkg-config ncursesw; Debian libncurses-dev).
        .systemLibrary(name: "CNcurses", pkgConfig: "ncursesw", providers: [.apt(["libncurses-dev"])]),
        // Cell buffer, layout, widgets, input events, themes; a curses and an in-memory backend.
        .target(name: "TerminalUI", dependencies: ["CNcurses", .product(name: "TOMLKit", package: "TOMLKit")]),
        // The inspector's views and key map: draws the core's answers, makes no curses calls.
        // Its themes are compiled in (EmbeddedThemes.swift, generated from the top-level Themes/).
        .target(name: "Inspector", dependencies: ["TerminalUI", "ScenarioScript", "IOMMUCore", "Presentation", "HostImport", "Snapshots"]),
        // Plain C walks, IOTLB probe and map loop over the same descriptors: the benchmarks' reference.
        .target(name: "CReference"),
        // The `bench` rigs: each validates its parameters and prints its figures (and their ratio to CReference).
        .target(name: "Benchmarks", dependencies: ["IOMMUCore", "ScenarioScript", "TerminalUI", "Inspector", "HostImport", "CReference"]),
        .executableTarget(
            name: "iommuscope",
            dependencies: [
                "IOMMUCore", "Presentation", "ScenarioScript", "TerminalUI", "Inspector", "Benchmarks", "HostImport", "Snapshots",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            exclude: ["Scenarios"]  // compiled in: EmbeddedScenarios.swift
        ),
        // Helpers shared by the test targets (a seeded generator for randomised tests).
        .target(name: "TestSupport", dependencies: ["IOMMUCore"], path: "Tests/TestSupport"),
        .testTarget(name: "IOMMUCoreTests", dependencies: ["IOMMUCore", "TestSupport"]),
        .testTarget(name: "TerminalUITests", dependencies: ["TerminalUI"]),
        .testTarget(name: "HostImportTests", dependencies: ["HostImport", "IOMMUCore", "ScenarioScript", "TestSupport"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "PresentationTests", dependencies: ["Presentation", "IOMMUCore"]),
        // Drives the real binary in tmux; depending on the executable makes swift test build it.
        .testTarget(name: "EndToEndTests", dependencies: ["iommuscope", "TestSupport"]),
        // Parses the command line as the executable does (options and their validation).
        .testTarget(name: "CommandLineTests", dependencies: [
            "iommuscope", "Benchmarks", "Inspector", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], resources: [.copy("Pictures")]),
        .testTarget(name: "InspectorTests", dependencies: ["Inspector", "TerminalUI", "ScenarioScript", "HostImport", "IOMMUCore", "Snapshots",
                                                      "TestSupport"],
                    resources: [.copy("Frames")]),
        // Also runs the `snapshot` and `diff` subcommands: depending on the executable makes swift test build it.
        .testTarget(name: "SnapshotsTests", dependencies: ["Snapshots", "ScenarioScript", "IOMMUCore", "iommuscope"]),
        .testTarget(
            name: "ScenarioScriptTests",
            dependencies: ["ScenarioScript", "IOMMUCore", "TestSupport"],
            // The transcripts are read beside the test's source (#filePath), not from the bundle.
            exclude: ["Transcripts"],
            resources: [.copy("Scenarios")]
        ),
    ]
)
