import Testing
@testable import IOMMUCore

/// The typed fault records: the SMMUv3 event record words (checked against records real
/// SMMUs wrote, quoted in Linux patch descriptions, and hand-computed ones), and the VT-d
/// fault recording register.
struct FaultRecordTests {
    /// `event 0x10 received: 0x0000010000000010 0x0000020000000000 0x000000090000f040 0x0`:
    /// an unprivileged data write by SID 0x100, stage 1, CLASS IN.
    @Test func smmuTranslationFaultMatchesARealRecord() {
        var event = SMMUv3Event(.F_TRANSLATION, streamID: 0x100, inputAddress: 0x9_0000_f040)
        event.read = false
        #expect(event.words == [0x0000_0100_0000_0010, 0x0000_0200_0000_0000, 0x0000_0009_0000_f040, 0])
        #expect(SMMUv3Event(words: event.words) == event)
    }

    /// A privileged read (PnU and RnW set), and a stalled read with STAG 0x3f.
    @Test func smmuPrivilegeAndStallBits() {
        var privileged = SMMUv3Event(.F_TRANSLATION, streamID: 0x11, inputAddress: 0x9b0c_c000)
        privileged.privileged = true
        #expect(privileged.words[0] == 0x0000_0011_0000_0010)
        #expect(privileged.words[1] == 0x0000_020a_0000_0000)
        let stalled = SMMUv3Event(words: [0x0000_3501_0000_0010, 0x0000_0208_8000_003f, 0xa50e_0800, 0])
        #expect(stalled?.stag == 0x3f)
        #expect(stalled?.read == true)
        #expect(stalled?.eventClass == .IN)
        #expect(stalled?.streamID == 0x3501)
        #expect(stalled?.words == [0x0000_3501_0000_0010, 0x0000_0208_8000_003f, 0xa50e_0800, 0])
    }

    /// A stage-2 fault serving a stage-1 table read, with a substream: SSV, SSID, S2, CLASS
    /// TT, TT_READ and the IPA (bits 51:12 in place) in word 3.
    @Test func smmuStage2TableFaultWithSubstream() {
        var event = SMMUv3Event(.F_TRANSLATION, streamID: 8, substreamID: 5, inputAddress: 0x1000_0000)
        event.stage2 = true
        event.eventClass = .TT
        event.tableRead = true
        event.ipa = 0x7000_0123
        // 0x10 | SSV (bit 11) | 5 << 12 | 8 << 32.
        #expect(event.words[0] == 0x0000_0008_0000_5810)
        // RnW (35) | S2 (39) | CLASS 1 (40) | TT_READ (44).
        #expect(event.words[1] == 0x0000_1188_0000_0000)
        #expect(event.words[3] == 0x7000_0000)
        var decoded = event
        decoded.ipa = 0x7000_0000
        #expect(SMMUv3Event(words: event.words) == decoded)
        #expect(event.bytes.count == 32)
        #expect(event.bytes[0] == 0x10 && event.bytes[1] == 0x58 && event.bytes[4] == 8)
    }

    /// Fetch events keep the fetch address (bits 51:3) in word 3 and no translation bits.
    @Test func smmuFetchEvent() {
        var event = SMMUv3Event(.F_STE_FETCH, streamID: 0x42, inputAddress: 0x1000)
        event.fetchAddress = 0x4000_0028
        #expect(event.words == [0x0000_0042_0000_0003, 0, 0x1000, 0x4000_0028])
        #expect(SMMUv3Event(words: event.words) == event)
        #expect(SMMUv3Event(words: [0xff, 0, 0, 0]) == nil)
        #expect(SMMUv3Event(words: [0x10, 3 << 40, 0, 0]) == nil)
    }

