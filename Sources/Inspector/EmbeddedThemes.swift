// Generated from Themes/*.toml by EmbeddedResourceTests; do not edit.
// Regenerate: UPDATE_EMBEDDED=1 swift test --skip-build --filter EmbeddedResourceTests

extension InspectorThemes {
    static let shipped: [String: String] = [
        "dark": #"""
# The default theme: the terminal's own background, colours for meaning, attributes so that
# nothing depends on colour alone.
name = "dark"

[styles]
background = { fg = "default", bg = "default" }
text = { fg = "default" }
dim = { fg = "bright-black" }
heading = { fg = "cyan", bold = true }
link = { fg = "blue", underline = true }
match = { fg = "black", bg = "yellow" }
selection = { reverse = true, bold = true }
selection_unfocused = { reverse = true }
border = { fg = "bright-black" }
border_focused = { fg = "cyan", bold = true }
title = { fg = "default" }
title_focused = { fg = "cyan", bold = true }
title_bar = { fg = "black", bg = "cyan", bold = true }
status_bar = { fg = "black", bg = "white" }
overlay = { fg = "default", bg = "black" }
warning = { fg = "yellow", bold = true }
fault = { fg = "red", bold = true }
stale = { fg = "bright-white", bg = "red", bold = true }
changed = { fg = "yellow", bold = true }
stage1 = { fg = "green" }
stage2 = { fg = "magenta" }
mapped = { fg = "green", bold = true }
reserved = { fg = "red" }
sw_msi = { fg = "magenta", bold = true }
msi = { fg = "magenta" }
direct = { fg = "yellow" }
outside = { fg = "bright-black" }
allowed = { fg = "blue" }
hole = { fg = "default" }

"""#,
        "high-contrast": #"""
# High contrast: pure white on pure black, bright colours only, bold where it helps, no dim
# grey text; bars and selections in reverse video (black on white). Meaning never rests on
# colour alone: the attributes tell the roles apart too.
name = "high-contrast"

[styles]
background = { fg = "#ffffff", bg = "#000000" }
text = { fg = "#ffffff", bg = "#000000" }
dim = { fg = "#ffffff", bg = "#000000" }
heading = { fg = "bright-cyan", bg = "#000000", bold = true, underline = true }
link = { fg = "bright-cyan", bg = "#000000", underline = true }
match = { fg = "#000000", bg = "bright-yellow", bold = true }
selection = { fg = "#000000", bg = "#ffffff", bold = true }
selection_unfocused = { fg = "#000000", bg = "bright-cyan" }
border = { fg = "#ffffff", bg = "#000000" }
border_focused = { fg = "bright-yellow", bg = "#000000", bold = true }
title = { fg = "#ffffff", bg = "#000000" }
title_focused = { fg = "bright-yellow", bg = "#000000", bold = true }
title_bar = { fg = "#000000", bg = "#ffffff", bold = true }
status_bar = { fg = "#000000", bg = "#ffffff", bold = true }
overlay = { fg = "#ffffff", bg = "#000000" }
warning = { fg = "bright-yellow", bg = "#000000", bold = true }
fault = { fg = "bright-red", bg = "#000000", bold = true, underline = true }
stale = { fg = "#000000", bg = "bright-red", bold = true }
changed = { fg = "bright-yellow", bg = "#000000", bold = true }
stage1 = { fg = "bright-green", bg = "#000000", bold = true }
stage2 = { fg = "bright-magenta", bg = "#000000", bold = true }
mapped = { fg = "bright-green", bg = "#000000", bold = true }
reserved = { fg = "bright-red", bg = "#000000", bold = true }
sw_msi = { fg = "bright-magenta", bg = "#000000", bold = true, underline = true }
msi = { fg = "bright-magenta", bg = "#000000", bold = true }
direct = { fg = "bright-yellow", bg = "#000000", bold = true }
outside = { fg = "#ffffff", bg = "#000000", underline = true }
allowed = { fg = "#87afff", bg = "#000000", bold = true }
hole = { fg = "#ffffff", bg = "#000000" }

"""#,
        "light": #"""
# For light terminal backgrounds: darker colours, no bright foregrounds.
name = "light"

[styles]
background = { fg = "default", bg = "default" }
text = { fg = "default" }
dim = { fg = "244" }
heading = { fg = "blue", bold = true }
link = { fg = "blue", underline = true }
match = { fg = "black", bg = "#ffd75f" }
selection = { reverse = true, bold = true }
selection_unfocused = { reverse = true }
border = { fg = "244" }
border_focused = { fg = "blue", bold = true }
title = { fg = "default" }
title_focused = { fg = "blue", bold = true }
title_bar = { fg = "white", bg = "blue", bold = true }
status_bar = { fg = "black", bg = "252" }
overlay = { fg = "black", bg = "255" }
warning = { fg = "#af5f00", bold = true }
fault = { fg = "red", bold = true }
stale = { fg = "white", bg = "red", bold = true }
changed = { fg = "#af5f00", bold = true }
stage1 = { fg = "#005f00" }
stage2 = { fg = "#5f005f" }
mapped = { fg = "#005f00", bold = true }
reserved = { fg = "#870000" }
sw_msi = { fg = "#870087", bold = true }
msi = { fg = "#870087" }
direct = { fg = "#875f00" }
outside = { fg = "244" }
allowed = { fg = "blue" }
hole = { fg = "default" }

"""#,
        "mono": #"""
# No colour at all: bold, reverse and underline carry the meaning.
name = "mono"

[styles]
background = {}
text = {}
dim = { dim = true }
heading = { bold = true }
link = { underline = true }
match = { reverse = true, underline = true }
selection = { reverse = true, bold = true }
selection_unfocused = { reverse = true }
border = {}
border_focused = { bold = true }
title = {}
title_focused = { bold = true }
title_bar = { reverse = true, bold = true }
status_bar = { reverse = true }
overlay = {}
warning = { bold = true }
fault = { bold = true, underline = true }
stale = { reverse = true, bold = true, underline = true }
changed = { bold = true }
stage1 = {}
stage2 = { underline = true }
mapped = { bold = true }
reserved = { reverse = true }
sw_msi = { reverse = true, bold = true }
msi = { reverse = true }
direct = { underline = true }
outside = { dim = true }
allowed = { underline = true }
hole = {}

"""#,
    ]
}
