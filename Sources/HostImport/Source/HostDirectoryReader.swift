/// A reader of one directory of a host tree (`sys/kernel/debug/iommu/intel/`,
/// `sys/kernel/debug/iommu/amd/`): everything it knows comes from `source`, and what it could
/// not understand becomes located warnings while it goes on. `HostReader` calls one per part.
public protocol HostDirectoryReader {
    associatedtype Output
    static func read(from source: any HostSource, warnings: inout [ImportWarning]) -> Output
}
