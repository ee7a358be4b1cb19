"""Write a deliberately wrong copy of the generated meta_slot.h.

The copy declares `generation` before `refcount` (so the two swap offsets,
32 <-> 36), ends struct meta_slot with one more member (so the struct grows
from 64 to 72 bytes while every schema member keeps its offset: only the
check of the struct's own size can see that), and drops the compile-time
layout checks that would otherwise reject it, so the only thing left to
catch the mismatches is the kernel's boot layout check against
meta_slot_members.h (copied unchanged).

usage: make_wrong_header.py GEN_DIR OUT_DIR
"""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

SWAP = ("refcount", "generation")
EXTRA_MEMBER = "\tuint64_t wrong_on_purpose_tail;"
MACRO_DEF = re.compile(r"#\s*define\s+(\w+)\(")


def layout_check_macros(lines: list[str]) -> set[str]:
    """Names of function-like macros whose definition holds a _Static_assert."""
    names: set[str] = set()
    current = None
    for line in lines:
        m = MACRO_DEF.match(line.strip())
        if m:
            current = m.group(1)
        if current and "_Static_assert" in line:
            names.add(current)
        if not line.rstrip().endswith("\\"):
            current = None
    return names


def is_layout_check(line: str, macros: set[str]) -> bool:
    stripped = line.strip()
    if stripped.startswith("_Static_assert(") and ("offsetof" in stripped
                                                  or "sizeof(struct meta_slot)" in stripped):
        return True
    return any(stripped.startswith(name + "(") for name in macros)


def wrong_header(text: str) -> str:
    lines = text.split("\n")
    where = {}
    for i, line in enumerate(lines):
        for member in SWAP:
            if re.fullmatch(rf"\s*[^;/*]*\W{member};.*", line):
                where[member] = i
    if set(where) != set(SWAP):
        raise SystemExit(f"make_wrong_header: declarations of {SWAP} not found")
    a, b = where[SWAP[0]], where[SWAP[1]]
    lines[a], lines[b] = lines[b], lines[a]
    try:
        start = lines.index("struct meta_slot {")
        end = lines.index("};", start)
    except ValueError:
        raise SystemExit("make_wrong_header: the definition of struct meta_slot was not found")
    lines.insert(end, EXTRA_MEMBER)
    macros = layout_check_macros(lines)
    kept = [line for i, line in enumerate(lines)
            if not is_layout_check(line, macros)
            or (i > 0 and lines[i - 1].rstrip().endswith("\\"))]  # inside a #define
    if len(kept) == len(lines):
        raise SystemExit("make_wrong_header: no layout check lines found to drop")
    banner = ("/* WRONG ON PURPOSE: refcount and generation swapped, struct grown"
              " (kernel wrong-header test). */")
    return banner + "\n" + "\n".join(kept)


def main(argv: list[str]) -> int:
    gen_dir, out_dir = Path(argv[1]), Path(argv[2])
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "meta_slot.h").write_text(wrong_header((gen_dir / "meta_slot.h").read_text()))
    shutil.copyfile(gen_dir / "meta_slot_members.h", out_dir / "meta_slot_members.h")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
