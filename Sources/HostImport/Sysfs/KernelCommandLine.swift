/// The IOMMU words of `/proc/cmdline` (host-inputs §2.4), typed; the line itself stays
/// verbatim in `HostSnapshot.cmdline`.
///
/// The kernel's `parse_args()` splits on spaces outside double quotes, and a later word
/// overrides an earlier one of the same parameter, so the last occurrence wins here too.
/// Each parameter's values are those of `Documentation/admin-guide/kernel-parameters.txt`;
/// a value the kernel does not know is kept as written.
public struct KernelCommandLine: Sendable, Equatable {
    /// One IOMMU parameter as written (`intel_iommu=on,sm_on`), in command-line order.
    public struct Word: Sendable, Equatable {
        public var parameter: Parameter
        /// The text after `=` (empty for a bare `iommu.strict`).
        public var value: String
    }

    /// The parameters that decide how a host's IOMMUs translate.
    public enum Parameter: String, Sendable, Equatable, CaseIterable {
        /// `intel_iommu=on|off|sm_on|sm_off|igfx_off|tboot_noforce|...` (comma-separated).
        case intelIOMMU = "intel_iommu"
        /// `amd_iommu=off|force_isolation|pgtbl_v1|pgtbl_v2|...` (comma-separated).
        case amdIOMMU = "amd_iommu"
        /// `iommu=pt|nopt|off|force|soft|...` (x86: `pt` makes default domains identity).
        case iommu
        /// `iommu.passthrough=0|1`: default domains identity (1) or translated (0).
        case passthrough = "iommu.passthrough"
        /// `iommu.strict=0|1`: lazy (`DMA-FQ`, 0) or strict (`DMA`, 1) invalidation.
        case strict = "iommu.strict"
        /// `arm-smmu-v3.disable_bypass=0|1`: what an SMMUv3 does with a stream it has no STE for.
        case disableBypass = "arm-smmu-v3.disable_bypass"
    }

    public var words: [Word] = []

    public init(_ line: String) {
        for word in Self.split(line) {
            let parts = word.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = parts.first, let parameter = Parameter(rawValue: String(name)) else { continue }
            words.append(Word(parameter: parameter, value: parts.count == 2 ? String(parts[1]) : ""))
        }
    }

    /// The value the kernel uses: the last word of that parameter.
    public func value(of parameter: Parameter) -> String? { words.last { $0.parameter == parameter }?.value }

    /// What the default domains are, as the words ask: `iommu=pt` or `iommu.passthrough=1`
    /// give identity domains, `iommu.passthrough=0` or `iommu=nopt` translated ones. Nil when
    /// the command line does not say (the Kconfig default applies).
    public var passthrough: Bool? {
        var result: Bool?
        for word in words {
            switch word.parameter {
            case .iommu where word.value.split(separator: ",").contains("pt"): result = true
            case .iommu where word.value.split(separator: ",").contains("nopt"): result = false
            case .passthrough: result = Self.boolean(word.value) ?? result
            default: break
            }
        }
        return result
    }

    /// `iommu.strict=1` (strict, `DMA`) or `0` (lazy, `DMA-FQ`); nil when unsaid.
    public var strict: Bool? { value(of: .strict).flatMap(Self.boolean) }

    /// `kstrtobool()`: `1`/`y`/`Y`/`on` and `0`/`n`/`N`/`off`; a bare parameter is true.
    static func boolean(_ value: String) -> Bool? {
        switch value.lowercased() {
        case "", "1", "y", "yes", "on": true
        case "0", "n", "no", "off": false
        default: nil
        }
    }

    /// A sentence per word, for the human report.
    public var explanations: [String] {
        words.map { word in
            let written = "\(word.parameter.rawValue)\(word.value.isEmpty ? "" : "=" + word.value)"
            return "\(written): \(Self.meaning(word))"
        }
    }

    private static func meaning(_ word: Word) -> String {
        let options = word.value.split(separator: ",").map(String.init)
        switch word.parameter {
        case .intelIOMMU:
            var said: [String] = []
            for option in options {
                switch option {
                case "on": said.append("VT-d DMA remapping on")
                case "off": said.append("VT-d DMA remapping off")
                case "sm_on": said.append("scalable mode where the unit has it")
                case "sm_off": said.append("legacy mode even where scalable mode exists")
                case "igfx_off": said.append("no translation for the integrated graphics")
                default: said.append("\(option) (not decoded)")
                }
            }
            return said.joined(separator: "; ")
        case .amdIOMMU:
            return options.map { option in
                switch option {
                case "off": "AMD-Vi off"
                case "force_isolation": "every device in a DMA domain, even where firmware asked for unity maps"
                case "pgtbl_v1": "v1 (host) page tables for DMA domains"
                case "pgtbl_v2": "v2 (guest-format) page tables for DMA domains"
                default: "\(option) (not decoded)"
                }
            }.joined(separator: "; ")
        case .iommu:
            return options.map { option in
                switch option {
                case "pt": "passthrough: default domains are identity (1:1), DMA is not translated"
                case "nopt": "default domains translate DMA"
                case "off": "IOMMU off (x86)"
                case "force": "IOMMU forced on"
                default: "\(option) (not decoded)"
                }
            }.joined(separator: "; ")
        case .passthrough:
            return described(word.value, on: "default domains are identity (1:1)", off: "default domains translate DMA")
        case .strict:
            return described(word.value, on: "strict invalidation: unmaps flush the IOTLB at once (DMA)",
                             off: "lazy invalidation: unmaps are flushed in batches (DMA-FQ)")
        case .disableBypass:
            return described(word.value, on: "streams without an STE abort", off: "streams without an STE bypass translation")
        }
    }

    private static func described(_ value: String, on: String, off: String) -> String {
        switch boolean(value) {
        case true?: on
        case false?: off
        case nil: "not a boolean the kernel reads"
        }
    }

    /// `parse_args()` / `next_arg()`: words split on blanks outside double quotes; quotes dropped.
    static func split(_ line: String) -> [String] {
        var words: [String] = []
        var current = ""
        var quoted = false
        for character in line {
            if character == "\"" { quoted.toggle(); continue }
            if !quoted, character == " " || character == "\t" || character == "\n" {
                if !current.isEmpty { words.append(current); current = "" }
            } else {
                current.append(character)
            }
        }
        if !current.isEmpty { words.append(current) }
        return words
    }
}
