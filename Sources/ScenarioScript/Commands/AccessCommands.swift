import IOMMUCore
import Presentation

// MARK: Selftest access ops (IOMMU_TEST_OP_CREATE_ACCESS and the ops on its file)

let accessCreateFlagNames: [String: UInt64] = ["needs_pin_pages": UInt64(MockAccessFlags.needsPinPages)]
let accessPagesFlagNames: [String: UInt64] = ["write": UInt64(MockAccessFlags.write)]
let accessRWFlagNames: [String: UInt64] = ["write": UInt64(MockAccessFlags.write), "slow_path": UInt64(MockAccessFlags.slowPath)]

/// Little-endian words as the bytes of a buffer of `length` bytes (zero past the words).
private func bytes(of words: [UInt64], length: UInt64) -> [UInt8] {
    let all = words.flatMap(\.littleEndianBytes)
    return Array(all.prefix(Int(min(length, UInt64(all.count)))))
}

let accessCommands: [CommandSpec] = [
    CommandSpec(name: "test_create_access", arguments: [
        ArgumentSpec(name: "ioas_id", kind: .integer(bits: 32), required: true),
        ArgumentSpec(name: "flags", kind: .flags(accessCreateFlagNames, bits: 32)),
    ], outputs: ["out_access_fd"]) { session, args throws(ScenarioError) in
        let ioas = try args.u32("ioas_id"), flags = try args.u32("flags")
        return outcome { () throws(Refusal) in
            [("out_access_fd", .integer(UInt64(try session.iommufd.testCreateAccess(ioasID: ioas, flags: flags).fd)))]
        }
    },
    CommandSpec(name: "test_access_replace_ioas", arguments: [
        ArgumentSpec(name: "id", kind: .integer(bits: 32), required: true), ArgumentSpec(name: "ioas_id", kind: .integer(bits: 32), required: true),
    ], outputs: []) { session, args throws(ScenarioError) in
        let access = try args.u32("id"), ioas = try args.u32("ioas_id")
        return outcome { () throws(Refusal) in try session.iommufd.testAccessReplaceIOAS(accessFD: access, ioasID: ioas); return [] }
    },
    CommandSpec(name: "test_access_pages", arguments: [
        ArgumentSpec(name: "id", kind: .integer(bits: 32), required: true), ArgumentSpec(name: "iova", kind: .integer(bits: 64), required: true),
        ArgumentSpec(name: "length", kind: .integer(bits: 64), required: true),
        ArgumentSpec(name: "flags", kind: .flags(accessPagesFlagNames, bits: 32)), ArgumentSpec(name: "uptr", kind: .integer(bits: 64)),
    ], outputs: ["out_access_pages_id"]) { session, args throws(ScenarioError) in
        let access = try args.u32("id"), iova = try args.integer("iova"), length = try args.integer("length"), flags = try args.u32("flags")
        let uptr: UInt64? = args.has("uptr") ? try args.integer("uptr") : nil
        return outcome { () throws(Refusal) in
            let pin = try session.iommufd.testAccessPages(accessFD: access, iova: iova, length: length, flags: flags, uptr: uptr)
            return [("out_access_pages_id", .integer(UInt64(pin)))]
        }
    },
    CommandSpec(name: "test_destroy_access_pages", arguments: [
        ArgumentSpec(name: "id", kind: .integer(bits: 32), required: true),
        ArgumentSpec(name: "access_pages_id", kind: .integer(bits: 32), required: true),
    ], outputs: []) { session, args throws(ScenarioError) in
        let access = try args.u32("id"), pin = try args.u32("access_pages_id")
        return outcome { () throws(Refusal) in try session.iommufd.testDestroyAccessPages(accessFD: access, pinID: pin); return [] }
    },
    // The buffer (uptr) is inline: value= gives the bytes written, the bytes read come back as value.
    CommandSpec(name: "test_access_rw", arguments: [
        ArgumentSpec(name: "id", kind: .integer(bits: 32), required: true), ArgumentSpec(name: "iova", kind: .integer(bits: 64), required: true),
        ArgumentSpec(name: "length", kind: .integer(bits: 64), required: true),
        ArgumentSpec(name: "flags", kind: .flags(accessRWFlagNames, bits: 32)), ArgumentSpec(name: "value", kind: .words),
    ], outputs: ["value"]) { session, args throws(ScenarioError) in
        let access = try args.u32("id"), iova = try args.integer("iova"), length = try args.integer("length"), flags = try args.u32("flags")
        let written = try args.words("value") ?? []
        if flags & MockAccessFlags.write != 0, length <= MockAccessFlags.maximumLength, UInt64(written.count) * 8 < length {
            throw args.invalid("value", "a write of \(length) bytes needs value= words holding them (little-endian, 8 bytes a word)")
        }
        return outcome { () throws(Refusal) in
            let read = try session.iommufd.testAccessRW(accessFD: access, iova: iova, length: length, flags: flags,
                                                        data: bytes(of: written, length: length))
            return flags & MockAccessFlags.write != 0 ? [] : [("value", .words(ObjectText.words(read)))]
        }
    },
]
