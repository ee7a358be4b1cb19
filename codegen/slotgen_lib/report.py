"""`slotgen report SCHEMA`: a pahole-style table of one target's layout, as text,
Markdown or an SVG byte map."""
from __future__ import annotations

import argparse
import sys
from typing import Any, Callable

from . import diff_input, output, render, report_model
from .report_model import Report, Row

FORMATS = ("text", "markdown", "svg")
HEAD = ("offset", "size", "align", "atomic", "type", "member", "ops and bit sub-fields")


def register(sub: argparse._SubParsersAction) -> Callable[[argparse.Namespace], int]:
    p = sub.add_parser(
        "report", help="show a layout: offsets, sizes, ops, bits, reserved bytes",
        description="Report the layout of SCHEMA (a schema, a layout JSON, or REV:PATH).")
    p.add_argument("schema", metavar="SCHEMA")
    p.add_argument("--format", choices=FORMATS, default="text",
                   help="text (default), markdown, svg (a byte map of the slot)")
    p.add_argument("--target", default=None, help="target to show (default: the first)")
    p.add_argument("-o", "--output", metavar="FILE", default=None,
                   help="write to FILE (only when its bytes change) instead of standard output")
    return run


def run(args: argparse.Namespace) -> int:
    snap = diff_input.load(args.schema)
    if args.target is not None and snap.target(args.target) is None:
        print(f"slotgen: error: unknown --target {args.target!r}; choose from "
              f"{', '.join(t.target for t in snap.targets)}", file=sys.stderr)
        return 2
    report = report_model.build(snap, args.target)
    if args.format == "svg":
        from . import svg_map

        text = svg_map.render_report(snap, report)
    else:
        text = markdown(report) if args.format == "markdown" else as_text(report)
    output.emit(text, args.output)
    return 0


def cells(row: Row) -> tuple[str, ...]:
    """The table cells of a member row; holes and boundaries are single notes."""
    name = "  " * row.depth + row.name
    notes = "reserved" if row.kind == "reserved" else row.ops
    return (str(row.offset), str(row.size), str(row.align), "yes" if row.atomic else "no",
            row.type, name, notes)


def note(row: Row) -> str:
    if row.kind == "hole":
        return f"hole: {row.size} bytes of implicit padding at offset {row.offset}"
    return f"--- cache line {row.offset // report_model.CACHE_LINE} boundary " \
           f"(offset {row.offset}) ---"


def heading(report: Report) -> list[str]:
    same = ", ".join(report.same_targets)
    lines = [f"struct {report.struct} ({report.label}, target {report.target}; "
             f"same layout on {same})"]
    if report.other_targets:
        lines.append(f"note: the layout differs on {', '.join(report.other_targets)} "
                     "(use --target)")
    return lines


def totals(report: Report) -> list[str]:
    abi = "unset" if report.abi_version is None else str(report.abi_version)
    holes = f"{report.holes} bytes" if report.holes else "none"
    lines = "the line" if report.cache_lines == 1 else f"its {report.cache_lines} lines"
    return [f"size {report.size}, align {report.align}, array_align {report.array_align}, "
            f"cache lines {report.cache_lines}, abi_version {abi}",
            f"used {report.used} bytes ({report.percent(report.used)} of {lines}), reserved "
            f"{report.reserved} bytes ({report.percent(report.reserved)}), holes {holes}"]


def as_text(report: Report) -> str:
    table = [HEAD] + [cells(r) for r in report.rows if r.kind in ("member", "reserved")]
    widths = [max(len(row[i]) for row in table) for i in range(len(HEAD) - 1)]

    def line(row: tuple[str, ...]) -> str:
        left = [c.rjust(w) if i < 3 else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths))]
        return ("  ".join(left) + "  " + row[-1]).rstrip()

    indent = sum(widths) + 2 * len(widths)
    out = heading(report) + ["", line(HEAD)]
    for row in report.rows:
        if row.kind in ("hole", "cacheline"):
            out.append(note(row))
            continue
        out.append(line(cells(row)))
        out.extend(" " * indent + bits for bits in row.bits)
    return "\n".join(out + [""] + totals(report)) + "\n"


def markdown(report: Report) -> str:
    rows: list[dict[str, Any]] = []
    for row in report.rows:
        if row.kind in ("hole", "cacheline"):
            rows.append({"note": note(row)})
        else:
            extra = "; ".join(([row.ops] if row.ops else []) + list(row.bits))
            offset, size, align, atomic, type_, name, _ = cells(row)
            rows.append({"note": "", "cells": [offset, size, align, atomic, f"`{type_}`",
                                               "&nbsp;" * 2 * row.depth + f"`{row.name}`",
                                               "reserved" if row.kind == "reserved" else extra]})
    return render.environment().get_template("report.md.j2").render(
        heading=heading(report), head=HEAD, rows=rows, totals=totals(report))
