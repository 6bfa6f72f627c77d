#!/usr/bin/env bash
# Regenerates Screenshots/*.png from real runs: the inspector runs in tmux, its raw output
# stream is recorded with pipe-pane, keys are sent, and Scripts/render_terminal.py renders
# the final screen with pyte and Pillow (pip install pyte pillow). No theme.toml or keys.toml
# of the user's is read (XDG_CONFIG_HOME points nowhere).
set -euo pipefail
cd "$(dirname "$0")/.."
swift build --product iommuscope >/dev/null
binary=$(swift build --show-bin-path)/iommuscope
out=Screenshots
mkdir -p "$out"

# shoot NAME COLUMNS ROWS "ARGUMENTS" KEYS...   (a NAME starting with light- renders on a light background)
shoot() {
  local name=$1 columns=$2 rows=$3 arguments=$4; shift 4
  local background=dark
  case $name in light*) background=light ;; esac
  local socket="iommuscope-shots-$$" stream
  stream=$(mktemp)
  tmux -L "$socket" -f /dev/null new-session -d -s s -x "$columns" -y "$rows" \
    "env -u NO_COLOR XDG_CONFIG_HOME=/nonexistent TERM=xterm-256color LANG=C.UTF-8 $binary $arguments; sleep 30" </dev/null >/dev/null 2>&1
  tmux -L "$socket" pipe-pane -o -t s "cat >> $stream"
  tmux -L "$socket" send-keys -t s C-l
  sleep 0.5
  for key in "$@"; do tmux -L "$socket" send-keys -t s "$key"; sleep 0.15; done
  sleep 0.5
  tmux -L "$socket" kill-server
  python3 Scripts/render_terminal.py "$stream" "$columns" "$rows" "$out/$name.png" "$background"
  rm -f "$stream"
  echo "$out/$name.png"
}

shoot tree 120 40 "" 
shoot details 120 40 "" / H W P T _ N E S T E D Enter 2
shoot help 120 40 "" ?
shoot pagetable 120 40 "" / H W P T _ N E S T E D Enter 3 Enter Enter Enter
shoot walk 120 40 "" / D E V I C E Space 1 Enter 4
shoot walk-step 120 40 "" / D E V I C E Space 1 Enter 4 s Space Space Space Space Space
shoot iovamap 120 40 "" 5 j j j
shoot tree-80x24 80 24 ""
shoot light 120 40 "--theme light" / D E V I C E Space 1 Enter 2
shoot host 120 40 "tui --host Tests/HostTrees/intel-kabylake" / v t d - s s Enter n n Enter Enter Enter Enter
shoot timeline 120 40 "tui --qemu-trace Tests/HostImportTests/Fixtures/samples/qemu-trace/iommufd-backend-mtty-mdev-x86-2024.txt" k k Enter
shoot high-contrast 120 40 "--theme high-contrast" / D E V I C E Space 1 Enter 4
shoot lesson 100 30 "learn 4" n n n n n n Enter
shoot diff 120 40 "tui Examples/stale_iotlb_vtd.iommu" 7 '#' 1 8 Enter m '}' 9
shoot reason 120 40 "" : d e s t r o y Space i d = i o a s Enter 7
