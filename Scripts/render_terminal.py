#!/usr/bin/env python3
"""Renders a raw terminal byte stream (tmux pipe-pane output) to a PNG with pyte and Pillow.

usage: render_terminal.py STREAM COLUMNS ROWS OUT.png [light]
Backgrounds are painted first, then glyphs; light box-drawing characters are drawn as lines
so borders join (font glyphs are shorter than the cell).
"""
import sys
import pyte
from PIL import Image, ImageDraw, ImageFont

FONT_DIR = "/usr/share/fonts/truetype/dejavu/"
CELL_W, CELL_H = 10, 20
PALETTE = {
    "black": (0, 0, 0), "red": (205, 49, 49), "green": (13, 188, 121), "brown": (229, 229, 16),
    "yellow": (229, 229, 16), "blue": (36, 114, 200), "magenta": (188, 63, 188), "cyan": (17, 168, 205),
    "white": (229, 229, 229), "brightblack": (102, 102, 102), "brightred": (241, 76, 76),
    "brightgreen": (35, 209, 139), "brightyellow": (245, 245, 67), "brightbrown": (245, 245, 67), "brightblue": (59, 142, 234),
    "brightmagenta": (214, 112, 214), "brightcyan": (41, 184, 219), "brightwhite": (255, 255, 255),
}
FOREGROUND, BACKGROUND = (220, 220, 220), (24, 24, 28)


def color(name, default):
    if name == "default":
        return default
    if name in PALETTE:
        return PALETTE[name]
    if isinstance(name, str) and len(name) == 6:
        try:
            return tuple(int(name[i:i + 2], 16) for i in (0, 2, 4))
        except ValueError:
            return default
    return default


LINES = {  # (up, down, left, right), double = 2
    "─": (0, 0, 1, 1), "│": (1, 1, 0, 0), "┌": (0, 1, 0, 1), "┐": (0, 1, 1, 0), "└": (1, 0, 0, 1), "┘": (1, 0, 1, 0),
    "═": (0, 0, 2, 2), "║": (2, 2, 0, 0), "╔": (0, 2, 0, 2), "╗": (0, 2, 2, 0), "╚": (2, 0, 0, 2), "╝": (2, 0, 2, 0),
}


def draw_line(draw, x, y, glyph, fill):
    up, down, left, right = LINES[glyph]
    cx, cy = x + CELL_W // 2, y + CELL_H // 2
    for amount, box in ((up, (cx, y, cx, cy)), (down, (cx, cy, cx, y + CELL_H)),
                        (left, (x, cy, cx, cy)), (right, (cx, cy, x + CELL_W, cy))):
        if amount == 1:
            draw.line(box, fill=fill, width=1)
        elif amount == 2:
            dx, dy = (2, 0) if box[0] == box[2] else (0, 2)
            draw.line((box[0] - dx, box[1] - dy, box[2] - dx, box[3] - dy), fill=fill, width=1)
            draw.line((box[0] + dx, box[1] + dy, box[2] + dx, box[3] + dy), fill=fill, width=1)


def main():
    global FOREGROUND, BACKGROUND
    stream, columns, rows, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    if len(sys.argv) > 5 and sys.argv[5] == "light":  # a terminal with a light background
        FOREGROUND, BACKGROUND = (30, 30, 30), (250, 250, 245)
    screen = pyte.Screen(columns, rows)
    pyte.ByteStream(screen).feed(open(stream, "rb").read())
    regular = ImageFont.truetype(FONT_DIR + "DejaVuSansMono.ttf", 16)
    bold = ImageFont.truetype(FONT_DIR + "DejaVuSansMono-Bold.ttf", 16)
    image = Image.new("RGB", (columns * CELL_W, rows * CELL_H), BACKGROUND)
    draw = ImageDraw.Draw(image)
    cells = []
    for y in range(rows):
        for x in range(columns):
            char = screen.buffer[y][x]
            fg, bg = color(char.fg, FOREGROUND), color(char.bg, BACKGROUND)
            if char.fg in PALETTE and char.bold and not char.fg.startswith("bright"):
                fg = PALETTE.get("bright" + char.fg, fg)
            if char.reverse:
                fg, bg = bg, fg
            cells.append((x, y, char, fg, bg))
            draw.rectangle((x * CELL_W, y * CELL_H, (x + 1) * CELL_W - 1, (y + 1) * CELL_H - 1), fill=bg)
    for x, y, char, fg, bg in cells:
        glyph = char.data
        if not glyph or glyph == " ":
            continue
        px, py = x * CELL_W, y * CELL_H
        if glyph in LINES:
            draw_line(draw, px, py, glyph, fg)
            continue
        draw.text((px, py + 1), glyph, font=bold if char.bold else regular, fill=fg)
        if char.underscore:
            draw.line((px, py + CELL_H - 2, px + CELL_W, py + CELL_H - 2), fill=fg)
    image.save(out)


if __name__ == "__main__":
    main()
