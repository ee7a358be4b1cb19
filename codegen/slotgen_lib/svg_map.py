"""An SVG byte map of a slot: one cell per byte, 16 bytes a row, members as
labelled coloured spans, reserved bytes hatched, 8-byte words and cache-line
boundaries marked, and a legend.  Python computes every coordinate; the
template `layout.svg.j2` only places the shapes."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape

from . import render
from .diff_model import Snapshot, TargetSnap
from .report_model import CACHE_LINE, Report, bits_text, ops_text

PER_ROW = 16
WORD = 8
CELL_W = 44
CELL_H = 44
LEFT = 48
RIGHT = 96
HEAD = 44
LEGEND_LINE = 16
CHAR_W = 6.7  # width of one character of the 11px monospace labels
WIDTH = LEFT + PER_ROW * CELL_W + RIGHT
PALETTE = ("#8ecae6", "#ffb703", "#90be6d", "#f4a3a8", "#b8a1e3", "#f9c74f", "#76c8b4",
           "#f8961e", "#a3c4f3", "#e9c46a", "#cdb4db", "#95d5b2")
HIGHLIGHT = {"breaking": "#c1121f", "compatible": "#2b9348", "semantic": "#e36414"}


@dataclass
class Canvas:
    """Shapes collected while drawing, in painting order (kept local to one render)."""

    rects: list[dict[str, Any]] = field(default_factory=list)
    lines: list[dict[str, Any]] = field(default_factory=list)
    texts: list[dict[str, Any]] = field(default_factory=list)
    right: float = 0

    def rect(self, x: float, y: float, w: float, h: float, fill: str, stroke: str = "none",
             width: float = 0, title: str = "", dash: str = "") -> None:
        self.rects.append({"x": x, "y": y, "w": w, "h": h, "fill": fill, "stroke": stroke,
                           "sw": width, "title": escape(title), "dash": dash})

    def line(self, x1: float, y1: float, x2: float, y2: float, stroke: str, width: float,
             dash: str = "") -> None:
        self.lines.append({"x1": x1, "y1": y1, "x2": x2, "y2": y2, "stroke": stroke,
                           "sw": width, "dash": dash})

    def text(self, x: float, y: float, text: str, size: int = 11, anchor: str = "start",
             weight: str = "normal", fill: str = "#111", halo: bool = False) -> None:
        self.texts.append({"x": x, "y": y, "text": escape(text), "size": size,
                           "anchor": anchor, "weight": weight, "fill": fill, "halo": halo})
        if anchor == "start":
            self.right = max(self.right, x + len(text) * size * 0.61)

    def width(self) -> int:
        return max(WIDTH, int(self.right) + 12)


def _leaves(target: TargetSnap) -> list:
    """Places with no nested places inside them: what the byte map colours."""
    paths = [p.path for p in target.places]
    return [p for p in target.places if not any(q.startswith(p.path + ".") for q in paths)]


def colours(*targets: TargetSnap) -> dict[str, str]:
    """A palette colour per leaf member path, stable across the maps of one picture."""
    out: dict[str, str] = {}
    for target in targets:
        for place in _leaves(target):
            out.setdefault(place.path, PALETTE[len(out) % len(PALETTE)])
    return out


def _segments(offset: int, end: int) -> list[tuple[int, int]]:
    """[start, stop) pieces of a byte range, one per row of the map."""
    out, pos = [], offset
    while pos < end:
        stop = min(end, (pos // PER_ROW + 1) * PER_ROW)
        out.append((pos, stop))
        pos = stop
    return out


def _fit(label: str, width: float) -> str:
    room = int((width - 6) // CHAR_W)
    if len(label) <= room:
        return label
    return label[:max(room - 1, 1)] + "~" if room >= 2 else ""


def panel(canvas: Canvas, snap: Snapshot, target: TargetSnap, y0: float, title: str,
          marks: dict[str, str], palette: dict[str, str]) -> float:
    """Draw one byte map at y0; `marks` outlines members (path -> colour). Returns the
    y just below it."""
    canvas.text(LEFT, y0 + 16, title, 13, weight="bold")
    top = y0 + HEAD
    rows = -(-target.size // PER_ROW)
    for col in range(PER_ROW):
        canvas.text(LEFT + col * CELL_W + CELL_W / 2, top - 6, str(col), 9, "middle",
                    fill="#555")
    for row in range(rows):
        canvas.text(LEFT - 6, top + row * CELL_H + CELL_H / 2 + 4, str(row * PER_ROW), 10, "end",
                    fill="#555")
    for place in _leaves(target):
        member = snap.member(place.path)
        reserved = member is not None and member.reserved
        fill = "url(#hatch)" if reserved else palette[place.path]
        kind = member.type if member else ""
        tip = f"{place.path}: offset {place.offset}, size {place.size}, {kind}"
        pieces = _segments(place.offset, place.end)
        widest = max(pieces, key=lambda s: s[1] - s[0])
        for start, stop in pieces:
            x = LEFT + (start % PER_ROW) * CELL_W
            y = top + (start // PER_ROW) * CELL_H
            w = (stop - start) * CELL_W
            canvas.rect(x + 1, y + 1, w - 2, CELL_H - 2, fill, "#333", 1, tip)
            if place.path in marks:
                canvas.rect(x + 2.5, y + 2.5, w - 5, CELL_H - 5, "none", marks[place.path], 3)
            if (start, stop) == widest:
                name = _fit(place.path, w)
                canvas.text(x + w / 2, y + CELL_H / 2 - 2, name, 11, "middle",
                            "bold" if not reserved else "normal", halo=True)
                canvas.text(x + w / 2, y + CELL_H / 2 + 12, _fit(f"@{place.offset}", w), 9,
                            "middle", fill="#333", halo=True)
    _grid(canvas, target.size, top)
    return top + rows * CELL_H


def _grid(canvas: Canvas, size: int, top: float) -> None:
    """Byte cells, 8-byte word dividers and cache-line boundaries."""
    for b in range(size):
        canvas.rect(LEFT + (b % PER_ROW) * CELL_W, top + (b // PER_ROW) * CELL_H, CELL_W,
                    CELL_H, "none", "#999", 0.5, dash="2,2")
    rows = -(-size // PER_ROW)
    for row in range(rows):
        y = top + row * CELL_H
        last = min(PER_ROW, size - row * PER_ROW)
        for col in range(0, last + 1, WORD):
            canvas.line(LEFT + col * CELL_W, y, LEFT + col * CELL_W, y + CELL_H, "#000", 2.5)
    for b in range(0, size + 1, CACHE_LINE):
        y = top + (b // PER_ROW) * CELL_H
        canvas.line(LEFT - 4, y, LEFT + PER_ROW * CELL_W + 4, y, "#d62828", 2.5)
        canvas.text(LEFT + PER_ROW * CELL_W + 8, y + 4, f"line {b // CACHE_LINE}" if b < size
                    else "end", 10, fill="#d62828")


def legend(canvas: Canvas, snap: Snapshot, target: TargetSnap, y: float,
           palette: dict[str, str]) -> float:
    for place in _leaves(target):
        member = snap.member(place.path)
        if member is None:
            continue
        fill = "url(#hatch)" if member.reserved else palette[place.path]
        canvas.rect(LEFT, y - 10, 12, 12, fill, "#333", 1)
        extra = "reserved" if member.reserved else ops_text(member)
        canvas.text(LEFT + 18, y, f"{place.offset:>3} +{place.size:<3} {member.type:<15} "
                    f"{place.path:<16} {extra}", 10)
        y += LEGEND_LINE
        for bits in bits_text(member):
            canvas.text(LEFT + 18 + CHAR_W * 36, y, bits, 10, fill="#444")
            y += LEGEND_LINE
    return y


def document(canvas: Canvas, height: float, title: str) -> str:
    return render.environment().get_template("layout.svg.j2").render(
        width=canvas.width(), height=round(height), title=escape(title), rects=canvas.rects,
        lines=canvas.lines, texts=canvas.texts)


def render_report(snap: Snapshot, report: Report) -> str:
    """The byte map of the report's target, with its legend and totals."""
    canvas = Canvas()
    target = snap.target(report.target)
    title = (f"struct {report.struct}: {report.size} bytes, align {report.align} "
             f"({report.target}; same on {', '.join(report.same_targets)})")
    palette = colours(target)
    y = panel(canvas, snap, target, 8, title, {}, palette)
    y = legend(canvas, snap, target, y + 28, palette)
    holes = f"{report.holes} bytes" if report.holes else "none"
    canvas.text(LEFT, y + 8, f"used {report.used} B ({report.percent(report.used)}), reserved "
                f"{report.reserved} B ({report.percent(report.reserved)}), holes {holes}", 11,
                weight="bold")
    return document(canvas, y + 24, title)