    @Test func smmuEventIDsAreTheSpecCodes() {
        let codes: [SMMUv3Event.ID: UInt8] = [.C_BAD_STREAMID: 0x02, .F_STE_FETCH: 0x03, .C_BAD_STE: 0x04, .F_CD_FETCH: 0x09,
                                              .C_BAD_CD: 0x0a, .F_WALK_EABT: 0x0b, .F_TRANSLATION: 0x10, .F_ADDR_SIZE: 0x11,
                                              .F_ACCESS: 0x12, .F_PERMISSION: 0x13, .F_VMS_FETCH: 0x25]
        for (id, code) in codes { #expect(id.rawValue == code) }
        #expect(SMMUv3Event.ID.F_TRANSLATION.name == "F_TRANSLATION")
    }

    /// FRCD: FI 63:12, SID 79:64, PP 95, FR 103:96, PV 123:104, T 126 (read), F 127.
    @Test func vtdFaultRecordingRegister() {
        let read = VTdFaultRecord(.firstStageNotPresent, sourceID: 0x0300, pasid: 2, address: 0x1234_5678, write: false)
        #expect(read.address == 0x1234_5000)
        #expect(read.registerWords.low == 0x1234_5000)
        let readHigh: UInt64 = 1 << 63 | 1 << 62 | 2 << 40 | 0x71 << 32 | 1 << 31 | 0x0300
        #expect(read.registerWords.high == readHigh)
        let write = VTdFaultRecord(.writeNotSet, sourceID: 0x0100, address: 0x40_0000, write: true)
        let writeHigh: UInt64 = 1 << 63 | 0x05 << 32 | 0x0100
        #expect(write.registerWords.high == writeHigh)
    }
}

/// Linux's fault reason tables: the legacy codes below 0x0E, the scalable-mode ones from 0x30.
struct VTdFaultReasonTests {
    @Test func codesAndStrings() {
        #expect(VTd.FaultReason(rawValue: 0x06)?.linuxString == "PTE Read access is not set")
        #expect(VTd.FaultReason(rawValue: 0x51)?.linuxString == "SM: Present bit in Directory Entry is clear")
        #expect(VTd.FaultReason(rawValue: 0x7b)?.linuxString == "SM: Invalid second-level page table pointer")
        #expect(VTd.FaultReason(rawValue: 0x90)?.linuxString == "SM: A/D bit update needed in first-level entry when set up in no snoop")
        // "Unknown" in Linux's tables: no reason.
        for code: UInt8 in [0x0e, 0x2f, 0x33, 0x49, 0x5e, 0x60, 0x7d, 0x88, 0x91] { #expect(VTd.FaultReason(rawValue: code) == nil) }
        let legacy = VTd.FaultReason.allCases.filter { $0.rawValue < 0x30 }
        #expect(legacy.count == 14)
        #expect(legacy.allSatisfy { !$0.linuxString.hasPrefix("SM: ") })
        #expect(VTd.FaultReason.allCases.filter { $0.rawValue >= 0x30 }.allSatisfy { $0.linuxString.hasPrefix("SM: ") })
    }
}

/// The AMD-Vi event log entry, against the fields of a logged IO_PAGE_FAULT (`device=05:00.0
/// domain=0x0012 address=0xff6101b0 flags=0x0070`: a denied write to a present page).
struct AMDViEventRecordTests {
    @Test func ioPageFaultEntry() {
        let event = AMDViEvent(.IO_PAGE_FAULT, deviceID: 0x0500, domainID: 0x12, address: 0xff61_01b0, flags: [.PR, .RW, .PE])
        #expect(event.words == [0x0000_0500, 0x2070_0012, 0xff61_01b0, 0])
        #expect(AMDViEvent(words: event.words) == event)
        let high = AMDViEvent(.PAGE_TAB_HARDWARE_ERROR, deviceID: 1, domainID: 2, address: 0x1_2345_6788, flags: [])
        #expect(high.words == [1, 0x4000_0002, 0x2345_6788, 1])
        #expect(AMDViEvent(words: [0, 0xf000_0000, 0, 0]) == nil)
    }
}
