/// A reader of one part of a host tree (a sysfs or debugfs directory): everything it knows
/// comes from `source`, and what it could not understand becomes located warnings while it
/// goes on. `HostReader` calls one per part.
public protocol HostFileReader {
    associatedtype Output
    static func read(from source: any HostSource, warnings: inout [ImportWarning]) -> Output
}
