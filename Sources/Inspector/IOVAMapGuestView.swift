import IOMMUCore
import Presentation
import TerminalUI

/// The guest's view in the IOVA map (5): on a nested HWPT, the stage-1 address space its
/// guest's table maps, one row per range of guest IOVAs with the IPA/GPA stage 1 gives and
/// the host PA stage 2 gives that, read once per model change and nested HWPT.
extension IOVAMapPane {
    /// The nested HWPT selected, when its guest's view is shown.
    func guestNested(_ context: RenderContext) -> HWPTNested? {
        guard !ioasOverGuest, let selection = context.selection, case .hwptNested(let nested)? = context.reader.object(selection) else {
            return nil
        }
        return nested
    }

    mutating func toggleGuest(_ context: RenderContext) -> PaneAction {
        guard let selection = context.selection, case .hwptNested? = context.reader.object(selection) else {
            return .message("g shows a HWPT_NESTED's guest view: select one in the tree (1)")
        }
        ioasOverGuest.toggle()
        return .none
    }

    /// The rows of `nested`'s guest view, read again when the model or the HWPT changed.
    mutating func guestMappings(_ nested: HWPTNested, context: RenderContext) -> [GuestMapping] {
        let key = "\(nested.id):\(context.model.generation)"
        if let guest, guest.key == key { return guest.mappings }
        if guest?.nested != nested.id { guestList = ListState() }
        let mappings = context.reader.guestMappings(of: nested)
        guest = (key, nested.id, mappings)
        return mappings
    }

    /// "0x12345000 +4K  → IPA 0x40100000 → PA 0x103f00000".
    func guestText(_ mapping: GuestMapping, _ nested: HWPTNested, symbols: Symbols) -> String {
        let space = (nested.stage2.domain.table as? DescriptorPageTable)?.format.intermediateAddressName ?? "GPA"
        let final = mapping.output.map { "PA \($0.hex)" } ?? "PA unmapped by stage 2"
        return "\(mapping.iova.start.hex) +\(Units.size(of: mapping.iova))  \(symbols.arrow) \(space) \(mapping.intermediate.hex)"
            + " \(symbols.arrow) \(final)"
    }

    mutating func renderGuest(_ nested: HWPTNested, into buffer: inout CellBuffer, area: Rect, context: RenderContext) {
        let symbols = context.symbols, theme = context.theme
        let rows = guestMappings(nested, context: context)
        func line(_ text: String, _ y: Int, _ role: String) {
            guard y < area.maxY else { return }
            buffer.put(Widgets.fit(text, width: area.width, symbols: symbols), x: area.x, y: y, style: theme[role])
        }
        line("HWPT_NESTED \(nested.id) guest's view: stage-1 IOVA \(symbols.arrow) stage 1 \(symbols.arrow) stage 2 (g: the IOAS map)",
             area.y, "heading")
        line(rows.isEmpty ? "The guest's stage-1 table maps nothing (or the guest has no table: see the page table, 3)."
             : "\(rows.count) guest IOVA range\(rows.count == 1 ? "" : "s") mapped", area.y + 1, "dim")
        height = max(1, area.height - 2)
        guestList.move(by: 0, count: rows.count, height: height)
        for (offset, index) in (guestList.offset..<min(rows.count, guestList.offset + height)).enumerated() {
            let y = area.y + 2 + offset
            let mapping = rows[index]
            line((index == guestList.selected ? symbols.collapsed : " ") + " " + guestText(mapping, nested, symbols: symbols), y,
                 mapping.output == nil ? "warning" : "mapped")
            if index == guestList.selected {
                buffer.restyle(Rect(x: area.x, y: y, width: area.width, height: 1)) {
                    $0 = context.focused ? theme["selection"] : theme["selection_unfocused"]
                }
            }
        }
    }

    mutating func handleGuest(_ key: Key, _ nested: HWPTNested, context: RenderContext) -> PaneAction {
        let rows = guestMappings(nested, context: context)
        return guestList.handle(key, count: rows.count, height: height) ? .none : .ignored
    }
}
